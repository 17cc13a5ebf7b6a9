#include "tools/ffp8/args.hpp"

#include <charconv>
#include <filesystem>
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
  // Arguments beyond the declared positional ones land here, so the message can name them
  // (Boost's own says only "too many positional options").
  constexpr const char* kExtra = "unexpected-argument";
  hidden.add_options()(kExtra, po::value<std::vector<std::string>>());
  pos.add(kExtra, -1);
  po::options_description all;
  all.add(opts).add(hidden);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return std::nullopt;
  }
  if (vm.count(kExtra)) {
    const std::string first = vm[kExtra].as<std::vector<std::string>>().front();
    std::string takes;
    for (const auto& p : positional) takes += (takes.empty() ? "" : " ") + p;
    throw UsageError(fmt::format("unexpected argument '{}' ({}; options start with --)", first,
                                 positional.empty() ? std::string("this command takes no positional arguments")
                                                    : fmt::format("the positional arguments are: {}", takes)));
  }
  po::notify(vm);
  return vm;
}

void require_positional(const po::variables_map& vm, const char* name, const char* what) {
  if (!vm.count(name)) throw UsageError(fmt::format("missing the {} argument", what));
}

std::string out_arg(const std::string& arg) {
  if (arg.empty()) throw UsageError("--out needs a folder");
  return arg;  // the process runs in the working folder: relative to it as it stands
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

std::int64_t parse_int_arg(const std::string& text, const char* option, std::int64_t min, std::int64_t max) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  const char* first = text.data() + (!text.empty() && text[0] == '+' ? 1 : 0);
  const auto [p, ec] = std::from_chars(first, end, v);
  if (text.empty() || ec != std::errc() || p != end || v < min || v > max) {
    throw UsageError(fmt::format("{} must be an integer from {} to {}, not '{}'", option, min, max, text));
  }
  return v;
}

std::int64_t int_option(const po::variables_map& vm, const char* name, std::int64_t min, std::int64_t max) {
  return parse_int_arg(vm[name].as<std::string>(), fmt::format("--{}", name).c_str(), min, max);
}

std::string shape_text(const std::vector<std::uint64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

}  // namespace ffp8::cli
