#pragma once
// Scoring an element format under a power-of-two group scale (floor or fit rule) from
// ScaledStats: each slot (F, j) is scored like an unscaled tensor with the element format
// shifted by E_max - d, and its sums are scaled back by 4^F (squares) or 2^F (errors).
#include <optional>
#include <vector>

#include "explore/metrics/score.hpp"
#include "explore/stats/scaled_stats.hpp"

namespace ffp8::explore {

/// Per-slot prepared statistics, built once per ScaledStats and shared by every format.
class PreparedScaled {
 public:
  explicit PreparedScaled(const ScaledStats& s);
  const ScaledStats& stats() const { return *stats_; }
  const PreparedStats& slot(std::size_t i) const { return prepared_[i]; }

 private:
  const ScaledStats* stats_;
  std::vector<PreparedStats> prepared_;
};

/// A power-of-two scale: the rule and the scale format's exponent range (e8m0: -127..127).
struct PowerOfTwoScale {
  bool fit = false;  ///< fit rule (else floor)
  int min_exp = -127, max_exp = 127;
};

/// The max(V) significand of `element` (in [1, 2)): a threshold of the fit rule.
double max_significand(const Format& element);

/// Scores `element` with scale `scale` from the statistics; nullopt when that is not exact here:
/// irregular groups, a clamped scale, a slot the unscaled scorer declines, a significand missing
/// from the thresholds (fit), kl_div (its histogram is not additive over slots) or the wrong kind
/// of statistics (signed elements need a = max |x|, unsigned ones a = max x).
std::optional<ErrorSums> score_scaled(const PreparedScaled& p, const Format& element, const PowerOfTwoScale& scale,
                                      const QuantOptions& o, const ScoreNeeds& needs);

}  // namespace ffp8::explore
