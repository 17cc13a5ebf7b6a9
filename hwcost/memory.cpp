#include "hwcost/memory.hpp"

namespace ffp8::hwcost {

namespace {

Footprint make(std::string name, const TensorCounts& n, double wbits, double abits, double meta_per_tensor) {
  Footprint f;
  f.name = std::move(name);
  f.weight_bytes = static_cast<double>(n.weight_elements) * wbits / 8.0;
  f.activation_bytes = static_cast<double>(n.activation_elements) * abits / 8.0;
  f.metadata_bytes = static_cast<double>(n.tensors) * meta_per_tensor;
  // Weights are read once; each activation is written by one layer and read by the next.
  f.offchip_bytes_per_inference = f.weight_bytes + 2.0 * f.activation_bytes + f.metadata_bytes;
  const double fp32 = static_cast<double>(n.weight_elements) * 4.0 + 2.0 * static_cast<double>(n.activation_elements) * 4.0;
  f.ratio_to_float32 = fp32 > 0 ? f.offchip_bytes_per_inference / fp32 : 0.0;
  return f;
}

}  // namespace

Footprint footprint(const TensorCounts& n, const Format& weight, const Format& activation) {
  return make("w=" + weight.name() + " a=" + activation.name(), n, weight.width(), activation.width(), 1.0);
}

std::vector<Footprint> reference_footprints(const TensorCounts& n) {
  return {make("float32", n, 32, 32, 0), make("float16", n, 16, 16, 0), make("int8", n, 8, 8, 4.0)};
}

}  // namespace ffp8::hwcost
