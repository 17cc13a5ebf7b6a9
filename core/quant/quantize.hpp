#pragma once
// Quantization of real numbers to a Format (docs/formats.md "Quantization rules"): an exact scalar path for
// any format and input, and a vectorized float32 batch path checked bit for bit against it.
#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "core/format/codec.hpp"
#include "core/format/format.hpp"

namespace ffp8 {

/// Rounding rule; a closed set dispatched once per batch, outside the hot loop.
enum class Rounding : std::uint8_t { Rne, Rna, Rtz, Stochastic };

/// Text of a rounding rule ("rne", "rna", "rtz", "stochastic").
std::string_view to_string(Rounding r);
/// Parses a rounding rule name; throws FormatError naming the allowed values.
Rounding parse_rounding(std::string_view text);

/// Options of the quantizer; orthogonal to the format.
struct QuantOptions {
  Rounding rounding = Rounding::Rne;
  bool saturate = true;       ///< false: out-of-range values become Inf/NaN per the overflow rule of docs/formats.md
  std::uint64_t seed = 0;     ///< stochastic rounding: stream keyed by (seed, element index)
  int threads = 0;            ///< batch calls: OpenMP threads; 0 = OpenMP's default
};

/// What happened to one value.
enum class Outcome : std::uint8_t {
  Exact,        ///< x was in V (incl. zero)
  Rounded,      ///< rounded to a non-zero neighbour, or a zero input
  Underflow,    ///< a non-zero x became zero
  Overflow,     ///< |x| > max(V) (incl. ±Inf): saturated or became Inf/NaN
  NegClipped,   ///< unsigned format, x < 0: became 0
  NanInput,     ///< x was NaN (value NaN; code valid only when the format has NaN)
};

/// Result of quantizing one value: its value in double (exact) and its code.
struct Rounded {
  double value = 0.0;
  std::uint32_t code = 0;
  Outcome outcome = Outcome::Exact;
};

/// Counts a batch call reports; NaN inputs are counted, never silently turned into numbers.
struct QuantCounts {
  std::uint64_t count = 0;
  std::uint64_t nan_inputs = 0;     ///< NaN inputs (an error for a format without NaN)
  std::uint64_t overflow = 0;       ///< |x| > max(V), incl. ±Inf
  std::uint64_t underflow = 0;      ///< non-zero x that became zero
  std::uint64_t neg_clipped = 0;    ///< x < 0 into an unsigned format
  QuantCounts& operator+=(const QuantCounts& o);
  /// Counts one more value with this outcome (the scalar paths' tally).
  void add(Outcome o);
  /// The counters by name, in declaration order (outputs that list them all use these names).
  std::array<std::pair<std::string_view, std::uint64_t>, 5> named() const;
};

/// The 32 random bits used for element `index` under `seed` (counter-based, so results do not
/// depend on how elements are split across threads or processes).
std::uint32_t stochastic_bits(std::uint64_t seed, std::uint64_t index);

/// A quantizer bound to one format and option set. Cheap to copy; thread-safe to share.
class Quantizer {
 public:
  /// Validates the format; throws FormatError.
  explicit Quantizer(const Format& format, const QuantOptions& options = {});

  const Format& format() const { return format_; }
  const QuantOptions& options() const { return options_; }
  /// True when the vectorized float32 path applies (today's float members whose values and
  /// overflow threshold are float32 numbers; integers and -nz formats use the exact path).
  bool fast_path() const { return fast_; }
  /// True when quantize(float) accepts the format: every value is a float32 (subnormals included).
  bool float32_output() const { return float32_ok_; }
  /// True when a value beyond max(V) (`a` = |x|, incl. Inf) becomes Inf/NaN rather than max(V):
  /// the overflow rule of docs/formats.md (non-saturating: the virtual next code max+1 decides, ±Inf always overflows).
  bool overflows(double a) const;

  /// Exact reference: quantizes the exact value `x`; `index` keys the stochastic stream.
  Rounded round(double x, std::uint64_t index = 0) const;

  /// float32 values in, float32 values out (same length). Needs float32_output(), else throws
  /// FormatError; formats without fast_path() take the exact scalar path (slower). `first_index` is the global index of in[0] for the stochastic stream.
  /// NaN inputs give NaN outputs and are counted.
  QuantCounts quantize(std::span<const float> in, std::span<float> out,
                       std::uint64_t first_index = 0) const;
  /// float32 values in, codes out (widths up to 16). A NaN input into a NaN-less format gets
  /// code 0 and is counted: callers must check `nan_inputs`.
  QuantCounts encode(std::span<const float> in, std::span<std::uint16_t> codes,
                     std::uint64_t first_index = 0) const;
  /// Exact path for any format: double values in (float16/32/64 data converted exactly), double
  /// values out. round() per value, in parallel blocks like the float32 path; slower than quantize(float).
  QuantCounts quantize(std::span<const double> in, std::span<double> out,
                       std::uint64_t first_index = 0) const;
  /// Exact path for any format: double values in, codes out (widths up to 16); NaN inputs as encode(float).
  QuantCounts encode(std::span<const double> in, std::span<std::uint16_t> codes,
                     std::uint64_t first_index = 0) const;

 private:
  Format format_;
  QuantOptions options_;
  SpecialCodes codes_;
  /// Integer members: k * 2^-bias with k rounded on the integer grid.
  Rounded round_int(double x, std::uint64_t index) const;

  double max_ = 0.0;
  double overflow_threshold_ = 0.0;  // maxV + ulp/2: where non-saturating rne/rna overflow
  bool max_code_even_ = false;       // rne exactly at the threshold: max(V) keeps it when even
  bool fast_ = false;
  bool float32_ok_ = false;
};

}  // namespace ffp8
