#pragma once
// The FFP8 selection rule ("all you can fit", docs/formats.md): the largest bias whose max(V) still
// covers the data's largest magnitude.
#include "core/format/format.hpp"

namespace ffp8 {

/// Fit bias for the template of `f` (sign, exp, man, specials; its own bias is ignored) and
/// largest magnitude `a`:
/// the largest b in [-1000, 1000] with max(V) >= a. `a` of 0 or NaN (no data) gives the IEEE
/// bias 2^(exp-1) - 1 (0 for exp = 0 and integers); an infinite `a` gives -1000. Exact: checked by brute force in tests.
int fit_bias(const Format& f, double a);

/// The fit rule's `a` for a format of sign `sign` on data with largest magnitude `max_abs` and
/// largest positive value `max_positive`: an unsigned format ignores negatives (they clip to 0
/// anyway), so its `a` is the largest positive value.
inline double fit_input(int sign, double max_abs, double max_positive) { return sign == 0 ? max_positive : max_abs; }

}  // namespace ffp8
