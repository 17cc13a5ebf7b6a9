// ffp8 format SPEC [--json]: parameters, range, precision and the value of every code (a scaled
// format: its group, scale format, rule and effective bits, then its element format);
// ffp8 format fit:TEMPLATE --max A: the fit bias for largest magnitude A, then that format.
#include <algorithm>
#include <boost/program_options.hpp>
#include <cmath>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "core/errors.hpp"
#include "core/format/codec.hpp"
#include "core/format/fit.hpp"
#include "core/format/format.hpp"
#include "core/scheme/scheme.hpp"
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

/// How finely a format resolves numbers: the relative spacing ulp(x)/|x| over its (normal) range,
/// epsilon (the gap above 1 at the format's precision) and the actual spacing of V around 1.
struct Precision {
  int bits = 0;                  ///< significant bits (float: man + 1; integer/fixed point: width - sign)
  double rel_min = 0, rel_max = 0;
  double epsilon = 0;
  std::optional<double> ulp_at_1;  ///< none when 1 is outside [smallest positive, max)
};

Precision precision_of(const ffp8::Format& f) {
  Precision p;
  std::vector<double> pos;
  for (std::uint32_t c = 0; c < f.code_count(); ++c) {
    const auto v = ffp8::decode(f, c);
    if (v.kind == ffp8::CodeKind::Finite && v.value > 0) pos.push_back(v.value);
  }
  std::sort(pos.begin(), pos.end());
  pos.erase(std::unique(pos.begin(), pos.end()), pos.end());
  const bool uniform = f.is_int() || f.exp == 0;  // one spacing everywhere
  if (uniform) {
    p.bits = f.man;
    const double q = std::ldexp(1.0, f.min_quantum_exponent());
    p.epsilon = q;
    p.rel_min = q / f.max_value();
    p.rel_max = 1.0;  // at the smallest positive value
  } else {
    p.bits = f.man + 1;
    p.epsilon = std::ldexp(1.0, -f.man);
    p.rel_max = p.epsilon;                                                  // ulp/x at x = 2^k
    p.rel_min = std::ldexp(1.0, -f.man) / (2.0 - std::ldexp(1.0, -f.man));  // at x = 2^k (2 - 2^-m)
  }
  for (std::size_t i = 0; i + 1 < pos.size(); ++i)
    if (pos[i] <= 1.0 && 1.0 < pos[i + 1]) p.ulp_at_1 = pos[i + 1] - pos[i];
  return p;
}

std::string pow2_text(double v) {
  int e = 0;
  const double fr = std::frexp(v, &e);
  if (fr == 0.5) return fmt::format("2^{}", e - 1);
  return fmt::format("{:.6g}", v);
}

nlohmann::json format_json(const ffp8::Format& f) {
  const Precision prec = precision_of(f);
  nlohmann::json j;
  j["name"] = f.name();
  j["kind"] = f.is_int() ? "int" : "float";
  j["sign"] = f.sign;
  j["exp"] = f.exp;
  j["man"] = f.man;
  j["bias"] = f.bias;
  j["width"] = f.width();
  j["specials"] = std::string(ffp8::to_string(f.specials));
  j["subnormals"] = f.subnormals && !f.no_zero && !f.is_int();
  j["inf_modifier"] = f.inf;
  j["zero"] = f.has_zero();
  j["sym"] = f.sym;
  j["has_nan"] = f.has_nan();
  j["has_inf"] = f.has_inf();
  j["max"] = f.max_value();
  j["min"] = f.min_value();
  j["min_normal"] = f.min_normal();
  j["min_subnormal"] = (!f.is_int() && !f.no_zero && f.subnormals && f.man > 0 && f.exp > 0)
                           ? nlohmann::json(f.min_positive())
                           : nlohmann::json(nullptr);
  j["min_positive"] = f.min_positive();
  j["precision"] = {{"bits", prec.bits},
                    {"epsilon", prec.epsilon},
                    {"ulp_at_1", prec.ulp_at_1 ? nlohmann::json(*prec.ulp_at_1) : nlohmann::json(nullptr)},
                    {"relative_spacing_min", prec.rel_min},
                    {"relative_spacing_max", prec.rel_max}};
  nlohmann::json values = nlohmann::json::array();
  for (std::uint32_t c = 0; c < f.code_count(); ++c) values.push_back(code_json(ffp8::decode(f, c)));
  j["values"] = std::move(values);
  return j;
}

