// SchemeQuantizer against an independent brute-force reference: groups found from each value's
// coordinates, the scale computed from the group's values by the rule (powers of two by search,
// amax by the nearest of the scale format's enumerated values), each value rounded by the
// element oracle of tests/core/quant. Every preset and more, random tensors with tail blocks, zero
// blocks, NaN, +-Inf, subnormal-heavy blocks and amax exactly on (and just past) the element's
// largest significand, where floor and fit differ.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "core/format/codec.hpp"
#include "core/infer/int8.hpp"
#include "core/scheme/groups.hpp"
#include "core/scheme/scheme_quantizer.hpp"
#include "tests/core/quant/oracle.hpp"

namespace ffp8 {
namespace {

using test::Oracle;

struct RefResult {
  std::vector<double> values;
  std::vector<double> scales;  // total scale per group, in the reference's group order
  QuantCounts counts;
};

/// Group key of flat index j: its coordinates, with the axis coordinate divided by K (block),
/// only coordinate 0 (channel), or nothing (tensor).
std::vector<std::int64_t> group_key(const Scheme& s, const std::vector<std::int64_t>& shape, int axis, std::int64_t j) {
  std::vector<std::int64_t> c(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    c[d] = j % shape[d];
    j /= shape[d];
  }
  if (s.grouping == Grouping::Tensor) return {};
  if (s.grouping == Grouping::Channel) return {c.empty() ? 0 : c[0]};
  if (!c.empty()) c[static_cast<std::size_t>(axis)] /= s.block;
  return c;
}

/// Positive finite values of a format, sorted, with their codes (the oracle's list).
std::vector<test::OracleValue> positive_values(const Format& f) {
  std::vector<test::OracleValue> out;
  const Oracle oracle(f);
  for (const auto& v : oracle.values())
    if (v.value > 0) out.push_back(v);
  return out;
}

double pow2_at_or_below(double a) {  // 2^floor(log2 a), by search
  double p = 1.0;
  while (p > a) p /= 2;
  while (p * 2 <= a) p *= 2;
  return p;
}

/// The reference's group scale for largest magnitude `a` under tensor scale `st`.
double ref_group_scale(const Scheme& s, double a, double st) {
  const double emax_pow = pow2_at_or_below(s.element.max_value());  // 2^E_max
  if (s.scale.is_f32) {
    if (a == 0) return 0.0;
    if (std::isinf(a)) return std::numeric_limits<float>::max();
    const float q = static_cast<float>(a) / static_cast<float>(s.element.max_value());  // float32 arithmetic
    return std::max(static_cast<double>(q), 0x1p-149);
  }
  const auto vals = positive_values(s.scale.format);
  const double lo = vals.front().value, hi = vals.back().value;
  const bool has_zero = s.scale.format.has_zero();
  if (a == 0) return has_zero ? 0.0 : lo;
  if (std::isinf(a)) return hi;
  double S = 0;
  if (s.rule == ScaleRule::Floor) {
    S = pow2_at_or_below(a) / emax_pow;
  } else if (s.rule == ScaleRule::Fit) {
    S = 0x1p-1000;
    while (S * s.element.max_value() < a) S *= 2;
  } else {
    // Nearest scale value to a / (max * st), ties to the even code, compared exactly as products.
    const double m = s.element.max_value() * st;
    if (a >= hi * m) return hi;
    if (a <= lo * m) return lo;
    std::size_t i = 0;
    while (vals[i + 1].value * m <= a) ++i;
    const auto v0 = vals[i], v1 = vals[i + 1];
    const double mid = (v0.value + v1.value) / 2 * m;
    if (a < mid) return v0.value;
    if (a > mid) return v1.value;
    return (v0.code & 1u) == 0 ? v0.value : v1.value;
  }
  return std::clamp(S, lo, hi);
}

RefResult reference(const Scheme& s, const QuantOptions& o, const std::vector<double>& x,
                    const std::vector<std::int64_t>& shape, int axis) {
  const std::int64_t n = static_cast<std::int64_t>(x.size());
  std::map<std::vector<std::int64_t>, std::vector<std::int64_t>> groups;
  for (std::int64_t j = 0; j < n; ++j) groups[group_key(s, shape, axis, j)].push_back(j);
  const bool unsigned_elem = s.element.sign == 0;
  auto counted = [&](double v) { return !std::isnan(v) && (!unsigned_elem || v > 0); };
  auto amax = [&](const std::vector<std::int64_t>& idx) {
    double a = 0;
    for (auto j : idx)
      if (counted(x[static_cast<std::size_t>(j)])) a = std::max(a, std::fabs(x[static_cast<std::size_t>(j)]));
    return a;
  };
  double st = 1.0;
  if (s.second_level) {
    double at = 0;
    for (const auto& [k, idx] : groups) at = std::max(at, amax(idx));
    const float den = static_cast<float>(s.element.max_value() * s.scale.max_value());
    st = at == 0 ? 0.0 : (std::isinf(at) ? std::numeric_limits<float>::max()
                                          : std::max(static_cast<double>(static_cast<float>(at) / den), 0x1p-149));
  }
  const bool f32 = s.scale.is_f32 || s.second_level;
  const Oracle elem(s.element);
  const double emax = elem.max(), emin = elem.values().front().value;
  RefResult r;
  r.values.assign(x.size(), 0.0);
  for (const auto& [k, idx] : groups) {
    const double gs = ref_group_scale(s, amax(idx), st);
    const double S = s.second_level ? std::min(static_cast<double>(static_cast<float>(gs) * static_cast<float>(st)),
                                               static_cast<double>(std::numeric_limits<float>::max()))
                                    : gs;
    r.scales.push_back(S);
    for (const auto j : idx) {
      const double v = x[static_cast<std::size_t>(j)];
      double& y = r.values[static_cast<std::size_t>(j)];
      ++r.counts.count;
      if (std::isnan(v)) {
        y = NAN;
        ++r.counts.nan_inputs;
        continue;
      }
      if (unsigned_elem && v < 0) {
        y = 0.0;
        ++r.counts.neg_clipped;
        continue;
      }
      if (S == 0) {
        y = 0.0;
        r.counts.overflow += v != 0;
        continue;
      }
      const double t = f32 ? static_cast<double>(static_cast<float>(v) / static_cast<float>(S)) : v / S;
      const auto q = elem(t, o.rounding, o.saturate);
      const double qv = q.is_nan ? NAN : q.pick.value;
      y = f32 ? static_cast<double>(static_cast<float>(qv) * static_cast<float>(S)) : qv * S;
      if (t > emax || t < emin) ++r.counts.overflow;
      else if (v != 0 && qv == 0) ++r.counts.underflow;
    }
  }
  return r;
}

/// Values that stress the scale rules, drawn per group so that blocks differ.
std::vector<double> make_tensor(const Scheme& s, const std::vector<std::int64_t>& shape, int axis, std::uint32_t seed,
                                bool specials) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  std::mt19937 gen(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uni(0, 1);
  std::map<std::vector<std::int64_t>, int> kind;  // per group: what to stress
  std::map<std::vector<std::int64_t>, double> mag;
  std::vector<double> x(static_cast<std::size_t>(n));
  const double emax_sig = s.element.max_value() / pow2_at_or_below(s.element.max_value());
  for (std::int64_t j = 0; j < n; ++j) {
    const auto key = group_key(s, shape, axis, j);
    if (!kind.count(key)) {
      kind[key] = static_cast<int>(gen() % 8);
      mag[key] = std::exp2(std::floor(uni(gen) * 60 - 30));
    }
    const double m = mag[key];
    double v = normal(gen) * m;
    switch (kind[key]) {
      case 0: v = 0.0; break;  // zero block
      case 1: v = static_cast<float>(normal(gen) * 1e-39); break;  // float32 subnormals
      case 2:  // amax exactly on the element's largest significand, or just past it
      case 3: {
        const double edge = emax_sig * m;
        if (gen() % 4 == 0) v = kind[key] == 2 ? edge : std::nextafter(static_cast<float>(edge), INFINITY);
        else v = std::fmod(v, edge);
        if (gen() % 2) v = -std::fabs(v);
        break;
      }
      default: break;
    }
    if (specials) {
      const auto r = gen() % 97;
      if (r == 0) v = NAN;
      if (r == 1) v = INFINITY;
      if (r == 2) v = -INFINITY;
    }
    x[static_cast<std::size_t>(j)] = static_cast<double>(static_cast<float>(v));
  }
  return x;
}

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b)); }

