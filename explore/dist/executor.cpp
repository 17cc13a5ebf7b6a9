#include "explore/dist/executor.hpp"

namespace ffp8::explore::dist {

void LocalExecutor::run(const std::vector<Task>& tasks, const DoneFn& done) {
  for (const Task& t : tasks) done(t.unit, run_task_(t));
}

}  // namespace ffp8::explore::dist
