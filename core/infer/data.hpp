#pragma once
// A data file (docs/hdf5-layout.md "Data file"): /images (float32 [N,C,H,W], or uint8 [N,H,W] /
// [N,H,W,C] with mean/std) and /labels (integers [N]), read in batches of model inputs so that
// memory follows the batch size, not the data set.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/infer/model.hpp"

namespace ffp8::infer {

/// An open data file. Reads are const but not thread-safe.
class DataFile {
 public:
  /// Opens and validates; throws IoError when it cannot be read, DataError naming the file and
  /// the dataset or attribute at fault otherwise (unknown ffp8_data_layout, missing /images or
  /// /labels, bad dtype, shape or mean/std).
  static DataFile open(const std::string& path);
  DataFile(DataFile&&) noexcept;
  DataFile& operator=(DataFile&&) noexcept;
  ~DataFile();

  const std::string& path() const;
  /// Number of images N.
  std::int64_t size() const;
  /// [C, H, W] of one model input.
  const Shape& image_shape() const;
  /// Checks the labels of images [0, count) are class indices in [0, classes); throws DataError
  /// naming the file, the first image at fault and its label.
  void check_labels(std::int64_t classes, std::int64_t count) const;
  /// Labels of images [first, first + count).
  std::span<const std::int64_t> labels(std::int64_t first, std::int64_t count) const;
  /// Model inputs of images [first, first + count) into `out` (count * numel(image_shape()) floats,
  /// NCHW): float32 images as stored; uint8 as (u / 255 - mean[c]) / std[c] in float32.
  void read(std::int64_t first, std::int64_t count, std::span<float> out) const;

 private:
  struct Impl;
  explicit DataFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ffp8::infer