/// The element's fields with the scheme's name, plus the scheme's own fields.
nlohmann::json scheme_json(const ffp8::Scheme& s) {
  nlohmann::json j = format_json(s.element);
  j["element"] = format_json(s.element);
  j["name"] = s.name();
  const std::string_view alias = s.preset_alias();
  j["preset"] = alias.empty() ? nlohmann::json(nullptr) : nlohmann::json(std::string(alias));
  j["group"] = std::string(ffp8::to_string(s.grouping));
  j["block"] = s.grouping == ffp8::Grouping::Block ? nlohmann::json(s.block) : nlohmann::json(nullptr);
  j["scale"] = s.scale.name();
  j["scale_bits"] = s.scale.bits();
  j["rule"] = std::string(ffp8::to_string(s.rule));
  j["second_level"] = s.second_level ? nlohmann::json("f32") : nlohmann::json(nullptr);
  j["effective_bits"] = s.effective_bits();
  return j;
}

void print_format(const ffp8::Format& f) {
  const std::uint32_t n = f.code_count();
  const Precision prec = precision_of(f);
  fmt::print("format       {}\n", f.name());
  if (f.is_int()) {
    fmt::print("fields       {} integer, {} bits, scale 2^{}{}\n", f.sign ? "two's-complement" : "unsigned", f.width(),
               -f.bias, f.sym ? ", symmetric (-2^(N-1) unused)" : "");
  } else {
    fmt::print("fields       sign={} exp={} man={} (width {}), bias={}\n", f.sign, f.exp, f.man, f.width(), f.bias);
    fmt::print("specials     {}{} (NaN: {}, Inf: {}), {}\n", ffp8::to_string(f.specials), f.inf ? "-inf" : "",
               f.has_nan() ? "yes" : "no", f.has_inf() ? "yes" : "no",
               f.no_zero ? "no zero (-nz: exponent code 0 is a normal binade)"
                         : (f.subnormals ? "subnormals on" : "subnormals off"));
  }
  fmt::print("max          {:.9g}\n", f.max_value());
  if (f.min_value() != -f.max_value() && f.sign == 1) fmt::print("min          {:.9g}\n", f.min_value());
  if (!f.is_int() && f.exp > 0)
    fmt::print("min normal   {:.9g} (2^{})\n", f.min_normal(), f.no_zero ? -f.bias : 1 - f.bias);
  fmt::print("min positive {:.9g} ({})\n", f.min_positive(), pow2_text(f.min_positive()));
  fmt::print("dynamic range {:.2f} binades\n", std::log2(f.max_value() / f.min_positive()));
  if (prec.bits > 0 && !(f.is_int() || f.exp == 0))
    fmt::print("precision    {} significant bits: relative spacing {:.3g} .. {:.3g} over the normal range, epsilon {}, "
               "ulp at 1 {}\n",
               prec.bits, prec.rel_min, prec.rel_max, pow2_text(prec.epsilon),
               prec.ulp_at_1 ? pow2_text(*prec.ulp_at_1) : std::string("none (1 is outside the range)"));
  else
    fmt::print("precision    fixed spacing {}: relative spacing {:.3g} at max .. 1 at the smallest value, ulp at 1 {}\n",
               pow2_text(prec.epsilon), prec.rel_min,
               prec.ulp_at_1 ? pow2_text(*prec.ulp_at_1) : std::string("none (1 is outside the range)"));
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
}

std::string rule_text(const ffp8::Scheme& s) {
  const int emax = std::ilogb(s.element.max_value());
  switch (s.rule) {
    case ffp8::ScaleRule::Floor:
      return fmt::format("floor: S = 2^(floor(log2 a) - {}), clamped to the scale's range; beyond max(V) saturates", emax);
    case ffp8::ScaleRule::Fit: return fmt::format("fit: the smallest power of two S with S * {:.9g} >= a", s.element.max_value());
    case ffp8::ScaleRule::Amax:
      if (!s.second_level)
        return fmt::format("amax: S = a / {:.9g} rounded to {} (nearest, ties to even)", s.element.max_value(), s.scale.name());
      return fmt::format("amax: S = a / ({:.9g} * S_t) rounded to {} (nearest, ties to even), under the float32 tensor "
                         "scale S_t = a_tensor / ({:.9g} * {:.9g})",
                         s.element.max_value(), s.scale.name(), s.element.max_value(), s.scale.max_value());
  }
  return "";
}

