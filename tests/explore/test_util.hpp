#pragma once
// Helpers of the explore tests: scratch folders and small HDF5 input files written with core/io.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/io/h5.hpp"

namespace ffp8::test {

/// A fresh, empty scratch folder under the build tree for test `name`.
inline std::filesystem::path scratch(const std::string& name) {
  const std::filesystem::path p = std::filesystem::path(FFP8_TEST_TMP_DIR) / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

/// One dataset to write: path, shape, values.
struct Tensor {
  std::string path;
  std::vector<std::uint64_t> shape;
  std::vector<float> values;
};

/// Writes float32 datasets into a new HDF5 file.
inline void write_h5(const std::filesystem::path& file, const std::vector<Tensor>& tensors) {
  h5::File f = h5::File::create(file.string());
  for (const Tensor& t : tensors) {
    f.create_dataset(t.path, t.shape, h5::DType::Float32);
    f.write(t.path, 0, std::span<const float>(t.values));
  }
  f.close();
}

}  // namespace ffp8::test
