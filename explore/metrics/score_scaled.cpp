// Scaled scoring from slots: q(x) = 2^F q'(x / 2^F) with q' the element shifted to max(V) in
// [1, 2) (or [1/2, 1) when the fit rule adds one), so a slot's sums are its quotients' sums
// times a power of two: exact, and additive over slots.
#include "explore/metrics/score_scaled.hpp"

#include <algorithm>
#include <cmath>

#include "core/errors.hpp"

namespace ffp8::explore {

PreparedScaled::PreparedScaled(const ScaledStats& s) : stats_(&s) {
  prepared_.reserve(s.slots.size());
  for (const ScaledSlot& slot : s.slots) prepared_.emplace_back(slot.stats);
}

double max_significand(const Format& element) {
  const double m = element.max_value();
  return std::ldexp(m, -std::ilogb(m));
}

std::optional<ErrorSums> score_scaled(const PreparedScaled& p, const Format& element, const PowerOfTwoScale& scale,
                                      const QuantOptions& o, const ScoreNeeds& needs) {
  const ScaledStats& s = p.stats();
  if (needs.kl || s.irregular_groups > 0 || s.positive_only != (element.sign == 0)) return std::nullopt;
  const double vmax = element.max_value();
  if (!(vmax > 0) || !std::isfinite(vmax)) return std::nullopt;
  const int e_max = std::ilogb(vmax);
  // fit: d = 1 for slots whose significand interval lies above max(V)'s significand.
  std::size_t m = 0;
  if (scale.fit) {
    const auto& t = s.thresholds;
    const auto it = std::find(t.begin(), t.end(), max_significand(element));
    if (it == t.end()) return std::nullopt;
    m = static_cast<std::size_t>(it - t.begin());
  }
  ErrorSums out;
  out.count = static_cast<double>(s.zero_values);
  auto add = [&out](const ErrorSums& r, int f) {
    out.count += r.count;
    out.sse += std::ldexp(r.sse, 2 * f);
    out.sum_x2 += std::ldexp(r.sum_x2, 2 * f);
    out.sum_xq += std::ldexp(r.sum_xq, 2 * f);
    out.sum_q2 += std::ldexp(r.sum_q2, 2 * f);
    out.max_abs = std::max(out.max_abs, std::ldexp(r.max_abs, f));
    out.rel_sum += r.rel_sum;
    out.rel_count += r.rel_count;
    out.overflow += r.overflow;
    out.underflow += r.underflow;
    out.neg_clipped += r.neg_clipped;
  };
  Format shifted[2];
  for (int d = 0; d < 2; ++d) {
    shifted[d] = element;
    shifted[d].bias = element.bias + e_max - d;
    try {
      shifted[d].validate();
    } catch (const FormatError&) {
      return std::nullopt;  // a bias beyond the family's range: let the direct path decide
    }
  }
  for (std::size_t i = 0; i < s.slots.size(); ++i) {
    const ScaledSlot& slot = s.slots[i];
    const int d = scale.fit && static_cast<std::size_t>(slot.j) > m ? 1 : 0;
    const int exp = slot.f - e_max + d;
    if (exp < scale.min_exp || exp > scale.max_exp) return std::nullopt;  // clamped scale
    const std::optional<ErrorSums> r = score_stats(p.slot(i), shifted[d], o, needs);
    if (!r) return std::nullopt;
    add(*r, slot.f);
  }
  if (s.kept_ends.empty()) return out;
  // Kept groups, value by value: the scale by the rule (clamped), x / S exact in double.
  if (o.rounding == Rounding::Stochastic) return std::nullopt;  // a draw, not the expectation
  const Quantizer q(element, o);
  const double t_max = max_significand(element);
  std::vector<double> xs, qs;
  std::size_t begin = 0;
  for (const std::size_t end : s.kept_ends) {
    const std::span<const float> g(s.kept.data() + begin, end - begin);
    begin = end;
    float a = 0.0f;
    for (float x : g)
      if (!std::isnan(x)) a = std::max(a, s.positive_only ? x : std::fabs(x));
    int exp = scale.min_exp;
    if (a > 0.0f) {
      const int f = std::ilogb(a);
      const int d = scale.fit && std::ldexp(static_cast<double>(a), -f) > t_max ? 1 : 0;
      exp = std::clamp(f - e_max + d, scale.min_exp, scale.max_exp);
    }
    xs.clear();
    qs.clear();
    for (float x : g) {
      xs.push_back(std::ldexp(static_cast<double>(x), -exp));
      qs.push_back(std::isnan(x) ? x : q.round(xs.back()).value);
    }
    ErrorMeter m(vmax, element.sign == 0, needs.relative);
    m.add(xs, qs);
    ErrorSums r = m.sums();
    r.count = static_cast<double>(std::count_if(g.begin(), g.end(), [](float x) { return !std::isnan(x); }));
    add(r, exp);
  }
  return out;
}

}  // namespace ffp8::explore
