#include "core/format/fit.hpp"

#include <algorithm>
#include <cmath>

namespace ffp8 {

int fit_bias(const Format& f, double a) {
  constexpr int kLo = -1000, kHi = 1000;
  if (!(a > 0)) return f.exp >= 1 && !f.is_int() ? (1 << (f.exp - 1)) - 1 : 0;
  if (!std::isfinite(a)) return kLo;
  Format f0 = f;
  f0.bias = 0;
  // max(V) = m0 * 2^-b halves with each step of the bias: start from the closed form, then
  // step to the exact answer (the log2 estimate can be off by one either way).
  const double m0 = f0.max_value();
  int b = static_cast<int>(std::clamp(std::floor(std::log2(m0 / a)), double{kLo}, double{kHi}));
  auto maxv = [&](int bias) { return std::ldexp(m0, -bias); };
  while (b < kHi && maxv(b + 1) >= a) ++b;
  while (b > kLo && maxv(b) < a) --b;
  return b;
}

}  // namespace ffp8
