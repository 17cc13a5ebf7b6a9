#pragma once
// HDF5 reads the model and data files need beyond core/io's float-tensor API: the /graph string
// dataset, integer/float array attributes (input_shape, mean, std) and range reads of uint8
// images. Internal to core/infer; every failure throws IoError naming the file and object.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ffp8::infer::detail {

/// A second read-only handle on an HDF5 file, for the reads core/io does not offer.
class ExtraReader {
 public:
  explicit ExtraReader(const std::string& path);
  ~ExtraReader();
  ExtraReader(const ExtraReader&) = delete;
  ExtraReader& operator=(const ExtraReader&) = delete;

  /// Text of a scalar string dataset (variable- or fixed-length).
  std::string read_string(const std::string& dataset) const;
  /// An integer attribute as int64 values (a scalar gives one value); nullopt when absent,
  /// IoError when it is not an integer.
  std::optional<std::vector<std::int64_t>> int_array_attr(const std::string& object, const std::string& name) const;
  /// A numeric attribute as float64 values; nullopt when absent.
  std::optional<std::vector<double>> double_array_attr(const std::string& object, const std::string& name) const;
  /// Elements [offset, offset + out.size()) of the flattened dataset, converted to uint8 by HDF5.
  void read_u8(const std::string& dataset, std::uint64_t offset, std::span<std::uint8_t> out) const;

 private:
  std::string path_;
  std::int64_t fid_ = -1;
};

}  // namespace ffp8::infer::detail
