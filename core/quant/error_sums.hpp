#pragma once
// The raw sums every error metric derives from (mse, sqnr, max error, outcome counts, ...), and
// the one place that measures them from inputs and their quantized values: `ffp8 quantize`, the
// sweep's direct path and its statistics path all fill the same ErrorSums, so a metric is
// defined once (explore/metrics names them).
#include <span>

namespace ffp8 {

/// The raw sums behind every metric. Counts are doubles because stochastic rounding scores
/// report expectations (fractional counts).
struct ErrorSums {
  double count = 0;        ///< elements (NaN inputs excluded)
  double sse = 0;          ///< sum (q - x)^2
  double sum_x2 = 0;       ///< sum x^2
  double sum_xq = 0;       ///< sum x q
  double sum_q2 = 0;       ///< sum q^2
  double max_abs = 0;      ///< max |q - x|
  double rel_sum = 0;      ///< sum |q - x| / |x| over x != 0
  double rel_count = 0;    ///< non-zero x
  double overflow = 0;
  double underflow = 0;
  double neg_clipped = 0;
  double kl = 0;           ///< filled only when kl_div was requested

  /// Mean squared error over the elements (0 when there are none).
  double mse() const { return sse / (count > 0 ? count : 1.0); }
  /// 10 log10(sum x^2 / sse); +Inf when nothing was lost.
  double sqnr_db() const;
};

/// Measures inputs against their quantized values, value by value in element order (so chunking
/// never changes a result), in float64 with a compensated sse. NaN inputs are skipped; outcome
/// counts follow the definitions of docs/formats.md (negative clipped by an unsigned format, overflow beyond
/// max(V), underflow of a non-zero value to 0).
class ErrorMeter {
 public:
  /// `max_value` and `is_unsigned` of the format; `relative`: also the mean relative error sums.
  ErrorMeter(double max_value, bool is_unsigned, bool relative = false)
      : max_value_(max_value), unsigned_(is_unsigned), relative_(relative) {}
  void add(std::span<const float> x, std::span<const float> q);
  void add(std::span<const float> x, std::span<const double> q);
  void add(std::span<const double> x, std::span<const double> q);
  /// Adds to the element count (callers count non-NaN inputs from the quantizer's counts).
  void count(double n) { s_.count += n; }
  /// The sums so far (sse compensated; kl left to the caller).
  ErrorSums sums() const;

 private:
  template <class X, class Q>
  void measure(std::span<const X> x, std::span<const Q> q);
  double max_value_;
  bool unsigned_, relative_;
  ErrorSums s_;
  double sse_c_ = 0;  // Neumaier compensation of sse
};

}  // namespace ffp8
