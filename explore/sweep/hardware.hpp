#pragma once
// Hardware-cost columns from the hwcost library (when the build has it): the cost of a PE whose
// two operands use the point's format, under the configured technology and accumulator.
#include <vector>

#include "explore/config/config.hpp"

namespace ffp8::explore {

struct Point;

/// Fills area_um2 and energy_pj_per_mac of every point (NaN for infeasible designs).
/// Throws ConfigError when the build lacks hwcost or the technology is unknown.
void add_hardware_costs(const HardwareConfig& hw, std::vector<Point>& points);

}  // namespace ffp8::explore
