#pragma once
// The quantized inference engine: runs a graph on float32 batches (images NCHW), emulating FFP8
// by quantizing, with the project's Quantizer, every conv2d/linear layer's weights (once, at
// construction) and its input activation, and both operands of every matmul (attention's Q K^T
// and P V), on every batch, to the formats of a QuantPlan. Arithmetic is float32 with float32
// accumulation; an empty plan runs the float32 network.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "core/infer/assignment.hpp"
#include "core/infer/model.hpp"
#include "core/quant/quantize.hpp"

namespace ffp8::infer {

/// Options of an Engine.
struct EngineOptions {
  QuantOptions quant;  ///< rounding, saturation and seed of every quantization (threads ignored)
  int threads = 0;     ///< OpenMP threads of kernels and quantization; 0 = OpenMP's default
};

/// The name of operand `operand` of quantizable node `node` in calibration statistics and
/// recorded activations: the node name for the first input, "<node>.other" for a matmul's second.
std::string operand_key(const std::string& node, int operand);

/// What a tap receives: one quantized input of a conv2d/linear/matmul node for the current
/// batch, as the layer reads it *before* its quantization (float32; in a quantized engine it
/// carries the quantization error of the layers upstream).
struct TapEvent {
  const std::string& node;          ///< node name (the /activations/<node> name of the layout)
  int node_index;                   ///< index in Model::nodes
  int operand;                      ///< 0: the (first) input; 1: a matmul's second operand
  std::span<const float> values;    ///< batch * numel(shape) values, NCHW
  const Shape& shape;               ///< per-image shape, e.g. [C, H, W] or [F]
  std::int64_t batch;               ///< images in this batch
  std::uint64_t first_image;        ///< global index of the batch's first image
  /// operand_key(node, operand).
  std::string key() const { return operand_key(node, operand); }
};

/// Activation tap: called synchronously, in node order, from the thread calling Engine::run;
/// the span is valid only during the call (copy what you keep). Taps may not call the engine.
using ActivationTap = std::function<void(const TapEvent&)>;

/// Quantization counts of one layer's inputs and weights, summed over the batches run.
struct LayerCounts {
  std::string node;
  QuantCounts activation;  ///< the (first) input
  QuantCounts weight;
  QuantCounts other;       ///< a matmul's second operand
};

/// Runs one model under one quantization plan. Not thread-safe (one run at a time); keep one
/// Engine per concurrent caller. The model is shared, never copied. Without taps a batch is split
/// across threads, each running the whole graph on its share (no synchronisation between
/// layers); with taps, layers run one after the other, each parallel inside, so taps see whole
/// batches in node order.
class Engine {
 public:
  /// Prepares the engine: quantizes weights per `plan` (entries matched to nodes by name; a
  /// quantizable node without an entry runs in float32). Throws FormatError/DataError.
  Engine(std::shared_ptr<const Model> model, QuantPlan plan = {}, EngineOptions options = {});

  /// Runs `n` images (input [n, C, H, W] flattened, n * numel(input_shape) values) and returns
  /// the logits [n, num_classes], valid until the next call. `first_image` is the global index
  /// of the first image: it keys the stochastic-rounding stream (results then do not depend on
  /// the batch size) and is passed to taps. Throws DataError on NaN into a NaN-less format.
  std::span<const float> run(std::span<const float> input, std::int64_t n, std::uint64_t first_image = 0);

  /// Registers a tap; returns its id. Taps are called in registration order.
  int add_tap(ActivationTap tap);
  /// Removes a tap by id (unknown ids are ignored).
  void remove_tap(int id);

  const Model& model() const { return *model_; }
  const QuantPlan& plan() const { return plan_; }
  /// Quantization counts per quantizable node (node order), accumulated since construction.
  const std::vector<LayerCounts>& counts() const { return counts_; }

 private:
  struct Layer;   // per-node prepared state
  struct Worker;  // per-thread buffers and counts
  // Runs images [0, n) of `input` through the graph on the calling thread's `w` (kernels use
  // `threads`), writing n * num_classes logits to `out`.
  void forward(const float* input, std::int64_t n, std::uint64_t first_image, int threads, Worker& w, float* out);

  std::shared_ptr<const Model> model_;
  QuantPlan plan_;
  EngineOptions options_;
  std::vector<std::shared_ptr<Layer>> layers_;  // by node index; null for non-quantizable nodes
  std::vector<int> last_use_;                   // tensor id -> last node index reading it
  std::vector<std::pair<int, ActivationTap>> taps_;
  int next_tap_ = 0;
  std::vector<LayerCounts> counts_;
  std::vector<std::shared_ptr<Worker>> workers_;  // one per thread of the batch-parallel mode
  std::vector<float> logits_;
};

class DataFile;

/// Runs images [first, end) of `data` through `engine`, `batch` images at a time from `first`
/// (memory: one batch of inputs), each with its global index so taps and stochastic rounding see
/// the same images whoever reads them; `after(done)` follows each batch (images done up to `done`).
void run_images(Engine& engine, const DataFile& data, std::int64_t first, std::int64_t end, std::int64_t batch,
                const std::function<void(std::int64_t done)>& after = {});

}  // namespace ffp8::infer
