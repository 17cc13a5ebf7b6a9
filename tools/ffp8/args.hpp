#pragma once
// Command-line parsing shared by the subcommands: their visible options plus named positional
// arguments, --help, and argument values checked with messages that name the argument
// (FILE.h5:/dataset targets, roundings, unsigned numbers).
#include <boost/program_options.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/quant/quantize.hpp"
#include "core/tensors/quantize_dataset.hpp"

namespace ffp8::cli {

/// The rule for relative paths, quoted by every subcommand that reads a config (--help).
inline constexpr const char* kPathsRule =
    "Relative paths in a config are relative to the config file's folder; relative paths on the command line\n"
    "(--out, --logits) to the working folder. Without \"out\" and --out, the outputs go into the config's name\n"
    "without .json, beside it (configs/x.json -> configs/x/), and the command says so.";

/// The most threads a --threads option takes.
inline constexpr std::int64_t kMaxThreads = 4096;

/// Parses `args` against `opts` and the positional arguments `positional` (one value each, in
/// order; those not declared in `opts` are accepted but not listed by --help). On --help prints
/// `opts` and returns nullopt. Throws boost::program_options errors for unknown or bad options,
/// and UsageError naming an argument beyond the positional ones.
std::optional<boost::program_options::variables_map> parse_args(const std::vector<std::string>& args,
                                                                const boost::program_options::options_description& opts,
                                                                const std::vector<std::string>& positional = {});

/// Throws UsageError "missing the WHAT argument" when positional `name` was not given.
void require_positional(const boost::program_options::variables_map& vm, const char* name, const char* what);
/// The folder --out names (relative to the working folder); UsageError when empty.
std::string out_arg(const std::string& arg);

/// A dataset inside a file, from the text "FILE.h5:/dataset".
using H5Target = DatasetRef;

/// Splits "FILE.h5:/path" at the last ':' followed by '/'; throws UsageError naming `what`
/// ("input", "output") when there is no such separator or either side is empty.
H5Target parse_h5_target(const std::string& text, const char* what);
/// Parses a rounding name; an unknown one is a UsageError listing the allowed names.
Rounding parse_rounding_arg(const std::string& text);
/// Parses a decimal unsigned 64-bit value of option `option`; throws UsageError otherwise.
std::uint64_t parse_u64_arg(const std::string& text, const char* option);
/// The one parser of the CLI's integer arguments: decimal, no sign for unsigned ranges, within
/// [min, max]; anything else (-1, 1e3, 2^64, trailing text) is a UsageError naming the option,
/// the range and the text. Options that take numbers are declared as strings and parsed here,
/// because Boost's own conversion reads "-1" as 2^64-1 for unsigned options.
std::int64_t parse_int_arg(const std::string& text, const char* option, std::int64_t min, std::int64_t max);
/// The value of integer option `name` in `vm` (declared as a string), parsed by parse_int_arg.
std::int64_t int_option(const boost::program_options::variables_map& vm, const char* name, std::int64_t min,
                        std::int64_t max);
/// "[64, 3, 7, 7]", "[]" for a scalar.
std::string shape_text(const std::vector<std::uint64_t>& shape);

}  // namespace ffp8::cli
