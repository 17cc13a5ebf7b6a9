#pragma once
// Runs a sweep's units through an Executor (this process, or MPI ranks: the CLI's), records
// each finished unit in the journal before counting it done, skips units a journal already holds,
// and assembles the result in unit order, so the outputs never depend on who ran what, on the
// number of ranks or shards, or on how often the run was interrupted.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "explore/dist/journal.hpp"
#include "explore/sweep/units.hpp"

namespace ffp8::explore::dist {

/// One unit to run and its input (a role unit's encoded group; empty for a tensor unit).
struct Task {
  std::size_t unit = 0;
  std::string input;
};

/// Runs a task in this process: the encoded UnitResult (serial.hpp). MPI workers call it too.
std::string execute_task(const SweepConfig& config, const SweepPlan& plan,
                         const std::vector<std::unique_ptr<TensorSource>>& sources, const Task& task);

/// Called with each finished task's unit and encoded result, on the thread that called run().
using DoneFn = std::function<void(std::size_t unit, std::string bytes)>;

/// Where tasks run. run() returns when every task is done; failures throw (naming where).
class Executor {
 public:
  virtual ~Executor() = default;
  /// Runs `tasks` (given most expensive first) and calls `done` for each, in any order.
  virtual void run(const std::vector<Task>& tasks, const DoneFn& done) = 0;
};

/// Runs tasks one after another in this process with `run_task` (e.g. execute_task).
class LocalExecutor : public Executor {
 public:
  explicit LocalExecutor(std::function<std::string(const Task&)> run_task) : run_task_(std::move(run_task)) {}
  void run(const std::vector<Task>& tasks, const DoneFn& done) override;

 private:
  std::function<std::string(const Task&)> run_task_;
};

/// A job-array shard: index i of n.
struct Shard {
  std::size_t index = 0, count = 1;
};
/// Parses "i/N" (0 <= i < N). Throws ConfigError naming the text.
Shard parse_shard(const std::string& text);
/// The shard of each tensor unit: most expensive first onto the least loaded shard (ties: lowest
/// index), the same on every shard because it depends only on the plan.
std::vector<std::size_t> assign_shards(const SweepPlan& plan, std::size_t shards);

/// A config's journal key: the config as run without "out" and "threads" (which do not change any
/// result), hashed. The sweep's and the eval's journals both use it.
std::string work_key(const nlohmann::json& config);
/// A file as a journal key sees it: canonical path, size and modification time (a regenerated
/// file is other work). Throws IoError when it cannot be stat'ed.
nlohmann::json file_identity(const std::filesystem::path& file);
/// The key a sweep journal is tied to, hashed: work_key(config.effective), each source's origin (file and dataset), shape and dtype,
/// and each input file's size and modification time (a regenerated file is other work).
/// Throws IoError when an input file cannot be stat'ed.
std::string work_key(const SweepConfig& config, const std::vector<std::unique_ptr<TensorSource>>& sources);
/// What a sweep journal's key covers (for the message when a journal is of another sweep).
JournalOwner sweep_journal_owner();
/// Journal files in an output folder: the run's, and shard i of n's.
std::filesystem::path run_journal(const std::filesystem::path& out);
std::filesystem::path shard_journal(const std::filesystem::path& out, const Shard& shard);
/// The shard journals of a finished job array in `out` (all of shard-*-of-N.journal, checked
/// complete: 0..N-1 present, one N). Throws DataError naming what is missing.
std::vector<std::filesystem::path> find_shard_journals(const std::filesystem::path& out);

/// How drive() runs.
struct DriveOptions {
  std::filesystem::path journal;                    ///< this run's journal (created or resumed)
  std::optional<Shard> shard;                       ///< only this shard's tensor units; no result
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
DriveOutcome drive(const SweepConfig& config, const SweepPlan& plan, const std::vector<std::unique_ptr<TensorSource>>& sources,
                   Executor& executor, const DriveOptions& options);

}  // namespace ffp8::explore::dist
