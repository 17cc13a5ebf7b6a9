#pragma once
// Ask/tell search over the candidates of one group (Timeloop's Next/Report): the engine asks a
// strategy for a batch, scores it (in parallel, statistics path or direct), and tells the scores
// back, so grid, random or guided strategies plug into one engine. The grid is what the sweep
// uses: every (template, rounding, bias) of the space in one batch.
#include <cstdint>
#include <string>
#include <vector>

#include "core/quant/quantize.hpp"
#include "explore/metrics/metrics.hpp"

namespace ffp8::explore {

/// One format to score on a group, and how its bias was chosen.
struct Candidate {
  Format format;
  Rounding rounding = Rounding::Rne;
  std::string bias_rule;          ///< "range", "list", "fit", "percentile:P", "argmin:METRIC"
  std::int64_t argmin_set = -1;   ///< candidates of one argmin set compete; -1: none
};

/// A search strategy: ask() returns the next batch (empty when done); tell() receives the batch's
/// scores in order.
class Search {
 public:
  virtual ~Search() = default;
  virtual std::vector<Candidate> ask() = 0;
  virtual void tell(const std::vector<Candidate>& batch, const std::vector<ErrorSums>& scores) = 0;
};

/// Exhaustive search: all candidates in one batch.
class GridSearch : public Search {
 public:
  explicit GridSearch(std::vector<Candidate> all) : all_(std::move(all)) {}
  std::vector<Candidate> ask() override {
    if (asked_) return {};
    asked_ = true;
    return std::move(all_);
  }
  void tell(const std::vector<Candidate>&, const std::vector<ErrorSums>&) override {}

 private:
  std::vector<Candidate> all_;
  bool asked_ = false;
};

}  // namespace ffp8::explore
