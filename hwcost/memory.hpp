#pragma once
// Memory footprint and off-chip traffic of a model's weights and activations per number format.
// Often the larger saving of 8-bit formats: every one of them stores 4x less than float32.
#include <cstdint>
#include <string>
#include <vector>

#include "core/format/format.hpp"

namespace ffp8::hwcost {

/// What a network holds and moves per inference, as element counts.
struct TensorCounts {
  std::uint64_t weight_elements = 0;      ///< all weights (read once per inference)
  std::uint64_t activation_elements = 0;  ///< all layer outputs (written once, read once)
  std::uint64_t tensors = 0;              ///< tensors carrying their own format (metadata)
};

/// Bytes of one storage option.
struct Footprint {
  std::string name;                 ///< "float32", "float16", "int8" or "w=<fmt> a=<fmt>"
  double weight_bytes = 0;          ///< weights at rest
  double activation_bytes = 0;      ///< activations, one copy
  double metadata_bytes = 0;        ///< per-tensor scale / format descriptors
  double offchip_bytes_per_inference = 0;  ///< weights read + activations written and read
  double ratio_to_float32 = 0;      ///< offchip bytes relative to float32
};

/// Footprint with weights in `weight` and activations in `activation` (bits = format width;
/// one byte of format descriptor per tensor: field split, sign presence and bias).
Footprint footprint(const TensorCounts& n, const Format& weight, const Format& activation);

/// The reference options: float32, float16 and int8 (4-byte float scale per tensor).
std::vector<Footprint> reference_footprints(const TensorCounts& n);

}  // namespace ffp8::hwcost
