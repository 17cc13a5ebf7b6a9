// Scaled points: one ScaledCollector pass per (scaling, signed or unsigned elements) over the
// tensor's groups, every element scored from it; the direct path quantizes the whole tensor with
// SchemeQuantizer and measures each group against its own scale (overflow is |x| > S max(V)).
#include "explore/sweep/scaled.hpp"

#include <algorithm>
#include <cmath>
#include <omp.h>

#include "core/errors.hpp"
#include "core/scheme/groups.hpp"
#include "core/scheme/scheme_quantizer.hpp"
#include "core/threads.hpp"
#include "explore/metrics/score_scaled.hpp"
#include "explore/stats/scaled_stats.hpp"

namespace ffp8::explore {

namespace {

void add_to(ErrorSums& a, const ErrorSums& b) {
  a.count += b.count;
  a.sse += b.sse;
  a.sum_x2 += b.sum_x2;
  a.sum_xq += b.sum_xq;
  a.sum_q2 += b.sum_q2;
  a.max_abs = std::max(a.max_abs, b.max_abs);
  if (std::isnan(b.max_abs)) a.max_abs = b.max_abs;
  a.rel_sum += b.rel_sum;
  a.rel_count += b.rel_count;
  a.overflow += b.overflow;
  a.underflow += b.underflow;
  a.neg_clipped += b.neg_clipped;
}

/// Quantize-then-measure, group by group against each group's scale.
template <typename T>
ErrorSums direct_scaled(const Scheme& s, const QuantOptions& o, bool relative, const std::vector<T>& x,
                        const GroupLayout& layout) {
  const SchemeQuantizer q(s, o);
  std::vector<T> out(x.size());
  q.quantize(std::span<const T>(x), std::span<T>(out), layout);
  const std::vector<double> scales = q.scales(std::span<const T>(x), layout);
  const GroupGeometry geo = group_geometry(s, layout);
  const double vmax = s.element.max_value();
  ErrorSums sums;
  std::vector<double> gx, gq;
  for_each_group(geo, [&](std::int64_t g, std::int64_t first, std::int64_t count, std::int64_t stride) {
    gx.clear();
    gq.clear();
    double n = 0;
    for (std::int64_t k = 0; k < count; ++k) {
      const auto i = static_cast<std::size_t>(first + k * stride);
      gx.push_back(static_cast<double>(x[i]));
      gq.push_back(static_cast<double>(out[i]));
      n += std::isnan(gx.back()) ? 0 : 1;
    }
    ErrorMeter m(scales[static_cast<std::size_t>(g)] * vmax, s.element.sign == 0, relative);
    m.add(std::span<const double>(gx), std::span<const double>(gq));
    m.count(n);
    add_to(sums, m.sums());
  });
  return sums;
}

struct Item {
  std::size_t scheme;
  Rounding rounding;
};

}  // namespace

void add_scaled_points(const SweepConfig& c, const std::vector<FormatTemplate>& templates, const TensorSource& src,
                       std::size_t gi, UnitResult& u) {
  std::vector<std::string> suffixes;
  for (const std::string& sc : c.space.scaling)
    if (sc != "none") suffixes.push_back(sc);
  if (suffixes.empty()) return;
  const int threads = thread_count(c.threads);
  const bool relative = std::find(c.metrics.begin(), c.metrics.end(), Metric::MeanRelErr) != c.metrics.end();
  const bool kl = std::find(c.metrics.begin(), c.metrics.end(), Metric::KlDiv) != c.metrics.end();
  const ScoreNeeds needs{kl, relative};

  std::vector<std::int64_t> shape(src.shape().begin(), src.shape().end());
  const GroupLayout layout =
      shape.empty() ? GroupLayout::flat(static_cast<std::int64_t>(src.size())) : GroupLayout::for_shape(shape);
  const bool f64 = src.is_float64();
  std::vector<float> x;
  std::vector<double> xd;
  if (f64) {
    xd.reserve(src.size());
    src.read_double(0, src.size(), c.chunk, [&](std::span<const double> v, std::uint64_t) { xd.insert(xd.end(), v.begin(), v.end()); });
  } else {
    x.reserve(src.size());
    src.read(0, src.size(), c.chunk, [&](std::span<const float> v, std::uint64_t) { x.insert(x.end(), v.begin(), v.end()); });
  }
  const bool stats_ok = !c.direct_only && !f64;

  // Elements: each template with the bias a zero maximum gives (the IEEE-like bias).
  std::vector<Format> elements;
  for (const FormatTemplate& t : templates) {
    Format e = t.with_bias(fit_bias(t, 0.0));
    try {
      e.validate();
      elements.push_back(e);
    } catch (const FormatError&) {
      u.skipped.push_back({t.name(), 1, 0});
    }
  }
  std::vector<double> thresholds;
  for (const Format& e : elements) thresholds.push_back(max_significand(e));

  for (const std::string& suffix : suffixes) {
    std::vector<Scheme> schemes;
    std::vector<Format> elems;
    for (const Format& e : elements) {
      try {
        schemes.push_back(Scheme::parse(e.name() + "/" + suffix));
        elems.push_back(e);
      } catch (const FormatError&) {
        u.skipped.push_back({e.name() + "/" + suffix, 1, 0});
      }
    }
    if (schemes.empty()) continue;
    const Scheme& s0 = schemes.front();
    const GroupGeometry geo = group_geometry(s0, layout);
    const bool pow2 = s0.power_of_two_scale() && !s0.second_level && !s0.scale.is_f32;
    // One pass per kind of element present (a = max |x| for signed, max x for unsigned).
    ScaledStats stats[2];
    std::unique_ptr<PreparedScaled> prep[2];
    if (pow2 && stats_ok) {
      for (int kind = 0; kind < 2; ++kind) {
        const bool positive = kind == 1;
        if (std::none_of(elems.begin(), elems.end(), [&](const Format& e) { return (e.sign == 0) == positive; })) continue;
        ScaledCollector col(thresholds, positive, threads, relative);
        std::vector<float> buf;
        for_each_group(geo, [&](std::int64_t, std::int64_t first, std::int64_t count, std::int64_t stride) {
          if (stride == 1) {
            col.add_group(std::span<const float>(x.data() + first, static_cast<std::size_t>(count)));
            return;
          }
          buf.resize(static_cast<std::size_t>(count));
          for (std::int64_t k = 0; k < count; ++k) buf[static_cast<std::size_t>(k)] = x[static_cast<std::size_t>(first + k * stride)];
          col.add_group(buf);
        });
        stats[kind] = col.finish();
        prep[kind] = std::make_unique<PreparedScaled>(stats[kind]);
      }
    }
    PowerOfTwoScale p2;
    if (pow2) {
      p2.fit = s0.rule == ScaleRule::Fit;
      p2.min_exp = std::ilogb(s0.scale.format.min_positive());
      p2.max_exp = std::ilogb(s0.scale.format.max_value());
    }
    std::vector<Item> items;
    for (std::size_t k = 0; k < schemes.size(); ++k)
      for (Rounding r : c.space.rounding) items.push_back({k, r});
    std::vector<ErrorSums> sums(items.size());
    std::vector<char> by_stats(items.size(), 0);
    const auto n = static_cast<std::int64_t>(items.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (std::int64_t i = 0; i < n; ++i) {
      const Item& it = items[static_cast<std::size_t>(i)];
      const Scheme& s = schemes[it.scheme];
      QuantOptions o;
      o.rounding = it.rounding;
      o.saturate = c.space.saturate;
      o.seed = c.space.seed;
      o.threads = 1;
      std::optional<ErrorSums> r;
      const int kind = s.element.sign == 0 ? 1 : 0;
      if (prep[kind]) r = score_scaled(*prep[kind], s.element, p2, o, needs);
      if (r) {
        sums[static_cast<std::size_t>(i)] = *r;
        by_stats[static_cast<std::size_t>(i)] = 1;
      } else {
        sums[static_cast<std::size_t>(i)] = f64 ? direct_scaled(s, o, relative, xd, layout) : direct_scaled(s, o, relative, x, layout);
        sums[static_cast<std::size_t>(i)].kl = std::numeric_limits<double>::quiet_NaN();  // kl_div: not for scaled points
      }
    }
    const double size = static_cast<double>(layout.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      const Scheme& s = schemes[items[i].scheme];
      Point p;
      p.group = gi;
      p.format = s.element;
      p.rounding = items[i].rounding;
      p.bias_rule = std::string(to_string(s.rule));
      const std::string full = s.name();
      p.scaling = full.substr(full.find('/') + 1);
      p.effective_bits = effective_bits(s, layout);
      p.group_size = s.grouping == Grouping::Block ? s.block : size / static_cast<double>(std::max<std::int64_t>(geo.groups(), 1));
      p.sums = sums[i];
      if (kl) p.sums.kl = std::numeric_limits<double>::quiet_NaN();
      p.by_stats = by_stats[i] != 0;
      u.points.push_back(std::move(p));
    }
  }
}

}  // namespace ffp8::explore
