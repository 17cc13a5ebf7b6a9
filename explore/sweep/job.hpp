#pragma once
// A sweep as a distributed job: its units run through an Executor (this process, or MPI ranks:
// the CLI's), each finished unit is recorded in the journal before it counts as done, units a
// journal already holds are skipped, and the result is assembled in unit order, so the outputs
// never depend on who ran what, on the number of ranks or shards, or on how often the run was
// interrupted. run_sweep_job() is the library entry point the CLI and the Python module call: it
// returns what `ffp8 sweep` writes, and write_sweep_outputs() writes it.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "explore/dist/executor.hpp"
#include "explore/dist/journal.hpp"
#include "explore/dist/shard.hpp"
#include "explore/sweep/units.hpp"

namespace ffp8::explore {

/// A sweep's config, opened inputs and plan: what every rank builds from the same config.
class SweepJob : public dist::Job {
 public:
  /// Opens the config's inputs and plans the units. Throws like open_inputs().
  explicit SweepJob(SweepConfig config);
  /// Runs a task in this process: the encoded UnitResult (serial.hpp).
  std::string run(const dist::Task& task) override;

  const SweepConfig& config() const { return config_; }
  const std::vector<std::unique_ptr<TensorSource>>& sources() const { return sources_; }
  const SweepPlan& plan() const { return *plan_; }
  /// The key a sweep journal is tied to, hashed: the config without out and threads, each
  /// source's origin (file and dataset), shape and dtype, and each input file's size and
  /// modification time. Throws IoError when an input file cannot be stat'ed.
  std::string work_key() const;

 private:
  SweepConfig config_;
  std::vector<std::unique_ptr<TensorSource>> sources_;
  std::unique_ptr<SweepPlan> plan_;
};

/// What a sweep journal's key covers (for the message when a journal is of another sweep).
dist::JournalOwner sweep_journal_owner();
/// Journal files in an output folder: the run's, and shard i of n's.
std::filesystem::path run_journal(const std::filesystem::path& out);
std::filesystem::path shard_journal(const std::filesystem::path& out, const dist::Shard& shard);
/// The shard journals of a finished job array in `out` (all of shard-*-of-N.journal, checked
/// complete: 0..N-1 present, one N). Throws DataError naming what is missing.
std::vector<std::filesystem::path> find_shard_journals(const std::filesystem::path& out);
/// Marks a unit no shard runs (role units, and tensor units of a pass: the merge runs them).
inline constexpr std::size_t kNoShard = static_cast<std::size_t>(-1);
/// The shard of each unit (dist::assign_shards over the costs of the tensor units that read
/// their tensor and of the pass units; kNoShard for the others).
std::vector<std::size_t> assign_shards(const SweepPlan& plan, std::size_t shards);

/// How drive() runs.
struct DriveOptions {
  std::filesystem::path journal;                    ///< this run's journal (created or resumed); empty: none
  std::optional<dist::Shard> shard;                 ///< only this shard's tensor units; no result
  std::vector<std::filesystem::path> shard_inputs;  ///< merge: shard journals whose records count as done
  /// After each journal append: units recorded so far (incl. resumed) and the run's total.
  std::function<void(std::size_t recorded, std::size_t total)> on_record;
};

/// Counts of a drive.
struct DriveOutcome {
  std::optional<SweepResult> result;  ///< absent for a shard run
  std::size_t units = 0, resumed = 0, computed = 0;
  bool dropped_torn_tail = false;
};

/// Runs every unit not yet in a journal (tensor units, then role units on the tensors' merged
/// statistics), journaling each, then assembles the result. With shard_inputs, every tensor unit
/// must come from them (DataError naming the first missing unit otherwise).
DriveOutcome drive(SweepJob& job, dist::Executor& executor, const DriveOptions& options);

/// How run_sweep_job() runs: where units run, where the journal lives, progress.
struct SweepRunOptions {
  dist::Executor* executor = nullptr;  ///< nullptr: this process, one unit after another
  /// Folder of the journal (DIR/sweep.journal, or the shard's): created when missing. Empty: no
  /// journal (nothing resumes; a shard or merge run needs one).
  std::filesystem::path journal_dir;
  std::optional<dist::Shard> shard;  ///< only this shard's tensor units, journaled; no outputs
  bool merge = false;                ///< every tensor unit from the shard journals in journal_dir
  /// After each recorded unit: units recorded so far (resumed ones included) and the total.
  std::function<void(std::size_t recorded, std::size_t total)> on_record;
};

/// What a sweep produced: the result and the documents `ffp8 sweep` writes.
struct SweepOutputs {
  std::optional<SweepResult> result;  ///< absent for a shard run
  std::string points_csv, pareto_csv; ///< points.csv and pareto.csv
  nlohmann::json summary;             ///< summary.json (provenance and context block included)
  std::size_t units = 0, resumed = 0, computed = 0;
  bool dropped_torn_tail = false;
  std::filesystem::path journal;      ///< the journal used ("" when none)
};

/// Checks the outputs before anything runs: the output and journal folders are folders (or
/// creatable) and neither they nor the files written into them are, or lie inside, an input of
/// the run (config, input files, models, data files). Throws ConfigError. run_sweep_job() calls it.
void check_sweep_outputs(const SweepConfig& config, const std::filesystem::path& journal_dir,
                         const std::optional<dist::Shard>& shard);
/// Runs a sweep (or one shard of it, or the merge of its shards) and renders its outputs.
/// Throws the library's typed errors on bad input.
SweepOutputs run_sweep_job(const SweepConfig& config, const SweepRunOptions& options = {});
/// Writes points.csv, pareto.csv and summary.json into `dir` (created when missing), each whole
/// or not at all, then removes the journal (the outputs are whole: it has done its job).
void write_sweep_outputs(const std::filesystem::path& dir, const SweepOutputs& outputs);

}  // namespace ffp8::explore
