// The sweep engine (see sweep.hpp). Data is read once for statistics; the direct path reads a
// group again only for the formats the statistics cannot score exactly.
#include "explore/sweep/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <map>
#include <omp.h>
#include <set>

#include "core/errors.hpp"
#include "explore/pareto/pareto.hpp"
#include "explore/select/select.hpp"
#include "explore/sweep/hardware.hpp"
#include "explore/sweep/search.hpp"

namespace ffp8::explore {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QuantOptions options_for(const SweepConfig& c, Rounding r) {
  QuantOptions o;
  o.rounding = r;
  o.saturate = c.space.saturate;
  o.seed = c.space.seed;
  o.threads = 1;
  return o;
}

ScoreNeeds needs_for(const SweepConfig& c) {
  ScoreNeeds n;
  n.kl = std::find(c.metrics.begin(), c.metrics.end(), Metric::KlDiv) != c.metrics.end();
  n.relative = std::find(c.metrics.begin(), c.metrics.end(), Metric::MeanRelErr) != c.metrics.end();
  return n;
}

void fill_facts(Group& g) {
  g.count = g.stats->count();
  g.min = g.stats->min();
  g.max_abs = g.stats->max_abs();
  g.max_positive = g.stats->max_positive();
}

/// Scores many formats on one group by the direct path, in one read of its pieces.
std::vector<ErrorSums> run_direct(const Group& g, const std::vector<std::pair<Format, QuantOptions>>& formats,
                                  const SweepConfig& c, int threads) {
  const ScoreNeeds needs = needs_for(c);
  std::vector<DirectScorer> scorers;
  scorers.reserve(formats.size());
  for (const auto& [f, o] : formats) scorers.emplace_back(f, o, needs, g.max_abs);
  for (const Piece& p : g.pieces) {
    p.source->read(p.offset, p.count, c.chunk, [&](std::span<const float> v, std::uint64_t first) {
      const auto n = static_cast<std::int64_t>(scorers.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
      for (std::int64_t i = 0; i < n; ++i) scorers[static_cast<std::size_t>(i)].add(v, first);
    });
  }
  std::vector<ErrorSums> out;
  for (const auto& s : scorers) out.push_back(s.finish());
  return out;
}

/// Builds the candidates of each group, runs the ask/tell search over them and scores every
/// batch: statistics path where exact, the rest by the direct path in one read of the group.
class Engine {
 public:
  Engine(const SweepConfig& c, SweepResult& r, const std::vector<Layout>& layouts, int threads)
      : c_(c), r_(r), layouts_(layouts), threads_(threads), needs_(needs_for(c)) {}

  /// The grid of the space for a group: layouts x roundings x biases (per the bias rule).
  std::vector<Candidate> grid(const Group& g) {
    std::vector<Candidate> out;
    for (const Layout& l : layouts_)
      for (Rounding rd : c_.space.rounding) {
        const std::int64_t set = next_set_;
        bool any_argmin = false;
        for (const BiasChoice& b : biases_for(l, c_.space.bias, *g.stats)) {
          auto f = make_counted(l, b.bias);
          if (!f) continue;
          out.push_back({*f, rd, b.rule, b.argmin ? set : -1});
          any_argmin = any_argmin || b.argmin;
        }
        if (any_argmin) ++next_set_;
      }
    return out;
  }

  /// Scores a batch on group `gi`; `by_stats[i]` tells which path scored candidate i.
  std::vector<ErrorSums> score_batch(std::size_t gi, const std::vector<Candidate>& batch, std::vector<char>& by_stats) {
    const Group& g = r_.groups[gi];
    const PreparedStats prep(*g.stats);
    std::vector<ErrorSums> sums(batch.size());
    by_stats.assign(batch.size(), 1);
    const auto n = static_cast<std::int64_t>(batch.size());
#pragma omp parallel for schedule(dynamic, 8) num_threads(threads_)
    for (std::int64_t i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(i);
      std::optional<ErrorSums> s;
      if (!c_.direct_only) s = score_stats(prep, batch[k].format, options_for(c_, batch[k].rounding), needs_);
      if (s) sums[k] = *s;
      else by_stats[k] = 0;
    }
    std::vector<std::size_t> direct;
    std::vector<std::pair<Format, QuantOptions>> fs;
    for (std::size_t k = 0; k < batch.size(); ++k)
      if (!by_stats[k]) {
        direct.push_back(k);
        fs.emplace_back(batch[k].format, options_for(c_, batch[k].rounding));
      }
    if (!fs.empty()) {
      const auto d = run_direct(g, fs, c_, threads_);
      for (std::size_t j = 0; j < direct.size(); ++j) sums[direct[j]] = d[j];
    }
    return sums;
  }

  /// Runs the grid search on group `gi` and appends its points.
  void score_group(std::size_t gi) {
    GridSearch search(grid(r_.groups[gi]));
    for (auto batch = search.ask(); !batch.empty(); batch = search.ask()) {
      std::vector<char> by_stats;
      const auto sums = score_batch(gi, batch, by_stats);
      search.tell(batch, sums);
      for (std::size_t k = 0; k < batch.size(); ++k) {
        Point p;
        p.group = gi;
        p.format = batch[k].format;
        p.rounding = batch[k].rounding;
        p.bias_rule = batch[k].bias_rule;
        p.argmin_set = batch[k].argmin_set;
        p.sums = sums[k];
        p.by_stats = by_stats[k] != 0;
        r_.points.push_back(std::move(p));
      }
    }
  }

  std::optional<Format> make_counted(const Layout& l, int b) {
    SkipCounts local;
    auto f = make_format(l, b, c_.space, local);
    if (!f) {
      const std::string key = fmt::format("{}b{}", l.name(), b);
      if (skipped_seen_.insert(key).second) {
        r_.skipped.invalid += local.invalid;
        r_.skipped.excluded += local.excluded;
      }
    }
    return f;
  }

 private:
  const SweepConfig& c_;
  SweepResult& r_;
  const std::vector<Layout>& layouts_;
  int threads_;
  ScoreNeeds needs_;
  std::int64_t next_set_ = 0;
  std::set<std::string> skipped_seen_;
};

bool has(const std::vector<Granularity>& v, Granularity g) { return std::find(v.begin(), v.end(), g) != v.end(); }

void check_nan(const BucketStats& s, const std::string& name) {
  if (const auto n = s.nan_count(); n > 0)
    throw DataError(fmt::format("tensor \"{}\" has {} NaN value{}; formats cannot be scored on NaN inputs", name, n,
                                n == 1 ? "" : "s"));
}

}  // namespace

double column_value(const Point& p, const Group& g, std::string_view column) {
  if (auto m = parse_metric(column)) return metric_value(*m, p.sums);
  if (column == "sign") return p.format.sign;
  if (column == "exp") return p.format.exp;
  if (column == "man") return p.format.man;
  if (column == "bias") return p.format.bias;
  if (column == "width") return p.format.width();
  if (column == "count") return static_cast<double>(g.count);
  if (column == "area_um2") return p.area_um2;
  if (column == "energy_pj_per_mac") return p.energy_pj_per_mac;
  return kNaN;
}

SweepResult run_sweep(const SweepConfig& c, const std::vector<std::unique_ptr<TensorSource>>& sources,
                      const ProgressFn& progress) {
  const int threads = c.threads > 0 ? c.threads : omp_get_max_threads();
  SweepResult r;
  const std::vector<Layout> layouts = expand_layouts(c.space, r.skipped);
  Engine engine(c, r, layouts, threads);
  const bool recip = needs_for(c).relative;
  const bool want_tensor = has(c.granularity, Granularity::Tensor);
  const bool want_channel = has(c.granularity, Granularity::Channel);

  std::uint64_t total = 0, done = 0;
  for (const auto& s : sources) total += s->size();
  std::vector<std::size_t> tensor_groups;
  // One read per tensor: tensor statistics and, when asked, per-channel statistics together.
  for (const auto& s : sources) {
    Collector whole(threads, recip);
    std::unique_ptr<Collector> chan;
    const std::uint64_t csize = s->channel_size();
    std::uint64_t filled = 0, ch = 0;
    if (want_channel) chan = std::make_unique<Collector>(threads, recip);
    s->read(0, s->size(), c.chunk, [&](std::span<const float> v, std::uint64_t) {
      whole.add(v);
      while (chan && !v.empty()) {
        const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(v.size(), csize - filled));
        chan->add(v.first(take));
        v = v.subspan(take);
        filled += take;
        if (filled == csize) {
          Group g;
          g.tensor = fmt::format("{}[{}]", s->name(), ch);
          g.role = s->role();
          g.granularity = Granularity::Channel;
          g.channel = static_cast<std::int64_t>(ch);
          g.pieces = {{s.get(), ch * csize, csize}};
          g.stats = std::make_shared<const BucketStats>(chan->finish());
          fill_facts(g);
          r.groups.push_back(std::move(g));
          engine.score_group(r.groups.size() - 1);
          r.groups.back().stats.reset();  // keeps memory flat over many channels
          ++ch;
          filled = 0;
        }
      }
      done += v.size();
      if (progress) progress("statistics", static_cast<double>(done), static_cast<double>(total));
    });
    Group g;
    g.tensor = s->name();
    g.role = s->role();
    g.pieces = {{s.get(), 0, s->size()}};
    g.stats = std::make_shared<const BucketStats>(whole.finish());
    check_nan(*g.stats, s->origin());
    fill_facts(g);
    g.emitted = want_tensor;
    nlohmann::json t = {{"tensor", g.tensor}, {"role", g.role}, {"shape", s->shape()}, {"count", g.count},
                        {"min", g.min}, {"max_abs", g.max_abs}, {"buckets", g.stats->buckets().size()}};
    if (!s->note().empty()) t["note"] = s->note();
    r.tensors.push_back(std::move(t));
    r.groups.push_back(std::move(g));
    tensor_groups.push_back(r.groups.size() - 1);
  }
  if (progress) progress("statistics", static_cast<double>(total), static_cast<double>(total));
  // Role groups: statistics merged across the role's tensors (exact: integer sums).
  std::map<std::string, std::size_t> roles;
  for (std::size_t gi : tensor_groups) {
    // Copies, not references: creating a role group below may reallocate r.groups.
    const std::string role = r.groups[gi].role;
    const auto tstats = r.groups[gi].stats;
    const auto tpieces = r.groups[gi].pieces;
    auto it = roles.find(role);
    if (it == roles.end()) {
      Group g;
      g.tensor = "*";
      g.role = role;
      g.granularity = Granularity::Role;
      g.emitted = has(c.granularity, Granularity::Role);
      g.stats = std::make_shared<BucketStats>();
      r.groups.push_back(std::move(g));
      it = roles.emplace(role, r.groups.size() - 1).first;
    }
    Group& rg = r.groups[it->second];
    auto merged = std::make_shared<BucketStats>(*rg.stats);
    merged->merge(*tstats);
    rg.stats = merged;
    rg.pieces.insert(rg.pieces.end(), tpieces.begin(), tpieces.end());
  }
  for (auto& [role, gi] : roles) fill_facts(r.groups[gi]);
  // Score tensor and role groups that are emitted.
  std::size_t emitted = 0, scored = 0;
  for (const Group& g : r.groups) emitted += g.granularity != Granularity::Channel && g.emitted;
  for (std::size_t gi = 0; gi < r.groups.size(); ++gi) {
    if (r.groups[gi].granularity == Granularity::Channel || !r.groups[gi].emitted) continue;
    engine.score_group(gi);
    if (progress) progress("scoring", static_cast<double>(++scored), static_cast<double>(emitted));
  }

