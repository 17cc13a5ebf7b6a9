// The direct path: quantize with the project's Quantizer, then measure in float64. It is the
// reference the statistics path must agree with, and the fallback where that path is not exact.
#include <algorithm>
#include <cmath>

#include "explore/metrics/score.hpp"

namespace ffp8::explore {

namespace {
QuantOptions single_thread(QuantOptions o) {
  o.threads = 1;  // callers parallelize over formats
  return o;
}
}  // namespace

DirectScorer::DirectScorer(const Format& f, const QuantOptions& o, const ScoreNeeds& needs, double kl_range)
    : q_(f, single_thread(o)), needs_(needs), kl_range_(kl_range) {
  if (needs_.kl) {
    hist_p_.assign(kKlBins, 0.0);
    hist_q_.assign(kKlBins, 0.0);
  }
}

template <class X, class Q>
void DirectScorer::measure(std::span<const X> x, std::span<const Q> q) {
  // Outcome counts are measured here from (x, q) by FORMAT.md's definitions rather than taken
  // from QuantCounts: the batch kernel also counts a large negative clipped by an unsigned
  // format as an overflow, where the scalar path (and rule 2) says only "negative clipped".
  // Every sum adds value by value in element order, so chunking never changes a result.
  const double maxv = q_.format().max_value();
  const bool unsigned_fmt = q_.format().sign == 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double xi = x[i];
    if (std::isnan(xi)) continue;
    const double qi = q[i];
    const double err = qi - xi;
    if (unsigned_fmt && xi < 0) s_.neg_clipped += 1;
    else if (std::fabs(xi) > maxv) s_.overflow += 1;
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
    if (needs_.relative && xi != 0) {
      s_.rel_sum += std::fabs(err) / std::fabs(xi);
      s_.rel_count += 1;
    }
    if (needs_.kl) {
      hist_p_[static_cast<std::size_t>(kl_bin(std::fabs(xi), kl_range_))] += 1;
      hist_q_[static_cast<std::size_t>(kl_bin(std::fabs(qi), kl_range_))] += 1;
    }
  }
}

void DirectScorer::add(std::span<const float> x, std::uint64_t first_index) {
  QuantCounts c;
  if (q_.fast_path()) {
    qf_.resize(x.size());
    c = q_.quantize(x, qf_, first_index);
    measure(x, std::span<const float>(qf_));
  } else {
    xd_.assign(x.begin(), x.end());
    qd_.resize(x.size());
    c = q_.quantize(std::span<const double>(xd_), std::span<double>(qd_), first_index);
    measure(x, std::span<const double>(qd_));
  }
  s_.count += static_cast<double>(c.count - c.nan_inputs);
}

void DirectScorer::add(std::span<const double> x, std::uint64_t first_index) {
  qd_.resize(x.size());
  const QuantCounts c = q_.quantize(x, std::span<double>(qd_), first_index);
  s_.count += static_cast<double>(c.count - c.nan_inputs);
  measure(x, std::span<const double>(qd_));
}

ErrorSums DirectScorer::finish() const {
  ErrorSums s = s_;
  s.sse += sse_c_;
  if (needs_.kl) s.kl = kl_from_histograms(hist_p_, hist_q_);
  return s;
}

}  // namespace ffp8::explore
