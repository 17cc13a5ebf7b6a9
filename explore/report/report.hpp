#pragma once
// Sweep outputs (docs/sweep.md "Outputs"): points.csv, pareto.csv and summary.json with a
// provenance block and a context block (google/benchmark-style: machine and build), each
// written whole or not at all. Provenance and context serve eval.json too.
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
/// Version of the output documents' layout (summary.json, eval.json), raised when a field changes
/// meaning or goes away.
inline constexpr int kSchemaVersion = 1;
/// The machine and build a result was produced on (like google/benchmark's "context"): schema
/// version, CPU model, logical cores, caches, load average at the time of the call, compiler,
/// its flags and the build type. Read from /proc and /sys where they exist.
nlohmann::json run_context();
/// UTC ISO 8601 text of a time point.
std::string iso_utc(std::chrono::system_clock::time_point t);

/// The CSV text of all points (pareto_only: only frontier points).
std::string points_csv(const SweepConfig& config, const SweepResult& result, bool pareto_only);
/// The summary.json document.
nlohmann::json summary_json(const SweepConfig& config, const SweepResult& result, const Provenance& prov);
/// Writes rendered points.csv, pareto.csv and summary.json into `dir` (created if needed); each
/// atomically (temp + rename).
void write_outputs(const std::string& dir, const std::string& points, const std::string& pareto,
                   const nlohmann::json& summary);
/// Renders and writes the three files (the same as write_outputs of their texts).
void write_outputs(const std::string& dir, const SweepConfig& config, const SweepResult& result, const Provenance& prov);

}  // namespace ffp8::explore
