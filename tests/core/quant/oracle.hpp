#pragma once
// A brute-force quantization oracle, written independently of core/quant: enumerate every code,
// sort the finite values, and pick a neighbour by the rounding rule of FORMAT.md.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/format/codec.hpp"
#include "core/format/format.hpp"
#include "core/quant/quantize.hpp"

namespace ffp8::test {

struct OracleValue {
  double value;
  std::uint32_t code;
};

/// The expected result of quantizing x, or of its two candidates for stochastic rounding.
struct OracleResult {
  bool is_nan = false;      ///< result is NaN (code: any NaN code of the format)
  OracleValue pick{0, 0};   ///< deterministic result (rne/rna/rtz), or `lo` for stochastic
  OracleValue hi{0, 0};     ///< stochastic only: the other candidate (== pick if x in V)
};

class Oracle {
 public:
  explicit Oracle(const Format& f) : f_(f) {
    const std::uint32_t n = f.code_count();
    const std::uint32_t sign_bit = f.sign ? 1u << (f.exp + f.man) : 0u;
    for (std::uint32_t c = 0; c < n; ++c) {
      const CodeValue v = decode(f, c);
      if (v.kind != CodeKind::Finite) continue;
      if (v.value == 0.0 && c != 0) {
        neg_zero_code_ = c;  // -0 (only when signed and not fnuz)
        continue;
      }
      values_.push_back({v.value, c});
    }
    std::sort(values_.begin(), values_.end(), [](auto& a, auto& b) { return a.value < b.value; });
    (void)sign_bit;
    for (std::size_t i = 0; i < values_.size(); ++i)
      if (values_[i].value == 0.0) zero_ = i;
  }

  const std::vector<OracleValue>& values() const { return values_; }
  double max() const { return values_.back().value; }

  OracleResult operator()(double x, Rounding r, bool saturate) const {
    OracleResult out;
    if (std::isnan(x)) {
      out.is_nan = true;
      return out;
    }
    if (f_.sign == 0 && x < 0) x = 0.0;
    const bool neg = std::signbit(x);
    const double a = std::fabs(x);
    // Work on magnitudes among the non-negative values, then mirror.
    const std::size_t z = zero_;
    const double maxv = values_.back().value;
    auto mirror = [&](OracleValue v) {
      if (!neg) return v;
      if (v.value == 0.0) {
        if (f_.sign == 1 && neg_zero_code_ != 0) return OracleValue{-0.0, neg_zero_code_};
        return OracleValue{0.0, 0u};
      }
      // Values (without -0) are symmetric around zero: the twin of index i is 2z - i.
      const auto it = std::lower_bound(values_.begin(), values_.end(), v.value,
                                       [](const OracleValue& w, double t) { return w.value < t; });
      return values_[2 * z - static_cast<std::size_t>(it - values_.begin())];
    };
    if (a > maxv) {
      // max(V)'s last-place unit 2^(E_top - b - m); a subnormal max has the subnormal spacing.
      const int top = maxv >= f_.min_normal() ? std::ilogb(maxv) : 1 - f_.bias;
      const double ulp = std::ldexp(1.0, top - f_.man);
      const bool overflows = !saturate && (r == Rounding::Rne || r == Rounding::Rna) && a >= maxv + ulp / 2;
      if (overflows && f_.has_inf()) {
        const std::uint32_t inf_code = ((1u << f_.exp) - 1) << f_.man;
        const std::uint32_t sb = neg ? 1u << (f_.exp + f_.man) : 0u;
        out.pick = {neg ? -INFINITY : INFINITY, inf_code | sb};
        return out;
      }
      if (overflows && f_.has_nan()) {
        out.is_nan = true;
        return out;
      }
      out.pick = mirror(values_.back());
      out.hi = out.pick;
      return out;
    }
    // Neighbours among [zero .. max].
    const std::size_t hi_i = static_cast<std::size_t>(
        std::lower_bound(values_.begin() + static_cast<std::ptrdiff_t>(z), values_.end(), a,
                         [](const OracleValue& w, double t) { return w.value < t; }) - values_.begin());
    if (values_[hi_i].value == a) {
      out.pick = mirror(values_[hi_i]);
      out.hi = out.pick;
      return out;
    }
    const OracleValue lo = values_[hi_i - 1], hi = values_[hi_i];
    const double dlo = a - lo.value, dhi = hi.value - a;
    OracleValue pick = lo;
    switch (r) {
      case Rounding::Rtz: pick = lo; break;
      case Rounding::Rna: pick = dhi <= dlo ? hi : lo; break;
      case Rounding::Rne:
        if (dlo < dhi) pick = lo;
        else if (dhi < dlo) pick = hi;
        else {
          const bool lo_even = (lo.code & 1u) == 0, hi_even = (hi.code & 1u) == 0;
          // Both even only across the no-subnormal gap (0 vs min normal): FORMAT.md picks 0.
          pick = lo_even ? lo : (hi_even ? hi : lo);
        }
        break;
      case Rounding::Stochastic: pick = lo; break;
    }
    out.pick = mirror(pick);
    out.hi = mirror(hi);
    return out;
  }

 private:
  Format f_;
  std::vector<OracleValue> values_;
  std::uint32_t neg_zero_code_ = 0;
  std::size_t zero_ = 0;
};

}  // namespace ffp8::test
