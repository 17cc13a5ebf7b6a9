#pragma once
// Where tensors come from. The sweep sees only TensorSource: a named, shaped tensor it can
// stream in ranges, as float32 or (exactly, for float64 data) as float64. HDF5 datasets, in-memory arrays and model inputs (weights, and
// activations recorded through the inference engine's tap: model_source.hpp) implement it.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "explore/config/config.hpp"

namespace ffp8::explore {

/// Receives consecutive values of a range and the global index of their first element.
using ChunkFn = std::function<void(std::span<const float> values, std::uint64_t first_index)>;
/// The same for float64 values.
using ChunkFn64 = std::function<void(std::span<const double> values, std::uint64_t first_index)>;

/// Receives values of tensor `slot` of a TapPass and the global index of their first element.
using SlotChunkFn = std::function<void(std::size_t slot, std::span<const float> values, std::uint64_t first_index)>;

/// Tensors recorded together by one pass over images (a model input's activations, all tapped
/// while the float32 network runs once): a pass over some images delivers every tensor's values
/// of those images for the cost of one. Tensor `slot` holds values_per_image(slot) values per
/// image, image-major, so images [a, b) are its elements [a * per, b * per).
class TapPass {
 public:
  virtual ~TapPass() = default;
  /// Images of the pass (the calibration images).
  virtual std::uint64_t images() const = 0;
  /// Images per engine run; a range of a pass starts at a multiple of it.
  virtual std::uint64_t batch() const = 0;
  virtual std::size_t slots() const = 0;
  virtual std::uint64_t values_per_image(std::size_t slot) const = 0;
  /// Runs once over images [first, last) (`first` a multiple of batch()) and calls `fn` with
  /// every slot's values of those images, each slot's in element order.
  virtual void run(std::uint64_t first, std::uint64_t last, const SlotChunkFn& fn) const = 0;
};

/// One tensor the sweep can read (any number of times, in ranges, with flat memory).
class TensorSource {
 public:
  virtual ~TensorSource() = default;
  /// Name shown in the `tensor` column (the dataset path, or file:path when ambiguous).
  virtual const std::string& name() const = 0;
  virtual const std::string& role() const = 0;
  virtual const std::vector<std::uint64_t>& shape() const = 0;
  /// Streams elements [offset, offset + count) in chunks of at most `chunk` elements.
  virtual void read(std::uint64_t offset, std::uint64_t count, std::size_t chunk, const ChunkFn& fn) const = 0;
  /// True when the data is float64 (not all float32): the sweep then reads it by read_double()
  /// and scores it by the direct path in float64.
  virtual bool is_float64() const { return false; }
  /// The stored element type ("float16", "float32", "float64"); by default float64 or float32.
  virtual std::string dtype() const { return is_float64() ? "float64" : "float32"; }
  /// Streams elements as float64, exactly; the default widens read()'s float32 values.
  virtual void read_double(std::uint64_t offset, std::uint64_t count, std::size_t chunk, const ChunkFn64& fn) const;
  /// Where the data comes from, for messages ("w.h5:/weights/conv1"); defaults to name().
  virtual std::string origin() const { return name(); }
  /// Notes for summary.json (e.g. how float64 data is scored).
  virtual std::string note() const { return {}; }
  /// The pass this tensor is recorded by, shared with the other tensors of the pass (nullptr:
  /// the tensor is read by itself), and its slot in it.
  virtual const TapPass* tap_pass() const { return nullptr; }
  virtual std::size_t tap_slot() const { return 0; }

  std::uint64_t size() const;
  /// Elements per output channel (axis 0); the whole tensor for rank < 2.
  std::uint64_t channel_size() const;
  std::uint64_t channels() const;
};

/// A tensor held in memory (tests, benchmarks, library users).
class MemorySource : public TensorSource {
 public:
  MemorySource(std::string name, std::string role, std::vector<float> values, std::vector<std::uint64_t> shape = {});
  const std::string& name() const override { return name_; }
  const std::string& role() const override { return role_; }
  const std::vector<std::uint64_t>& shape() const override { return shape_; }
  void read(std::uint64_t offset, std::uint64_t count, std::size_t chunk, const ChunkFn& fn) const override;

 private:
  std::string name_, role_;
  std::vector<float> values_;
  std::vector<std::uint64_t> shape_;
};

/// Opens every dataset the config's inputs name (glob patterns), and every model input's tensors
/// (open_model_input), in config order. Errors are ConfigErrors naming the JSON path: a missing
/// file (/inputs/0/file), a pattern matching nothing or a missing or non-float dataset
/// (/inputs/0/tensors/1), a bad model or data file (/inputs/0/model, /inputs/0/data).
std::vector<std::unique_ptr<TensorSource>> open_inputs(const SweepConfig& config);

}  // namespace ffp8::explore
