#pragma once
// Statistics for scoring power-of-two-scaled formats (one scale 2^s per group: tensor, channel or
// block) exactly from one pass (docs/sweep.md, "Scaled formats: the same pass"). With F the
// exponent of the group's largest magnitude a, both scale rules give s = F - E_max + d, E_max the
// exponent of the element's max(V) and d in {0, 1} (fit: 1 when a's significand exceeds max(V)'s).
// Then q(x) = 2^F q'(x / 2^F) with q' the element format shifted so that its max(V) lies in
// [1, 2) (bias + E_max - d): the group's values, divided by 2^F (exact), go into the ordinary
// bucket statistics of the slot (F, j), j the interval of a's significand among the element
// formats' max(V) significands. A slot's sums, scored with the shifted format and scaled by 4^F
// (2^F for errors), are exactly that slot's share of every metric.
#include <cstdint>
#include <span>
#include <vector>

#include "explore/stats/bucket_stats.hpp"

namespace ffp8::explore {

/// The values of every group with one (F, j): divided by 2^F, as bucket statistics.
struct ScaledSlot {
  int f = 0;       ///< floor(log2 a) of the slot's groups
  int j = 0;       ///< a's significand lies in (thresholds[j-1], thresholds[j]] (0 without thresholds)
  BucketStats stats;
};

/// Power-of-two group statistics of a tensor (one kind of element: signed or unsigned, since `a`
/// ignores negatives for unsigned elements).
struct ScaledStats {
  std::vector<double> thresholds;  ///< sorted distinct significands in [1, 2) (fit rule), else empty
  bool positive_only = false;      ///< a = largest positive value (unsigned elements)
  std::vector<ScaledSlot> slots;   ///< sorted by (f, j)
  std::uint64_t zero_values = 0;   ///< values of groups with a == 0 whose every value is ±0
  std::uint64_t count = 0;         ///< values (NaN included, as in BucketStats::count())
  std::uint64_t groups = 0;
  /// Groups kept as they are, scored value by value at scoring time (rare): a == 0 beside
  /// non-zero values (negatives into unsigned elements), or a value whose quotient by 2^F is not
  /// a float32 (2^126 below the group's largest magnitude). `kept_ends[g]` ends group g.
  std::vector<float> kept;
  std::vector<std::size_t> kept_ends;
  /// Groups that cannot be scored from these statistics (±Inf, or more kept values than
  /// kMaxKept): the tensor is then scored by the direct path.
  std::uint64_t irregular_groups = 0;
};

/// At most this many values are kept for value-by-value scoring.
inline constexpr std::size_t kMaxKept = std::size_t{1} << 20;

/// Accumulates groups into ScaledStats: each group is keyed by its F and j, its values divided by
/// 2^F are buffered per slot and fed to the one-pass Collector in large batches.
class ScaledCollector {
 public:
  /// `thresholds`: the fit rule's significands (any order, duplicates allowed; empty for floor).
  ScaledCollector(std::vector<double> thresholds, bool positive_only, int threads = 0, bool reciprocals = false);
  /// Adds one group (its values in any order).
  void add_group(std::span<const float> values);
  /// The statistics of everything added; resets.
  ScaledStats finish();

 private:
  void flush();
  void keep(std::span<const float> values);
  std::size_t slot_of(int f, int j);
  ScaledStats out_;
  Collector collector_;
  std::vector<std::int32_t> index_;      // (f + 149) * (thresholds + 1) + j -> slot, -1 when none
  std::vector<std::vector<float>> buf_;  // per slot: pending quotients
  std::size_t pending_ = 0;
  bool reciprocals_;
};

}  // namespace ffp8::explore
