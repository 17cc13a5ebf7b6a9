#include "explore/dist/shard.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <regex>

#include "core/errors.hpp"

namespace ffp8::explore::dist {

Shard parse_shard(const std::string& text) {
  static const std::regex re(R"((\d{1,9})/(\d{1,9}))");  // at most 9 digits: no overflow, no huge N
  std::smatch m;
  if (std::regex_match(text, m, re)) {
    const Shard s{std::stoull(m[1]), std::stoull(m[2])};
    if (s.count > 0 && s.index < s.count) return s;
  }
  throw ConfigError(fmt::format("shard \"{}\" is not i/N with 0 <= i < N (e.g. 0/4)", text));
}

std::vector<std::size_t> assign_shards(const std::vector<double>& costs, std::size_t shards) {
  std::vector<std::size_t> order(costs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return costs[a] > costs[b]; });
  // Only the first min(shards, units) shards can get a unit (ties go to the lowest index), so a
  // huge N costs no memory.
  std::vector<double> load(std::min(shards, std::max<std::size_t>(costs.size(), 1)), 0.0);
  std::vector<std::size_t> out(order.size());
  for (std::size_t u : order) {
    const auto s = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    out[u] = s;
    load[s] += costs[u];
  }
  return out;
}

}  // namespace ffp8::explore::dist
