#pragma once
// `ffp8 eval` over several candidates ("candidates" in the eval config): each candidate is one
// unit of work, run in this process or spread over MPI ranks (dynamic load balancing), journaled
// like sweep units so an interrupted run resumes; rank 0 writes DIR/<name>/eval.json per
// candidate and DIR/candidates.csv (one row per candidate, in config order).
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/infer/eval_config.hpp"
#include "core/infer/evaluate.hpp"
#include "tools/ffp8/mpi_session.hpp"

namespace ffp8::cli {

/// eval.json's fields of one evaluation, without provenance.
nlohmann::json eval_document(const infer::EvalConfig& config, const infer::EvalResult& result);

/// Rank 0's part: runs every candidate not yet journaled in DIR/eval.journal and writes the
/// outputs. Throws on failure (a worker's names its rank and candidate).
void run_candidates(const infer::EvalConfig& config, const std::string& out_dir, const MpiSession& mpi, bool show_progress);

/// A worker rank's part: evaluates the candidates rank 0 sends (`config` failed to load when
/// empty: each candidate then reports `load_error`).
void serve_candidates(const infer::EvalConfig* config, const std::string& load_error, const MpiSession& mpi);

}  // namespace ffp8::cli
