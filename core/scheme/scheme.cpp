#include "core/scheme/scheme.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <limits>

#include "core/errors.hpp"

namespace ffp8 {

namespace {

constexpr std::string_view kSchemeSyntax =
    "expected ELEMENT/GROUP:SCALE:RULE[+tensor:f32] with GROUP tensor, channel or block{K}, SCALE e8m0, another "
    "format name or f32, RULE floor, fit or amax (e.g. e4m3fn/block32:e8m0:floor), or a scaled preset (mxfp8_e4m3, "
    "mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3, mxfp4, mxint8, nvfp4)";

/// Presets whose alias names a scale format in scheme names (the P3109 names stay canonical).
constexpr std::string_view kScaleAliases[] = {"e8m0", "e4m3fn", "e5m2", "e4m3fnuz", "e5m2fnuz", "e3m4",
                                              "e2m1", "e3m2",   "e2m3"};

[[noreturn]] void malformed(std::string_view text, std::string_view why) {
  throw FormatError(fmt::format("scaled format '{}' is malformed: {}; {}", text, why, kSchemeSyntax));
}

[[noreturn]] void invalid(std::string_view text, std::string_view why) {
  throw FormatError(fmt::format("scaled format '{}' is invalid: {}", text, why));
}

Format parse_part(std::string_view text, std::string_view part, std::string_view role) {
  try {
    return Format::parse(part);
  } catch (const FormatError& e) {
    throw FormatError(fmt::format("scaled format '{}' has a bad {}: {}", text, role, e.what()));
  }
}

}  // namespace

std::string_view to_string(ScaleRule r) {
  switch (r) {
    case ScaleRule::Floor: return "floor";
    case ScaleRule::Fit: return "fit";
    case ScaleRule::Amax: return "amax";
  }
  return "floor";
}

std::string_view to_string(Grouping g) {
  switch (g) {
    case Grouping::None: return "none";
    case Grouping::Tensor: return "tensor";
    case Grouping::Channel: return "channel";
    case Grouping::Block: return "block";
  }
  return "none";
}

std::string ScaleFormat::name() const {
  if (is_f32) return "f32";
  for (std::string_view alias : kScaleAliases)
    if (Format::parse(alias) == format) return std::string(alias);
  return format.name();
}

bool ScaleFormat::power_of_two() const {
  return !is_f32 && !format.is_int() && format.sign == 0 && format.man == 0;
}

double ScaleFormat::bits() const { return is_f32 ? 32.0 : format.width(); }

double ScaleFormat::max_value() const {
  return is_f32 ? static_cast<double>(std::numeric_limits<float>::max()) : format.max_value();
}

double ScaleFormat::min_value() const {
  if (is_f32) return 0.0;
  return format.has_zero() ? 0.0 : format.min_positive();
}

Scheme Scheme::plain(const Format& f) {
  Scheme s;
  s.element = f;
  return s;
}

const std::vector<Preset>& scaled_presets() {
  static const std::vector<Preset> table = {
      {"mxfp8_e4m3", "s1e4m3b7-fn/block32:e8m0:floor"},
      {"mxfp8_e5m2", "s1e5m2b15-ieee/block32:e8m0:floor"},
      {"mxfp6_e3m2", "s1e3m2b3/block32:e8m0:floor"},
      {"mxfp6_e2m3", "s1e2m3b1/block32:e8m0:floor"},
      {"mxfp4", "s1e2m1b1/block32:e8m0:floor"},
      {"mxint8", "i8b6-sym/block32:e8m0:floor"},
      {"nvfp4", "s1e2m1b1/block16:e4m3fn:amax+tensor:f32"},
  };
  return table;
}

Scheme Scheme::parse(std::string_view text) {
  for (const Preset& p : scaled_presets())
    if (text == p.alias) return parse(p.canonical);
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    if (text.find(':') != std::string_view::npos || text.find('+') != std::string_view::npos)
      malformed(text, "a scaled format has '/' between the element and its group");
    try {
      return plain(Format::parse(text));
    } catch (const FormatError& e) {
      throw FormatError(fmt::format("{}; or a scaled format ELEMENT/GROUP:SCALE:RULE[+tensor:f32] or a scaled preset "
                                    "(mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3, mxfp4, mxint8, nvfp4)",
                                    e.what()));
    }
  }
  Scheme s;
  s.element = parse_part(text, text.substr(0, slash), "element");
  std::string_view rest = text.substr(slash + 1);
  std::string_view second;
  if (const std::size_t plus = rest.find('+'); plus != std::string_view::npos) {
    second = rest.substr(plus + 1);
    rest = rest.substr(0, plus);
    if (second != "tensor:f32")
      malformed(text, fmt::format("the second level '{}' is not tensor:f32 (the only one, as in NVFP4)", second));
    s.second_level = true;
  }
  const std::size_t c1 = rest.find(':');
  const std::size_t c2 = c1 == std::string_view::npos ? c1 : rest.find(':', c1 + 1);
  if (c2 == std::string_view::npos || rest.find(':', c2 + 1) != std::string_view::npos)
    malformed(text, "after '/' come three parts GROUP:SCALE:RULE");
  const std::string_view group = rest.substr(0, c1), scale = rest.substr(c1 + 1, c2 - c1 - 1),
                         rule = rest.substr(c2 + 1);
  if (group == "tensor") s.grouping = Grouping::Tensor;
  else if (group == "channel") s.grouping = Grouping::Channel;
  else if (group.substr(0, 5) == "block") {
    s.grouping = Grouping::Block;
    const std::string_view num = group.substr(5);
    const char* last = num.data() + num.size();
    auto [ptr, ec] = std::from_chars(num.data(), last, s.block);
    if (num.empty() || ptr != last || ec == std::errc::invalid_argument)
      malformed(text, fmt::format("the group '{}' needs a block size: block{{K}} with K a positive integer", group));
    if (ec == std::errc::result_out_of_range || s.block > (1 << 30))
      invalid(text, fmt::format("the block size in '{}' is too large (at most 2^30)", group));
  } else {
    malformed(text, fmt::format("the group '{}' is not tensor, channel or block{{K}}", group));
  }
  if (scale == "f32") s.scale = ScaleFormat::f32();
  else if (scale.empty()) malformed(text, "the scale format is empty");
  else s.scale = ScaleFormat::of(parse_part(text, scale, "scale format"));
  if (rule == "floor") s.rule = ScaleRule::Floor;
  else if (rule == "fit") s.rule = ScaleRule::Fit;
  else if (rule == "amax") s.rule = ScaleRule::Amax;
  else malformed(text, fmt::format("the rule '{}' is not floor, fit or amax", rule));
  s.validate(text);
  return s;
}

