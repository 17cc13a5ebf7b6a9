// Every quantizer path against the brute-force oracle (oracle.hpp), over whole code spaces:
// all 8-bit formats (sign 0/1, every exponent width, bias -10 .. 2^e+10, every valid `specials`,
// subnormals on and off) and sampled formats of widths 4..16.
#include <bit>
#include <cmath>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <limits>
#include <mutex>
#include <random>
#include <vector>

#include "core/errors.hpp"
#include "tests/core/quant/oracle.hpp"

namespace ffp8 {
namespace {

using test::Oracle;

/// Test inputs for a format: its values, midpoints, one float32 ulp either side, zero, ±max,
/// beyond max, ±Inf, NaN, float32 subnormals, and `random` random float32 bit patterns.
std::vector<float> test_points(const Oracle& o, std::size_t random, std::uint64_t seed) {
  std::vector<double> base;
  const auto& v = o.values();
  // Formats up to 12 bits: every value; wider ones: every stride-th value, plus the ends.
  const std::size_t stride = std::max<std::size_t>(1, v.size() / 4096);
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i % stride != 0 && i + 2 < v.size() && i > 2) continue;
    base.push_back(v[i].value);
    if (i + 1 < v.size()) base.push_back((v[i].value + v[i + 1].value) / 2);
  }
  const double mx = o.max();
  for (double x : {0.0, mx, mx * 1.5, mx * 4, mx * 1e30}) base.push_back(x);
  std::vector<float> pts;
  auto add = [&pts](float f) {
    pts.push_back(f);
    pts.push_back(-f);
  };
  for (double x : base) {
    const auto f = static_cast<float>(x);
    if (std::isinf(f) && !std::isinf(x)) continue;
    add(f);
    add(std::nextafter(f, 0.0f));
    add(std::nextafter(f, std::numeric_limits<float>::infinity()));
  }
  // Exactly max + ulp/2 (the non-saturating overflow threshold) and its float neighbours.
  for (double frac : {0.25, 0.5, 0.75}) {
    const double top_ulp = mx - v[v.size() - 2].value;
    const auto f = static_cast<float>(mx + frac * top_ulp);
    add(f);
    add(std::nextafter(f, 0.0f));
    add(std::nextafter(f, std::numeric_limits<float>::infinity()));
  }
  add(std::numeric_limits<float>::infinity());
  add(std::numeric_limits<float>::max());
  add(std::numeric_limits<float>::denorm_min());
  add(std::numeric_limits<float>::min());
  add(std::bit_cast<float>(0x00400001u));
  pts.push_back(std::numeric_limits<float>::quiet_NaN());
  pts.push_back(-std::numeric_limits<float>::quiet_NaN());
  std::mt19937_64 gen(seed);
  for (std::size_t i = 0; i < random; ++i) pts.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(gen())));
  return pts;
}

struct Failures {
  std::mutex mu;
  std::vector<std::string> list;
  std::size_t total = 0;
  void add(std::string s) {
    std::lock_guard lock(mu);
    ++total;
    if (list.size() < 25) list.push_back(std::move(s));
  }
};

