#pragma once
// The FFP8 family of formats: a small value type with parsing, printing, validation and the
// derived range facts every other component needs. The family: floating-point members
// s{0|1}e{E}m{M}b{B} with their special-code and subnormal variants, and integer members
// i{N} / u{N} (docs/formats.md).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ffp8 {

/// Which codes are not finite numbers (docs/formats.md "Special codes").
enum class Specials : std::uint8_t { None, Ieee, Fn, Fnuz };

/// Text of a Specials value as used in names and JSON ("none", "ieee", "fn", "fnuz").
std::string_view to_string(Specials s);
/// Parses "none", "ieee", "fn" or "fnuz"; throws FormatError otherwise.
Specials parse_specials(std::string_view text);

/// Floating-point member or integer member of the family.
enum class Kind : std::uint8_t { Float, Int };

/// A format (sign, exp, man, bias, specials, subnormals), plus the -inf and -nz modifiers and
/// the integer members. Construct with make(), integer() or parse() to get a validated value;
/// the fields stay public so it remains a plain aggregate.
///
/// An integer member i{N}bB (u{N}bB) is stored as sign=1 (0), exp=0, man=N-sign, bias=B,
/// kind=Int: its values are k * 2^-B for the code's two's-complement (unsigned) integer k.
struct Format {
  int sign = 1;                      ///< 1: top bit is a sign bit; 0: unsigned
  int exp = 4;                       ///< exponent field width, 0..8 (0: fixed point)
  int man = 3;                       ///< mantissa field width, 0..15
  int bias = 7;                      ///< exponent bias (integers: the scale 2^-bias), [-1000, 1000]
  Specials specials = Specials::None;
  bool subnormals = true;            ///< exponent code 0 encodes subnormals (false: -nosub)
  bool inf = false;                  ///< -inf: the largest finite magnitude's code is ±Inf
  bool no_zero = false;              ///< -nz: exponent code 0 is an ordinary binade, no zero
  Kind kind = Kind::Float;
  bool sym = false;                  ///< integers, -sym: -2^(N-1) is not a value

  /// Validated construction of a float member; throws FormatError naming the bad parameter.
  static Format make(int sign, int exp, int man, int bias, Specials specials = Specials::None,
                     bool subnormals = true);
  /// Validated integer member: `bits` wide, two's complement when `is_signed`, scale 2^-scale_bias.
  static Format integer(int bits, bool is_signed, int scale_bias = 0, bool sym = false);
  /// Parses a canonical name (s1e4m3b7-fn, i8b6-sym) or a preset alias (e4m3fn); throws FormatError.
  static Format parse(std::string_view text);
  /// Throws FormatError if the combination is invalid.
  void validate() const;

  /// Canonical name, e.g. "s1e4m3b7-fn", "i8b6-sym".
  std::string name() const;
  int width() const { return sign + exp + man; }
  std::uint32_t code_count() const { return 1u << width(); }
  bool is_int() const { return kind == Kind::Int; }
  bool has_nan() const;
  bool has_inf() const { return specials == Specials::Ieee || inf; }
  bool has_zero() const { return !no_zero; }
  /// True for members only the exact (scalar) quantizer handles: integers and -nz formats.
  bool needs_exact_path() const { return is_int() || no_zero; }

  /// Largest finite value max(V).
  double max_value() const;
  /// Smallest (most negative) finite value min(V); -max_value() except for i{N} without -sym
  /// and unsigned formats (0, or the smallest value of a -nz format).
  double min_value() const;
  /// Smallest positive normal value 2^(1-bias) (-nz: 2^-bias; integers: 2^-bias).
  double min_normal() const;
  /// Smallest positive value (a subnormal, or min_normal() without subnormals).
  double min_positive() const;
  /// Code of max(V) (no sign bit).
  std::uint32_t max_code() const;
  /// Exponent of max(V)'s binade (1 - bias for a subnormal max); its last-place unit is
  /// 2^(top_exponent() - man). Integers: man - bias (the unit is 2^-bias).
  int top_exponent() const;
  /// Last-place unit of max(V): the spacing the non-saturating overflow rule continues with.
  double max_ulp() const;
  /// Exponent field E of max(V)'s code (0 when the format has only subnormals).
  int top_exponent_field() const;
  /// Mantissa field of max(V).
  std::uint32_t top_mantissa() const;
  /// log2 of the smallest spacing between values (2^(1-b-m) with subnormals).
  int min_quantum_exponent() const;
  /// True when every value of the format is exactly a float32 (normal or subnormal).
  bool fits_float32() const;

  friend bool operator==(const Format&, const Format&) = default;
};

/// A named alias of a format (docs/formats.md "Presets").
struct Preset {
  std::string_view alias;
  std::string_view canonical;
};
/// The preset table (incl. the P3109 8-bit family); tests iterate it.
const std::vector<Preset>& presets();

}  // namespace ffp8
