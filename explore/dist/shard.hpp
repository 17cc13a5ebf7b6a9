#pragma once
// Job-array shards: a run cut into N independent processes (no MPI), each running the units the
// assignment gives it and journaling them; a merge then takes every unit from the shard journals.
#include <cstddef>
#include <string>
#include <vector>

namespace ffp8::explore::dist {

/// A job-array shard: index i of n.
struct Shard {
  std::size_t index = 0, count = 1;
};
/// Parses "i/N" (0 <= i < N). Throws ConfigError naming the text.
Shard parse_shard(const std::string& text);
/// The shard of each unit of cost `costs[u]`: most expensive first onto the least loaded shard
/// (ties: lowest index), the same on every shard because it depends only on the costs.
std::vector<std::size_t> assign_shards(const std::vector<double>& costs, std::size_t shards);

}  // namespace ffp8::explore::dist
