// Argument helpers of the HDF5 subcommands.
#include "tools/ffp8/cli_h5.hpp"

#include <charconv>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.hpp"
#include "tools/ffp8/command.hpp"

namespace ffp8::cli {

H5Target parse_h5_target(const std::string& text, const char* what) {
  const auto colon = text.rfind(":/");
  if (colon == std::string::npos || colon == 0) {
    throw UsageError(fmt::format("the {} '{}' must be FILE.h5:/dataset, e.g. weights.h5:/params/conv1/weight", what, text));
  }
  H5Target t{text.substr(0, colon), text.substr(colon + 1)};
  if (t.dataset == "/") throw UsageError(fmt::format("the {} '{}' names the root group, not a dataset", what, text));
  return t;
}

Rounding parse_rounding_arg(const std::string& text) {
  try {
    return parse_rounding(text);
  } catch (const ffp8::Error& e) {
    throw UsageError(fmt::format("--rounding: {}", e.what()));
  }
}

std::uint64_t parse_u64_arg(const std::string& text, const char* option) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || p != end) {
    throw UsageError(fmt::format("{} must be an unsigned 64-bit integer, not '{}'", option, text));
  }
  return v;
}

std::string shape_text(const std::vector<std::uint64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

}  // namespace ffp8::cli
