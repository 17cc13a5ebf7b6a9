#pragma once
// Error metrics of a quantized tensor: one constexpr table of names (tests iterate it), the raw
// sums every metric derives from, and their evaluation. Both scoring paths (statistics and
// direct) fill the same ErrorSums, so a metric is defined once.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/quant/error_sums.hpp"

namespace ffp8::explore {

/// Every metric the sweep can report.
enum class Metric : std::uint8_t {
  Mse, Rmse, Nmse, SqnrDb, MaxAbsErr, MeanRelErr, Cosine, KlDiv, OverflowFrac, UnderflowFrac,
  NegClippedFrac,
};

/// Whether smaller or larger is better.
enum class Goal : std::uint8_t { Min, Max };

/// One row of the metric table.
struct MetricInfo {
  Metric id;
  std::string_view name;  ///< column name in points.csv and in configs
  Goal goal;
  bool exact;             ///< the statistics path reproduces the direct path to rounding error
  std::string_view doc;
};

/// The metric table (order = column order in points.csv).
inline constexpr std::array<MetricInfo, 11> kMetrics = {{
    {Metric::Mse, "mse", Goal::Min, true, "mean of (q(x) - x)^2 over all elements, float64"},
    {Metric::Rmse, "rmse", Goal::Min, true, "sqrt(mse)"},
    {Metric::Nmse, "nmse", Goal::Min, true, "sum (q - x)^2 / sum x^2"},
    {Metric::SqnrDb, "sqnr_db", Goal::Max, true, "10 log10(sum x^2 / sum (q - x)^2); inf when exact"},
    {Metric::MaxAbsErr, "max_abs_err", Goal::Min, true, "max |q(x) - x|"},
    {Metric::MeanRelErr, "mean_rel_err", Goal::Min, true, "mean of |q - x| / |x| over non-zero x"},
    {Metric::Cosine, "cosine", Goal::Max, true, "sum x q / sqrt(sum x^2 sum q^2)"},
    {Metric::KlDiv, "kl_div", Goal::Min, false,
     "KL(P||Q) of 2048-bin histograms of |x| and |q(x)| on [0, max|x|]: approximate by nature"},
    {Metric::OverflowFrac, "overflow_frac", Goal::Min, true, "share of elements with |x| > max(V)"},
    {Metric::UnderflowFrac, "underflow_frac", Goal::Min, true, "share of non-zero elements that became 0"},
    {Metric::NegClippedFrac, "neg_clipped_frac", Goal::Min, true, "share of x < 0 clipped by an unsigned format"},
}};

/// Looks a metric up by name; nullopt when unknown.
std::optional<Metric> parse_metric(std::string_view name);
/// The table row of a metric.
const MetricInfo& info(Metric m);

/// Number of histogram bins of kl_div.
inline constexpr int kKlBins = 2048;

/// The raw sums behind every metric (core's, shared with `ffp8 quantize`).
using ErrorSums = ffp8::ErrorSums;

/// Value of metric `m` from the sums.
double metric_value(Metric m, const ErrorSums& s);

}  // namespace ffp8::explore
