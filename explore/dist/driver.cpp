#include "explore/dist/driver.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <regex>
#include <set>

#include "core/errors.hpp"
#include "explore/dist/serial.hpp"
#include "explore/dist/journal.hpp"

namespace ffp8::explore::dist {

std::string execute_task(const SweepConfig& c, const SweepPlan& plan, const std::vector<std::unique_ptr<TensorSource>>& sources,
                         const Task& task) {
  const WorkUnit& u = plan.units().at(task.unit);
  if (u.kind == WorkUnit::Kind::Tensor) return encode_result(run_tensor_unit(c, plan, sources, task.unit), sources);
  return encode_result(run_role_unit(c, plan, decode_group(task.input, sources)), sources);
}

void LocalExecutor::run(const std::vector<Task>& tasks, const DoneFn& done) {
  for (const Task& t : tasks) done(t.unit, run_task_(t));
}

Shard parse_shard(const std::string& text) {
  static const std::regex re(R"((\d+)/(\d+))");
  std::smatch m;
  if (std::regex_match(text, m, re)) {
    const Shard s{std::stoull(m[1]), std::stoull(m[2])};
    if (s.count > 0 && s.index < s.count) return s;
  }
  throw ConfigError(fmt::format("shard \"{}\" is not i/N with 0 <= i < N (e.g. 0/4)", text));
}

std::vector<std::size_t> assign_shards(const SweepPlan& plan, std::size_t shards) {
  std::vector<std::size_t> order(plan.tensor_units());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return plan.units()[a].cost > plan.units()[b].cost; });
  std::vector<double> load(shards, 0.0);
  std::vector<std::size_t> out(order.size());
  for (std::size_t u : order) {
    const auto s = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    out[u] = s;
    load[s] += plan.units()[u].cost;
  }
  return out;
}

std::string work_key(const nlohmann::json& config) {
  nlohmann::json j = config;
  j.erase("out");
  j.erase("threads");
  return config_hash(j);
}

nlohmann::json file_identity(const std::filesystem::path& f) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(f, ec);
  const auto mtime = ec ? std::filesystem::file_time_type{} : std::filesystem::last_write_time(f, ec);
  if (ec) throw IoError(fmt::format("cannot stat input file \"{}\": {}", f.string(), ec.message()));
  return {{"file", std::filesystem::weakly_canonical(f, ec).string()},
          {"size", size},
          {"mtime_ns", mtime.time_since_epoch().count()}};
}

std::string work_key(const SweepConfig& c, const std::vector<std::unique_ptr<TensorSource>>& sources) {
  nlohmann::json key = {
      {"config", work_key(c.effective)}, {"sources", nlohmann::json::array()}, {"files", nlohmann::json::array()}};
  for (const auto& s : sources)
    key["sources"].push_back({{"origin", s->origin()}, {"shape", s->shape()}, {"dtype", s->dtype()}});
  for (const InputConfig& in : c.inputs)
    for (const std::filesystem::path& f : {in.file, in.model, in.data})
      if (!f.empty()) key["files"].push_back(file_identity(f));
  return config_hash(key);
}

JournalOwner sweep_journal_owner() {
  return {"sweep",
          "the config (without out and threads) and each input tensor's file and dataset, shape and dtype, and each "
          "input file's size and modification time"};
}

std::filesystem::path run_journal(const std::filesystem::path& out) { return out / "sweep.journal"; }

std::filesystem::path shard_journal(const std::filesystem::path& out, const Shard& s) {
  return out / fmt::format("shard-{}-of-{}.journal", s.index, s.count);
}

std::vector<std::filesystem::path> find_shard_journals(const std::filesystem::path& out) {
  static const std::regex re(R"(shard-(\d+)-of-(\d+)\.journal)");
  std::map<std::size_t, std::set<std::size_t>> found;  // N -> indices
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(out, ec)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (std::regex_match(name, m, re)) found[std::stoull(m[2])].insert(std::stoull(m[1]));
  }
  if (ec) throw IoError(fmt::format("cannot list \"{}\": {}", out.string(), ec.message()));
  if (found.empty()) throw DataError(fmt::format("no shard journals (shard-I-of-N.journal) in \"{}\"", out.string()));
  if (found.size() > 1)
    throw DataError(fmt::format("\"{}\" holds shard journals of {} different shard counts; keep one job array's",
                                out.string(), found.size()));
  const auto& [n, have] = *found.begin();
  std::vector<std::filesystem::path> paths;
  for (std::size_t i = 0; i < n; ++i) {
    if (!have.count(i))
      throw DataError(fmt::format("shard {}/{} is missing: no \"{}\" (run it, then merge)", i, n,
                                  shard_journal(out, {i, n}).string()));
    paths.push_back(shard_journal(out, {i, n}));
  }
  return paths;
}

