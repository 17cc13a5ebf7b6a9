#include "core/format/format.hpp"

#include <cctype>
#include <charconv>
#include <deque>
#include <cmath>
#include <fmt/format.h>
#include <optional>

#include "core/errors.hpp"

namespace ffp8 {

namespace {

constexpr int kMaxBiasMagnitude = 1000;  // keeps every value inside double's range
constexpr std::string_view kNameSyntax =
    "expected s{0|1}e{E}m{M}b{B}[-ieee|-fn|-fnuz][-inf][-nosub|-nz] (e.g. s1e4m3b7-fn), "
    "i{N}[b{B}][-sym] or u{N}[b{B}] (e.g. i8b6-sym), or a preset (e4m3fn, e5m2, e4m3fnuz, e5m2fnuz, e3m4, "
    "fp8_143, fp8_152, e8m0, e2m1, e3m2, e2m3, p3109_k8p{P}{s|u}{e|f})";

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
  throw FormatError(fmt::format("format name '{}' is malformed: {}; {}", text, why, kNameSyntax));
}

/// True when magnitude code `c` (no sign bit) of float member `f` is a finite value > 0,
/// before the -inf modifier takes the top one.
bool finite_positive(const Format& f, std::uint32_t c) {
  const std::uint32_t m_all = (1u << f.man) - 1;
  const std::uint32_t e_all = (1u << f.exp) - 1;
  const std::uint32_t e = c >> f.man;
  if (f.specials == Specials::Ieee && f.exp >= 1 && e == e_all) return false;
  if (f.specials == Specials::Fn && c == ((e_all << f.man) | m_all)) return false;
  if (f.no_zero) return true;
  if (c == 0) return false;
  if (e == 0 && !f.subnormals) return false;  // unused codes below the smallest normal
  return true;
}

/// Largest finite positive magnitude code before -inf, or nullopt when there is none.
std::optional<std::uint32_t> raw_top(const Format& f) {
  for (std::uint32_t c = (1u << (f.exp + f.man)); c-- > 0;)
    if (finite_positive(f, c)) return c;
  return std::nullopt;
}

/// Code of max(V) for a float member, or nullopt when no code is a positive finite value.
std::optional<std::uint32_t> float_max_code(const Format& f) {
  auto top = raw_top(f);
  if (!top || !f.inf) return top;
  for (std::uint32_t c = *top; c-- > 0;)
    if (finite_positive(f, c)) return c;
  return std::nullopt;
}

/// Value of magnitude code `c` of a float member (assumed finite).
double magnitude_value(const Format& f, std::uint32_t c) {
  const std::uint32_t e = c >> f.man;
  const std::uint32_t m = c & ((1u << f.man) - 1);
  if (e == 0 && !f.no_zero) return std::ldexp(static_cast<double>(m), 1 - f.bias - f.man);
  const double sig = static_cast<double>((1u << f.man) + m);
  return std::ldexp(sig, static_cast<int>(e) - f.bias - f.man);
}

/// Why the combination is invalid, or nullopt when it is valid.
std::optional<std::string> invalid_reason(const Format& f) {
  if (f.bias < -kMaxBiasMagnitude || f.bias > kMaxBiasMagnitude) return "bias must be in -1000..1000";
  if (f.is_int()) {
    if (f.sign != 0 && f.sign != 1) return "an integer format is signed (i) or unsigned (u)";
    if (f.exp != 0 || f.man < 1) return "an integer format has no exponent field";
    if (f.width() < 2 || f.width() > 16) return fmt::format("integer width {} is not in 2..16", f.width());
    if (f.specials != Specials::None || f.inf || f.no_zero || !f.subnormals)
      return "integer formats take no special codes (-ieee, -fn, -fnuz, -inf) and no -nosub or -nz";
    if (f.sym && f.sign == 0) return "-sym applies to signed integers i{N} only (u{N} has no negative range)";
    return std::nullopt;
  }
  if (f.sym) return "-sym applies to signed integers i{N} only, not to floating-point formats";
  if (f.sign != 0 && f.sign != 1) return "sign must be 0 or 1";
  if (f.exp < 0 || f.exp > 8) return "exp must be in 0..8";
  if (f.man < 0 || f.man > 15) return "man must be in 0..15";
  if (f.width() < 2 || f.width() > 16) return "width sign+exp+man must be in 2..16";
  if (f.specials == Specials::Fnuz && f.sign == 0) return "fnuz needs a sign bit (its NaN is the negative-zero code)";
  if (f.specials == Specials::Ieee && f.exp < 2) return "ieee needs exp >= 2 (its all-ones exponent is Inf/NaN)";
  if (f.inf && f.specials == Specials::Ieee)
    return "-inf cannot be combined with -ieee, which has its own Inf codes; -inf is allowed with none, -fn or -fnuz";
  if (f.no_zero && f.specials == Specials::Fnuz)
    return "-nz cannot be combined with -fnuz (fnuz's NaN is the zero code's negative twin); -nz is allowed with "
           "none, -ieee or -fn";
  if (f.no_zero && f.exp == 0) return "-nz needs an exponent field (exp >= 1)";
  if (f.no_zero && !f.subnormals) return "-nz and -nosub both say what exponent code 0 encodes; give one of them";
  if (!float_max_code(f)) return "no code encodes a positive finite value";
  return std::nullopt;
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
  static const std::vector<Preset> table = [] {
    std::vector<Preset> t = {
        {"e4m3fn", "s1e4m3b7-fn"},   {"e5m2", "s1e5m2b15-ieee"},     {"e4m3fnuz", "s1e4m3b8-fnuz"},
        {"e5m2fnuz", "s1e5m2b16-fnuz"}, {"e3m4", "s1e3m4b3-fn"},     {"fp8_143", "s1e4m3b7"},
        {"fp8_152", "s1e5m2b15"},     {"e8m0", "s0e8m0b127-fn-nz"},  {"e2m1", "s1e2m1b1"},
        {"e3m2", "s1e3m2b3"},         {"e2m3", "s1e2m3b1"},
    };
    // No "int8" preset: in `ffp8 eval` that word is the per-tensor symmetric INT8 baseline
    // (scale max|x|/127); integer members are named i8, u8, i8b6-sym.
    // P3109 8-bit formats: precision P (mantissa P-1 bits), bias 2^(e-1).
    static std::deque<std::string> names;  // stable storage for the views (a deque never moves them)
    for (int sign = 1; sign >= 0; --sign)
      for (int p = 1; p <= 7 + (1 - sign); ++p) {
        const int e = 8 - sign - (p - 1);
        const int bias = 1 << (e - 1);
        for (bool ext : {true, false}) {
          names.push_back(fmt::format("p3109_k8p{}{}{}", p, sign ? 's' : 'u', ext ? 'e' : 'f'));
          const std::string_view alias = names.back();
          names.push_back(fmt::format("s{}e{}m{}b{}-{}{}", sign, e, p - 1, bias, sign ? "fnuz" : "fn",
                                      ext ? "-inf" : ""));
          t.push_back({alias, names.back()});
        }
      }
    return t;
  }();
  return table;
}

Format Format::make(int sign, int exp, int man, int bias, Specials specials, bool subnormals) {
  Format f{sign, exp, man, bias, specials, subnormals};
  f.validate();
  return f;
}

Format Format::integer(int bits, bool is_signed, int scale_bias, bool sym) {
  Format f;
  f.kind = Kind::Int;
  f.sign = is_signed ? 1 : 0;
  f.exp = 0;
  f.man = bits - f.sign;
  f.bias = scale_bias;
  f.specials = Specials::None;
  f.sym = sym;
  if (bits < 2 || bits > 16)
    throw FormatError(fmt::format("integer format {}{} is invalid: its width must be in 2..16", is_signed ? 'i' : 'u', bits));
  f.validate();
  return f;
}

void Format::validate() const {
  if (auto why = invalid_reason(*this)) throw FormatError(fmt::format("format {} is invalid: {}", name(), *why));
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

std::uint32_t Format::max_code() const {
  if (is_int()) return (1u << man) - 1;  // 2^(N-1) - 1 signed, 2^N - 1 unsigned
  return float_max_code(*this).value_or(0);
}

int Format::top_exponent_field() const { return is_int() ? 0 : static_cast<int>(max_code() >> man); }

std::uint32_t Format::top_mantissa() const { return max_code() & ((1u << man) - 1); }

int Format::top_exponent() const {
  if (is_int()) return man - bias;
  const int top_e = top_exponent_field();
  return top_e == 0 && !no_zero ? 1 - bias : top_e - bias;  // a subnormal max: their scale
}

double Format::max_ulp() const { return std::ldexp(1.0, top_exponent() - man); }

double Format::max_value() const {
  if (is_int()) return std::ldexp(static_cast<double>(max_code()), -bias);
  return magnitude_value(*this, max_code());
}

double Format::min_value() const {
  if (is_int()) {
    if (sign == 0) return 0.0;
    const double k = std::ldexp(1.0, man) - (sym ? 1.0 : 0.0);
    return -std::ldexp(k, -bias);
  }
  if (sign == 0) return no_zero ? min_positive() : 0.0;
  return -max_value();
}

double Format::min_normal() const {
  if (is_int()) return std::ldexp(1.0, -bias);
  return std::ldexp(1.0, (no_zero ? 0 : 1) - bias);
}

double Format::min_positive() const {
  if (is_int() || no_zero) return min_normal();
  if ((subnormals || exp == 0) && man > 0) return std::ldexp(1.0, 1 - bias - man);
  return min_normal();
}

int Format::min_quantum_exponent() const {
  if (is_int()) return -bias;
  return (no_zero ? 0 : 1) - bias - man;
}

bool Format::fits_float32() const {
  // Every value is a multiple of the smallest quantum with at most 17 significant bits.
  return min_quantum_exponent() >= -149 && max_value() < std::ldexp(1.0, 128);
}

std::string Format::name() const {
  if (is_int()) {
    std::string out = fmt::format("{}{}", sign ? 'i' : 'u', width());
    if (bias != 0) out += fmt::format("b{}", bias);
    if (sym) out += "-sym";
    return out;
  }
  std::string out = fmt::format("s{}e{}m{}b{}", sign, exp, man, bias);
  if (specials != Specials::None) out += fmt::format("-{}", to_string(specials));
  if (inf) out += "-inf";
  if (no_zero) out += "-nz";
  else if (!subnormals) out += "-nosub";
  return out;
}

namespace {

/// Removes `suffix` from the front of `rest` when it is a whole suffix (followed by '-' or the end).
bool take(std::string_view& rest, std::string_view suffix) {
  if (rest.substr(0, suffix.size()) == suffix && (rest.size() == suffix.size() || rest[suffix.size()] == '-')) {
    rest.remove_prefix(suffix.size());
    return true;
  }
  return false;
}

void check_parsed(std::string_view text, const Format& f) {
  if (auto why = invalid_reason(f)) throw FormatError(fmt::format("format name '{}' is invalid: {}", text, *why));
}

Format parse_integer(std::string_view text) {
  Format f;
  f.kind = Kind::Int;
  f.sign = text[0] == 'i' ? 1 : 0;
  f.exp = 0;
  std::size_t pos = 1;
  int bits = 0;
  if (pos < text.size() && text[pos] == '-') bad_name(text, "the width takes a positive number");
  if (!read_int(text, pos, bits)) bad_name(text, fmt::format("expected the width after '{}'", text[0]));
  if (bits < 2 || bits > 16)
    throw FormatError(fmt::format("format name '{}' is invalid: integer width {} is not in 2..16", text, bits));
  f.man = bits - f.sign;
  f.bias = 0;
  if (pos < text.size() && text[pos] == 'b') {
    ++pos;
    if (!read_int(text, pos, f.bias)) bad_name(text, fmt::format("expected a number after 'b' at position {}", pos));
  }
  std::string_view rest = text.substr(pos);
  if (take(rest, "-sym")) f.sym = true;
  if (!rest.empty()) {
    for (std::string_view s : {"-ieee", "-fnuz", "-fn", "-inf", "-nosub", "-nz"})
      if (rest.substr(0, s.size()) == s)
        throw FormatError(fmt::format("format name '{}' is invalid: integer formats take no '{}'; the only suffix "
                                      "of i{{N}} is -sym",
                                      text, s));
    bad_name(text, fmt::format("unexpected '{}' (integers: i{{N}}[b{{B}}][-sym] or u{{N}}[b{{B}}])", rest));
  }
  check_parsed(text, f);
  return f;
}

}  // namespace

Format Format::parse(std::string_view text) {
  for (const Preset& p : presets())
    if (text == p.alias) return parse(p.canonical);
  if (text.empty()) bad_name(text, "it is empty");
  if (text.substr(0, 6) == "p3109_")
    throw FormatError(fmt::format(
        "format name '{}' is not a preset: the P3109 8-bit presets are p3109_k8p{{P}}s{{e|f}} with P in 1..7 and "
        "p3109_k8p{{P}}u{{e|f}} with P in 1..8 (e: extended, with Inf; f: finite)",
        text));
  if ((text[0] == 'i' || text[0] == 'u') && text.size() > 1 &&
      (std::isdigit(static_cast<unsigned char>(text[1])) || text[1] == '-'))
    return parse_integer(text);
  std::size_t pos = 0;
  int fields[4] = {0, 0, 0, 0};
  const char letters[4] = {'s', 'e', 'm', 'b'};
  for (int i = 0; i < 4; ++i) {
    if (pos >= text.size() || text[pos] != letters[i]) {
      if (i == 0) bad_name(text, "it is neither a canonical name nor a preset");
      bad_name(text, fmt::format("expected '{}' at position {}", letters[i], pos));
    }
    ++pos;
    if (i < 3 && pos < text.size() && text[pos] == '-')
      bad_name(text, fmt::format("'{}' takes a non-negative number", letters[i]));
    if (!read_int(text, pos, fields[i]))
      bad_name(text, fmt::format("expected a number after '{}' at position {}", letters[i], pos));
  }
  Format f{fields[0], fields[1], fields[2], fields[3], Specials::None, true};
  std::string_view rest = text.substr(pos);
  if (take(rest, "-ieee")) f.specials = Specials::Ieee;
  else if (take(rest, "-fnuz")) f.specials = Specials::Fnuz;
  else if (take(rest, "-fn")) f.specials = Specials::Fn;
  if (take(rest, "-inf")) f.inf = true;
  if (take(rest, "-nosub")) f.subnormals = false;
  else if (take(rest, "-nz")) f.no_zero = true;
  if (!rest.empty()) {
    if (rest.substr(0, 4) == "-sym")
      throw FormatError(fmt::format("format name '{}' is invalid: -sym applies to signed integers i{{N}} only, not "
                                    "to floating-point formats",
                                    text));
    bad_name(text, fmt::format("unexpected '{}' (suffixes are -ieee|-fn|-fnuz, then -inf, then -nosub|-nz, in that "
                               "order)",
                               rest));
  }
  check_parsed(text, f);
  return f;
}

}  // namespace ffp8