/// Checks scalar round(), batch quantize() and encode() against the oracle for one format and
/// option set. Returns the number of points checked.
std::size_t check(const Format& f, const Oracle& o, Rounding r, bool saturate, const std::vector<float>& pts,
                  Failures& fails) {
  QuantOptions opt;
  opt.rounding = r;
  opt.saturate = saturate;
  opt.seed = 99;
  opt.threads = 1;
  const Quantizer q(f, opt);
  std::vector<float> fast(pts.size());
  std::vector<std::uint16_t> codes(pts.size());
  if (q.float32_output()) q.quantize(pts, fast);
  q.encode(pts, codes);
  const auto ctx = [&](float x) {
    return fmt::format("{} {} {}: x={:a}", f.name(), to_string(r), saturate ? "sat" : "nosat", x);
  };
  for (std::size_t i = 0; i < pts.size(); ++i) {
    const float x = pts[i];
    const Rounded got = q.round(x, i);
    const test::OracleResult want = o(x, r, saturate);
    if (want.is_nan) {
      const bool code_is_nan = f.has_nan() && decode(f, got.code).kind == CodeKind::Nan;
      if (!std::isnan(got.value) || (f.has_nan() && !code_is_nan))
        fails.add(ctx(x) + fmt::format(" want NaN, got {} code {:#x}", got.value, got.code));
    } else if (r == Rounding::Stochastic) {
      const bool ok = (got.value == want.pick.value && got.code == want.pick.code) ||
                      (got.value == want.hi.value && got.code == want.hi.code);
      if (!ok) fails.add(ctx(x) + fmt::format(" want {} or {}, got {}", want.pick.value, want.hi.value, got.value));
    } else if (!(got.value == want.pick.value && std::signbit(got.value) == std::signbit(want.pick.value) &&
                 got.code == want.pick.code)) {
      fails.add(ctx(x) + fmt::format(" want {} (code {:#x}), got {} (code {:#x})", want.pick.value, want.pick.code,
                                     got.value, got.code));
    }
    // Batch paths (fast kernels or the exact batch path) agree with the scalar path bit for bit.
    if (q.float32_output()) {
      const auto expect = static_cast<float>(got.value);
      const bool same = std::isnan(expect) ? std::isnan(fast[i])
                                           : std::bit_cast<std::uint32_t>(expect) == std::bit_cast<std::uint32_t>(fast[i]);
      if (!same) fails.add(ctx(x) + fmt::format(" batch value {:a} != scalar {:a}", fast[i], expect));
    }
    if (codes[i] != got.code) fails.add(ctx(x) + fmt::format(" batch code {:#x} != scalar {:#x}", codes[i], got.code));
  }
  return pts.size();
}

std::vector<Specials> all_specials() { return {Specials::None, Specials::Ieee, Specials::Fn, Specials::Fnuz}; }

bool valid(const Format& f) {
  try {
    f.validate();
    return true;
  } catch (const FormatError&) {
    return false;
  }
}

void run_formats(const std::vector<Format>& formats, std::size_t random_rne, std::size_t random_other,
                 std::size_t min_points_expected) {
  Failures fails;
  std::size_t points = 0;
#pragma omp parallel for schedule(dynamic) reduction(+ : points)
  for (std::size_t k = 0; k < formats.size(); ++k) {
    const Format& f = formats[k];
    const Oracle o(f);
    const auto pts_rne = test_points(o, random_rne, k);
    const auto pts_other = test_points(o, random_other, k + 7);
    points += check(f, o, Rounding::Rne, true, pts_rne, fails);
    points += check(f, o, Rounding::Rne, false, pts_other, fails);
    points += check(f, o, Rounding::Rna, true, pts_other, fails);
    points += check(f, o, Rounding::Rna, false, pts_other, fails);
    points += check(f, o, Rounding::Rtz, true, pts_other, fails);
    points += check(f, o, Rounding::Rtz, false, pts_other, fails);
    points += check(f, o, Rounding::Stochastic, true, pts_other, fails);
  }
  EXPECT_GE(points, min_points_expected);
  EXPECT_EQ(fails.total, 0u) << "first failures:\n" << fmt::format("{}", fmt::join(fails.list, "\n"));
}

TEST(QuantizeOracle, Every8BitFormat) {
  std::vector<Format> formats;
  std::size_t invalid = 0;
  for (int sign = 0; sign <= 1; ++sign)
    for (int e = 1; e <= 8 - sign; ++e)
      for (int b = -10; b <= (1 << e) + 10; ++b)
        for (Specials sp : all_specials())
          for (bool sub : {true, false}) {
            const Format f{sign, e, 8 - sign - e, b, sp, sub};
            if (valid(f)) formats.push_back(f);
            else ++invalid;
          }
  // sign 1: sum over e=1..7 of (2^e + 21) biases x 4 specials x 2; sign 0: e=1..8, 3 specials.
  EXPECT_EQ(formats.size() + invalid, 401u * 8 + 678u * 8);
  EXPECT_GT(formats.size(), 6000u);
  run_formats(formats, 100000, 2000, formats.size() * 100000);
}

