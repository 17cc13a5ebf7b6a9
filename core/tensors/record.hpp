#pragma once
// `ffp8 record` as a library call: the float32 inputs of a model's conv2d/linear/matmul nodes
// (the tensors FFP8 quantizes, exactly what the engine's tap and so the sweep's model inputs see)
// over the first images of a data file, written as an activations file (docs/hdf5-layout.md,
// "Activations file"). Streamed: each batch goes from the engine's tap straight into the file, so
// memory follows the batch size, not the image count. The file is written whole or not at all.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ffp8 {

/// What to record.
struct RecordOptions {
  std::int64_t count = 0;             ///< images from the start of the data file (>= 1)
  std::int64_t batch = 64;            ///< images per engine run (peak memory); a sweep's model input records with its own `batch`
  std::vector<std::string> tensors;   ///< glob patterns of tensor names ("conv1", "layer*", "attn_qk.other"); empty: all
  int threads = 0;                    ///< kernel threads (0: OpenMP's default); results do not depend on it
  /// Called after every batch with the images done and the total (progress bars).
  std::function<void(std::int64_t done, std::int64_t total)> progress;
};

/// One recorded tensor: /activations/<name>.
struct RecordedTensor {
  std::string name;                   ///< "<node>" for an input, "<node>.other" for a matmul's second operand
  std::string node;                   ///< the consuming node
  std::string tensor;                 ///< the graph tensor it is (e.g. "relu_1", or the graph input)
  int operand = 0;                    ///< 0: the (first) input; 1: a matmul's second operand
  std::vector<std::uint64_t> shape;   ///< [count, per-image shape...]
};

/// What record_activations() wrote.
struct RecordReport {
  std::string model, data, out;
  std::int64_t count = 0;
  std::vector<RecordedTensor> tensors;  ///< in node order
};

/// Runs the float32 network of `model` over images [0, count) of `data` and writes the selected
/// inputs to `out` (its folder is created; an existing file is replaced only on success; `out`
/// may not be the model or the data file). Throws IoError (unreadable or unwritable files),
/// ModelError (invalid model), DataError (images that do not fit the model, fewer than `count`
/// images, an output that is an input) and ConfigError (bad options, a pattern matching no tensor).
RecordReport record_activations(const std::string& model, const std::string& data, const std::string& out,
                                const RecordOptions& options);

/// The report as `ffp8 record --json` prints it.
nlohmann::json to_json(const RecordReport& report);

}  // namespace ffp8
