#pragma once
// Dynamic load balancing over MPI ranks: rank 0 hands one unit at a time to whichever worker is
// free (most expensive units first) and journals what comes back; workers run units with the
// same library call a single process uses, so results do not depend on the rank count.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "explore/dist/driver.hpp"
#include "tools/ffp8/mpi_session.hpp"

namespace ffp8::cli {

/// Rank 0's executor: sends tasks to ranks 1..size-1 and collects results. A worker's failure
/// throws DataError naming the rank and the unit (`unit_name` gives its name).
class MpiExecutor : public explore::dist::Executor {
 public:
  MpiExecutor(const MpiSession& mpi, std::function<std::string(std::size_t unit)> unit_name)
      : mpi_(mpi), unit_name_(std::move(unit_name)) {}
  void run(const std::vector<explore::dist::Task>& tasks, const explore::dist::DoneFn& done) override;
  /// Tells every worker to return from serve_units().
  void stop_workers() const;

 private:
  const MpiSession& mpi_;
  std::function<std::string(std::size_t)> unit_name_;
};

/// A worker's loop (ranks >= 1): runs `run_task` for each task until rank 0 says stop. A task's
/// exception is sent to rank 0 (which stops the job); `after_unit` is called after each result.
void serve_units(const std::function<std::string(const explore::dist::Task&)>& run_task,
                 const std::function<void(std::size_t finished)>& after_unit);

}  // namespace ffp8::cli
