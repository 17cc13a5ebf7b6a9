#pragma once
// Command-line parsing shared by the subcommands: their visible options plus named positional
// arguments, --help, and argument values checked with messages that name the argument
// (FILE.h5:/dataset targets, roundings, unsigned numbers).
#include <boost/program_options.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/quant/quantize.hpp"

namespace ffp8::cli {

/// Parses `args` against `opts` and the positional arguments `positional` (one value each, in
/// order; those not declared in `opts` are accepted but not listed by --help). On --help prints
/// `opts` and returns nullopt. Throws boost::program_options errors for unknown or bad options.
std::optional<boost::program_options::variables_map> parse_args(const std::vector<std::string>& args,
                                                                const boost::program_options::options_description& opts,
                                                                const std::vector<std::string>& positional = {});

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