DriveOutcome drive(const SweepConfig& c, const SweepPlan& plan, const std::vector<std::unique_ptr<TensorSource>>& sources,
                   Executor& executor, const DriveOptions& o) {
  const std::string key = work_key(c, sources);
  const std::size_t n = plan.units().size();
  JournalHeader header{key, n, 0, 1};
  if (o.shard) header = {key, n, o.shard->index, o.shard->count};

  // Shard journals first (merge), then this run's own journal (resume); each record with its file.
  std::map<std::size_t, std::string> done;
  std::map<std::size_t, std::filesystem::path> from;
  for (const auto& p : o.shard_inputs) {
    const JournalContents jc = read_journal(p);
    if (jc.header.key != key || jc.header.units != n)
      throw DataError(fmt::format("shard journal \"{}\" is of another sweep (\"{}\", expected key {} with {} units)",
                                  p.string(), jc.header.line(), key, n));
    for (const auto& [u, bytes] : jc.records)
      if (done.emplace(u, bytes).second) from.emplace(u, p);
  }
  if (!o.shard_inputs.empty())
    for (std::size_t u = 0; u < plan.tensor_units(); ++u)
      if (!done.count(u))
        throw DataError(fmt::format("no shard journal holds unit {} ({}); rerun its shard, then merge", u,
                                    plan.units()[u].name));
  Journal journal(o.journal, header, sweep_journal_owner());
  DriveOutcome out;
  out.units = n;
  out.dropped_torn_tail = journal.dropped_torn_tail();
  for (const auto& [u, bytes] : journal.records())
    if (done.emplace(u, bytes).second) from.emplace(u, journal.path());
  out.resumed = done.size();

  std::vector<UnitResult> results(n);
  std::vector<char> have(n, 0);
  for (const auto& [u, bytes] : done) {
    try {
      results[u] = decode_result(bytes, sources);
    } catch (const DataError& e) {  // a record of an older ffp8 (another record tag) passes its checksum
      throw DataError(fmt::format("journal \"{}\" unit {} ({}): {}; delete the journal to start over",
                                  from.at(u).string(), u, plan.units()[u].name, e.what()));
    }
    have[u] = 1;
  }
  std::vector<std::size_t> shard_of;
  if (o.shard) shard_of = assign_shards(plan, o.shard->count);
  std::size_t recorded = done.size();
  const std::size_t total =
      o.shard ? static_cast<std::size_t>(std::count(shard_of.begin(), shard_of.end(), o.shard->index)) : n;
  auto run_phase = [&](std::vector<Task> tasks) {
    std::stable_sort(tasks.begin(), tasks.end(),
                     [&](const Task& a, const Task& b) { return plan.units()[a.unit].cost > plan.units()[b.unit].cost; });
    executor.run(tasks, [&](std::size_t u, std::string bytes) {
      if (u >= n || have[u]) throw DataError(fmt::format("unit {} reported done twice or out of range", u));
      try {  // decoded before it is journaled, so the journal never holds a record it cannot read back
        results[u] = decode_result(bytes, sources);
      } catch (const DataError& e) {
        throw DataError(fmt::format("the result of unit {} ({}) cannot be read: {}", u, plan.units()[u].name, e.what()));
      }
      journal.append(u, bytes);  // durable before it counts
      have[u] = 1;
      ++out.computed;
      if (o.on_record) o.on_record(++recorded, total);
    });
  };

  // Phase 1: tensor units (this shard's only, when sharded).
  std::vector<Task> tensors;
  for (std::size_t u = 0; u < plan.tensor_units(); ++u)
    if (!have[u] && (!o.shard || shard_of[u] == o.shard->index)) tensors.push_back({u, {}});
  if (o.shard) {
    run_phase(std::move(tensors));
    return out;
  }
  run_phase(std::move(tensors));

  // Phase 2: role units, each given its group's merged statistics.
  std::vector<const UnitResult*> ptrs;
  for (const UnitResult& r : results) ptrs.push_back(&r);
  const std::vector<Group> roles = role_groups(c, plan, ptrs);
  std::vector<Task> role_tasks;
  for (std::size_t u = plan.tensor_units(); u < n; ++u)
    if (!have[u])
      for (const Group& g : roles)
        if (g.role == plan.units()[u].role) role_tasks.push_back({u, encode_group(g, sources)});
  run_phase(std::move(role_tasks));
  out.result = assemble(c, plan, sources, ptrs, roles);
  return out;
}

}  // namespace ffp8::explore::dist
