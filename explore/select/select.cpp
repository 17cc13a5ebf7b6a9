#include "explore/select/select.hpp"

#include <algorithm>
#include <cmath>

#include "core/format/fit.hpp"

namespace ffp8::explore {

namespace {

class PaperStrategy : public Strategy {
 public:
  PaperStrategy(const SweepConfig& c, std::vector<FormatTemplate> templates) : config_(c), templates_(std::move(templates)) {}
  std::string name() const override { return "ffp8_paper"; }
  std::vector<std::pair<Format, Rounding>> candidates(const Group& g) const override {
    // Drop the sign bit for never-negative data when the space offers unsigned templates.
    const bool has_unsigned = std::any_of(templates_.begin(), templates_.end(), [](const FormatTemplate& l) { return l.sign == 0; });
    const bool has_signed = std::any_of(templates_.begin(), templates_.end(), [](const FormatTemplate& l) { return l.sign == 1; });
    const int sign = (g.min >= 0 && has_unsigned) || !has_signed ? 0 : 1;
    std::vector<std::pair<Format, Rounding>> out;
    for (const FormatTemplate& l : templates_) {
      if (l.sign != sign) continue;
      const Format f = l.with_bias(fit_bias(l, fit_input(sign, g.max_abs, g.max_positive)));
      try {
        f.validate();
      } catch (const std::exception&) {
        continue;
      }
      out.emplace_back(f, config_.space.rounding.front());
    }
    return out;
  }

 private:
  const SweepConfig& config_;
  std::vector<FormatTemplate> templates_;
};

class BestByMetric : public Strategy {
 public:
  BestByMetric(const SweepConfig& c, std::vector<FormatTemplate> templates) : config_(c), templates_(std::move(templates)) {}
  std::string name() const override { return "best_by_metric"; }
  std::vector<std::pair<Format, Rounding>> candidates(const Group& g) const override {
    std::vector<std::pair<Format, Rounding>> out;
    SkipCounts ignored;
    for (const FormatTemplate& l : templates_)
      for (const BiasChoice& b : biases_for(l, config_.space.bias, *g.stats, g.extent()))
        if (auto f = make_format(l, b.bias, config_.space, ignored))
          for (Rounding r : config_.space.rounding) out.emplace_back(*f, r);
    return out;
  }

 private:
  const SweepConfig& config_;
  std::vector<FormatTemplate> templates_;
};

}  // namespace

std::unique_ptr<Strategy> make_strategy(const SweepConfig& config, const std::vector<FormatTemplate>& templates) {
  if (config.selection.strategy == "ffp8_paper") return std::make_unique<PaperStrategy>(config, templates);
  if (config.selection.strategy == "best_by_metric") return std::make_unique<BestByMetric>(config, templates);
  return nullptr;
}

std::vector<Choice> select_formats(const SweepConfig& config, const std::vector<Group>& groups,
                                   const std::vector<FormatTemplate>& templates, const ScoreFn& score) {
  std::vector<Choice> out;
  const auto strategy = make_strategy(config, templates);
  if (!strategy) return out;
  const Metric m = config.selection.metric;
  const bool maximize = info(m).goal == Goal::Max;
  for (const Group& g : groups) {
    if (g.granularity == Granularity::Channel || !g.stats) continue;
    const auto cands = strategy->candidates(g);
    if (cands.empty()) continue;
    Choice best;
    bool have = false;
    for (const auto& [f, r] : cands) {
      const double v = metric_value(m, score(g, f, r));
      const bool better = !have || (maximize ? v > best.value : v < best.value) ||
                          (std::isnan(best.value) && !std::isnan(v));
      if (better) {
        best.format = f;
        best.rounding = r;
        best.value = v;
        have = true;
      }
    }
    best.scope = g.granularity == Granularity::Role ? "role" : "tensor";
    best.name = g.granularity == Granularity::Role ? g.role : g.tensor;
    best.role = g.role;
    best.candidates = cands.size();
    out.push_back(best);
  }
  return out;
}

}  // namespace ffp8::explore
