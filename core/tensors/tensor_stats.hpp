#pragma once
// Streaming statistics of one tensor (`ffp8 inspect`): chunks are merged with Chan's formula,
// so the result does not depend on the chunk size and needs no second pass over the data.
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

namespace ffp8 {

/// Count, extremes, mean/variance over finite values; zeros, negatives, NaN and Inf counted.
struct TensorStats {
  std::uint64_t count = 0;    ///< every element
  std::uint64_t finite = 0;   ///< elements in min/max/mean/std
  std::uint64_t zeros = 0, negative = 0, nan = 0, pos_inf = 0, neg_inf = 0;
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  double mean_ = 0.0, m2 = 0.0;  // running mean and sum of squared deviations

  /// Adds one chunk.
  void add(std::span<const double> v) {
    count += v.size();
    std::uint64_t n = 0;
    double sum = 0.0;
    for (double x : v) {
      if (std::isnan(x)) {
        ++nan;
        continue;
      }
      if (x < 0) ++negative;
      if (std::isinf(x)) {
        ++(x > 0 ? pos_inf : neg_inf);
        continue;
      }
      if (x == 0) ++zeros;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      sum += x;
      ++n;
    }
    if (n == 0) return;
    const double mb = sum / double(n);
    double m2b = 0.0;
    for (double x : v)
      if (std::isfinite(x)) m2b += (x - mb) * (x - mb);
    const double na = double(finite), nb = double(n), delta = mb - mean_;
    mean_ += delta * nb / (na + nb);
    m2 += m2b + delta * delta * na * nb / (na + nb);
    finite += n;
  }

  static constexpr double none = std::numeric_limits<double>::quiet_NaN();
  double min() const { return finite ? lo : none; }
  double max() const { return finite ? hi : none; }
  double max_abs() const { return finite ? std::max(std::abs(lo), std::abs(hi)) : none; }
  double mean() const { return finite ? mean_ : none; }
  /// Population standard deviation (divides by the count).
  double std() const { return finite ? std::sqrt(m2 / double(finite)) : none; }
  double zero_frac() const { return count ? double(zeros) / double(count) : none; }
  double neg_frac() const { return count ? double(negative) / double(count) : none; }
};

}  // namespace ffp8
