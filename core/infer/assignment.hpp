#pragma once
// Format assignment of a model: which format each conv2d/linear layer uses for its weights and
// for its input activation, and each matmul for both its operands (the activation role: in
// attention they are Q, K^T, the softmax output P and V). Role defaults plus per-node overrides, each "float32" (no
// quantization), a format name ("s1e4m3b10", "e4m3fn"), "fit:TEMPLATE" ("fit:s0e4m4"): that
// template (sign, exp, man, specials) with the fit bias (docs/formats.md) chosen per layer, or "int8": INT8
// per-tensor symmetric (core/infer/int8.hpp), the integer baseline.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/format/fit.hpp"  // ffp8::fit_bias, the rule used for "fit:" choices
#include "core/format/format.hpp"
#include "core/infer/int8.hpp"
#include "core/infer/model.hpp"

namespace ffp8::infer {

/// One role's format choice, as written in a config.
struct FormatChoice {
  enum class Kind : std::uint8_t { Float32, Fixed, Fit, Int8 };
  Kind kind = Kind::Float32;
  Format format;  ///< Fixed: the format; Fit: the template (its bias is chosen per layer)
  /// Fit only, "fit:auto:eE": the sign is chosen per layer too: 0 (`format` with one more
  /// mantissa bit) when the tensor has no negative value, else 1 (`format`, 8 bits wide).
  bool auto_sign = false;

  /// Parses "float32", "int8", a format name or preset, "fit:TEMPLATE" (TEMPLATE like "s1e4m3" or
  /// "s1e4m3-fn", or a preset whose bias is then replaced) or "fit:auto:eE" (8-bit, E exponent
  /// bits, sign per layer). Throws FormatError quoting `text`.
  static FormatChoice parse(std::string_view text);
  /// Text form: "float32", "int8", "s1e4m3b10", "fit:s1e4m3" (with suffixes), "fit:auto:e4".
  std::string text() const;
  /// Fit only: the template (a format whose bias is to be chosen) for a tensor with (or without)
  /// negative values.
  Format template_for(bool has_negative) const;
};

/// Weight and activation choices of one layer.
struct LayerChoice {
  FormatChoice weight, activation;
};

/// Role defaults and per-node overrides (a node absent from `overrides` takes the defaults).
struct Assignment {
  FormatChoice weight, activation;
  std::map<std::string, LayerChoice> overrides;

  /// The choice for node `name`.
  LayerChoice for_node(const std::string& name) const;
  /// All float32: the reference network.
  static Assignment float32() { return {}; }
};

/// Largest magnitudes seen in one tensor (calibration statistics of a layer's input).
struct RangeStats {
  double max_abs = 0.0;       ///< max |x| over finite values
  double max_positive = 0.0;  ///< max x over finite positive values (the "a" of unsigned formats)
  double min = 0.0;           ///< min x over finite values (0 when none is negative)
  std::uint64_t count = 0;
  /// Folds in values.
  void add(const float* x, std::size_t n);
  /// The fit rule's `a` for a format of sign `sign`: negatives ignored when unsigned.
  double fit_a(int sign) const { return fit_input(sign, max_abs, max_positive); }
};

/// The resolved formats of one quantizable layer.
struct LayerFormats {
  std::string node;
  Op op = Op::Conv2d;
  LayerChoice choice;                 ///< what the assignment asked for (a matmul uses its activation choice)
  std::optional<Format> activation;   ///< nullopt: float32
  std::vector<Format> weight;         ///< empty: float32; one (per tensor) or one per output channel
  double weight_max_abs = 0.0;        ///< max |w| (per tensor)
  std::optional<RangeStats> activation_range;  ///< calibration statistics, when gathered
  std::optional<Int8Quantizer> weight_int8;      ///< "int8" weights (then `weight` is empty)
  std::optional<Int8Quantizer> activation_int8;  ///< "int8" input (then `activation` is nullopt)
  // A matmul's second operand: its format, calibration statistics and int8 quantizer, as above.
  std::optional<Format> other;
  std::optional<RangeStats> other_range;
  std::optional<Int8Quantizer> other_int8;

  /// What the role runs in: "float32", "int8" or the (first) format's name.
  std::string weight_text() const;
  std::string activation_text() const;
  /// True when the layer quantizes its weights or its input.
  bool quantizes() const {
    return activation || activation_int8 || !weight.empty() || weight_int8 || other || other_int8;
  }
};

/// The per-layer plan of a model, in node order (only conv2d/linear/matmul nodes).
using QuantPlan = std::vector<LayerFormats>;

/// Resolves `assignment` for every quantizable node of `model`. `calib` maps operand keys
/// (operand_key(): the node name, "<node>.other" for a matmul's second operand) to the
/// calibration statistics of those inputs (needed only for "fit" and "int8" activations:
/// ConfigError when missing). `per_channel` gives "fit" weights one bias per output channel
/// ("int8" weights stay per tensor). Overrides naming no
/// conv2d/linear/matmul node are a ConfigError naming the node. The resulting formats must have a
/// float32 fast path (else FormatError naming the layer).
QuantPlan resolve_plan(const Model& model, const Assignment& assignment,
                       const std::map<std::string, RangeStats>* calib, bool per_channel);

/// True when some activation choice (default or override) is "fit" or "int8" (calibration needed).
bool needs_calibration(const Assignment& assignment);
/// True when some choice (either role, default or override) is "int8".
bool uses_int8(const Assignment& assignment);

}  // namespace ffp8::infer
