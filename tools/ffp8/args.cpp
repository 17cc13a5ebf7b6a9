#include "tools/ffp8/args.hpp"

#include <charconv>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <iostream>

#include "core/errors.hpp"
#include "tools/ffp8/command.hpp"

namespace ffp8::cli {

namespace po = boost::program_options;

std::optional<po::variables_map> parse_args(const std::vector<std::string>& args, const po::options_description& opts,
                                            const std::vector<std::string>& positional) {
  po::options_description hidden;
  po::positional_options_description pos;
  for (const std::string& name : positional) {
    if (!opts.find_nothrow(name, false)) hidden.add_options()(name.c_str(), po::value<std::string>());
    pos.add(name.c_str(), 1);
  }
  po::options_description all;
  all.add(opts).add(hidden);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return std::nullopt;
  }
  return vm;
}

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
