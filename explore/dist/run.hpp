#pragma once
// The loop every distributed job shares: hand tasks to an executor and record each finished unit
// in the journal before it counts as done, so a run killed at any moment resumes from what was
// recorded, whoever ran what.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "explore/dist/executor.hpp"
#include "explore/dist/journal.hpp"

namespace ffp8::explore::dist {

/// Where run_units() records finished units and reports progress.
struct UnitLog {
  Journal* journal = nullptr;  ///< finished units appended (fsync'd) before they count; nullptr: none
  /// After each recorded unit: units recorded so far (resumed ones included) and the run's total.
  std::function<void(std::size_t recorded, std::size_t total)> on_record;
  std::size_t recorded = 0;  ///< units recorded so far (start: the resumed ones)
  std::size_t total = 0;     ///< units of the run (or of this shard)
};

/// Runs `tasks` on `executor` (stable-sorted most expensive first by `cost`). For each finished
/// unit: `keep(unit, bytes)`, which may throw to refuse a result (then nothing is journaled),
/// then the journal append, then `log.on_record`. A unit reported twice is a DataError. Returns
/// the number of units run.
std::size_t run_units(Executor& executor, std::vector<Task> tasks, const std::function<double(std::size_t)>& cost,
                      const std::function<void(std::size_t unit, const std::string& bytes)>& keep, UnitLog& log);

}  // namespace ffp8::explore::dist
