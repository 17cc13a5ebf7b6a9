#pragma once
// Calibration of the analytic model against synthesis: a grid of PEs is synthesized, the
// model's coefficients are fitted by weighted non-negative least squares on part of the grid,
// and the error is measured on the points held out from the fit.
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "hwcost/model.hpp"
#include "hwcost/synth/yosys.hpp"
#include "hwcost/tech.hpp"

namespace ffp8::hwcost {

/// One synthesized design and what the model says about it.
struct CalPoint {
  PeSpec spec;
  std::string label;
  bool held_out = false;                    ///< excluded from the fit
  /// Designs synthesized for this point: for fixed PEs the same template at three biases, since
  /// constants alone move ABC's area by a few percent; the point's area is their mean.
  std::vector<PeSpec> variants;
  double synth_um2 = 0;                     ///< Yosys/ABC mapped area (mean over variants)
  double synth_spread = 0;                  ///< (max - min) / mean over the variants
  long synth_cells = 0;                     ///< cell count of the first variant
  double model_um2 = 0;                     ///< model area with the fitted coefficients
  std::array<double, kCoefCount> features{};
};

/// Accuracy of a fit.
struct FitQuality {
  double median_abs_rel_err = 0;  ///< median of |model - synth| / synth
  double max_abs_rel_err = 0;
  double spearman = 0;            ///< rank correlation of model and synthesis areas
  int points = 0;
};

/// Result of calibrate().
struct Calibration {
  std::vector<CalPoint> points;
  Tech fitted;                 ///< the prior table with fitted coefficients and provenance
  FitQuality train, held_out;
  /// Spearman over formats (fixed PEs) within each accumulator, all points: accumulator -> rho.
  std::vector<std::pair<std::string, double>> spearman_by_accumulator;
};

/// The calibration grid: fixed PEs over width-6..9 formats (signed and unsigned operands),
/// flexible PEs over several exponent ranges, each with fp16, fp32 and Kulisch accumulators,
/// and the INT8 reference. Every fourth design is marked held out. Fixed PEs carry bias variants.
std::vector<CalPoint> calibration_grid();

/// Weighted NNLS (Lawson-Hanson): x >= 0 minimising sum_i w_i^2 (A_i x - b_i)^2. Coefficients
/// flagged in `fixed` keep the value given in `x0`.
std::array<double, kCoefCount> fit_coefficients(const std::vector<std::array<double, kCoefCount>>& a,
                                                const std::vector<double>& b, const std::vector<double>& w,
                                                const std::array<bool, kCoefCount>& fixed,
                                                const std::array<double, kCoefCount>& x0);

/// Spearman rank correlation (average ranks for ties); 0 for fewer than 2 points.
double spearman(const std::vector<double>& x, const std::vector<double>& y);

/// Synthesizes the grid (`jobs` at a time), fits on the training points (register_bit stays
/// at the prior's value: it is one flip-flop, known from the library) and evaluates.
/// `progress` is called after each synthesis. Throws IoError/DataError from synthesis.
Calibration calibrate(const Tech& prior, const SynthOptions& synth, int jobs,
                      const std::function<void(const CalPoint&, int done, int total)>& progress = {});

/// Re-fits and scores already synthesized points (no synthesis); used by calibrate().
Calibration fit(const Tech& prior, std::vector<CalPoint> points);

}  // namespace ffp8::hwcost
