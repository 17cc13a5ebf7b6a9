#pragma once
// INT8 per-tensor symmetric quantization, the usual 8-bit integer baseline next to FFP8: values
// k * scale for integers k in [-127, 127], scale = max|x| / 127 of the tensor (weights) or of its
// calibration data (activations). Round half to even, always saturating.
#include <span>

#include "core/quant/quantize.hpp"  // QuantCounts

namespace ffp8::infer {

/// One tensor's INT8 quantizer (its scale). Cheap to copy; thread-safe to share.
struct Int8Quantizer {
  float scale = 0.0f;  ///< 0 when max|x| was 0: every value then quantizes to 0

  /// scale = float(max_abs) / 127, in float32 (as a float32 emulation computes it).
  static Int8Quantizer for_max_abs(double max_abs);
  /// Largest representable magnitude, 127 * scale.
  double max_value() const { return 127.0 * double(scale); }

  /// out = clamp(round_half_even(x / scale), -127, 127) * scale, all in float32, on `threads`
  /// OpenMP threads (0: OpenMP's default). NaN stays NaN
  /// and is counted (INT8 has no NaN code: the engine rejects it); |x / scale| > 127 (incl. ±Inf)
  /// saturates and counts as overflow; a non-zero x that becomes 0 counts as underflow. With
  /// scale 0 every finite value becomes 0 (non-zero ones count as overflow: max is 0).
  QuantCounts quantize(std::span<const float> in, std::span<float> out, int threads = 1) const;
};

}  // namespace ffp8::infer
