#pragma once
// Tensors built to be hard for the statistics path: exact values and midpoints of many formats,
// their float32 neighbours, the limits (max, subnormal edges), negatives, float32 subnormals and
// values over the whole float32 range.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/format/codec.hpp"
#include "core/format/format.hpp"

namespace ffp8::test {

/// a and b agree to a relative `tol`; NaN only equals NaN and an infinity only itself.
inline bool close(double a, double b, double tol = 1e-9) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= tol * std::max(std::fabs(a), std::fabs(b));
}

/// Appends v, its float32 neighbours and their negatives.
inline void push_around(std::vector<float>& out, double v) {
  const auto f = static_cast<float>(v);
  if (!std::isfinite(f)) return;
  for (float x : {f, std::nextafter(f, 0.0f), std::nextafter(f, INFINITY)}) {
    out.push_back(x);
    out.push_back(-x);
  }
}

/// Values and midpoints of every finite code of `f`, with neighbours (sampled by `stride`).
inline void push_format_points(std::vector<float>& out, const Format& f, int stride = 1) {
  std::vector<double> vals;
  for (std::uint32_t c = 0; c < f.code_count(); ++c) {
    const CodeValue v = decode(f, c);
    if (v.kind == CodeKind::Finite && v.value >= 0) vals.push_back(v.value);
  }
  std::sort(vals.begin(), vals.end());
  for (std::size_t i = 0; i < vals.size(); i += static_cast<std::size_t>(stride)) {
    push_around(out, vals[i]);
    if (i + 1 < vals.size()) push_around(out, 0.5 * (vals[i] + vals[i + 1]));
  }
  const double top = vals.back();
  push_around(out, top + std::ldexp(0.5, f.top_exponent() - f.man));  // the overflow tie
  push_around(out, top * 1.75);
  push_around(out, f.min_positive() * 0.5);
  push_around(out, f.min_positive() * 0.25);
}

/// The hard tensor used by the exactness tests (about 40k values, deterministic).
inline std::vector<float> hard_tensor(std::uint32_t seed = 1) {
  std::vector<float> out;
  // Points of formats over a spread of biases (sampled so the tensor stays small).
  for (int e : {2, 3, 4, 5})
    for (int b : {-6, 0, 3, 7, 12, 20})
      push_format_points(out, Format::make(1, e, 7 - e, b), 1);
  for (int b : {-2, 9}) push_format_points(out, Format::make(0, 4, 4, b), 1);
  std::mt19937 gen(seed);
  // Random float32 bit patterns over the whole finite range (huge range, both signs).
  std::uniform_int_distribution<std::uint32_t> bits(0, 0x7f7fffffu);
  for (int i = 0; i < 6000; ++i) {
    const std::uint32_t u = bits(gen);
    out.push_back(std::bit_cast<float>(u | (i % 2 ? 0x80000000u : 0u)));
  }
  // float32 subnormals.
  std::uniform_int_distribution<std::uint32_t> sub(1, 0x7fffffu);
  for (int i = 0; i < 1000; ++i) out.push_back(std::bit_cast<float>(sub(gen) | (i % 3 ? 0u : 0x80000000u)));
  // Typical data: normal values with a few outliers, and exact zeros of both signs.
  std::normal_distribution<float> nd(0.0f, 1.5f);
  for (int i = 0; i < 12000; ++i) out.push_back(nd(gen) * (i % 97 == 0 ? 40.0f : 1.0f));
  for (int i = 0; i < 50; ++i) out.push_back(i % 2 ? 0.0f : -0.0f);
  std::shuffle(out.begin(), out.end(), gen);
  return out;
}

}  // namespace ffp8::test