void expect_counts(const QuantCounts& got, const QuantCounts& want, const std::string& what) {
  EXPECT_EQ(got.count, want.count) << what;
  EXPECT_EQ(got.nan_inputs, want.nan_inputs) << what;
  EXPECT_EQ(got.overflow, want.overflow) << what;
  EXPECT_EQ(got.underflow, want.underflow) << what;
  EXPECT_EQ(got.neg_clipped, want.neg_clipped) << what;
}

const char* kSchemes[] = {
    "mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4", "mxint8", "nvfp4",
    "e4m3fn/block32:e8m0:fit", "e2m1/block32:e8m0:fit", "i8b6-sym/block32:e8m0:fit", "e2m1/block16:e4m3fn:amax",
    "i8-sym/tensor:f32:amax", "i8-sym/channel:f32:amax", "u8/block32:e8m0:fit", "s0e4m4b10/block16:e8m0:floor",
    "e5m2/channel:e8m0:fit", "e4m3fn/tensor:e8m0:fit", "e4m3fn/block7:e8m0:floor", "i4/block8:e8m0:floor",
    "s1e3m2b3/block32:e5m2:amax", "e4m3fn/block16:s0e5m0b15:fit",
};

struct Case {
  std::vector<std::int64_t> shape;
  int axis;
};
const Case kCases[] = {{{5, 70}, 1}, {{3, 40, 3, 3}, 1}, {{100}, 0}, {{4, 33}, 0}, {{2, 6, 50}, 2}, {{8, 64}, 1}};

