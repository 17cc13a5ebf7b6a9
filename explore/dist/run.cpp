#include "explore/dist/run.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <set>

#include "core/errors.hpp"

namespace ffp8::explore::dist {

std::size_t run_units(Executor& executor, std::vector<Task> tasks, const std::function<double(std::size_t)>& cost,
                      const std::function<void(std::size_t, const std::string&)>& keep, UnitLog& log) {
  std::stable_sort(tasks.begin(), tasks.end(), [&](const Task& a, const Task& b) { return cost(a.unit) > cost(b.unit); });
  std::set<std::size_t> pending;
  for (const Task& t : tasks) pending.insert(t.unit);
  std::size_t ran = 0;
  executor.run(tasks, [&](std::size_t u, std::string bytes) {
    if (!pending.erase(u)) throw DataError(fmt::format("unit {} reported done twice or never handed out", u));
    keep(u, bytes);
    if (log.journal) log.journal->append(u, bytes);  // durable before it counts
    ++ran;
    if (log.on_record) log.on_record(++log.recorded, log.total);
  });
  return ran;
}

}  // namespace ffp8::explore::dist
