#pragma once
// Tensors of a model input (`{"model", "data", ...}` in a sweep config): each conv2d/linear
// node's weight, and its input activation recorded through the inference engine's tap while the
// float32 network runs over the first `calib` images of the data file.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "explore/config/config.hpp"
#include "explore/sweep/source.hpp"

namespace ffp8::explore {

/// Opens input `index` of `config` (which must have `model` set) and returns its tensors in node
/// order: "<node>.weight" (role weight), then "<node>.input" (role activation). Reading an
/// activation re-runs the engine over the batches covering the range (memory is one batch, not
/// `calib` images). Errors are ConfigErrors naming /inputs/<index>/model, /data, /calib or /nodes.
std::vector<std::unique_ptr<TensorSource>> open_model_input(const SweepConfig& config, std::size_t index);

}  // namespace ffp8::explore
