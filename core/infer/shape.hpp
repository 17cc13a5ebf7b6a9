#pragma once
// Shape helpers of the shape inference (infer_shape is declared in model.hpp).
#include <optional>

#include "core/infer/model.hpp"

namespace ffp8::infer {

/// numpy broadcasting of two shapes (aligned at their last dimension), nullopt when they do not.
std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b);

}  // namespace ffp8::infer
