#pragma once
// Dynamic load balancing over MPI ranks: rank 0 hands one unit at a time to whichever worker is
// free (most expensive units first), runs units itself between messages (the cheapest first, so
// it answers workers soon) and journals what comes back; workers run units with the same library
// call a single process uses, so results do not depend on the rank count.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "explore/dist/executor.hpp"
#include "tools/ffp8/mpi_session.hpp"

namespace ffp8::cli {

/// Rank 0's executor: sends tasks to ranks 1..size-1, runs tasks itself (with set_local's
/// function) and collects results. A failure throws DataError naming the rank and the unit.
class MpiExecutor : public explore::dist::Executor {
 public:
  explicit MpiExecutor(const MpiSession& mpi) : mpi_(mpi) {}
  void run(const std::vector<explore::dist::Task>& tasks, const explore::dist::DoneFn& done) override;
  int ranks() const override { return mpi_.size(); }
  void set_local(std::function<std::string(const explore::dist::Task&)> run_task) override { local_ = std::move(run_task); }
  /// Tells every worker to return from serve_units() (when run() was called at all).
  void stop_workers() const;

 private:
  const MpiSession& mpi_;
  std::function<std::string(const explore::dist::Task&)> local_;
  bool used_ = false;
};

/// A worker's loop (ranks >= 1): runs `run_task` for each task until rank 0 says stop. A task's
/// exception is sent to rank 0 (which stops the job); `after_unit` is called after each result.
void serve_units(const std::function<std::string(const explore::dist::Task&)>& run_task,
                 const std::function<void(std::size_t finished)>& after_unit);

/// Runs a distributed command on every rank of `mpi`. Ranks >= 1 build the job with `make_job`
/// and serve the units rank 0 sends until it stops them (a failed set-up is reported for each
/// unit, so rank 0 stops the job naming the rank; a null job means there is nothing to serve).
/// Rank 0 calls `root` with the MPI executor (nullptr when alone: the library then runs units in
/// this process), stops the workers after it, and ends every rank naming `command` when it throws.
/// Returns root's exit code (0 on workers).
int run_on_ranks(const MpiSession& mpi, const std::string& command,
                 const std::function<std::unique_ptr<explore::dist::Job>()>& make_job,
                 const std::function<int(explore::dist::Executor* executor)>& root);

}  // namespace ffp8::cli