  // Argmin sets: keep the best point of each.
  {
    std::map<std::int64_t, std::size_t> best;
    for (std::size_t i = 0; i < r.points.size(); ++i) {
      const Point& p = r.points[i];
      if (p.argmin_set < 0) continue;
      const Metric m = c.space.bias.argmin;
      const double v = metric_value(m, p.sums);
      auto it = best.find(p.argmin_set);
      if (it == best.end()) {
        best[p.argmin_set] = i;
        continue;
      }
      const double w = metric_value(m, r.points[it->second].sums);
      const bool better = info(m).goal == Goal::Min ? v < w : v > w;
      if (better || (std::isnan(w) && !std::isnan(v))) it->second = i;
    }
    std::vector<Point> kept;
    for (std::size_t i = 0; i < r.points.size(); ++i) {
      const Point& p = r.points[i];
      if (p.argmin_set < 0 || best[p.argmin_set] == i) kept.push_back(p);
    }
    r.points = std::move(kept);
  }
  std::stable_sort(r.points.begin(), r.points.end(), [](const Point& a, const Point& b) { return a.group < b.group; });
  for (const Point& p : r.points) (p.by_stats ? r.by_stats : r.by_direct) += 1;

  for (Point& p : r.points) p.area_um2 = p.energy_pj_per_mac = kNaN;
  if (c.hardware.enabled) add_hardware_costs(c.hardware, r.points);

