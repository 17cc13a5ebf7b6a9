#pragma once
// `ffp8 eval` as a library call: one evaluation, or several candidates ("candidates" in the
// config) as a distributed job whose units are the candidates: run in this process or spread
// over MPI ranks (the CLI's executor), journaled like sweep units so an interrupted run resumes.
// run_eval_job() returns the documents `ffp8 eval` writes (the CLI and the Python module call it);
// write_eval_outputs() writes them.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "explore/dist/executor.hpp"
#include "explore/eval/config.hpp"
#include "explore/eval/evaluate.hpp"

namespace ffp8::explore {

/// eval.json's fields of one evaluation, without provenance.
nlohmann::json eval_document(const EvalConfig& config, const EvalResult& result);

/// The candidates of a config as units: unit i evaluates candidate i. The candidates one process
/// runs share its float32 reference (calibration, float32 ranks: computed once per process).
class EvalJob : public dist::Job {
 public:
  /// Checks every candidate's override node names against the model first (a bad name is a
  /// ConfigError naming the candidate's JSON path and name, before any candidate runs).
  explicit EvalJob(EvalConfig config);
  /// Evaluates candidate `task.unit`: its eval.json document (without provenance) as JSON text.
  std::string run(const dist::Task& task) override;
  const EvalConfig& config() const { return config_; }
  /// The key a candidates journal is tied to: the config without out and threads, and the model
  /// and data files' size and modification time. Throws IoError when a file cannot be stat'ed.
  std::string work_key() const;

 private:
  EvalConfig config_;
  EvalReference reference_;
};

/// How run_eval_job() runs.
struct EvalRunOptions {
  dist::Executor* executor = nullptr;  ///< candidates: where they run (nullptr: this process)
  /// Candidates: folder of the journal DIR/eval.journal (created when missing); empty: none.
  std::filesystem::path journal_dir;
  EvalHooks hooks;  ///< a single evaluation's callbacks (progress, logits, ...)
  /// Candidates: after each recorded candidate, its name, candidates recorded so far (resumed
  /// ones included) and their total.
  std::function<void(const std::string& name, std::size_t recorded, std::size_t total)> on_candidate;
};

/// What an eval produced.
struct EvalOutputs {
  /// eval.json documents (provenance and context block included): one for a single evaluation,
  /// else one per candidate in config order.
  std::vector<nlohmann::json> documents;
  std::vector<std::string> names;  ///< candidate names, in config order (empty for a single evaluation)
  std::string candidates_csv;      ///< candidates.csv ("" for a single evaluation)
  std::optional<EvalResult> result;  ///< a single evaluation's result (plan, counts)
  std::size_t evaluated = 0, resumed = 0;  ///< candidates evaluated now and taken from the journal
  std::filesystem::path journal;   ///< the journal used ("" when none)
};

/// Checks the run's outputs before anything runs: the output folder (a folder or creatable) and
/// every file written into it, and `extra_files` (e.g. --logits), are none of the run's inputs
/// (config, model, data) nor inside them, and no output file is an existing folder. Throws
/// ConfigError naming the output and the input. run_eval_job() calls it with no extra files.
void check_eval_outputs(const EvalConfig& config, const std::vector<std::filesystem::path>& extra_files = {});

/// Runs a single evaluation or every candidate (those a journal holds are taken from it).
/// Throws the library's typed errors on bad input; a worker's failure names its rank and candidate.
EvalOutputs run_eval_job(const EvalConfig& config, const EvalRunOptions& options = {});
/// Writes DIR/eval.json (single) or DIR/<name>/eval.json and DIR/candidates.csv into `dir`
/// (created when missing), each whole or not at all, then removes the journal.
void write_eval_outputs(const std::filesystem::path& dir, const EvalOutputs& outputs);

}  // namespace ffp8::explore