TEST(SchemeQuantizer, MatchesTheBruteForceReference) {
  std::uint32_t seed = 1;
  int checked = 0;
  for (const char* name : kSchemes) {
    const Scheme s = Scheme::parse(name);
    for (const Case& c : kCases)
      for (bool specials : {false, true}) {
        const auto x = make_tensor(s, c.shape, c.axis, seed++, specials);
        const GroupLayout layout = GroupLayout::for_shape(c.shape, c.axis);
        const SchemeQuantizer q(s);
        const RefResult ref = reference(s, {}, x, c.shape, c.axis);
        const std::string what = std::string(name) + " shape " + std::to_string(c.shape.size()) + "d seed " +
                                 std::to_string(seed - 1);
        // Scales: the same multiset (group orders differ between the two indexings).
        std::vector<double> got_scales = q.scales(std::span<const double>(x), layout), want = ref.scales;
        std::sort(got_scales.begin(), got_scales.end());
        std::sort(want.begin(), want.end());
        EXPECT_EQ(got_scales, want) << what;
        std::vector<double> yd(x.size());
        expect_counts(q.quantize(std::span<const double>(x), std::span<double>(yd), layout), ref.counts, what + " double");
        std::vector<float> xf(x.begin(), x.end()), yf(x.size());
        expect_counts(q.quantize(std::span<const float>(xf), std::span<float>(yf), layout), ref.counts, what + " float");
        int bad = 0;
        for (std::size_t j = 0; j < x.size() && bad < 5; ++j) {
          // float32 output: the exact result rounded to float32 (an Inf under e8m0's largest
          // scale, 448 * 2^127, is beyond float32 and becomes Inf there).
          const double want_f = static_cast<double>(static_cast<float>(ref.values[j]));
          if (!same(yd[j], ref.values[j]) || !same(static_cast<double>(yf[j]), want_f)) {
            ++bad;
            ADD_FAILURE() << what << " x[" << j << "]=" << x[j] << ": double " << yd[j] << ", float " << yf[j]
                          << ", reference " << ref.values[j];
          }
        }
        ++checked;
      }
  }
  EXPECT_EQ(checked, static_cast<int>(std::size(kSchemes) * std::size(kCases) * 2));
}

