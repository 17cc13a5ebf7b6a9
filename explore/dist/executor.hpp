#pragma once
// Where units of work run. A distributed run (a sweep, an eval of several candidates, and any
// later job cut into units) is a Job that every rank builds from the same config, so any rank can
// run any unit; an Executor hands the units out: to this process one after another, or to MPI
// ranks (the CLI's MpiExecutor). Results travel as bytes, so they are bit-for-bit the same
// whoever computed them.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace ffp8::explore::dist {

/// One unit to run: its index, its name (for messages) and its input (e.g. a sweep role unit's
/// encoded group; empty when the unit needs nothing but its index).
struct Task {
  std::size_t unit = 0;
  std::string name;
  std::string input;
};

/// Work cut into units that any process holding the same Job can run.
class Job {
 public:
  virtual ~Job() = default;
  /// Runs a task in this process: the unit's result as bytes. MPI workers call it too.
  virtual std::string run(const Task& task) = 0;
};

/// Called with each finished task's unit and result, on the thread that called Executor::run().
using DoneFn = std::function<void(std::size_t unit, std::string bytes)>;

/// Where tasks run. run() returns when every task is done; failures throw (naming where).
class Executor {
 public:
  virtual ~Executor() = default;
  /// Runs `tasks` (given most expensive first) and calls `done` for each, in any order.
  virtual void run(const std::vector<Task>& tasks, const DoneFn& done) = 0;
  /// Processes the tasks run on (for provenance).
  virtual int ranks() const { return 1; }
  /// How this process runs a task itself: a coordinating executor (MPI rank 0) works too, so N
  /// ranks use N cores. Jobs call it before run(); executors without a use for it ignore it.
  virtual void set_local(std::function<std::string(const Task&)> run_task) { (void)run_task; }
};

/// Runs tasks one after another in this process with a job (or any function of a task).
class LocalExecutor : public Executor {
 public:
  explicit LocalExecutor(Job& job) : run_task_([&job](const Task& t) { return job.run(t); }) {}
  explicit LocalExecutor(std::function<std::string(const Task&)> run_task) : run_task_(std::move(run_task)) {}
  void run(const std::vector<Task>& tasks, const DoneFn& done) override;

 private:
  std::function<std::string(const Task&)> run_task_;
};

}  // namespace ffp8::explore::dist
