#pragma once
// The parsed description of a processing element (PE): which operand formats it multiplies,
// how it accumulates and whether its decoders are configurable at run time. A spec is only a
// description; evaluate() (model.hpp) turns it into a cost, synthesis (synth/) into a netlist.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/format/format.hpp"

namespace ffp8::hwcost {

/// How products are summed: IEEE-style binary32/binary16 (round to nearest even, subnormals
/// kept, saturating at the largest finite value) or an exact fixed-point ("Kulisch") register.
enum class Accumulator : std::uint8_t { Fp32, Fp16, Kulisch };

/// "fp32", "fp16", "kulisch".
std::string_view to_string(Accumulator a);
/// Parses "fp32", "fp16" or "kulisch"; throws ConfigError naming the allowed values.
Accumulator parse_accumulator(std::string_view text);

/// What kind of multiplier the PE is: an FP8-family MAC or the INT8 reference MAC
/// (signed 8 x 8 bit multiply, 32-bit accumulator).
enum class PeKind : std::uint8_t { Float, Int8 };

/// The formats a run-time configurable ("flexible") decoder can be set to: every format of
/// `width` bits, with or without a sign bit, exponent width in [exp_min, exp_max], and a bias
/// representable in `bias_bits` signed bits. Specials are not decoded (quantizers saturate).
struct FlexRange {
  int width = 8;      ///< code width n (2..16)
  int exp_min = 2;    ///< narrowest exponent field (>= 1); sets the widest mantissa
  int exp_max = 5;    ///< widest exponent field; sets the exponent datapath and Kulisch width
  int bias_bits = 8;  ///< two's-complement width of the run-time bias register

  /// Widest mantissa any configured format can have: width - exp_min (unsigned formats).
  int man_max() const { return width - exp_min; }
  /// Why `f` cannot be held, or nullopt when it can.
  std::optional<std::string> reject(const Format& f) const;
};

/// A PE description. Defaults: e4m3fn x e4m3fn, fp32 accumulation, fixed decoders.
struct PeSpec {
  PeKind kind = PeKind::Float;
  Format weight = Format::make(1, 4, 3, 7, Specials::Fn);
  Format activation = Format::make(1, 4, 3, 7, Specials::Fn);
  Accumulator accumulator = Accumulator::Fp32;
  bool flexible = false;   ///< decoders configurable at run time over `flex`
  FlexRange flex;          ///< used only when flexible
  std::uint64_t kulisch_terms = 4096;  ///< K: products a Kulisch register sums without overflow
  int max_kulisch_bits = 512;  ///< wider exact registers are reported infeasible (e.g. 8-bit exponents)

  /// Short label for tables, e.g. "s1e4m3b7-fn x s1e4m3b7-fn fp32 fixed" or "int8".
  std::string label() const;
  /// The INT8 reference PE.
  static PeSpec int8();
  /// A PE with fixed decoders for two format names (parsed: FormatError when invalid).
  static PeSpec fixed(std::string_view weight, std::string_view activation, Accumulator accumulator);
};

}  // namespace ffp8::hwcost
