#pragma once
// Scaled points of the sweep: every element format of the space (each template with its IEEE-like
// bias: a power-of-two scale absorbs the bias) times every shared-scale suffix of space.scaling,
// on whole tensors. Power-of-two scales (floor, fit) are scored exactly from one statistics pass
// per scaling (explore/stats/scaled_stats.hpp); the rest by quantize-then-measure with the
// scheme's quantizer (the `path` column says which).
#include <cstddef>
#include <vector>

#include "explore/config/config.hpp"
#include "explore/space/space.hpp"
#include "explore/sweep/source.hpp"
#include "explore/sweep/units.hpp"

namespace ffp8::explore {

/// Appends the scaled points of tensor group `gi` of `u` (the whole tensor `s`), in scaling,
/// template, rounding order. Nothing when space.scaling names only "none".
void add_scaled_points(const SweepConfig& c, const std::vector<FormatTemplate>& templates, const TensorSource& s,
                       std::size_t gi, UnitResult& u);

}  // namespace ffp8::explore
