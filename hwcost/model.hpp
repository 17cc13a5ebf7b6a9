#pragma once
// The analytic cost model: evaluation of a PeSpec under a Tech table (Timeloop style: the spec
// is parsed elsewhere, evaluation is a pure function, an infeasible design is a result).
#include <array>
#include <string>
#include <vector>

#include "core/format/format.hpp"
#include "hwcost/geometry.hpp"
#include "hwcost/spec.hpp"
#include "hwcost/tech.hpp"

namespace ffp8::hwcost {

/// Area of one part of the PE (decoder_w, decoder_a, multiplier, exponent, align, accumulator,
/// normalize, registers, control).
struct Component {
  std::string name;
  double area_ge = 0;
  double area_um2 = 0;
};

/// The cost of one PE. When !feasible only `reason` (and the spec label) are meaningful.
struct Cost {
  bool feasible = true;
  std::string reason;            ///< why the design cannot be built as asked
  std::string label;             ///< PeSpec::label()
  std::string tech;              ///< Tech::name
  double area_um2 = 0;
  double area_ge = 0;            ///< area in NAND2 gate equivalents
  double energy_pj_per_mac = 0;  ///< switching energy per multiply-accumulate (estimate)
  double delay_ns = 0;           ///< critical path estimate from logic levels (not calibrated)
  std::vector<Component> components;
  PeGeometry geometry;
};

/// Model features: for each coefficient, the total of its feature over all components.
/// Area in GE is the dot product of features() with Tech::coef; calibration fits that.
std::array<double, kCoefCount> features(const PeSpec& spec);

/// Evaluates a PE. Throws ConfigError only for a malformed spec (e.g. K = 0, exp_min > exp_max);
/// a well-formed design that cannot be built is returned with feasible = false and a reason.
Cost evaluate(const PeSpec& spec, const Tech& tech);

/// Convenience for sweeps: cost of a (weight, activation) PE with the given accumulator.
Cost pe_cost(const Format& weight, const Format& activation, Accumulator acc, bool flexible,
             const Tech& tech);

/// The INT8 reference MAC (8 x 8 signed multiply, 32-bit accumulator) under `tech`.
Cost int8_cost(const Tech& tech);

/// Why `spec` cannot be built, or "" when it can (the feasibility check evaluate() applies).
std::string infeasibility(const PeSpec& spec);

}  // namespace ffp8::hwcost
