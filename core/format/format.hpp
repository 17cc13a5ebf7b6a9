#pragma once
// The FFP8 family of formats: a small value type with parsing,
// printing, validation and the derived range facts every other component needs.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ffp8 {

/// Which codes are not finite numbers (FORMAT.md "Special codes").
enum class Specials : std::uint8_t { None, Ieee, Fn, Fnuz };

/// Text of a Specials value as used in names and JSON ("none", "ieee", "fn", "fnuz").
std::string_view to_string(Specials s);
/// Parses "none", "ieee", "fn" or "fnuz"; throws FormatError otherwise.
Specials parse_specials(std::string_view text);

/// A format (sign, exp, man, bias, specials, subnormals). Construct with make() or parse()
/// to get a validated value; the fields stay public so it remains a plain aggregate.
struct Format {
  int sign = 1;                      ///< 1: top bit is a sign bit; 0: unsigned
  int exp = 4;                       ///< exponent field width, 1..8
  int man = 3;                       ///< mantissa field width, 0..15
  int bias = 7;                      ///< exponent bias, any integer in [-1000, 1000]
  Specials specials = Specials::None;
  bool subnormals = true;            ///< exponent code 0 encodes subnormals

  /// Validated construction; throws FormatError naming the bad parameter.
  static Format make(int sign, int exp, int man, int bias, Specials specials = Specials::None,
                     bool subnormals = true);
  /// Parses a canonical name (s1e4m3b7-fn) or a preset alias (e4m3fn); throws FormatError.
  static Format parse(std::string_view text);
  /// Throws FormatError if the combination is invalid (FORMAT.md "Names").
  void validate() const;

  /// Canonical name, e.g. "s1e4m3b7-fn".
  std::string name() const;
  int width() const { return sign + exp + man; }
  std::uint32_t code_count() const { return 1u << width(); }
  bool has_nan() const;
  bool has_inf() const { return specials == Specials::Ieee; }

  /// Largest finite value max(V).
  double max_value() const;
  /// Smallest positive normal value 2^(1-bias).
  double min_normal() const;
  /// Smallest positive value (a subnormal, or min_normal() without subnormals).
  double min_positive() const;
  /// Exponent field E of max(V)'s code (0 when the format has only subnormals).
  int top_exponent_field() const;
  /// Exponent of max(V)'s binade, E_top - bias (1 - bias for a subnormal max); its last-place
  /// unit is 2^(top_exponent() - man).
  int top_exponent() const;
  /// Mantissa field of max(V) (2^m - 1 except for `fn`, where the all-ones code is NaN).
  std::uint32_t top_mantissa() const;
  /// True when every value of the format is exactly a float32 (normal or subnormal).
  bool fits_float32() const;

  friend bool operator==(const Format&, const Format&) = default;
};

/// A named alias of a format (FORMAT.md "Presets").
struct Preset {
  std::string_view alias;
  std::string_view canonical;
};
/// The preset table; tests iterate it.
const std::vector<Preset>& presets();

}  // namespace ffp8
