#pragma once
// Scoring one format on one tensor (group): from bucket statistics without touching the data
// (exact for man <= 7 and deterministic rounding; stochastic rounding gives the expectation), or
// by the direct path, quantize-then-measure with the project's Quantizer, in float64.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/quant/quantize.hpp"
#include "explore/metrics/metrics.hpp"
#include "explore/stats/bucket_stats.hpp"

namespace ffp8::explore {

/// Which extra sums a score needs (the rest is always computed).
struct ScoreNeeds {
  bool kl = false;        ///< kl_div histogram
  bool relative = false;  ///< mean_rel_err (stats path needs reciprocal sums)
};

/// Data the run-based scorer needs, derived once per statistics object. Each bucket gives up to
/// two items, its edge values (L == 0) and its interior (L > 0); items are ordered by sign, then
/// magnitude (an edge before its interior), so rounding is monotone along each sign part. Prefix
/// sums of y = t*2^15 + L and y^2 (exact, 128-bit) within each binade make a run of items that
/// round to one value cost O(1). ±Inf and NaN buckets are not items: scores are over finite values.
struct RunData {
  std::vector<std::uint32_t> mk;        ///< per item: magnitude key (float32 bits >> 15)
  std::vector<float> probe;             ///< per item: c (edge) or c + w/2 (interior): rounds like it
  std::vector<std::uint8_t> is_edge;    ///< per item: 1 for edge values
  std::vector<std::uint32_t> seg;       ///< per item: binade segment (sign, exponent)
  std::vector<std::uint64_t> pn;        ///< prefix sums of counts (size + 1)
  std::vector<u128> p1, p2;             ///< prefix sums of sum y, sum y^2 (size + 1)
  std::vector<double> xlo, xhi;         ///< smallest and largest magnitude per item
  std::vector<double> seg_base, seg_ulp;
  std::vector<std::uint32_t> seg_end;   ///< per segment: one past its last item
  std::size_t first_negative = 0;       ///< items [first_negative, size) are negative
  std::uint64_t zeros[2] = {0, 0};      ///< count of +0 and -0 (first item of its part if any)
  std::vector<std::uint32_t> subnormal_buckets;  ///< float32-subnormal buckets with interior values
  double total_x2 = 0;                  ///< sum x^2 of the finite values
  double count = 0;                     ///< finite values
  double neg_x2 = 0, neg_max = 0;       ///< finite negative items: sum x^2, max |x|
  double neg_n = 0, neg_nonzero = 0;    ///< finite negative values, and those != -0
  std::vector<double> kl_p;             ///< histogram of |x| for kl_div (format independent)
};

/// Per-bucket data prepared once per statistics object and shared by every format scored on it.
class PreparedStats {
 public:
  explicit PreparedStats(const BucketStats& stats);
  const BucketStats& stats() const { return *stats_; }
  std::span<const float> edges() const { return edges_; }  ///< magnitude c of each bucket
  std::span<const float> mids() const { return mids_; }    ///< c + w/2: rounds like the interior
  double max_abs() const { return max_abs_; }
  const RunData& runs() const { return runs_; }

 private:
  const BucketStats* stats_;
  std::vector<float> edges_, mids_;
  double max_abs_ = 0;
  RunData runs_;
};

/// True when the statistics path scores `f` exactly on these statistics: man <= 7 and no
/// rounding boundary of `f` falls inside a bucket (only possible among float32 subnormals).
bool stats_exact(const BucketStats& stats, const Format& f);
/// Same, from prepared statistics (cheap: only float32-subnormal buckets are examined).
bool stats_exact(const PreparedStats& p, const Format& f);

/// How deterministic rounding finds its runs of items that round to one value. `Thresholds`
/// (the default): from the format's rounding boundaries, each run checked with the Quantizer at
/// its two ends (rounding is monotone in |x|), so the cost is about the number of values of the
/// format. `Scan`: every item rounded by the Quantizer (the check of the other).
enum class RunSearch { Thresholds, Scan };

/// Scores `f` from statistics; nullopt when !stats_exact(). Stochastic rounding yields expected
/// sse, counts and sums; its max_abs_err is the largest error any draw can give.
std::optional<ErrorSums> score_stats(const PreparedStats& p, const Format& f, const QuantOptions& o,
                                     const ScoreNeeds& needs, RunSearch search = RunSearch::Thresholds);

/// Direct path: quantize-then-measure, fed chunk by chunk (memory stays flat); like the
/// statistics path it scores the finite values only (NaN and ±Inf are left out of every sum). The quantizer's
/// float32 batch path is used when the format allows it, its exact double path otherwise.
class DirectScorer {
 public:
  /// `kl_range`: max|x| of the whole group (histogram range of kl_div).
  DirectScorer(const Format& f, const QuantOptions& o, const ScoreNeeds& needs, double kl_range);
  /// Adds the values x[first_index ...] of the group (index keys the stochastic stream).
  void add(std::span<const float> x, std::uint64_t first_index);
  /// The same for float64 values (the quantizer's exact double path, any format).
  void add(std::span<const double> x, std::uint64_t first_index);
  /// The sums so far (kl filled from the histograms).
  ErrorSums finish() const;

 private:
  /// Adds the errors of the finite x quantized to q (and, for kl_div, their histograms).
  template <class X, class Q>
  void measure(std::span<const X> x, std::span<const Q> q);

  Quantizer q_;
  ScoreNeeds needs_;
  double kl_range_;
  ErrorMeter meter_;
  std::vector<float> qf_;
  std::vector<double> xd_, qd_;
  std::vector<double> hist_p_, hist_q_;
};

/// KL(P||Q) of two histograms (counts); Q floored at 1e-12 of its mass where P has mass.
double kl_from_histograms(std::span<const double> p, std::span<const double> q);
/// Histogram bin of magnitude `a` on [0, range] (last bin for a >= range).
int kl_bin(double a, double range);

}  // namespace ffp8::explore
