// The sweep engine (see sweep.hpp, units.hpp). Data is read once for statistics; the direct path
// reads a group again only for the formats the statistics cannot score exactly.
#include "explore/sweep/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <map>
#include <omp.h>
#include <set>
#include <tuple>

#include "core/errors.hpp"
#include "core/threads.hpp"
#include "explore/pareto/pareto.hpp"
#include "explore/select/select.hpp"
#include "explore/sweep/hardware.hpp"
#include "explore/sweep/scaled.hpp"
#include "explore/sweep/search.hpp"
#include "explore/sweep/units.hpp"

namespace ffp8::explore {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int threads_of(const SweepConfig& c) { return thread_count(c.threads); }

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

/// The group's statistics are the finite part of `all`; its NaN and ±Inf values are counted,
/// never scored (every metric, bias rule and selection sees the finite values only).
void set_stats(Group& g, const BucketStats& all) {
  g.nan = all.nan_count();
  g.inf = all.inf_count();
  g.stats = std::make_shared<const BucketStats>(all.finite());
  fill_facts(g);
}

/// Exact facts of float64 data, which its float32 statistics only bound; finite values only.
struct Facts64 {
  double min = 0, max_abs = 0, max_positive = 0;
  bool any = false;
  void add(std::span<const double> v) {
    for (double x : v) {
      if (!std::isfinite(x)) continue;
      min = any ? std::min(min, x) : x;
      max_abs = std::max(max_abs, std::fabs(x));
      if (x > 0) max_positive = std::max(max_positive, x);
      any = true;
    }
  }
  void apply(Group& g) const {
    g.min = min;
    g.max_abs = max_abs;
    g.max_positive = max_positive;
  }
};

/// Float32 images of float64 values for the statistics, rounded away from zero: a float32
/// max(V) is >= |x| exactly when it is >= the image, so the percentile rule (the only use of
/// these statistics besides the NaN/Inf counts and bucket count) picks what the float64 values
/// would. A finite value beyond float32's range becomes its largest finite value, so it stays
/// counted as a finite value, not as an infinity.
void float32_images(std::span<const double> v, std::vector<float>& out) {
  out.resize(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    float f = static_cast<float>(v[i]);
    if (std::fabs(static_cast<double>(f)) < std::fabs(v[i])) f = std::nextafter(f, std::copysign(INFINITY, f));
    if (std::isinf(f) && std::isfinite(v[i])) f = std::copysign(std::numeric_limits<float>::max(), f);
    out[i] = f;
  }
}

/// Whether a group may be scored from its statistics (else every point takes the direct path).
bool stats_allowed(const SweepConfig& c, const Group& g) { return !c.direct_only && !g.has_float64(); }

/// Scores many formats on one group by the direct path, in one read of its pieces.
std::vector<ErrorSums> run_direct(const Group& g, const std::vector<std::pair<Format, QuantOptions>>& formats,
                                  const SweepConfig& c, int threads) {
  const ScoreNeeds needs = needs_for(c);
  std::vector<DirectScorer> scorers;
  scorers.reserve(formats.size());
  for (const auto& [f, o] : formats) scorers.emplace_back(f, o, needs, g.max_abs);
  auto add = [&](auto v, std::uint64_t first) {
    const auto n = static_cast<std::int64_t>(scorers.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (std::int64_t i = 0; i < n; ++i) scorers[static_cast<std::size_t>(i)].add(v, first);
  };
  for (const Piece& p : g.pieces) {
    // float64 data stays float64: the quantizer's exact path, measured in float64.
    if (p.source->is_float64())
      p.source->read_double(p.offset, p.count, c.chunk, [&](std::span<const double> v, std::uint64_t first) { add(v, first); });
    else
      p.source->read(p.offset, p.count, c.chunk, [&](std::span<const float> v, std::uint64_t first) { add(v, first); });
  }
  std::vector<ErrorSums> out;
  for (const auto& s : scorers) out.push_back(s.finish());
  return out;
}

/// Argmin sets: keeps the best point of each (the first on ties), in order.
void reduce_argmin(const SweepConfig& c, UnitResult& u) {
  const Metric m = c.space.bias.argmin;
  std::map<std::int64_t, std::size_t> best;
  for (std::size_t i = 0; i < u.points.size(); ++i) {
    const Point& p = u.points[i];
    if (p.argmin_set < 0) continue;
    const double v = metric_value(m, p.sums);
    auto it = best.find(p.argmin_set);
    if (it == best.end()) {
      best[p.argmin_set] = i;
      continue;
    }
    const double w = metric_value(m, u.points[it->second].sums);
    const bool better = info(m).goal == Goal::Min ? v < w : v > w;
    if (better || (std::isnan(w) && !std::isnan(v))) it->second = i;
  }
  std::vector<Point> kept;
  for (std::size_t i = 0; i < u.points.size(); ++i) {
    Point& p = u.points[i];
    if (p.argmin_set < 0 || best[p.argmin_set] == i) kept.push_back(std::move(p));
  }
  for (Point& p : kept) p.argmin_set = -1;  // sets are per unit: nothing left to compete
  u.points = std::move(kept);
}

/// Builds the candidates of each group of one unit, runs the ask/tell search over them and
/// scores every batch: statistics path where exact, the rest by the direct path in one read.
class Engine {
 public:
  Engine(const SweepConfig& c, const std::vector<FormatTemplate>& templates, UnitResult& u)
      : c_(c), u_(u), templates_(templates), threads_(threads_of(c)), needs_(needs_for(c)) {}

  /// The grid of the space for a group: templates x roundings x biases (per the bias rule).
  std::vector<Candidate> grid(const Group& g) {
    std::vector<Candidate> out;
    if (!c_.space.plain()) return out;  // "scaling" without "none": scaled points only
    for (const FormatTemplate& l : templates_)
      for (Rounding rd : c_.space.rounding) {
        const std::int64_t set = next_set_;
        bool any_argmin = false;
        for (const BiasChoice& b : biases_for(l, c_.space.bias, *g.stats, g.extent())) {
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
    const Group& g = u_.groups[gi];
    const PreparedStats prep(*g.stats);
    std::vector<ErrorSums> sums(batch.size());
    by_stats.assign(batch.size(), 1);
    const auto n = static_cast<std::int64_t>(batch.size());
#pragma omp parallel for schedule(dynamic, 8) num_threads(threads_)
    for (std::int64_t i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(i);
      std::optional<ErrorSums> s;
      if (stats_allowed(c_, g)) s = score_stats(prep, batch[k].format, options_for(c_, batch[k].rounding), needs_);
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
    if (!fs.empty() && !defer_direct_) {
      const auto d = run_direct(g, fs, c_, threads_);
      for (std::size_t j = 0; j < direct.size(); ++j) sums[direct[j]] = d[j];
    }
    return sums;
  }

  /// Runs the grid search on group `gi` and appends its points.
  void score_group(std::size_t gi) {
    GridSearch search(grid(u_.groups[gi]));
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
        p.pending = defer_direct_ && !p.by_stats;
        u_.points.push_back(std::move(p));
      }
    }
  }

  std::optional<Format> make_counted(const FormatTemplate& l, int b) {
    SkipCounts local;
    auto f = make_format(l, b, c_.space, local);
    if (!f) {
      std::string key = fmt::format("{}b{}", l.name(), b);
      if (skipped_seen_.insert(key).second) u_.skipped.push_back({std::move(key), local.invalid, local.excluded});
    }
    return f;
  }

  /// Argmin sets: keeps the best point of each (the first on ties), in order.
  void reduce_argmin_sets() { reduce_argmin(c_, u_); }

  /// Direct-path points are left pending (a pass's direct unit scores them), not read here.
  void defer_direct() { defer_direct_ = true; }

 private:
  const SweepConfig& c_;
  UnitResult& u_;
  const std::vector<FormatTemplate>& templates_;
  int threads_;
  ScoreNeeds needs_;
  std::int64_t next_set_ = 0;
  std::set<std::string> skipped_seen_;
  bool defer_direct_ = false;
};

bool has(const std::vector<Granularity>& v, Granularity g) { return std::find(v.begin(), v.end(), g) != v.end(); }

/// A tensor of NaN and infinities only leaves nothing to score (NaN/Inf among finite values are
/// counted and left out instead).
void check_finite(const Group& g, const std::string& name) {
  if (g.count == 0 && g.nan + g.inf > 0)
    throw DataError(fmt::format("tensor \"{}\" has no finite value ({} NaN, {} infinite); formats cannot be scored on it",
                                name, g.nan, g.inf));
}

}  // namespace

bool Group::has_float64() const {
  return std::any_of(pieces.begin(), pieces.end(), [](const Piece& p) { return p.source->is_float64(); });
}

std::string point_format_name(const Point& p) {
  return p.scaling.empty() ? p.format.name() : p.format.name() + "/" + p.scaling;
}

double column_value(const Point& p, const Group& g, std::string_view column) {
  if (auto m = parse_metric(column)) return metric_value(*m, p.sums);
  if (column == "effective_bits") return p.effective_bits > 0 ? p.effective_bits : p.format.width();
  if (column == "group_size") return p.group_size > 0 ? p.group_size : static_cast<double>(g.count);
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

SweepPlan::SweepPlan(const SweepConfig& c, const std::vector<std::unique_ptr<TensorSource>>& sources, bool passes) {
  templates_ = expand_templates(c.space, template_skips_);
  std::map<std::string, double> role_cost;
  std::vector<std::string> roles;
  std::vector<const TapPass*> taps;  // in order of first appearance
  std::map<const TapPass*, std::vector<std::size_t>> members;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const auto& s = *sources[i];
    WorkUnit u;
    u.source = i;
    u.role = s.role();
    u.name = s.name();
    u.cost = static_cast<double>(s.size());
    if (const TapPass* t = passes ? s.tap_pass() : nullptr) {
      u.from_pass = true;
      u.cost = 1;  // scoring only
      if (!members.count(t)) taps.push_back(t);
      auto& m = members[t];
      if (m.size() <= s.tap_slot()) m.resize(s.tap_slot() + 1, sources.size());
      m[s.tap_slot()] = i;
    }
    units_.push_back(std::move(u));
    if (!role_cost.count(s.role())) roles.push_back(s.role());
    role_cost[s.role()] += static_cast<double>(s.size());
  }
  tensor_units_ = units_.size();
  if (has(c.granularity, Granularity::Role))
    for (const std::string& r : roles) {
      WorkUnit u;
      u.kind = WorkUnit::Kind::Role;
      u.role = r;
      u.name = "role " + r;
      u.cost = role_cost[r];
      units_.push_back(std::move(u));
    }
  pass_begin_ = units_.size();
  for (const TapPass* t : taps) {
    const std::vector<std::size_t>& m = members[t];
    if (m.size() != t->slots() || std::count(m.begin(), m.end(), sources.size()) != 0)
      throw DataError("a tap pass's tensors are not all among the sweep's inputs");
    const std::uint64_t b = std::max<std::uint64_t>(t->batch(), 1), n = t->images();
    const std::uint64_t batches = (n + b - 1) / b;
    const std::uint64_t step = b * ((batches + kMaxPassUnits - 1) / kMaxPassUnits);
    double per = 0;
    for (std::size_t k = 0; k < m.size(); ++k) per += static_cast<double>(t->values_per_image(k));
    for (std::uint64_t first = 0; first < n; first += step) {
      WorkUnit u;
      u.kind = WorkUnit::Kind::Pass;
      u.source = m.front();
      u.role = sources[m.front()]->role();
      const std::uint64_t last = std::min(n, first + step);
      u.name = fmt::format("pass over images {}..{}: {} and {} more tensors", first, last - 1,
                           sources[m.front()]->origin(), m.size() - 1);
      u.cost = per * static_cast<double>(last - first);
      u.members = m;
      u.first = first;
      u.last = last;
      units_.push_back(std::move(u));
    }
    WorkUnit d;
    d.kind = WorkUnit::Kind::Direct;
    d.source = m.front();
    d.role = sources[m.front()]->role();
    d.name = fmt::format("direct path over images 0..{}: {} and {} more tensors", n - 1, sources[m.front()]->origin(),
                         m.size() - 1);
    d.cost = per * static_cast<double>(n);
    d.members = m;
    d.first = 0;
    d.last = n;
    units_.push_back(std::move(d));
  }
}

UnitResult run_pass_unit(const SweepConfig& c, const SweepPlan& plan,
                         const std::vector<std::unique_ptr<TensorSource>>& sources, std::size_t unit) {
  const WorkUnit& w = plan.units().at(unit);
  if (w.kind != WorkUnit::Kind::Pass) throw DataError(fmt::format("unit {} is not a pass unit", unit));
  const TensorSource& lead = *sources.at(w.members.front());
  const TapPass& tap = *lead.tap_pass();
  const bool recip = needs_for(c).relative;
  // One collector for all slots: each tap event (a whole batch of one tensor) is added and
  // flushed into its slot's statistics, so memory is one dense table, not one per tensor.
  Collector collector(threads_of(c), recip);
  std::vector<BucketStats> stats(w.members.size());
  for (BucketStats& s : stats) s.set_reciprocals(recip);
  tap.run(w.first, w.last, [&](std::size_t slot, std::span<const float> v, std::uint64_t) {
    collector.add(v);
    stats.at(slot).merge(collector.finish());
  });
  UnitResult u;
  for (std::size_t k = 0; k < w.members.size(); ++k) {
    const TensorSource& s = *sources[w.members[k]];
    const std::uint64_t per = tap.values_per_image(k);
    Group g;
    g.tensor = s.name();
    g.role = s.role();
    g.pieces = {{&s, w.first * per, (w.last - w.first) * per}};
    g.stats = std::make_shared<const BucketStats>(std::move(stats[k]));
    fill_facts(g);
    g.emitted = false;
    u.groups.push_back(std::move(g));
  }
  return u;
}

UnitResult direct_input(const SweepPlan& plan, std::size_t unit, const std::vector<const UnitResult*>& results) {
  const WorkUnit& w = plan.units().at(unit);
  if (w.kind != WorkUnit::Kind::Direct) throw DataError(fmt::format("unit {} is not a direct unit", unit));
  UnitResult in;
  for (std::size_t k = 0; k < w.members.size(); ++k) {
    const UnitResult& t = *results.at(w.members[k]);  // tensor unit i reads source i
    Group g = t.groups.back();
    g.stats.reset();
    in.groups.push_back(std::move(g));
    for (const Point& p : t.points)
      if (p.pending) {
        Point q = p;
        q.group = k;
        in.points.push_back(std::move(q));
      }
  }
  return in;
}

UnitResult run_direct_unit(const SweepConfig& c, const SweepPlan& plan,
                           const std::vector<std::unique_ptr<TensorSource>>& sources, std::size_t unit,
                           const UnitResult& input) {
  const WorkUnit& w = plan.units().at(unit);
  if (w.kind != WorkUnit::Kind::Direct) throw DataError(fmt::format("unit {} is not a direct unit", unit));
  if (input.groups.size() != w.members.size())
    throw DataError(fmt::format("direct unit {} was sent {} groups for {} tensors", unit, input.groups.size(), w.members.size()));
  if (input.points.empty()) return input;  // every point came from statistics: no run
  const TapPass& tap = *sources.at(w.members.front())->tap_pass();
  const ScoreNeeds needs = needs_for(c);
  const int threads = threads_of(c);
  std::vector<std::vector<std::size_t>> of_slot(w.members.size());  // slot -> its points
  std::vector<DirectScorer> scorers;
  scorers.reserve(input.points.size());
  for (std::size_t i = 0; i < input.points.size(); ++i) {
    const Point& p = input.points[i];
    of_slot.at(p.group).push_back(i);
    scorers.emplace_back(p.format, options_for(c, p.rounding), needs, input.groups[p.group].max_abs);
  }
  tap.run(w.first, w.last, [&](std::size_t slot, std::span<const float> v, std::uint64_t first) {
    const std::vector<std::size_t>& mine = of_slot.at(slot);
    if (mine.empty()) return;
    // Chunks of at most `chunk` values, as run_direct reads them (the sums do not depend on it).
    for (std::size_t at = 0; at < v.size(); at += c.chunk) {
      const auto part = v.subspan(at, std::min(c.chunk, v.size() - at));
      const auto n = static_cast<std::int64_t>(mine.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
      for (std::int64_t i = 0; i < n; ++i) scorers[mine[static_cast<std::size_t>(i)]].add(part, first + at);
    }
  });
  UnitResult out = input;
  for (std::size_t i = 0; i < out.points.size(); ++i) {
    out.points[i].sums = scorers[i].finish();
    out.points[i].pending = false;
  }
  return out;
}

void apply_direct(const SweepConfig& c, const SweepPlan& plan, std::size_t unit, const UnitResult& scored,
                  std::vector<UnitResult*>& results) {
  const WorkUnit& w = plan.units().at(unit);
  std::size_t at = 0;
  for (std::size_t k = 0; k < w.members.size(); ++k) {
    UnitResult& t = *results.at(w.members[k]);
    bool any = false;
    for (Point& p : t.points)
      if (p.pending) {
        if (at >= scored.points.size() || scored.points[at].group != k || scored.points[at].format.name() != p.format.name())
          throw DataError(fmt::format("direct unit {} does not match the pending points of {}", unit, t.groups.back().tensor));
        p.sums = scored.points[at++].sums;
        p.pending = false;
        any = true;
      }
    if (any) reduce_argmin(c, t);
  }
  if (at != scored.points.size()) throw DataError(fmt::format("direct unit {} has {} points too many", unit, scored.points.size() - at));
}

void merge_pass_result(const SweepPlan& plan, std::size_t unit, const UnitResult& r,
                       std::vector<std::shared_ptr<BucketStats>>& merged) {
  const WorkUnit& w = plan.units().at(unit);
  if (r.groups.size() != w.members.size())
    throw DataError(fmt::format("pass unit {} has {} groups for {} tensors", unit, r.groups.size(), w.members.size()));
  for (std::size_t k = 0; k < w.members.size(); ++k) {
    const std::size_t s = w.members[k];
    if (merged.size() <= s) merged.resize(s + 1);
    if (!merged[s]) {
      merged[s] = std::make_shared<BucketStats>();
      merged[s]->set_reciprocals(r.groups[k].stats->has_reciprocals());
    }
    merged[s]->merge(*r.groups[k].stats);
  }
}

UnitResult run_tensor_unit(const SweepConfig& c, const SweepPlan& plan,
                           const std::vector<std::unique_ptr<TensorSource>>& sources, std::size_t unit,
                           const ProgressFn& progress, const BucketStats* given) {
  const WorkUnit& w = plan.units().at(unit);
  if (w.kind != WorkUnit::Kind::Tensor) throw DataError(fmt::format("unit {} is not a tensor unit", unit));
  if (w.from_pass != (given != nullptr))
    throw DataError(fmt::format("tensor unit {} ({}) {} its statistics", unit, w.name,
                                w.from_pass ? "needs its pass units'" : "reads its tensor for"));
  const auto& s = sources.at(w.source);
  const int threads = threads_of(c);
  UnitResult u;
  Engine engine(c, plan.templates(), u);
  if (given) engine.defer_direct();  // reading this tensor alone would run its network again
  const bool recip = needs_for(c).relative;
  // One read: tensor statistics and, when asked, per-channel statistics together.
  Collector whole(threads, recip);
  std::unique_ptr<Collector> chan;
  const std::uint64_t csize = s->channel_size();
  std::uint64_t filled = 0, ch = 0, done = 0;
  // Per-channel groups follow axis 0, a weight's output channel. An activation's axis 0 is the
  // sample, so with `channel` an activation is scored as a whole tensor instead.
  const bool per_channel = has(c.granularity, Granularity::Channel) && s->role() != "activation";
  if (per_channel) chan = std::make_unique<Collector>(threads, recip);
  const bool f64 = s->is_float64();
  Facts64 whole64, chan64;
  // `d`: the float64 values of `v` for float64 data (empty otherwise).
  auto feed = [&](std::span<const float> v, std::span<const double> d) {
    whole.add(v);
    if (f64) whole64.add(d);
    done += v.size();
    while (chan && !v.empty()) {
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(v.size(), csize - filled));
      chan->add(v.first(take));
      v = v.subspan(take);
      if (f64) {
        chan64.add(d.first(take));
        d = d.subspan(take);
      }
      filled += take;
      if (filled == csize) {
        Group g;
        g.tensor = fmt::format("{}[{}]", s->name(), ch);
        g.role = s->role();
        g.granularity = Granularity::Channel;
        g.channel = static_cast<std::int64_t>(ch);
        g.pieces = {{s.get(), ch * csize, csize}};
        set_stats(g, chan->finish());
        if (f64) chan64.apply(g);
        chan64 = {};
        u.groups.push_back(std::move(g));
        engine.score_group(u.groups.size() - 1);
        u.groups.back().stats.reset();  // keeps memory flat over many channels
        ++ch;
        filled = 0;
      }
    }
    if (progress) progress("statistics", static_cast<double>(done), static_cast<double>(s->size()));
  };
  if (given) {
    // Statistics of the pass units (a pass's tensors are float32 activations: no channels).
    if (per_channel || f64) throw DataError(fmt::format("tensor {} of a pass cannot be scored per channel or as float64", s->name()));
    done = s->size();
  } else if (f64) {
    std::vector<float> images;
    s->read_double(0, s->size(), c.chunk, [&](std::span<const double> d, std::uint64_t) {
      float32_images(d, images);
      feed(images, d);
    });
  } else {
    s->read(0, s->size(), c.chunk, [&](std::span<const float> v, std::uint64_t) { feed(v, {}); });
  }
  Group g;
  g.tensor = s->name();
  g.role = s->role();
  g.pieces = {{s.get(), 0, s->size()}};
  set_stats(g, given ? *given : whole.finish());
  if (f64) whole64.apply(g);
  check_finite(g, s->origin());
  g.emitted = has(c.granularity, Granularity::Tensor) || (has(c.granularity, Granularity::Channel) && !per_channel);
  u.groups.push_back(std::move(g));
  if (u.groups.back().emitted) {
    engine.score_group(u.groups.size() - 1);
    // Scaled formats on whole tensors read here (a pass's tensors are not kept in memory).
    if (!given) add_scaled_points(c, plan.templates(), *s, u.groups.size() - 1, u);
  }
  // With pending points, argmin sets wait for their sums (apply_direct).
  if (std::none_of(u.points.begin(), u.points.end(), [](const Point& p) { return p.pending; })) engine.reduce_argmin_sets();
  return u;
}

std::vector<Group> role_groups(const SweepConfig& c, const SweepPlan& plan,
                               const std::vector<const UnitResult*>& tensor_results) {
  std::vector<Group> out;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < plan.tensor_units(); ++i) {
    const Group& t = tensor_results.at(i)->groups.back();  // a tensor unit's last group is the tensor's
    auto it = index.find(t.role);
    if (it == index.end()) {
      Group g;
      g.tensor = "*";
      g.role = t.role;
      g.granularity = Granularity::Role;
      g.emitted = has(c.granularity, Granularity::Role);
      g.stats = std::make_shared<BucketStats>();
      out.push_back(std::move(g));
      it = index.emplace(t.role, out.size() - 1).first;
    }
    Group& rg = out[it->second];
    // Facts merged from the tensors' (exact for float64 data too, unlike the merged statistics).
    if (t.count > 0) {
      rg.min = rg.count == 0 ? t.min : std::min(rg.min, t.min);
      rg.max_abs = std::max(rg.max_abs, t.max_abs);
      rg.max_positive = std::max(rg.max_positive, t.max_positive);
      rg.count += t.count;
    }
    rg.nan += t.nan;
    rg.inf += t.inf;
    auto merged = std::make_shared<BucketStats>(*rg.stats);
    merged->merge(*t.stats);
    rg.stats = merged;
    rg.pieces.insert(rg.pieces.end(), t.pieces.begin(), t.pieces.end());
  }
  return out;
}

UnitResult run_role_unit(const SweepConfig& c, const SweepPlan& plan, const Group& role_group) {
  UnitResult u;
  u.groups.push_back(role_group);
  Engine engine(c, plan.templates(), u);
  engine.score_group(0);
  engine.reduce_argmin_sets();
  u.groups.front().stats.reset();  // the caller has them; a result carries only its points
  return u;
}

SweepResult assemble(const SweepConfig& c, const SweepPlan& plan,
                     const std::vector<std::unique_ptr<TensorSource>>& sources,
                     const std::vector<const UnitResult*>& results, const std::vector<Group>& roles) {
  if (results.size() != plan.units().size())
    throw DataError(fmt::format("sweep has {} units but {} results", plan.units().size(), results.size()));
  SweepResult r;
  r.skipped = plan.template_skips();
  std::set<std::string> skipped_seen;
  // Appends a unit's points with their groups at `base` (and its groups when `own_groups`).
  auto take = [&](const UnitResult& u, std::size_t base, bool own_groups) {
    if (own_groups) r.groups.insert(r.groups.end(), u.groups.begin(), u.groups.end());
    for (Point p : u.points) {
      p.group += base;
      r.points.push_back(std::move(p));
    }
    for (const SkipKey& k : u.skipped)
      if (skipped_seen.insert(k.key).second) {
        r.skipped.invalid += k.invalid;
        r.skipped.excluded += k.excluded;
      }
  };
  for (std::size_t i = 0; i < plan.tensor_units(); ++i) {
    take(*results[i], r.groups.size(), true);
    const Group& g = r.groups.back();
    const TensorSource& s = *sources.at(plan.units()[i].source);
    nlohmann::json t = {{"tensor", g.tensor}, {"role", g.role}, {"shape", s.shape()}, {"count", g.count},
                        {"nan", g.nan}, {"inf", g.inf}, {"min", g.min}, {"max_abs", g.max_abs},
                        {"buckets", g.stats->buckets().size()}};
    if (!s.note().empty()) t["note"] = s.note();
    r.tensors.push_back(std::move(t));
  }
  // Role groups exist for selection even when not emitted; a role unit adds only their points.
  const std::size_t role_base = r.groups.size();
  r.groups.insert(r.groups.end(), roles.begin(), roles.end());
  for (std::size_t i = plan.tensor_units(); i < plan.pass_begin(); ++i)
    for (std::size_t k = role_base; k < r.groups.size(); ++k)
      if (r.groups[k].role == plan.units()[i].role) take(*results[i], k, false);
  for (const Point& p : r.points) {
    if (p.pending) throw DataError(fmt::format("a point of {} was never scored (its direct unit did not run)", r.groups[p.group].tensor));
    (p.by_stats ? r.by_stats : r.by_direct) += 1;
  }

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
  const int threads = threads_of(c);
  // A format the sweep scored on the group already has its sums (the same ones either path
  // would give again): reused, so selection does not read a tensor (or run a network) again.
  std::map<std::tuple<const Group*, std::string, Rounding>, const ErrorSums*> scored;
  for (const Point& p : r.points)
    if (p.scaling.empty()) scored.emplace(std::make_tuple(&r.groups[p.group], p.format.name(), p.rounding), &p.sums);
  const ScoreFn score = [&](const Group& g, const Format& f, Rounding rd) {
    if (auto it = scored.find(std::make_tuple(&g, f.name(), rd)); it != scored.end()) return *it->second;
    const QuantOptions o = options_for(c, rd);
    if (stats_allowed(c, g)) {
      const PreparedStats prep(*g.stats);
      if (auto s = score_stats(prep, f, o, needs_for(c))) return *s;
    }
    return run_direct(g, {{f, o}}, c, threads).front();
  };
  r.choices = select_formats(c, r.groups, plan.templates(), score);
  return r;
}

SweepResult run_sweep(const SweepConfig& c, const std::vector<std::unique_ptr<TensorSource>>& sources,
                      const ProgressFn& progress, bool passes) {
  const SweepPlan plan(c, sources, passes);
  std::vector<UnitResult> results(plan.units().size());
  double total = 0, before = 0;
  for (const auto& s : sources) total += static_cast<double>(s->size());
  std::vector<std::shared_ptr<BucketStats>> merged;
  for (std::size_t i = plan.pass_begin(); i < plan.units().size(); ++i) {
    const WorkUnit& w = plan.units()[i];
    if (w.kind != WorkUnit::Kind::Pass) continue;
    merge_pass_result(plan, i, run_pass_unit(c, plan, sources, i), merged);  // statistics only: not kept
    for (std::size_t k = 0; k < w.members.size(); ++k)
      before += static_cast<double>(w.last - w.first) * static_cast<double>(sources[w.source]->tap_pass()->values_per_image(k));
    if (progress) progress("statistics", before, total);
  }
  for (std::size_t i = 0; i < plan.tensor_units(); ++i) {
    ProgressFn p;
    if (progress) p = [&](std::string_view stage, double done, double) { progress(stage, before + done, total); };
    const WorkUnit& w = plan.units()[i];
    results[i] = run_tensor_unit(c, plan, sources, i, p, w.from_pass ? merged.at(w.source).get() : nullptr);
    if (!w.from_pass) before += static_cast<double>(sources[w.source]->size());
  }
  if (progress) progress("statistics", total, total);
  std::vector<const UnitResult*> ptrs;
  std::vector<UnitResult*> mut;
  for (UnitResult& u : results) {
    ptrs.push_back(&u);
    mut.push_back(&u);
  }
  for (std::size_t i = plan.pass_begin(); i < plan.units().size(); ++i)
    if (plan.units()[i].kind == WorkUnit::Kind::Direct) {
      const UnitResult in = direct_input(plan, i, ptrs);
      apply_direct(c, plan, i, run_direct_unit(c, plan, sources, i, in), mut);
    }
  const std::vector<Group> roles = role_groups(c, plan, ptrs);
  for (std::size_t i = plan.tensor_units(); i < plan.pass_begin(); ++i) {
    for (const Group& g : roles)
      if (g.role == plan.units()[i].role) results[i] = run_role_unit(c, plan, g);
    if (progress)
      progress("scoring", static_cast<double>(i + 1 - plan.tensor_units()),
               static_cast<double>(plan.pass_begin() - plan.tensor_units()));
  }
  return assemble(c, plan, sources, ptrs, roles);
}

}  // namespace ffp8::explore
