#pragma once
// The sweep engine: one statistics pass per tensor, then every format of the space scored per
// group (tensor, output channel, or role), by the statistics path where exact and by the
// direct path otherwise; bias rules, argmin filtering, hardware columns, Pareto and selection.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "explore/config/config.hpp"
#include "explore/metrics/score.hpp"
#include "explore/space/space.hpp"
#include "explore/stats/bucket_stats.hpp"
#include "explore/sweep/source.hpp"

namespace ffp8::explore {

/// A contiguous range of one tensor.
struct Piece {
  const TensorSource* source = nullptr;
  std::uint64_t offset = 0, count = 0;
};

/// The unit formats are scored on: a tensor, one output channel of it, or all tensors of a role.
struct Group {
  std::string tensor;   ///< tensor name, "name[c]" for a channel, "*" for a role
  std::string role;
  Granularity granularity = Granularity::Tensor;
  std::int64_t channel = -1;
  std::vector<Piece> pieces;
  std::uint64_t count = 0;   ///< finite values: the ones every point is scored on
  std::uint64_t nan = 0, inf = 0;  ///< NaN and ±Inf values, left out of count, metrics, bias
                                   ///< rules and selection (never taken for numbers)
  double min = 0, max_abs = 0, max_positive = 0;  ///< of the finite values, exact, float64 data included
  std::shared_ptr<const BucketStats> stats;  ///< finite values only; released after scoring for channel groups
  bool emitted = true;  ///< its points go to points.csv (tensor and role groups always exist
                        ///< for selection, even when the granularity does not list them)

  Extent extent() const { return {max_abs, max_positive}; }
  /// True when a piece is float64 data: the statistics (float32 images) then only choose
  /// biases by percentile, and every point is scored by the direct path in float64.
  bool has_float64() const;
};

/// One evaluated (group, format, rounding) point.
struct Point {
  std::size_t group = 0;
  Format format;
  Rounding rounding = Rounding::Rne;
  std::string bias_rule;     ///< "range", "list", "fit", "percentile:P", "argmin:METRIC"; a
                             ///< scaled point: its scale rule ("floor", "fit", "amax")
  std::string scaling;       ///< shared-scale suffix (block32:e8m0:floor); empty: the plain format
  double effective_bits = 0; ///< bits per value (element + scale bits per group; 0: the width)
  double group_size = 0;     ///< values sharing one scale (0: the whole group, as a bias)
  ErrorSums sums;
  bool by_stats = true;      ///< the `path` column: "stats" or "direct"
  bool pending = false;      ///< internal: a direct-path point of a pass's tensor whose sums the
                             ///< pass's direct unit fills (one network run for all its tensors)
  double area_um2 = 0, energy_pj_per_mac = 0;  ///< NaN when not computed or infeasible
  bool pareto = false, knee = false;
  std::int64_t argmin_set = -1;  ///< internal: points of one argmin set compete, one survives
};

/// The chosen format of a tensor or role.
struct Choice {
  std::string scope;   ///< "tensor" or "role"
  std::string name;    ///< tensor name or role
  std::string role;
  Format format;
  Rounding rounding = Rounding::Rne;
  double value = 0;    ///< the selection metric's value
  std::size_t candidates = 0;
};

/// Everything a sweep produced.
struct SweepResult {
  std::vector<Group> groups;
  std::vector<Point> points;     ///< in group order, then template, rounding, bias
  SkipCounts skipped;
  std::vector<Choice> choices;
  std::uint64_t by_stats = 0, by_direct = 0;
  nlohmann::json tensors = nlohmann::json::array();  ///< per-tensor facts for summary.json
};

/// Progress callback: a stage name and work done out of total (the CLI draws a bar from it).
using ProgressFn = std::function<void(std::string_view stage, double done, double total)>;

/// Runs a sweep over already opened sources. NaN and ±Inf inputs are counted per group and left
/// out of every score; a tensor with no finite value is a DataError.
/// `passes` false: tensors of a TapPass are read one by one (see SweepPlan).
SweepResult run_sweep(const SweepConfig& config, const std::vector<std::unique_ptr<TensorSource>>& sources,
                      const ProgressFn& progress = {}, bool passes = true);

/// Name of a point's format: the element's name, then "/" and its scaling when it has one.
std::string point_format_name(const Point& p);

/// Value of a numeric column of a point (a metric, sign/exp/man/bias/width/count, hardware).
double column_value(const Point& p, const Group& g, std::string_view column);

}  // namespace ffp8::explore
