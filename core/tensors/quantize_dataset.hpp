#pragma once
// `ffp8 quantize` as a library call: an HDF5 dataset rounded to a format and written as float32
// values of the same shape, streamed chunk by chunk (memory independent of the dataset size).
//
// Output policy: the output file is written whole or not at all. When it exists its other
// datasets and attributes are kept (the new file starts as a copy of it; a dataset already at the
// output path is replaced, and HDF5 does not reclaim the replaced dataset's space: h5repack
// compacts). When the input has NaN and the format has no NaN code nothing is written.
#include <functional>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/format/format.hpp"
#include "core/io/h5.hpp"
#include "core/quant/error_sums.hpp"
#include "core/quant/quantize.hpp"
#include "core/scheme/scheme.hpp"

namespace ffp8 {

/// A dataset inside an HDF5 file.
struct DatasetRef {
  std::string file;
  std::string dataset;
  std::string text() const { return file + ":" + dataset; }  ///< "FILE.h5:/dataset"
};

/// What quantize_dataset() did.
struct QuantizeReport {
  DatasetRef input, output;
  h5::DatasetInfo info;   ///< the input's shape and dtype
  Scheme scheme;          ///< the format (a plain scheme) or scaled format
  int axis = 0;           ///< the reduction axis of a block-scaled format
  QuantOptions options;
  h5::DType out_dtype = h5::DType::Float32;  ///< Float32 or Float64
  QuantCounts counts;     ///< outcome counts (NaN inputs, overflow, underflow, negatives clipped)
  ErrorSums errors;       ///< error sums over the non-NaN inputs, float64
  bool compressed = false;
  /// Wall seconds: reading the input, quantizing (rounding and error sums), writing the output
  /// (its chunks, attributes and the final rename).
  double read_s = 0, quantize_s = 0, write_s = 0;
};

/// Quantizes `in` to `scheme` and writes `out` (see the output policy above), with provenance
/// attributes (ffp8_format, ffp8_rounding, ffp8_saturate, ffp8_source, ffp8_seed for stochastic
/// rounding, ffp8_axis for a block-scaled format, and the input's role). A scaled format's groups
/// follow the dataset's shape (reduction axis 1 for rank >= 2, else 0; `axis` overrides); a block
/// longer than its axis is a DataError. Chunks hold whole groups (a tensor or two-level scale: the
/// whole dataset). `out_dtype` Float32 needs a format whose values are all
/// float32 numbers (float32 subnormals included), else FormatError; Float64 holds every format.
/// IoError/DataError name the file and dataset; ConfigError when `out` is the input dataset
/// itself (another dataset of the input file is fine). The output is contiguous and uncompressed
/// unless `compress` (chunked, shuffle + deflate level 1). `on_chunk`, when set, is called after
/// each chunk written with the elements done so far.
QuantizeReport quantize_dataset(const DatasetRef& in, const DatasetRef& out, const Scheme& scheme,
                                const QuantOptions& options, bool compress = false,
                                h5::DType out_dtype = h5::DType::Float32,
                                const std::function<void(std::uint64_t done)>& on_chunk = {},
                                std::optional<int> axis = {});

/// The report as `ffp8 quantize --json` prints it (non-finite numbers as the JSON rule says).
nlohmann::json to_json(const QuantizeReport& report);

}  // namespace ffp8
