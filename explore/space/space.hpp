#pragma once
// The design space: templates (sign, exp, man, specials, subnormals) from the config's lists,
// biases per template (a range, a list, or chosen per tensor by the fit rule (docs/formats.md)), and
// the constraints. Combinations that cannot be a format are skipped and counted, not errors.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/format/format.hpp"
#include "explore/config/config.hpp"
#include "explore/stats/bucket_stats.hpp"

namespace ffp8::explore {

/// A format without its bias.
struct FormatTemplate {
  int sign = 1, exp = 4, man = 3;
  Specials specials = Specials::None;
  bool subnormals = true;
  Kind kind = Kind::Float;  ///< Int: i{sign+man} / u{man} (exp 0)
  bool sym = false;         ///< integers: -sym
  /// The format with bias `b` (not validated).
  Format with_bias(int b) const {
    Format f{sign, exp, man, b, specials, subnormals};
    f.kind = kind;
    f.sym = sym;
    return f;
  }
  std::string name() const;  ///< e.g. "s1e4m3" with suffixes
};

/// Why combinations were skipped (reported in summary.json).
struct SkipCounts {
  std::uint64_t man_negative = 0;  ///< width - sign - exp < 0
  std::uint64_t constraint = 0;    ///< outside man_min..man_max
  std::uint64_t invalid = 0;       ///< not a valid format (e.g. fnuz without sign, bias out of range)
  std::uint64_t excluded = 0;      ///< on the exclude list
  std::uint64_t total() const { return man_negative + constraint + invalid + excluded; }
};

/// Every valid template of the space, in config order; skipped ones counted in `skipped`.
std::vector<FormatTemplate> expand_templates(const SpaceConfig& space, SkipCounts& skipped);

/// The fit bias (docs/formats.md) for a template: the largest b whose max(V) >= a (a > 0 finite), clamped
/// to the valid bias range; a == 0 gives the IEEE bias 2^(exp-1) - 1. Delegates to core's rule.
int fit_bias(const FormatTemplate& t, double a);

/// One bias to evaluate for a template and how it was chosen.
struct BiasChoice {
  int bias = 0;
  std::string rule;      ///< "range", "list", "fit", "percentile:P", "argmin:METRIC"
  bool argmin = false;   ///< one of a set from which only the best is kept
};
/// The largest magnitudes the fit rule reads: exact for the data (float64 data included, which
/// the float32 statistics only bound).
struct Extent {
  double max_abs = 0;       ///< largest |x|
  double max_positive = 0;  ///< largest positive x (0 when none)
};
/// The biases the spec asks for, for `t` on a tensor (group) with statistics `stats`
/// (percentile rule) and largest magnitudes `extent` (fit rule).
std::vector<BiasChoice> biases_for(const FormatTemplate& t, const BiasSpec& spec, const BucketStats& stats,
                                   const Extent& extent);

/// The validated format of `t` with bias `b`, or nullopt (counted) if invalid or excluded.
std::optional<Format> make_format(const FormatTemplate& t, int b, const SpaceConfig& space, SkipCounts& skipped);

}  // namespace ffp8::explore
