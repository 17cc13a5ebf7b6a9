#pragma once
// Sweep outputs (shared/spec/INTERFACES.md "Sweep outputs"): points.csv, pareto.csv and
// summary.json with a provenance block (google/benchmark-style context), each written whole or
// not at all.
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "explore/sweep/sweep.hpp"

namespace ffp8::explore {

/// Where and how a result was produced.
struct Provenance {
  std::string version;      ///< project version
  std::string commit;       ///< git commit of the source tree (run time, else build time)
  std::string build_type;
  std::string config_hash;
  std::string host;
  std::string start, end;   ///< UTC, ISO 8601
  int threads = 1;
  int ranks = 1;
  int shards = 0;           ///< job-array shards merged (0: not a merge)
  nlohmann::json to_json() const;
};

/// Provenance with version, commit, build type and host filled; times and hash left to the caller.
Provenance current_provenance();
/// UTC ISO 8601 text of a time point.
std::string iso_utc(std::chrono::system_clock::time_point t);

/// The CSV text of all points (pareto_only: only frontier points).
std::string points_csv(const SweepConfig& config, const SweepResult& result, bool pareto_only);
/// The summary.json document.
nlohmann::json summary_json(const SweepConfig& config, const SweepResult& result, const Provenance& prov);
/// Writes the three files into `dir` (created if needed); each atomically (temp + rename).
void write_outputs(const std::string& dir, const SweepConfig& config, const SweepResult& result, const Provenance& prov);

}  // namespace ffp8::explore