TEST(SchemeQuantizer, OtherRoundingsAndNonSaturatingMatchTheReference) {
  std::uint32_t seed = 1000;
  for (const char* name : {"mxfp8_e4m3", "mxfp8_e5m2", "mxfp4", "mxint8", "nvfp4", "e4m3fn/block32:e8m0:fit"})
    for (Rounding rnd : {Rounding::Rtz, Rounding::Rna, Rounding::Rne})
      for (bool sat : {true, false}) {
        QuantOptions o;
        o.rounding = rnd;
        o.saturate = sat;
        const Scheme s = Scheme::parse(name);
        const Case c = kCases[seed % std::size(kCases)];
        const auto x = make_tensor(s, c.shape, c.axis, seed++, true);
        const GroupLayout layout = GroupLayout::for_shape(c.shape, c.axis);
        const SchemeQuantizer q(s, o);
        const RefResult ref = reference(s, o, x, c.shape, c.axis);
        std::vector<float> xf(x.begin(), x.end()), yf(x.size());
        const std::string what = std::string(name) + " " + std::string(to_string(rnd)) + (sat ? " sat" : " nonsat");
        expect_counts(q.quantize(std::span<const float>(xf), std::span<float>(yf), layout), ref.counts, what);
        for (std::size_t j = 0; j < x.size(); ++j)
          ASSERT_TRUE(same(static_cast<double>(yf[j]), static_cast<double>(static_cast<float>(ref.values[j]))))
              << what << " x=" << x[j] << " got " << yf[j] << " want " << ref.values[j];
      }
}

TEST(SchemeQuantizer, StochasticIsOneOfTheTwoNeighboursAndPathsAgree) {
  QuantOptions o;
  o.rounding = Rounding::Stochastic;
  o.seed = 7;
  for (const char* name : {"mxfp8_e4m3", "mxfp4", "mxint8", "nvfp4"}) {
    const Scheme s = Scheme::parse(name);
    const std::vector<std::int64_t> shape = {6, 70};
    const auto x = make_tensor(s, shape, 1, 77, false);
    const GroupLayout layout = GroupLayout::for_shape(shape);
    const SchemeQuantizer q(s, o);
    std::vector<double> yd(x.size());
    q.quantize(std::span<const double>(x), std::span<double>(yd), layout);
    std::vector<float> xf(x.begin(), x.end()), yf(x.size());
    q.quantize(std::span<const float>(xf), std::span<float>(yf), layout);
    // The reference's lo/hi candidates: round down and up (rtz on |x| and its neighbour).
    QuantOptions lo = o;
    lo.rounding = Rounding::Rtz;
    const RefResult down = reference(s, lo, x, shape, 1);
    for (std::size_t j = 0; j < x.size(); ++j) {
      EXPECT_TRUE(same(static_cast<double>(yf[j]), yd[j])) << name << " " << x[j];
      EXPECT_LE(std::fabs(down.values[j]), std::fabs(yd[j])) << name << " " << x[j];
    }
  }
}

TEST(SchemeQuantizer, PlainSchemeIsExactlyTheQuantizer) {
  std::mt19937 gen(3);
  std::normal_distribution<float> nd(0.f, 30.f);
  std::vector<float> x(5000);
  for (auto& v : x) v = nd(gen);
  x[7] = NAN;
  x[8] = INFINITY;
  x[9] = -1e-30f;
  const GroupLayout l = GroupLayout::flat(static_cast<std::int64_t>(x.size()));
  for (const char* name : {"s1e4m3b7-fn", "s0e4m4b10", "e5m2", "i8b6-sym", "s1e5m2b15-nosub"}) {
    QuantOptions o;
    o.saturate = false;
    const Quantizer ref(Format::parse(name), o);
    const SchemeQuantizer q(Scheme::parse(name), o);
    std::vector<float> a(x.size()), b(x.size());
    const QuantCounts ca = ref.quantize(std::span<const float>(x), std::span<float>(a));
    const QuantCounts cb = q.quantize(std::span<const float>(x), std::span<float>(b), l);
    expect_counts(cb, ca, name);
    for (std::size_t j = 0; j < x.size(); ++j)
      EXPECT_EQ(std::bit_cast<std::uint32_t>(a[j]), std::bit_cast<std::uint32_t>(b[j])) << name << " " << x[j];
  }
}

