#pragma once
// Command-line parsing shared by the subcommands: their visible options plus named positional
// arguments, and --help.
#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ffp8::cli {

/// Parses `args` against `opts` and the positional arguments `positional` (one value each, in
/// order; those not declared in `opts` are accepted but not listed by --help). On --help prints
/// `opts` and returns nullopt. Throws boost::program_options errors for unknown or bad options.
std::optional<boost::program_options::variables_map> parse_args(const std::vector<std::string>& args,
                                                                const boost::program_options::options_description& opts,
                                                                const std::vector<std::string>& positional = {});

}  // namespace ffp8::cli