  // Pareto per group (a frontier across different tensors would compare unlike things).
  if (!c.objectives.empty()) {
    std::vector<Goal> goals;
    for (const Objective& o : c.objectives) goals.push_back(o.goal);
    std::size_t at = 0;
    while (at < r.points.size()) {
      std::size_t end = at;
      while (end < r.points.size() && r.points[end].group == r.points[at].group) ++end;
      std::vector<std::vector<double>> rows;
      for (std::size_t i = at; i < end; ++i) {
        std::vector<double> row;
        for (const Objective& o : c.objectives) row.push_back(column_value(r.points[i], r.groups[r.points[i].group], o.column));
        rows.push_back(std::move(row));
      }
      const auto front = pareto_front(rows, goals);
      for (std::size_t k : front) r.points[at + k].pareto = true;
      if (!front.empty()) r.points[at + knee_point(rows, front, goals)].knee = true;
      at = end;
    }
  }

  // Selection on tensor and role statistics.
  const ScoreFn score = [&](const Group& g, const Format& f, Rounding rd) {
    const QuantOptions o = options_for(c, rd);
    if (!c.direct_only) {
      const PreparedStats prep(*g.stats);
      if (auto s = score_stats(prep, f, o, needs_for(c))) return *s;
    }
    return run_direct(g, {{f, o}}, c, threads).front();
  };
  r.choices = select_formats(c, r.groups, layouts, score);
  return r;
}

}  // namespace ffp8::explore