TEST(SchemeQuantizer, Int8SchemeIsTheInt8BaselineBitForBit) {
  std::mt19937 gen(4);
  std::normal_distribution<float> nd(0.f, 3.f);
  std::vector<float> x(20000);
  for (auto& v : x) v = nd(gen) * (gen() % 5 == 0 ? 100.f : 1.f);
  x[3] = INFINITY;  // saturates in both (the baseline's scale comes from max|x| of finite data here)
  const GroupLayout l = GroupLayout::flat(static_cast<std::int64_t>(x.size()));
  const SchemeQuantizer q(Scheme::parse("i8-sym/tensor:f32:amax"));
  double max_abs = 0;
  for (std::size_t j = 0; j < x.size(); ++j)
    if (j != 3) max_abs = std::max(max_abs, static_cast<double>(std::fabs(x[j])));
  const auto base = infer::Int8Quantizer::for_max_abs(max_abs);
  const double scale = q.group_scale(max_abs);
  EXPECT_EQ(static_cast<float>(scale), base.scale);
  std::vector<float> a(x.size()), b(x.size());
  const QuantCounts ca = base.quantize(std::span<const float>(x), std::span<float>(a));
  const std::vector<double> scales = {scale};
  const QuantCounts cb = q.quantize_with_scales(std::span<const float>(x), std::span<float>(b), l, scales);
  expect_counts(cb, ca, "int8");
  // Equal values; the one difference in bits: the baseline's nearbyint gives -0 for a small negative
  // x, the integer element has no -0 (+0).
  for (std::size_t j = 0; j < x.size(); ++j) {
    if (a[j] == 0.f) ASSERT_EQ(b[j], 0.f) << x[j];
    else ASSERT_EQ(std::bit_cast<std::uint32_t>(a[j]), std::bit_cast<std::uint32_t>(b[j])) << x[j];
  }
  // A zero scale (calibration data all zero): everything 0, non-zero values counted as overflow.
  const std::vector<double> zero = {0.0};
  const auto z = infer::Int8Quantizer::for_max_abs(0.0);
  const QuantCounts za = z.quantize(std::span<const float>(x), std::span<float>(a));
  const QuantCounts zb = q.quantize_with_scales(std::span<const float>(x), std::span<float>(b), l, zero);
  expect_counts(zb, za, "int8 zero scale");
  for (std::size_t j = 0; j < x.size(); ++j) ASSERT_EQ(a[j], b[j]);
}

TEST(SchemeQuantizer, FloorAndFitDifferJustPastTheLargestSignificand) {
  // e4m3fn: max 448 = 1.75 * 2^8. A block whose amax is 448 * 2^-4 = 28 gets scale 2^-4 under both
  // rules; amax 28.5 has floor scale 2^-4 (28.5 / 2^-4 = 456 saturates to 448) and fit scale 2^-3.
  const GroupLayout l = GroupLayout::flat(4);
  const SchemeQuantizer floor_q(Scheme::parse("mxfp8_e4m3")), fit_q(Scheme::parse("e4m3fn/block32:e8m0:fit"));
  const std::vector<float> on = {28.f, 1.f, -3.f, 0.f}, past = {28.5f, 1.f, -3.f, 0.f};
  EXPECT_EQ(floor_q.scales(std::span<const float>(on), l), std::vector<double>{0x1p-4});
  EXPECT_EQ(fit_q.scales(std::span<const float>(on), l), std::vector<double>{0x1p-4});
  EXPECT_EQ(floor_q.scales(std::span<const float>(past), l), std::vector<double>{0x1p-4});
  EXPECT_EQ(fit_q.scales(std::span<const float>(past), l), std::vector<double>{0x1p-3});
  std::vector<float> y(4);
  const QuantCounts c = floor_q.quantize(std::span<const float>(past), std::span<float>(y), l);
  EXPECT_EQ(y, (std::vector<float>{28.f, 1.f, -3.f, 0.f}));
  EXPECT_EQ(c.overflow, 1u);  // 456 saturated to 448
  fit_q.quantize(std::span<const float>(past), std::span<float>(y), l);
  EXPECT_EQ(y, (std::vector<float>{28.f, 1.f, -3.f, 0.f}));  // 228 -> 224 (spacing 16 in [128, 256)) = 28
}

