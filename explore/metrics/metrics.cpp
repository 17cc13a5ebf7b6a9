#include "explore/metrics/metrics.hpp"

#include <cmath>
#include <limits>

namespace ffp8::explore {

std::optional<Metric> parse_metric(std::string_view name) {
  for (const MetricInfo& m : kMetrics)
    if (m.name == name) return m.id;
  return std::nullopt;
}

const MetricInfo& info(Metric m) { return kMetrics[static_cast<std::size_t>(m)]; }

double metric_value(Metric m, const ErrorSums& s) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const double n = s.count > 0 ? s.count : 1.0;
  switch (m) {
    case Metric::Mse: return s.sse / n;
    case Metric::Rmse: return std::sqrt(s.sse / n);
    case Metric::Nmse: return s.sum_x2 > 0 ? s.sse / s.sum_x2 : (s.sse > 0 ? inf : 0.0);
    case Metric::SqnrDb: return s.sse > 0 ? 10.0 * std::log10(s.sum_x2 / s.sse) : inf;
    case Metric::MaxAbsErr: return s.max_abs;
    case Metric::MeanRelErr: return s.rel_count > 0 ? s.rel_sum / s.rel_count : 0.0;
    case Metric::Cosine: {
      const double d = std::sqrt(s.sum_x2) * std::sqrt(s.sum_q2);
      if (d == 0) return s.sum_x2 == 0 && s.sum_q2 == 0 ? 1.0 : 0.0;
      return s.sum_xq / d;
    }
    case Metric::KlDiv: return s.kl;
    case Metric::OverflowFrac: return s.overflow / n;
    case Metric::UnderflowFrac: return s.underflow / n;
    case Metric::NegClippedFrac: return s.neg_clipped / n;
  }
  return 0.0;
}

}  // namespace ffp8::explore
