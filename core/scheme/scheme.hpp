#pragma once
// Schemes: how numbers become codes. A scheme is an element format plus an optional shared scale
// (one per tensor, per channel or per block of K values), the scale's format and the rule that
// picks it (docs/formats.md "Scaled formats"). A plain format is the scheme without grouping: its
// bias is its only scale (FFP8). Every component that quantizes takes a scheme.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/format/format.hpp"

namespace ffp8 {

/// How a tensor splits into groups that share one scale. None: a plain format.
enum class Grouping : std::uint8_t { None, Tensor, Channel, Block };

/// How a group's scale follows from its largest magnitude `a` (docs/formats.md "Scaled formats").
enum class ScaleRule : std::uint8_t { Floor, Fit, Amax };

/// Text of a rule as in names ("floor", "fit", "amax").
std::string_view to_string(ScaleRule r);
/// Text of a grouping without its block size ("none", "tensor", "channel", "block").
std::string_view to_string(Grouping g);

/// Scale format of a scaled scheme: a family format (e8m0, e4m3fn, ...) or float32.
struct ScaleFormat {
  bool is_f32 = false;
  Format format;  ///< valid when !is_f32

  static ScaleFormat f32() { return {true, Format{}}; }
  static ScaleFormat of(const Format& f) { return {false, f}; }
  /// Text as in names: "f32", a preset alias where one names the format exactly (e8m0, e4m3fn),
  /// else the canonical format name.
  std::string name() const;
  /// True when every value is a power of two: an unsigned float member without mantissa bits.
  bool power_of_two() const;
  /// Stored bits per scale: 32 for f32, else the format's width.
  double bits() const;
  /// Largest finite scale (FLT_MAX for f32).
  double max_value() const;
  /// Smallest scale the rules use: the smallest non-negative value (0 for f32 and formats with a
  /// zero, 2^-127 for e8m0).
  double min_value() const;

  friend bool operator==(const ScaleFormat& a, const ScaleFormat& b) {
    return a.is_f32 == b.is_f32 && (a.is_f32 || a.format == b.format);
  }
};

/// Element format + grouping + scale format + rule (+ optional float32 second level, NVFP4).
struct Scheme {
  Format element;
  Grouping grouping = Grouping::None;
  int block = 0;  ///< K for Grouping::Block, else 0
  ScaleFormat scale;
  ScaleRule rule = ScaleRule::Floor;
  bool second_level = false;  ///< "+tensor:f32": a float32 tensor scale under the group scales

  /// The plain scheme of a format (no shared scale).
  static Scheme plain(const Format& f);
  /// Plain format names and presets, scaled names ELEMENT/GROUP:SCALE:RULE[+tensor:f32] and the
  /// scaled presets (mxfp8_e4m3, ..., nvfp4); throws FormatError quoting the text.
  static Scheme parse(std::string_view text);
  /// Throws FormatError when the combination is invalid (a rule that does not apply to the scale
  /// format, a block size below 1, ...); `text` names the scheme in the message.
  void validate(std::string_view text = {}) const;

  /// Canonical name: the element's canonical name, then /GROUP:SCALE:RULE (a plain scheme's name
  /// is its format's name). parse(name()) == *this.
  std::string name() const;
  /// The scaled preset alias naming this scheme exactly (mxfp4, nvfp4, ...), or "" if none.
  std::string_view preset_alias() const;
  bool scaled() const { return grouping != Grouping::None; }
  /// Bits per value without a tensor at hand: element width + scale bits / K for blocks; tensor
  /// and channel scales (and the second level) are counted as amortized to nothing.
  double effective_bits() const;
  /// True when every scale is a power of two: plain schemes (the bias) and floor/fit rules.
  bool power_of_two_scale() const { return !scaled() || scale.power_of_two(); }
  /// True when scaled values are computed in float32 arithmetic (an f32 scale or second level).
  bool float32_arithmetic() const { return scaled() && (scale.is_f32 || second_level); }

  friend bool operator==(const Scheme&, const Scheme&) = default;
};

/// The scaled presets (alias -> canonical name), for tests and docs.
const std::vector<Preset>& scaled_presets();

}  // namespace ffp8