void Scheme::validate(std::string_view text) const {
  const std::string shown = text.empty() ? name() : std::string(text);
  element.validate();
  if (!scaled()) return;
  if (grouping == Grouping::Block && block < 1)
    invalid(shown, fmt::format("the block size {} is not a positive integer (block{{K}} needs K >= 1)", block));
  if (!scale.is_f32) {
    scale.format.validate();
    if (!scale.format.fits_float32())
      invalid(shown, fmt::format("the scale format {} cannot hold the rule's result: its values are not all float32 "
                                 "numbers (scales multiply float32 data)",
                                 scale.name()));
  }
  const std::string sname = scale.name();
  switch (rule) {
    case ScaleRule::Floor:
    case ScaleRule::Fit:
      if (!scale.power_of_two())
        invalid(shown, fmt::format("the rule {} gives powers of two and does not apply to the scale format {}: it needs "
                                   "an unsigned scale format without mantissa bits such as e8m0 (use amax for {})",
                                   to_string(rule), sname, sname));
      break;
    case ScaleRule::Amax:
      if (scale.power_of_two())
        invalid(shown, fmt::format("the rule amax is for scale formats that are not powers of two (f32, e4m3fn, ...); "
                                   "with {} use floor or fit",
                                   sname));
      if (!scale.is_f32 && scale.format.is_int())
        invalid(shown, fmt::format("the scale format {} cannot hold the rule's result: an integer holds no scale "
                                   "between its steps of 2^-{}; use a floating-point scale format such as e4m3fn or f32",
                                   sname, scale.format.bias));
      break;
  }
  if (second_level) {
    if (rule != ScaleRule::Amax || scale.is_f32)
      invalid(shown, "the second level +tensor:f32 divides the amax rule's scales so that they fit a narrow scale "
                     "format (NVFP4: .../block16:e4m3fn:amax+tensor:f32); it needs the amax rule and a scale format "
                     "other than f32");
  }
}

std::string Scheme::name() const {
  if (!scaled()) return element.name();
  const std::string group = grouping == Grouping::Block ? fmt::format("block{}", block) : std::string(to_string(grouping));
  return fmt::format("{}/{}:{}:{}{}", element.name(), group, scale.name(), to_string(rule),
                     second_level ? "+tensor:f32" : "");
}

std::string_view Scheme::preset_alias() const {
  if (!scaled()) return {};
  for (const Preset& p : scaled_presets())
    if (parse(p.canonical) == *this) return p.alias;
  return {};
}

double Scheme::effective_bits() const {
  const double w = element.width();
  if (grouping != Grouping::Block) return w;
  return w + scale.bits() / block;
}

}  // namespace ffp8
