// The direct path: quantize with the project's Quantizer, then measure in float64. It is the
// reference the statistics path must agree with, and the fallback where that path is not exact.
#include <algorithm>
#include <cmath>
#include <vector>

#include "explore/metrics/score.hpp"

namespace ffp8::explore {

namespace {
QuantOptions single_thread(QuantOptions o) {
  o.threads = 1;  // callers parallelize over formats
  return o;
}
}  // namespace

DirectScorer::DirectScorer(const Format& f, const QuantOptions& o, const ScoreNeeds& needs, double kl_range)
    : q_(f, single_thread(o)),
      needs_(needs),
      kl_range_(kl_range),
      meter_(f.max_value(), f.sign == 0, needs.relative) {
  if (needs_.kl) {
    hist_p_.assign(kKlBins, 0.0);
    hist_q_.assign(kKlBins, 0.0);
  }
}

template <class X, class Q>
void DirectScorer::measure(std::span<const X> x, std::span<const Q> q) {
  // Every sum is over the finite inputs (NaN and ±Inf are counted by the caller, never scored).
  // The quantizer saw the whole chunk, so a stochastic draw keys on the element's own index.
  std::size_t finite = 0;
  for (const X v : x) finite += std::isfinite(v) ? 1 : 0;
  if (finite == x.size()) {
    meter_.add(x, q);  // every sum value by value in element order: chunking never changes a result
  } else {
    std::vector<X> xs;
    std::vector<Q> qs;
    xs.reserve(finite);
    qs.reserve(finite);
    for (std::size_t i = 0; i < x.size(); ++i)
      if (std::isfinite(x[i])) {
        xs.push_back(x[i]);
        qs.push_back(q[i]);
      }
    meter_.add(std::span<const X>(xs), std::span<const Q>(qs));
  }
  meter_.count(static_cast<double>(finite));
  if (!needs_.kl) return;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) continue;
    hist_p_[static_cast<std::size_t>(kl_bin(std::fabs(double(x[i])), kl_range_))] += 1;
    hist_q_[static_cast<std::size_t>(kl_bin(std::fabs(double(q[i])), kl_range_))] += 1;
  }
}

void DirectScorer::add(std::span<const float> x, std::uint64_t first_index) {
  if (q_.fast_path()) {
    qf_.resize(x.size());
    q_.quantize(x, qf_, first_index);
    measure(x, std::span<const float>(qf_));
  } else {
    xd_.assign(x.begin(), x.end());
    qd_.resize(x.size());
    q_.quantize(std::span<const double>(xd_), std::span<double>(qd_), first_index);
    measure(x, std::span<const double>(qd_));
  }
}

void DirectScorer::add(std::span<const double> x, std::uint64_t first_index) {
  qd_.resize(x.size());
  q_.quantize(x, std::span<double>(qd_), first_index);
  measure(x, std::span<const double>(qd_));
}

ErrorSums DirectScorer::finish() const {
  ErrorSums s = meter_.sums();
  if (needs_.kl) s.kl = kl_from_histograms(hist_p_, hist_q_);
  return s;
}

}  // namespace ffp8::explore