TEST(SchemeQuantizer, EncodeDecodeRoundTripAndScaleCodes) {
  std::uint32_t seed = 500;
  for (const char* name : kSchemes) {
    const Scheme s = Scheme::parse(name);
    for (const Case& c : kCases) {
      const auto xd = make_tensor(s, c.shape, c.axis, seed++, true);
      const std::vector<float> x(xd.begin(), xd.end());
      const GroupLayout layout = GroupLayout::for_shape(c.shape, c.axis);
      const SchemeQuantizer q(s);
      std::vector<std::uint16_t> codes(x.size());
      std::vector<std::uint32_t> scodes;
      std::vector<float> y(x.size());
      const QuantCounts ce = q.encode(std::span<const float>(x), layout, codes, scodes);
      const QuantCounts cq = q.quantize(std::span<const float>(x), std::span<float>(y), layout);
      expect_counts(ce, cq, name);
      const GroupGeometry geo = group_geometry(s, layout);
      ASSERT_EQ(scodes.size(), static_cast<std::size_t>(geo.groups()) + (s.second_level ? 1 : 0)) << name;
      std::vector<double> back(x.size());
      q.decode(codes, scodes, layout, back);
      for (std::size_t j = 0; j < x.size(); ++j) {
        if (std::isnan(x[j]) && !s.element.has_nan()) continue;  // code 0, counted
        ASSERT_TRUE(same(static_cast<double>(static_cast<float>(back[j])), static_cast<double>(y[j]))) << name << " x=" << x[j] << " " << back[j] << " vs " << y[j];
      }
      // Scale codes decode to the scales (e8m0: code = exponent + 127).
      const std::vector<double> sc = q.scales(std::span<const float>(x), layout);
      for (std::size_t g = 0; g < sc.size(); ++g) {
        if (s.scale.is_f32) {
          EXPECT_EQ(std::bit_cast<float>(scodes[g]), static_cast<float>(sc[g])) << name;
        } else if (!s.second_level) {
          EXPECT_EQ(decode(s.scale.format, scodes[g]).value, sc[g]) << name;
        }
        if (s.scale.format == Format::parse("e8m0") && !s.scale.is_f32) {
          EXPECT_EQ(static_cast<int>(scodes[g]) - 127, std::ilogb(sc[g])) << name;
        }
      }
    }
  }
}

TEST(SchemeQuantizer, ZeroBlocksGetTheSmallestScaleAndZeros) {
  const std::vector<std::int64_t> shape = {2, 64};
  const GroupLayout l = GroupLayout::for_shape(shape);
  std::vector<float> x(128, 0.f);
  for (int j = 64; j < 96; ++j) x[static_cast<std::size_t>(j)] = 1.5f;
  x[10] = -0.f;
  x[20] = NAN;
  for (const char* name : {"mxfp8_e4m3", "mxfp4", "nvfp4", "mxint8"}) {
    const SchemeQuantizer q(Scheme::parse(name));
    std::vector<std::uint16_t> codes(x.size());
    std::vector<std::uint32_t> sc;
    const QuantCounts c = q.encode(x, l, codes, sc);
    EXPECT_EQ(c.nan_inputs, 1u);
    EXPECT_EQ(c.underflow + c.overflow, 0u) << name;
    EXPECT_EQ(sc[0], 0u) << name;  // e8m0 code 0 = 2^-127; e4m3fn code 0 = 0
    EXPECT_EQ(sc[1], 0u) << name;
    EXPECT_EQ(sc[3], 0u) << name;
    std::vector<float> y(x.size());
    q.quantize(std::span<const float>(x), std::span<float>(y), l);
    for (std::size_t j = 0; j < x.size(); ++j)
      if (j != 20) {
        EXPECT_EQ(y[j], x[j]) << name << " " << j;
      }
    EXPECT_EQ(std::signbit(y[10]), !Scheme::parse(name).element.is_int()) << name;  // integers have no -0
  }
}

