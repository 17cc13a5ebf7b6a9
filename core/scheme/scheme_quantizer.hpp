#pragma once
// The one batch entry point for quantizing with a scheme (docs/formats.md "Scaled formats"):
// per group the scale follows from the group's largest magnitude by the scheme's rule, then every
// value is S * q_elem(x / S). A plain scheme is exactly the format's Quantizer.
#include <cstdint>
#include <span>
#include <vector>

#include "core/quant/quantize.hpp"
#include "core/scheme/groups.hpp"
#include "core/scheme/scheme.hpp"

namespace ffp8 {

/// A scheme bound to quantizer options (element rounding, saturation, seed, threads; scales always
/// round to nearest even). Cheap to copy; thread-safe to share.
class SchemeQuantizer {
 public:
  /// Validates the scheme; throws FormatError.
  explicit SchemeQuantizer(const Scheme& s, const QuantOptions& o = {});

  const Scheme& scheme() const { return scheme_; }
  const QuantOptions& options() const { return options_; }
  /// The element format's quantizer (the whole scheme for a plain one).
  const Quantizer& element() const { return elem_; }

  /// The rule's group scale for a group with largest counted magnitude `a` (0: none counted),
  /// under the second-level tensor scale `tensor_scale` (1 without one). Exact; a value of the
  /// scale format (f32: a float32 number).
  double group_scale(double a, double tensor_scale = 1.0) const;
  /// The second level's float32 tensor scale for a tensor with largest counted magnitude `a`:
  /// a / (max(V_elem) * max(V_scale)) in float32 (1 without a second level).
  double tensor_scale(double a) const;
  /// The scale that multiplies group elements: the group scale times the tensor scale (in
  /// float32 for two levels).
  double total_scale(double group_scale, double tensor_scale) const;

  /// float32 in, float32 out; `layout` gives the groups (its size must be in.size()). NaN inputs
  /// stay NaN and are counted. Needs element().float32_output().
  /// `first_index`: the global index of in[0] for the stochastic stream (a tensor split into
  /// whole groups keeps its results).
  QuantCounts quantize(std::span<const float> in, std::span<float> out, const GroupLayout& layout,
                       std::uint64_t first_index = 0) const;
  /// double in, double out (exact path).
  QuantCounts quantize(std::span<const double> in, std::span<double> out, const GroupLayout& layout,
                       std::uint64_t first_index = 0) const;
  /// float32 in and out with the scale of every group given (total scales, one per group in the
  /// order of group_geometry(); e.g. from calibration data).
  QuantCounts quantize_with_scales(std::span<const float> in, std::span<float> out, const GroupLayout& layout,
                                   std::span<const double> scales) const;

  /// Element codes (one per value; a NaN input into a NaN-less element gets code 0 and is counted)
  /// and scale codes: one per group (the scale format's code; f32: the float32 bits), then, with
  /// a second level, the float32 bits of the tensor scale.
  QuantCounts encode(std::span<const float> in, const GroupLayout& layout, std::span<std::uint16_t> element_codes,
                     std::vector<std::uint32_t>& scale_codes) const;
  /// Values of element and scale codes as encode() writes them.
  void decode(std::span<const std::uint16_t> element_codes, std::span<const std::uint32_t> scale_codes,
              const GroupLayout& layout, std::span<double> out) const;

  /// The total scale of each group (exact), in group order; for tests and the sweep's direct path.
  std::vector<double> scales(std::span<const float> in, const GroupLayout& layout) const;
  std::vector<double> scales(std::span<const double> in, const GroupLayout& layout) const;

 private:
  /// Group scales, the tensor scale and the total scales of one tensor.
  struct Scales {
    std::vector<double> group, total;
    double tensor = 1.0;
  };
  template <typename T>
  Scales scales_of(const T* in, const GroupGeometry& geo) const;
  template <typename T>
  QuantCounts run(const T* in, T* out, std::uint16_t* codes, const GroupGeometry& geo,
                  const std::vector<double>& scales, std::uint64_t first) const;
  QuantCounts run_fast(const float* in, float* out, std::uint16_t* codes, const GroupGeometry& geo,
                       const std::vector<double>& scales, std::uint64_t first) const;
  /// S * q_elem(x / S) for one value (exact; float32 arithmetic where the scheme has it).
  Rounded apply(double x, double scale, std::uint64_t index) const;

  Scheme scheme_;
  QuantOptions options_;
  Quantizer elem_;
  Quantizer elem1_;           // the element on one thread: the fast path's per-chunk calls
  Quantizer scale_q_;         // rne, saturating: rounds amax quotients to the scale format
  double elem_max_ = 0.0;     // max(V_elem)
  int elem_emax_ = 0;         // exponent of max(V_elem)
  double scale_min_pos_ = 0;  // smallest positive scale
  bool fast_ = false;         // power-of-two scales within 2^-127..2^127 and a vectorized element
};

}  // namespace ffp8