/// Every 8-bit member the first test does not cover: exponent width 0, the -inf and -nz
/// modifiers (every specials, subnormals on/off/nz, bias -10 .. 2^e+10), integers i8/u8 (bias
/// -10..10, -sym) and every preset (P3109 8-bit family, E8M0, OCP FP4/FP6, ...). Every code,
/// midpoint, ±1 float32 ulp, the overflow tie, ±Inf and NaN; fewer random points.
TEST(QuantizeOracle, Every8BitNewMember) {
  std::vector<Format> formats;
  for (int sign = 0; sign <= 1; ++sign)
    for (int e = 0; e <= 8 - sign; ++e)
      for (int b = -10; b <= (1 << e) + 10; ++b)
        for (Specials sp : all_specials())
          for (bool inf : {false, true})
            for (int sub = 0; sub < 3; ++sub) {  // on, off, nz
              Format f{sign, e, 8 - sign - e, b, sp, sub != 1};
              f.inf = inf;
              f.no_zero = sub == 2;
              if (e >= 1 && !inf && !f.no_zero) continue;  // Every8BitFormat has these
              if (valid(f)) formats.push_back(f);
            }
  std::size_t ints = 0;
  for (int b = -10; b <= 10; ++b) {
    formats.push_back(Format::integer(8, true, b));
    formats.push_back(Format::integer(8, true, b, true));
    formats.push_back(Format::integer(8, false, b));
    ints += 3;
  }
  for (const Preset& p : presets()) formats.push_back(Format::parse(p.alias));
  EXPECT_GT(formats.size(), 5000u);
  EXPECT_EQ(ints, 63u);
  run_formats(formats, 300, 100, formats.size() * 1000);
}

/// Integer members of every width 2..16 (i, i-sym, u) at a few scales.
TEST(QuantizeOracle, IntegerWidths2To16) {
  std::vector<Format> formats;
  for (int n = 2; n <= 16; ++n)
    for (int b : {-3, 0, 5, n})
      for (int kind = 0; kind < 3; ++kind) formats.push_back(Format::integer(n, kind < 2, b, kind == 1));
  run_formats(formats, 5000, 1000, formats.size() * 5000);
}

TEST(QuantizeOracle, SampledWidths4To16) {
  std::vector<Format> formats;
  std::mt19937 gen(5);
  for (int width = 4; width <= 16; ++width) {
    if (width == 8) continue;
    for (int sign = 0; sign <= 1; ++sign)
      for (int e = 1; e <= 8 && e <= width - sign; ++e) {
        const int m = width - sign - e;
        if (m > 15) continue;
        const int ieee_bias = (1 << (e - 1)) - 1;
        std::uniform_int_distribution<int> any_bias(-10, (1 << e) + 10);
        for (int b : {-10, ieee_bias, (1 << e) + 10, any_bias(gen)})
          for (Specials sp : all_specials())
            for (bool sub : {true, false}) {
              const Format f{sign, e, m, b, sp, sub};
              // Wide formats: one representative per (sign, e) keeps the run short.
              if (width >= 13 && (b != ieee_bias || !sub)) continue;
              if (valid(f)) formats.push_back(f);
            }
      }
  }
  EXPECT_GT(formats.size(), 800u);
  run_formats(formats, 20000, 1000, formats.size() * 20000);
}

TEST(QuantizeOracle, Float64InputsAndFormatsBeyondFloat32) {
  // Exact double path: midpoints and one double-ulp neighbours, for formats whose values
  // leave float32's range (bias 200: values down to 2^-214; bias -150: up to 2^405).
  Failures fails;
  std::size_t checked = 0;
  for (const Format f : {Format{1, 8, 7, 200, Specials::None, true}, Format{0, 8, 8, -150, Specials::Ieee, true},
                         Format{1, 5, 2, 15, Specials::Ieee, true}, Format{1, 4, 3, 7, Specials::Fn, false}}) {
    const Oracle o(f);
    for (Rounding r : {Rounding::Rne, Rounding::Rna, Rounding::Rtz})
      for (bool sat : {true, false}) {
        QuantOptions opt;
        opt.rounding = r;
        opt.saturate = sat;
        const Quantizer q(f, opt);
        const auto& v = o.values();
        for (std::size_t i = 0; i + 1 < v.size(); ++i) {
          const double mid = (v[i].value + v[i + 1].value) / 2;
          for (double x : {v[i].value, mid, std::nextafter(mid, -INFINITY), std::nextafter(mid, INFINITY)}) {
            const Rounded got = q.round(x);
            const auto want = o(x, r, sat);
            ++checked;
            if (got.value != want.pick.value || got.code != want.pick.code)
              fails.add(fmt::format("{} {} x={:a}: want {:a} got {:a}", f.name(), to_string(r), x, want.pick.value,
                                    got.value));
          }
        }
      }
  }
  EXPECT_GT(checked, 10000u);
  EXPECT_EQ(fails.total, 0u) << fmt::format("{}", fmt::join(fails.list, "\n"));
}

}  // namespace
}  // namespace ffp8
