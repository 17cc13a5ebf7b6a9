#include "core/format/format.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>

#include "core/errors.hpp"

namespace ffp8 {

namespace {

constexpr int kMaxBiasMagnitude = 1000;  // keeps every value inside double's range

/// Reads an integer (optionally negative) at text[pos]; advances pos. Returns false if none.
bool read_int(std::string_view text, std::size_t& pos, int& out) {
  const char* first = text.data() + pos;
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, out);
  if (ec != std::errc() || ptr == first) return false;
  pos += static_cast<std::size_t>(ptr - first);
  return true;
}

[[noreturn]] void bad_name(std::string_view text, std::string_view why) {
  throw FormatError(fmt::format(
      "format name '{}' is malformed: {}; expected s{{0|1}}e{{E}}m{{M}}b{{B}}[-ieee|-fn|-fnuz][-nosub] "
      "(e.g. s1e4m3b7-fn) or a preset (e4m3fn, e5m2, e4m3fnuz, e5m2fnuz, e3m4, fp8_143, fp8_152)",
      text, why));
}

}  // namespace

std::string_view to_string(Specials s) {
  switch (s) {
    case Specials::None: return "none";
    case Specials::Ieee: return "ieee";
    case Specials::Fn: return "fn";
    case Specials::Fnuz: return "fnuz";
  }
  return "none";
}

Specials parse_specials(std::string_view text) {
  for (Specials s : {Specials::None, Specials::Ieee, Specials::Fn, Specials::Fnuz})
    if (text == to_string(s)) return s;
  throw FormatError(fmt::format("specials '{}' is not one of none, ieee, fn, fnuz", text));
}

const std::vector<Preset>& presets() {
  static const std::vector<Preset> table = {
      {"e4m3fn", "s1e4m3b7-fn"},       {"e5m2", "s1e5m2b15-ieee"}, {"e4m3fnuz", "s1e4m3b8-fnuz"},
      {"e5m2fnuz", "s1e5m2b16-fnuz"}, {"e3m4", "s1e3m4b3-fn"},    {"fp8_143", "s1e4m3b7"},
      {"fp8_152", "s1e5m2b15"},
  };
  return table;
}

Format Format::make(int sign, int exp, int man, int bias, Specials specials, bool subnormals) {
  Format f{sign, exp, man, bias, specials, subnormals};
  f.validate();
  return f;
}

void Format::validate() const {
  auto fail = [this](std::string_view why) {
    throw FormatError(fmt::format("format (sign={}, exp={}, man={}, bias={}, specials={}{}) is invalid: {}",
                                  sign, exp, man, bias, to_string(specials),
                                  subnormals ? "" : ", nosub", why));
  };
  if (sign != 0 && sign != 1) fail("sign must be 0 or 1");
  if (exp < 1 || exp > 8) fail("exp must be in 1..8");
  if (man < 0 || man > 15) fail("man must be in 0..15");
  if (width() < 2 || width() > 16) fail("width sign+exp+man must be in 2..16");
  if (bias < -kMaxBiasMagnitude || bias > kMaxBiasMagnitude) fail("bias must be in -1000..1000");
  if (specials == Specials::Fnuz && sign == 0) fail("fnuz needs a sign bit (its NaN is the negative-zero code)");
  // The format must have a positive finite value, else max(V) is undefined.
  const bool has_normal = top_exponent_field() >= 1;
  const bool has_sub = subnormals && man > 0;
  if (!has_normal && !has_sub) fail("no code encodes a positive finite value");
}

bool Format::has_nan() const {
  switch (specials) {
    case Specials::None: return false;
    case Specials::Ieee: return man > 0;  // with m = 0 the reserved exponent only holds Inf
    case Specials::Fn:
    case Specials::Fnuz: return true;
  }
  return false;
}

int Format::top_exponent_field() const {
  int top_e = (1 << exp) - 1;
  if (specials == Specials::Ieee) top_e -= 1;            // all-ones exponent is Inf/NaN
  if (specials == Specials::Fn && man == 0) top_e -= 1;  // the all-ones code is NaN
  return top_e;
}

int Format::top_exponent() const {
  const int top_e = top_exponent_field();
  return top_e == 0 ? 1 - bias : top_e - bias;  // only subnormals: their scale
}

std::uint32_t Format::top_mantissa() const {
  const std::uint32_t all = (1u << man) - 1;
  return specials == Specials::Fn && man > 0 ? all - 1 : all;
}

double Format::max_value() const {
  const double frac = static_cast<double>(top_mantissa()) / std::ldexp(1.0, man);
  if (top_exponent_field() == 0) return std::ldexp(frac, 1 - bias);  // subnormals only
  return std::ldexp(1.0 + frac, top_exponent());
}

double Format::min_normal() const { return std::ldexp(1.0, 1 - bias); }

double Format::min_positive() const {
  if (subnormals && man > 0) return std::ldexp(1.0, 1 - bias - man);
  return min_normal();
}

bool Format::fits_float32() const {
  // Smallest quantum 2^(1-b-m) must be >= 2^-149, largest value < 2^128.
  return 1 - bias - man >= -149 && top_exponent() <= 127;
}

std::string Format::name() const {
  std::string out = fmt::format("s{}e{}m{}b{}", sign, exp, man, bias);
  if (specials != Specials::None) out += fmt::format("-{}", to_string(specials));
  if (!subnormals) out += "-nosub";
  return out;
}

Format Format::parse(std::string_view text) {
  for (const Preset& p : presets())
    if (text == p.alias) return parse(p.canonical);
  if (text.empty()) bad_name(text, "it is empty");
  std::size_t pos = 0;
  int fields[4] = {0, 0, 0, 0};
  const char letters[4] = {'s', 'e', 'm', 'b'};
  for (int i = 0; i < 4; ++i) {
    if (pos >= text.size() || text[pos] != letters[i])
      bad_name(text, fmt::format("expected '{}' at position {}", letters[i], pos));
    ++pos;
    if (i < 3 && pos < text.size() && text[pos] == '-')
      bad_name(text, fmt::format("'{}' takes a non-negative number", letters[i]));
    if (!read_int(text, pos, fields[i]))
      bad_name(text, fmt::format("expected a number after '{}' at position {}", letters[i], pos));
  }
  Format f{fields[0], fields[1], fields[2], fields[3], Specials::None, true};
  std::string_view rest = text.substr(pos);
  auto take = [&rest](std::string_view suffix) {
    if (rest.substr(0, suffix.size()) == suffix &&
        (rest.size() == suffix.size() || rest[suffix.size()] == '-')) {
      rest.remove_prefix(suffix.size());
      return true;
    }
    return false;
  };
  if (take("-ieee")) f.specials = Specials::Ieee;
  else if (take("-fnuz")) f.specials = Specials::Fnuz;
  else if (take("-fn")) f.specials = Specials::Fn;
  if (take("-nosub")) f.subnormals = false;
  if (!rest.empty())
    bad_name(text, fmt::format("unexpected '{}' (suffixes are -ieee|-fn|-fnuz then -nosub, in that order)", rest));
  try {
    f.validate();
  } catch (const FormatError& e) {
    throw FormatError(fmt::format("format name '{}': {}", text, e.what()));
  }
  return f;
}

}  // namespace ffp8
