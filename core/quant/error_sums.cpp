#include "core/quant/error_sums.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ffp8 {

double ErrorSums::sqnr_db() const {
  return sse > 0 ? 10.0 * std::log10(sum_x2 / sse) : std::numeric_limits<double>::infinity();
}

template <class X, class Q>
void ErrorMeter::measure(std::span<const X> x, std::span<const Q> q) {
  // Outcome counts are measured here from (x, q) by the definitions of docs/formats.md rather than taken
  // from QuantCounts: the batch kernel also counts a large negative clipped by an unsigned
  // format as an overflow, where the scalar path (and rule 2) says only "negative clipped".
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double xi = x[i];
    if (std::isnan(xi)) continue;
    const double qi = q[i];
    const double err = qi - xi;
    if (unsigned_ && xi < 0) s_.neg_clipped += 1;
    else if (std::fabs(xi) > max_value_) s_.overflow += 1;
    else if (xi != 0 && qi == 0) s_.underflow += 1;
    // Neumaier-compensated sum: the reference must not lose digits on long tensors.
    const double e2 = err * err;
    const double t = s_.sse + e2;
    if (!std::isfinite(t)) sse_c_ = 0;  // Inf/NaN errors (non-saturating formats) dominate
    else if (std::fabs(s_.sse) >= std::fabs(e2)) sse_c_ += (s_.sse - t) + e2;
    else sse_c_ += (e2 - t) + s_.sse;
    s_.sse = t;
    s_.sum_x2 += xi * xi;
    s_.sum_xq += xi * qi;
    s_.sum_q2 += qi * qi;
    s_.max_abs = std::max(s_.max_abs, std::fabs(err));
    if (relative_ && xi != 0) {
      s_.rel_sum += std::fabs(err) / std::fabs(xi);
      s_.rel_count += 1;
    }
  }
}

void ErrorMeter::add(std::span<const float> x, std::span<const float> q) { measure(x, q); }
void ErrorMeter::add(std::span<const float> x, std::span<const double> q) { measure(x, q); }
void ErrorMeter::add(std::span<const double> x, std::span<const double> q) { measure(x, q); }

ErrorSums ErrorMeter::sums() const {
  ErrorSums s = s_;
  s.sse += sse_c_;
  return s;
}

}  // namespace ffp8