void print_scheme(const ffp8::Scheme& s) {
  const std::string_view alias = s.preset_alias();
  fmt::print("scaled       {}{}\n", s.name(), alias.empty() ? std::string() : fmt::format(" ({})", alias));
  switch (s.grouping) {
    case ffp8::Grouping::Block:
      fmt::print("group        block of {} values along the reduction axis (axis 1 for rank >= 2, else 0)\n", s.block);
      break;
    case ffp8::Grouping::Channel: fmt::print("group        channel: one scale per index of axis 0\n"); break;
    case ffp8::Grouping::Tensor: fmt::print("group        tensor: one scale\n"); break;
    case ffp8::Grouping::None: break;
  }
  if (s.scale.is_f32) fmt::print("scale        f32 (float32), 32 bits\n");
  else
    fmt::print("scale        {} ({}), {} bits, {:.9g} .. {:.9g}{}\n", s.scale.name(), s.scale.format.name(),
               s.scale.format.width(), s.scale.format.min_positive(), s.scale.max_value(),
               s.scale.power_of_two() ? " (powers of two)" : "");
  fmt::print("rule         {}\n", rule_text(s));
  if (s.second_level) fmt::print("second level tensor scale in f32 (32 bits per tensor)\n");
  fmt::print("effective    {:.6g} bits per value{}\n", s.effective_bits(),
             s.grouping == ffp8::Grouping::Block ? "" : " (+ the scales, per tensor or channel)");
  fmt::print("\nelement\n");
  print_format(s.element);
}

int run_format(const std::vector<std::string>& args) {
  po::options_description opts(
      "ffp8 format SPEC [--json]\n"
      "ffp8 format fit:TEMPLATE --max A [--json]\n\n"
      "Prints a format's parameters, range, precision and the value of every code.\n"
      "SPEC is a canonical name (s1e4m3b7-fn, i8b6-sym) or a preset (e4m3fn, e5m2, e8m0, e2m1, p3109_k8p3se, ...),\n"
      "or a scaled format ELEMENT/GROUP:SCALE:RULE[+tensor:f32] (e4m3fn/block32:e8m0:floor) or scaled preset\n"
      "(mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3, mxfp4, mxint8, nvfp4): its group, scale and rule, then the\n"
      "element format.\n"
      "fit:TEMPLATE (a name without its bias, e.g. fit:s0e4m4 or fit:s1e4m3-fn) with --max A picks the fit bias:\n"
      "the largest bias whose max(V) >= A. See docs/formats.md.\n\noptions");
  opts.add_options()("help,h", "show this help")("json", "print one JSON object")(
      "max", po::value<std::string>(), "fit:TEMPLATE only: the data's largest magnitude")(
      "spec", po::value<std::string>(), "format name");
  const auto parsed = ffp8::cli::parse_args(args, opts, {"spec"});
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("spec")) throw ffp8::cli::UsageError("missing the format SPEC argument");
  std::string spec = vm["spec"].as<std::string>();
  std::optional<double> fit_max;
  std::optional<int> fit_bias;
  if (spec.rfind("fit:", 0) == 0) {
    if (!vm.count("max")) throw ffp8::cli::UsageError(fmt::format("'{}' needs --max A (the data's largest magnitude)", spec));
    const std::string text = vm["max"].as<std::string>();
    std::size_t used = 0;
    double a = 0;
    try {
      a = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != text.size() || !(a > 0) || !std::isfinite(a))
      throw ffp8::cli::UsageError(fmt::format("--max '{}' is not a positive finite number", text));
    const std::string tmpl = spec.substr(4);
    // The template is a name without its bias: parse it with bias 0 inserted before the suffixes.
    const auto dash = tmpl.find('-', 1);
    const std::string with_bias = dash == std::string::npos ? tmpl + "b0" : tmpl.substr(0, dash) + "b0" + tmpl.substr(dash);
    ffp8::Format t;
    try {
      t = ffp8::Format::parse(with_bias);
    } catch (const ffp8::FormatError&) {
      throw ffp8::FormatError(fmt::format(
          "fit template '{}' is not a format name without its bias (e.g. fit:s0e4m4, fit:s1e4m3-fn, fit:i8-sym)", tmpl));
    }
    fit_max = a;
    t.bias = ffp8::fit_bias(t, a);
    fit_bias = t.bias;
    spec = t.name();
  } else if (vm.count("max")) {
    throw ffp8::cli::UsageError("--max applies to fit:TEMPLATE only");
  }
  const ffp8::Scheme scheme = ffp8::Scheme::parse(spec);
  if (vm.count("json")) {
    nlohmann::json j = scheme_json(scheme);
    if (!scheme.scaled()) {
      j = format_json(scheme.element);
      if (fit_max) j["fit"] = {{"max_abs", *fit_max}, {"bias", *fit_bias}};
    }
    std::cout << j.dump() << "\n";
    return 0;
  }
  if (fit_max)
    fmt::print("fit          bias {} is the largest with max(V) >= {:.9g}: {}\n\n", *fit_bias, *fit_max,
               scheme.element.name());
  if (scheme.scaled()) print_scheme(scheme);
  else print_format(scheme.element);
  return 0;
}

}  // namespace

FFP8_COMMAND("format", "parameters, range, precision and every code's value of a format; fit:TEMPLATE --max A",
             run_format);
