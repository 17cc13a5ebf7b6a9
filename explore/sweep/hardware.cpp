#include "explore/sweep/hardware.hpp"

#include <limits>
#include <map>
#include <utility>

#include "core/errors.hpp"
#include "explore/sweep/sweep.hpp"
#ifdef FFP8_HAVE_HWCOST
#include "hwcost/model.hpp"
#include "hwcost/tech.hpp"
#endif

namespace ffp8::explore {

void add_hardware_costs(const HardwareConfig& hw, std::vector<Point>& points) {
#ifdef FFP8_HAVE_HWCOST
  hwcost::Tech tech;
  try {
    tech = hwcost::find_tech(hw.tech);
  } catch (const Error& e) {
    throw ConfigError(std::string("/hardware/tech: ") + e.what());
  }
  const hwcost::Accumulator acc = hwcost::parse_accumulator(hw.accumulator);
  std::map<std::string, std::pair<double, double>> cache;  // many points share a format
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  for (Point& p : points) {
    if (!p.scaling.empty()) continue;  // the block PE is not in the cost model yet: NaN
    const std::string key = p.format.name();
    auto it = cache.find(key);
    if (it == cache.end()) {
      const hwcost::Cost cost = hwcost::pe_cost(p.format, p.format, acc, hw.flexible, tech);
      it = cache.emplace(key, cost.feasible ? std::make_pair(cost.area_um2, cost.energy_pj_per_mac)
                                            : std::make_pair(nan, nan)).first;
    }
    p.area_um2 = it->second.first;
    p.energy_pj_per_mac = it->second.second;
  }
#else
  (void)points;
  if (hw.enabled) throw ConfigError("/hardware: this build has no hwcost library");
#endif
}

}  // namespace ffp8::explore
