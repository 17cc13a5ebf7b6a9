// ffp8 format SPEC [--json]: parameters, range and the value of every code.
#include <boost/program_options.hpp>
#include <cmath>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/format/codec.hpp"
#include "core/format/format.hpp"
#include "tools/ffp8/args.hpp"
#include "tools/ffp8/command.hpp"

namespace po = boost::program_options;

namespace {

nlohmann::json code_json(const ffp8::CodeValue& v) {
  switch (v.kind) {
    case ffp8::CodeKind::Nan: return "nan";
    case ffp8::CodeKind::Inf: return v.value > 0 ? "inf" : "-inf";
    case ffp8::CodeKind::Unused: return "unused";
    case ffp8::CodeKind::Finite: break;
  }
  return v.value;
}

int run_format(const std::vector<std::string>& args) {
  po::options_description opts("ffp8 format SPEC [--json]\n\nPrints a format's parameters, range and the value of every code.\nSPEC is a canonical name (s1e4m3b7-fn) or a preset (e4m3fn, e5m2, e4m3fnuz, e5m2fnuz, e3m4, fp8_143, fp8_152).\n\noptions");
  opts.add_options()("help,h", "show this help")("json", "print one JSON object")(
      "spec", po::value<std::string>(), "format name");
  const auto parsed = ffp8::cli::parse_args(args, opts, {"spec"});
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("spec")) throw ffp8::cli::UsageError("missing the format SPEC argument");
  const ffp8::Format f = ffp8::Format::parse(vm["spec"].as<std::string>());
  const std::uint32_t n = f.code_count();
  if (vm.count("json")) {
    nlohmann::json j;
    j["name"] = f.name();
    j["sign"] = f.sign;
    j["exp"] = f.exp;
    j["man"] = f.man;
    j["bias"] = f.bias;
    j["width"] = f.width();
    j["specials"] = std::string(ffp8::to_string(f.specials));
    j["subnormals"] = f.subnormals;
    j["has_nan"] = f.has_nan();
    j["has_inf"] = f.has_inf();
    j["max"] = f.max_value();
    j["min_normal"] = f.min_normal();
    j["min_subnormal"] = (f.subnormals && f.man > 0) ? nlohmann::json(f.min_positive()) : nlohmann::json(nullptr);
    j["min_positive"] = f.min_positive();
    nlohmann::json values = nlohmann::json::array();
    for (std::uint32_t c = 0; c < n; ++c) values.push_back(code_json(ffp8::decode(f, c)));
    j["values"] = std::move(values);
    std::cout << j.dump() << "\n";
    return 0;
  }
  fmt::print("format       {}\n", f.name());
  fmt::print("fields       sign={} exp={} man={} (width {}), bias={}\n", f.sign, f.exp, f.man, f.width(), f.bias);
  fmt::print("specials     {} (NaN: {}, Inf: {}), subnormals {}\n", ffp8::to_string(f.specials),
             f.has_nan() ? "yes" : "no", f.has_inf() ? "yes" : "no", f.subnormals ? "on" : "off");
  fmt::print("max          {:.9g}\n", f.max_value());
  fmt::print("min normal   {:.9g} (2^{})\n", f.min_normal(), 1 - f.bias);
  if (f.subnormals && f.man > 0)
    fmt::print("min subnorm  {:.9g} (2^{})\n", f.min_positive(), 1 - f.bias - f.man);
  fmt::print("dynamic range {:.2f} binades\n", std::log2(f.max_value() / f.min_positive()));
  fmt::print("\ncode   value\n");
  const int hex_digits = (f.width() + 3) / 4;
  for (std::uint32_t c = 0; c < n; ++c) {
    const auto v = ffp8::decode(f, c);
    std::string text;
    switch (v.kind) {
      case ffp8::CodeKind::Nan: text = "nan"; break;
      case ffp8::CodeKind::Inf: text = v.value > 0 ? "inf" : "-inf"; break;
      case ffp8::CodeKind::Unused: text = "unused"; break;
      case ffp8::CodeKind::Finite: text = fmt::format("{:.9g}", v.value); break;
    }
    fmt::print("0x{:0{}x}  {}\n", c, hex_digits, text);
  }
  return 0;
}

}  // namespace

FFP8_COMMAND("format", "parameters, range and every code's value of a format", run_format);
