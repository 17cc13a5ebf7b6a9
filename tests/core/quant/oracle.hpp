#pragma once
// A brute-force quantization oracle, written independently of core/quant: enumerate every code,
// sort the finite values on the signed line, and pick a neighbour by the rounding rule of
// docs/formats.md. Covers every member: float formats (with -inf, -nz, exp 0) and integers
// (asymmetric two's-complement ranges).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
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
    for (std::uint32_t c = 0; c < f.code_count(); ++c) {
      const CodeValue v = decode(f, c);
      if (v.kind == CodeKind::Inf) (v.value > 0 ? pos_inf_ : neg_inf_) = c;
      if (v.kind != CodeKind::Finite) continue;
      if (v.value == 0.0 && std::signbit(v.value)) {
        neg_zero_ = c;  // -0 (signed float formats other than fnuz)
        continue;
      }
      values_.push_back({v.value, c});
    }
    std::sort(values_.begin(), values_.end(), [](auto& a, auto& b) { return a.value < b.value; });
    // The smallest positive value (the spacing the -nz and exp-0 rules need).
    for (const auto& v : values_)
      if (v.value > 0) {
        min_pos_ = v;
        break;
      }
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
    auto set = [&](OracleValue v) {
      out.pick = v;
      out.hi = v;
      return out;
    };
    const double maxv = values_.back().value, minv = values_.front().value;
    // Exactly a value (zero keeps its sign where the format has -0).
    if (const auto v = lookup(x))
      return set(x == 0 && std::signbit(x) && neg_zero_ ? OracleValue{-0.0, *neg_zero_} : *v);
    // -nz formats have no zero: below the smallest magnitude the result is ±min by x's sign.
    if (f_.no_zero && std::fabs(x) < min_pos_.value) {
      if (!std::signbit(x) || f_.sign == 0) return set(min_pos_);
      return set(values_[index_of(-min_pos_.value)]);
    }
    if (x > maxv || x < minv) {
      const bool neg = x < 0;
      const OracleValue edge = neg ? values_.front() : values_.back();
      if (f_.is_int() || saturate) return set(edge);
      // Float members: the format continues past max(V) with max's last-place unit; the
      // virtual next value has the next code (max_code + 1), and rne ties go to the even code.
      const double a = std::fabs(x), top = values_.back().value;
      const int e_top = f_.no_zero || top >= f_.min_normal() ? std::ilogb(top) : 1 - f_.bias;
      const double ulp = std::ldexp(1.0, e_top - f_.man);
      const double thr = top + ulp / 2;
      const std::uint32_t mag_code = values_.back().code;
      bool overflows = std::isinf(a);
      if (r == Rounding::Rne) overflows |= a > thr || (a == thr && (mag_code & 1u));
      if (r == Rounding::Rna) overflows |= a >= thr;
      if (overflows && (pos_inf_ || neg_inf_))
        return set({neg ? -INFINITY : INFINITY, neg ? *neg_inf_ : *pos_inf_});
      if (overflows && f_.has_nan()) {
        out.is_nan = true;
        return out;
      }
      return set(edge);
    }
    // Neighbours on the signed line.
    const std::size_t hi_i = static_cast<std::size_t>(
        std::lower_bound(values_.begin(), values_.end(), x,
                         [](const OracleValue& w, double t) { return w.value < t; }) - values_.begin());
    const OracleValue lo = values_[hi_i - 1], hi = values_[hi_i];
    const double dlo = x - lo.value, dhi = hi.value - x;
    const bool lo_nearer_zero = std::fabs(lo.value) < std::fabs(hi.value);
    OracleValue pick = lo;
    switch (r) {
      case Rounding::Rtz: pick = lo_nearer_zero ? lo : hi; break;
      case Rounding::Rna: pick = dlo < dhi ? lo : (dhi < dlo ? hi : (lo_nearer_zero ? hi : lo)); break;
      case Rounding::Rne:
        if (dlo < dhi) pick = lo;
        else if (dhi < dlo) pick = hi;
        else {
          const bool lo_even = (lo.code & 1u) == 0, hi_even = (hi.code & 1u) == 0;
          // Both even only across the no-subnormal gap (0 vs min normal): the one nearer zero.
          if (lo_even && hi_even) pick = lo_nearer_zero ? lo : hi;
          else pick = lo_even ? lo : hi;
        }
        break;
      case Rounding::Stochastic: pick = lo; break;
    }
    out.pick = signed_zero(pick, x);
    out.hi = signed_zero(r == Rounding::Stochastic ? hi : pick, x);
    return out;
  }

 private:
  /// The value equal to x, if any (0 matches ±0).
  std::optional<OracleValue> lookup(double x) const {
    const auto it = std::lower_bound(values_.begin(), values_.end(), x,
                                     [](const OracleValue& w, double t) { return w.value < t; });
    if (it != values_.end() && it->value == x) return *it;
    return std::nullopt;
  }
  std::size_t index_of(double v) const {
    return static_cast<std::size_t>(std::lower_bound(values_.begin(), values_.end(), v,
                                                     [](const OracleValue& w, double t) { return w.value < t; }) -
                                    values_.begin());
  }
  /// A negative x that rounds to zero gives -0 where the format has it.
  OracleValue signed_zero(OracleValue v, double x) const {
    if (v.value == 0.0 && x < 0 && neg_zero_) return {-0.0, *neg_zero_};
    return v;
  }

  Format f_;
  std::vector<OracleValue> values_;
  std::optional<std::uint32_t> neg_zero_, pos_inf_, neg_inf_;
  OracleValue min_pos_{0, 0};
};

}  // namespace ffp8::test
