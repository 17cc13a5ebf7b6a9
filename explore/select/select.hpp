#pragma once
// Format selection strategies, named in configs:
//  - "ffp8_paper": the paper's rule. Weights and activations are analysed separately (per
//    tensor and per role); a never-negative tensor drops the sign bit; each exponent width
//    gets the fit bias of its largest magnitude; the (exp, man) split with the best metric wins.
//  - "best_by_metric": the best point of the configured space by the metric.
#include <functional>
#include <string>
#include <vector>

#include "explore/sweep/sweep.hpp"

namespace ffp8::explore {

/// Scores a format on a group (statistics path where exact, else direct).
using ScoreFn = std::function<ErrorSums(const Group& group, const Format& format, Rounding rounding)>;

/// One selection strategy (a small interface so more can be added by name).
class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  /// The formats to compare for a group.
  virtual std::vector<std::pair<Format, Rounding>> candidates(const Group& group) const = 0;
};

/// Builds the strategy the config names ("ffp8_paper" or "best_by_metric"); nullptr for "none".
std::unique_ptr<Strategy> make_strategy(const SweepConfig& config, const std::vector<FormatTemplate>& templates);

/// Applies the config's strategy to every tensor group and every role group: one Choice each.
std::vector<Choice> select_formats(const SweepConfig& config, const std::vector<Group>& groups,
                                   const std::vector<FormatTemplate>& templates, const ScoreFn& score);

}  // namespace ffp8::explore