TEST(SchemeQuantizer, Nvfp4TwoLevelByHand) {
  // Tensor amax 2688 = 6 * 448 gives the tensor scale 1; a block with amax 3 gets the E4M3 scale
  // 0.5 (3 / 6), so its values round on E2M1's grid (0, 0.5, 1, 1.5, 2, 3, 4, 6) times 0.5:
  // 1.3 / 0.5 = 2.6 -> 3, i.e. 1.5.
  std::vector<float> x(32, 0.f);
  x[0] = 2688.f;
  x[16] = 3.f;
  x[17] = 1.3f;
  x[18] = -0.2f;  // 0.4 -> 0.5 -> 0.25
  const GroupLayout l = GroupLayout::flat(32);
  const SchemeQuantizer q(Scheme::parse("nvfp4"));
  EXPECT_EQ(q.tensor_scale(2688.0), 1.0);
  EXPECT_EQ(q.scales(std::span<const float>(x), l), (std::vector<double>{448.0, 0.5}));
  std::vector<float> y(32);
  q.quantize(std::span<const float>(x), std::span<float>(y), l);
  EXPECT_EQ(y[0], 2688.f);
  EXPECT_EQ(y[16], 3.f);
  EXPECT_EQ(y[17], 1.5f);
  EXPECT_EQ(y[18], -0.25f);
}

TEST(SchemeQuantizer, ThreadsAndChunksDoNotChangeResults) {
  const std::vector<std::int64_t> shape = {64, 1000};  // several chunks of the fast path
  for (const char* name : {"mxfp8_e4m3", "mxfp4", "nvfp4", "i8-sym/channel:f32:amax"}) {
    const Scheme s = Scheme::parse(name);
    const auto xd = make_tensor(s, shape, 1, 9, true);
    const std::vector<float> x(xd.begin(), xd.end());
    const GroupLayout l = GroupLayout::for_shape(shape);
    QuantOptions o1, o2;
    o1.threads = 1;
    o2.threads = 2;
    o1.rounding = o2.rounding = Rounding::Stochastic;
    std::vector<float> a(x.size()), b(x.size());
    const QuantCounts ca = SchemeQuantizer(s, o1).quantize(std::span<const float>(x), std::span<float>(a), l);
    const QuantCounts cb = SchemeQuantizer(s, o2).quantize(std::span<const float>(x), std::span<float>(b), l);
    expect_counts(ca, cb, name);
    for (std::size_t j = 0; j < x.size(); ++j) ASSERT_TRUE(same(a[j], b[j])) << name;
  }
}

TEST(SchemeQuantizer, BadSizesAreDataErrors) {
  const SchemeQuantizer q(Scheme::parse("mxfp4"));
  std::vector<float> x(10), y(9);
  EXPECT_THROW(q.quantize(std::span<const float>(x), std::span<float>(y), GroupLayout::flat(10)), DataError);
  EXPECT_THROW(q.quantize(std::span<const float>(x), std::span<float>(x), GroupLayout::flat(11)), DataError);
  const std::vector<double> two = {1.0, 1.0};
  EXPECT_THROW(q.quantize_with_scales(std::span<const float>(x), std::span<float>(x), GroupLayout::flat(10), two),
               DataError);
}

}  // namespace
}  // namespace ffp8
