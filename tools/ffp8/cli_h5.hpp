#pragma once
// Argument helpers shared by the HDF5 subcommands (quantize, inspect): FILE.h5:/dataset targets,
// option values checked with messages that name the argument.
#include <cstdint>
#include <string>
#include <vector>

#include "core/quant/quantize.hpp"

namespace ffp8::cli {

/// A dataset inside a file, from the text "FILE.h5:/dataset".
struct H5Target {
  std::string file;
  std::string dataset;
};

/// Splits "FILE.h5:/path" at the last ':' followed by '/'; throws UsageError naming `what`
/// ("input", "output") when there is no such separator or either side is empty.
H5Target parse_h5_target(const std::string& text, const char* what);
/// Parses a rounding name; an unknown one is a UsageError listing the allowed names.
Rounding parse_rounding_arg(const std::string& text);
/// Parses a decimal unsigned 64-bit value of option `option`; throws UsageError otherwise.
std::uint64_t parse_u64_arg(const std::string& text, const char* option);
/// "[64, 3, 7, 7]", "[]" for a scalar.
std::string shape_text(const std::vector<std::uint64_t>& shape);

}  // namespace ffp8::cli
