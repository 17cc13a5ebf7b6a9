#include "explore/sweep/job.hpp"

#include <algorithm>
#include <chrono>
#include <omp.h>
#include <fmt/format.h>
#include <map>
#include <regex>
#include <set>

#include "core/errors.hpp"
#include "core/threads.hpp"
#include "core/io/h5.hpp"
#include "core/io/paths.hpp"
#include "explore/config/config.hpp"
#include "explore/dist/key.hpp"
#include "explore/dist/run.hpp"
#include "explore/report/report.hpp"
#include "explore/sweep/serial.hpp"

namespace ffp8::explore {

SweepJob::SweepJob(SweepConfig config) : config_(std::move(config)) {
  sources_ = open_inputs(config_);
  plan_ = std::make_unique<SweepPlan>(config_, sources_);
}

std::string SweepJob::run(const dist::Task& task) {
  const WorkUnit& u = plan_->units().at(task.unit);
  if (u.kind == WorkUnit::Kind::Pass) return encode_result(run_pass_unit(config_, *plan_, sources_, task.unit), sources_);
  if (u.kind == WorkUnit::Kind::Direct)
    return encode_result(run_direct_unit(config_, *plan_, sources_, task.unit, decode_result(task.input, sources_)), sources_);
  if (u.kind == WorkUnit::Kind::Tensor) {
    if (!u.from_pass) return encode_result(run_tensor_unit(config_, *plan_, sources_, task.unit), sources_);
    const Group given = decode_group(task.input, sources_);
    if (!given.stats) throw DataError(fmt::format("tensor unit {} ({}) was sent no statistics", task.unit, u.name));
    return encode_result(run_tensor_unit(config_, *plan_, sources_, task.unit, {}, given.stats.get()), sources_);
  }
  return encode_result(run_role_unit(config_, *plan_, decode_group(task.input, sources_)), sources_);
}

namespace {
/// Units a shard runs: those that read data (a pass's tensor units need every pass unit first).
bool shardable(const SweepPlan& plan, std::size_t u) {
  const WorkUnit& w = plan.units().at(u);
  return w.kind == WorkUnit::Kind::Pass || (w.kind == WorkUnit::Kind::Tensor && !w.from_pass);
}
}  // namespace

std::vector<std::size_t> assign_shards(const SweepPlan& plan, std::size_t shards) {
  std::vector<double> costs;
  std::vector<std::size_t> which;
  for (std::size_t u = 0; u < plan.units().size(); ++u)
    if (shardable(plan, u)) {
      costs.push_back(plan.units()[u].cost);
      which.push_back(u);
    }
  const std::vector<std::size_t> s = dist::assign_shards(costs, shards);
  std::vector<std::size_t> out(plan.units().size(), kNoShard);
  for (std::size_t k = 0; k < which.size(); ++k) out[which[k]] = s[k];
  return out;
}

std::string SweepJob::work_key() const {
  nlohmann::json key = {
      {"config", dist::work_key(config_.effective)}, {"sources", nlohmann::json::array()}, {"files", nlohmann::json::array()}};
  for (const auto& s : sources_)
    key["sources"].push_back({{"origin", s->origin()}, {"shape", s->shape()}, {"dtype", s->dtype()}});
  for (const InputConfig& in : config_.inputs)
    for (const std::filesystem::path& f : {in.file, in.model, in.data})
      if (!f.empty()) key["files"].push_back(dist::file_identity(f));
  return config_hash(key);
}

dist::JournalOwner sweep_journal_owner() {
  return {"sweep",
          "the config (without out and threads) and each input tensor's file and dataset, shape and dtype, and each "
          "input file's size and modification time"};
}

std::filesystem::path run_journal(const std::filesystem::path& out) { return out / "sweep.journal"; }

std::filesystem::path shard_journal(const std::filesystem::path& out, const dist::Shard& s) {
  return out / fmt::format("shard-{}-of-{}.journal", s.index, s.count);
}

std::vector<std::filesystem::path> find_shard_journals(const std::filesystem::path& out) {
  static const std::regex re(R"(shard-(\d+)-of-(\d+)\.journal)");
  std::map<std::size_t, std::set<std::size_t>> found;  // N -> indices
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(out, ec)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (!std::regex_match(name, m, re)) continue;
    dist::Shard s;
    try {  // the same rule as --shard: i/N with at most 9 digits each, 0 <= i < N
      s = dist::parse_shard(fmt::format("{}/{}", m[1].str(), m[2].str()));
    } catch (const ConfigError&) {
      throw DataError(fmt::format("\"{}\" is not a shard journal of this project (shard-I-of-N.journal with 0 <= I < N "
                                  "< 10^9); move it away, then merge",
                                  e.path().string()));
    }
    found[s.count].insert(s.index);
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

DriveOutcome drive(SweepJob& job, dist::Executor& executor, const DriveOptions& o) {
  const SweepConfig& c = job.config();
  const SweepPlan& plan = job.plan();
  const auto& sources = job.sources();
  const std::string key = job.work_key();
  const std::size_t n = plan.units().size();
  dist::JournalHeader header{key, n, 0, 1};
  if (o.shard) header = {key, n, o.shard->index, o.shard->count};

  // Shard journals first (merge), then this run's own journal (resume); each record with its file.
  std::map<std::size_t, std::string> done;
  std::map<std::size_t, std::filesystem::path> from;
  for (const auto& p : o.shard_inputs) {
    const dist::JournalContents jc = dist::read_journal(p);
    if (jc.header.key != key || jc.header.units != n)
      throw DataError(fmt::format("shard journal \"{}\" is of another sweep (\"{}\", expected key {} with {} units)",
                                  p.string(), jc.header.line(), key, n));
    for (const auto& [u, bytes] : jc.records)
      if (done.emplace(u, bytes).second) from.emplace(u, p);
  }
  if (!o.shard_inputs.empty())
    for (std::size_t u = 0; u < n; ++u)
      if (shardable(plan, u) && !done.count(u))
        throw DataError(fmt::format("no shard journal holds unit {} ({}); rerun its shard, then merge", u,
                                    plan.units()[u].name));
  std::optional<dist::Journal> journal;
  if (!o.journal.empty()) journal.emplace(o.journal, header, sweep_journal_owner());
  DriveOutcome out;
  out.units = n;
  if (journal) {
    out.dropped_torn_tail = journal->dropped_torn_tail();
    for (const auto& [u, bytes] : journal->records())
      if (done.emplace(u, bytes).second) from.emplace(u, journal->path());
  }
  out.resumed = done.size();

  // Pass units' statistics are folded into `merged` as they arrive and not kept (memory: one
  // table per tensor of a pass, not one per pass unit).
  std::vector<UnitResult> results(n);
  std::vector<std::shared_ptr<BucketStats>> merged;
  const auto hold = [&](std::size_t u, UnitResult r) {
    if (plan.units()[u].kind == WorkUnit::Kind::Pass) merge_pass_result(plan, u, r, merged);
    else results[u] = std::move(r);
  };
  for (const auto& [u, bytes] : done) {
    try {
      hold(u, decode_result(bytes, sources));
    } catch (const DataError& e) {  // a record of an older ffp8 (another record tag) passes its checksum
      throw DataError(fmt::format("journal \"{}\" unit {} ({}): {}; delete the journal to start over",
                                  from.at(u).string(), u, plan.units()[u].name, e.what()));
    }
  }
  std::vector<std::size_t> shard_of;
  if (o.shard) shard_of = assign_shards(plan, o.shard->count);
  dist::UnitLog log;
  log.journal = journal ? &*journal : nullptr;
  log.on_record = o.on_record;
  log.recorded = done.size();
  log.total = o.shard ? static_cast<std::size_t>(std::count(shard_of.begin(), shard_of.end(), o.shard->index)) : n;
  const auto cost = [&](std::size_t u) { return plan.units()[u].cost; };
  const auto keep = [&](std::size_t u, const std::string& bytes) {
    try {  // decoded before it is journaled, so the journal never holds a record it cannot read back
      hold(u, decode_result(bytes, sources));
    } catch (const DataError& e) {
      throw DataError(fmt::format("the result of unit {} ({}) cannot be read: {}", u, plan.units()[u].name, e.what()));
    }
  };
  const auto task = [&](std::size_t u, std::string input) { return dist::Task{u, plan.units()[u].name, std::move(input)}; };

  const auto mine = [&](std::size_t u) { return !done.count(u) && (!o.shard || shard_of[u] == o.shard->index); };

  // Phase 0: pass units (this shard's only, when sharded): the models' networks over image ranges.
  std::vector<dist::Task> passes;
  for (std::size_t u = plan.pass_begin(); u < n; ++u)
    if (plan.units()[u].kind == WorkUnit::Kind::Pass && mine(u)) passes.push_back(task(u, {}));
  out.computed += dist::run_units(executor, std::move(passes), cost, keep, log);

  // Phase 1: tensor units (this shard's only, when sharded: a pass's tensors are scored at the
  // merge, which has every pass unit); a pass's tensor is given its merged statistics.
  std::vector<dist::Task> tensors;
  for (std::size_t u = 0; u < plan.tensor_units(); ++u) {
    if (!mine(u)) continue;
    const WorkUnit& w = plan.units()[u];
    if (!w.from_pass) {
      tensors.push_back(task(u, {}));
      continue;
    }
    if (w.source >= merged.size() || !merged[w.source])
      throw DataError(fmt::format("no pass unit's statistics for tensor unit {} ({})", u, w.name));
    Group g;
    g.tensor = w.name;
    g.role = w.role;
    g.pieces = {{sources[w.source].get(), 0, sources[w.source]->size()}};
    g.stats = merged[w.source];
    tensors.push_back(task(u, encode_group(g, sources)));
  }
  out.computed += dist::run_units(executor, std::move(tensors), cost, keep, log);
  if (o.shard) return out;

  // Phase 1b: direct units, each given the pending points of its pass's tensors (none pending:
  // it returns at once), then those points get their sums.
  std::vector<const UnitResult*> ptrs;
  for (const UnitResult& r : results) ptrs.push_back(&r);
  std::vector<dist::Task> directs;
  for (std::size_t u = plan.pass_begin(); u < n; ++u)
    if (plan.units()[u].kind == WorkUnit::Kind::Direct && !done.count(u))
      directs.push_back(task(u, encode_result(direct_input(plan, u, ptrs), sources)));
  out.computed += dist::run_units(executor, std::move(directs), cost, keep, log);
  std::vector<UnitResult*> mut;
  for (UnitResult& r : results) mut.push_back(&r);
  for (std::size_t u = plan.pass_begin(); u < n; ++u)
    if (plan.units()[u].kind == WorkUnit::Kind::Direct) apply_direct(c, plan, u, results[u], mut);

  // Phase 2: role units, each given its group's merged statistics.
  const std::vector<Group> roles = role_groups(c, plan, ptrs);
  std::vector<dist::Task> role_tasks;
  for (std::size_t u = plan.tensor_units(); u < plan.pass_begin(); ++u)
    if (!done.count(u))
      for (const Group& g : roles)
        if (g.role == plan.units()[u].role) role_tasks.push_back(task(u, encode_group(g, sources)));
  out.computed += dist::run_units(executor, std::move(role_tasks), cost, keep, log);
  out.result = assemble(c, plan, sources, ptrs, roles);
  return out;
}

void check_sweep_outputs(const SweepConfig& c, const std::filesystem::path& dir, const std::optional<dist::Shard>& shard) {
  std::vector<io::NamedPath> inputs = {{c.source, "config"}};
  for (const InputConfig& in : c.inputs) {
    inputs.push_back({in.file, "input file"});
    inputs.push_back({in.model, "model"});
    inputs.push_back({in.data, "data file"});
  }
  std::vector<std::filesystem::path> files;
  if (!c.out.empty()) files = {std::filesystem::path(c.out) / "points.csv", std::filesystem::path(c.out) / "pareto.csv",
                               std::filesystem::path(c.out) / "summary.json"};
  if (!c.out.empty()) {
    io::require_output_folder_possible(c.out, "output folder");
    io::refuse_output_over_inputs(c.out, inputs, "output folder");
  }
  if (!dir.empty()) {
    io::require_output_folder_possible(dir, "journal folder");
    io::refuse_output_over_inputs(dir, inputs, "journal folder");
    files.push_back(shard ? shard_journal(dir, *shard) : run_journal(dir));
  }
  for (const auto& f : files) {
    std::error_code ec;
    if (std::filesystem::is_directory(f, ec))
      throw ConfigError(fmt::format("output \"{}\" is a folder, not a file", f.string()));
    io::refuse_output_over_inputs(f, inputs, "output");
  }
}

SweepOutputs run_sweep_job(const SweepConfig& config, const SweepRunOptions& o) {
  const auto start = std::chrono::system_clock::now();
  check_sweep_outputs(config, o.journal_dir, o.shard);
  SweepJob job(config);
  const std::filesystem::path& dir = o.journal_dir;
  if ((o.shard || o.merge) && dir.empty())
    throw ConfigError("a shard or merge run needs a folder for its journals (the sweep's \"out\")");
  DriveOptions d;
  // A merge reads an existing folder of journals: looked for first, so a merge that finds none
  // creates nothing.
  if (o.merge) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
      throw DataError(fmt::format("no folder \"{}\" of shard journals to merge (run the shards with this --out first)",
                                  dir.string()));
    d.shard_inputs = find_shard_journals(dir);
  }
  if (!dir.empty()) h5::create_output_folder(dir.string());
  if (!dir.empty()) d.journal = o.shard ? shard_journal(dir, *o.shard) : run_journal(dir);
  d.shard = o.shard;
  d.on_record = o.on_record;
  dist::LocalExecutor local(job);
  dist::Executor& executor = o.executor ? *o.executor : local;
  executor.set_local([&job](const dist::Task& t) { return job.run(t); });
  DriveOutcome outcome = drive(job, executor, d);

  SweepOutputs out;
  out.units = outcome.units;
  out.resumed = outcome.resumed;
  out.computed = outcome.computed;
  out.dropped_torn_tail = outcome.dropped_torn_tail;
  out.journal = d.journal;
  if (!outcome.result) return out;
  Provenance prov = current_provenance();
  prov.config_hash = config_hash(config.effective);
  prov.start = iso_utc(start);
  prov.end = iso_utc(std::chrono::system_clock::now());
  prov.threads = thread_count(config.threads);
  prov.ranks = executor.ranks();
  if (o.merge) prov.shards = static_cast<int>(d.shard_inputs.size());
  out.points_csv = points_csv(config, *outcome.result, false);
  out.pareto_csv = points_csv(config, *outcome.result, true);
  out.summary = summary_json(config, *outcome.result, prov);
  out.result = std::move(outcome.result);
  return out;
}

void write_sweep_outputs(const std::filesystem::path& dir, const SweepOutputs& o) {
  write_outputs(dir.string(), o.points_csv, o.pareto_csv, o.summary);
  std::error_code ec;
  if (!o.journal.empty()) std::filesystem::remove(o.journal, ec);
}

}  // namespace ffp8::explore
