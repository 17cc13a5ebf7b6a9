// Power-of-two-scaled formats from the one-pass statistics against a brute-force reference
// (per group: the scale by the rule from the group's values, then each value rounded by the
// element's Quantizer): every sum must agree to 1e-9 relative, every count exactly.
#include <algorithm>
#include <bit>
#include <cmath>
#include <gtest/gtest.h>
#include <random>
#include <vector>

#include "core/errors.hpp"
#include "core/format/codec.hpp"
#include "explore/metrics/score_scaled.hpp"
#include "explore/stats/scaled_stats.hpp"
#include "tests/explore/hard_tensors.hpp"

using namespace ffp8;
using namespace ffp8::explore;

namespace {

using test::close;

using Groups = std::vector<std::vector<std::size_t>>;  // flat indices of each group

/// Element formats: the 8-bit space (both signs, every exponent width) with its IEEE-like bias,
/// specials and no-subnormal variants, and the narrow OCP elements (not s0e8m0b127: its
/// max(V) = 2^128 needs scales below e8m0's range for data near 1).
std::vector<Format> elements() {
  std::vector<Format> out;
  for (int sign : {0, 1})
    for (int e = 1; e + sign <= 8 && e < 8; ++e) out.push_back(Format::make(sign, e, 8 - sign - e, (1 << (e - 1)) - 1));
  for (const char* n : {"e4m3fn", "e5m2", "e2m1", "e3m2", "e2m3", "s1e4m3b7-nosub", "s0e4m4b5"}) out.push_back(Format::parse(n));
  return out;
}

std::vector<double> thresholds_of(const std::vector<Format>& fs) {
  std::vector<double> t;
  for (const Format& f : fs) t.push_back(max_significand(f));
  return t;
}

/// The brute-force reference of one scaled format.
ErrorSums reference(const std::vector<float>& x, const Groups& groups, const Format& f, const PowerOfTwoScale& sc,
                    const QuantOptions& o) {
  const Quantizer q(f, o);
  const double vmax = f.max_value();
  ErrorSums s;
  long double sse = 0;
  for (const auto& g : groups) {
    double a = 0;
    for (std::size_t i : g) a = std::max(a, f.sign == 0 ? static_cast<double>(x[i]) : std::fabs(static_cast<double>(x[i])));
    int e = sc.min_exp;  // a == 0: the smallest scale
    if (a > 0) {
      if (sc.fit) {  // the smallest power of two S with S * max(V) >= a
        e = std::ilogb(a) - std::ilogb(vmax) - 3;
        while (std::ldexp(vmax, e) < a) ++e;
      } else {
        e = static_cast<int>(std::floor(std::log2(a))) - static_cast<int>(std::floor(std::log2(vmax)));
      }
      e = std::clamp(e, sc.min_exp, sc.max_exp);
    }
    for (std::size_t i : g) {
      const double xi = x[i];
      const double r = std::ldexp(q.round(std::ldexp(xi, -e)).value, e);
      const double err = r - xi;
      s.count += 1;
      if (f.sign == 0 && xi < 0) s.neg_clipped += 1;
      else if (std::fabs(xi) > std::ldexp(vmax, e)) s.overflow += 1;
      else if (xi != 0 && r == 0) s.underflow += 1;
      sse += static_cast<long double>(err) * err;
      s.sum_x2 += xi * xi;
      s.sum_xq += xi * r;
      s.sum_q2 += r * r;
      s.max_abs = std::max(s.max_abs, std::fabs(err));
      if (xi != 0) {
        s.rel_sum += std::fabs(err) / std::fabs(xi);
        s.rel_count += 1;
      }
    }
  }
  s.sse = static_cast<double>(sse);
  return s;
}

std::vector<ScaledStats> collect_both(const std::vector<float>& x, const Groups& groups,
                                      const std::vector<double>& thresholds) {
  std::vector<ScaledStats> out;
  for (bool positive : {false, true}) {
    ScaledCollector c(thresholds, positive, 2, true);
    std::vector<float> buf;
    for (const auto& g : groups) {
      buf.clear();
      for (std::size_t i : g) buf.push_back(x[i]);
      c.add_group(buf);
    }
    out.push_back(c.finish());
  }
  return out;
}

/// Blocks of k along the last axis of a [rows, cols] tensor (a shorter tail block per row).
Groups blocks(std::size_t rows, std::size_t cols, std::size_t k) {
  Groups g;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c0 = 0; c0 < cols; c0 += k) {
      g.emplace_back();
      for (std::size_t c = c0; c < std::min(cols, c0 + k); ++c) g.back().push_back(r * cols + c);
    }
  return g;
}

/// A tensor of hard blocks: Gaussian blocks over a wide range of scales, zero blocks, blocks of
/// an element format's values and midpoints whose largest magnitude sits exactly on that
/// format's max(V) times a power of two (where floor and fit part), or one float32 step above
/// or below it, and blocks of the exactness tests' hard values (restricted to [2^-60, 2^60]).
std::vector<float> hard_blocks(std::size_t n, std::size_t k, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_int_distribution<int> pow2(-30, 30);
  std::vector<Format> fs;  // elements whose values stay float32 numbers at every scale used
  for (const Format& f : elements())
    if (f.max_value() < 0x1p90 && f.min_positive() > 0x1p-90) fs.push_back(f);
  std::vector<float> hard;
  for (float v : test::hard_tensor(seed))
    if (v == 0 || (std::fabs(v) >= 0x1p-60f && std::fabs(v) <= 0x1p60f)) hard.push_back(v);
  std::vector<float> x(n);
  for (std::size_t b0 = 0, blk = 0; b0 < n; b0 += k, ++blk) {
    const std::size_t len = std::min(k, n - b0);
    float* p = x.data() + b0;
    switch (blk % 6) {
      case 0: {
        const float s = std::ldexp(1.0f, pow2(gen));
        for (std::size_t i = 0; i < len; ++i) p[i] = nd(gen) * s;
        break;
      }
      case 1:
        for (std::size_t i = 0; i < len; ++i) p[i] = (i % 3 == 0) ? -0.0f : 0.0f;
        break;
      case 5:
        for (std::size_t i = 0; i < len; ++i) p[i] = hard[gen() % hard.size()];
        break;
      default: {  // format points around the group's max on a significand boundary
        const Format& f = fs[gen() % fs.size()];
        const int k2 = pow2(gen);
        std::vector<double> vals;
        for (std::uint32_t c = 0; c < f.code_count(); ++c) {
          const CodeValue v = decode(f, c);
          if (v.kind == CodeKind::Finite && v.value >= 0) vals.push_back(v.value);
        }
        std::sort(vals.begin(), vals.end());
        for (std::size_t i = 0; i < len; ++i) {
          const std::size_t at = gen() % vals.size();
          double v = vals[at];
          if (gen() % 2 && at + 1 < vals.size()) v = 0.5 * (v + vals[at + 1]);  // a tie
          float fv = static_cast<float>(std::ldexp(v, k2));
          if (gen() % 4 == 0) fv = std::nextafter(fv, gen() % 2 ? INFINITY : 0.0f);
          p[i] = gen() % 3 == 0 ? -fv : fv;
        }
        float top = static_cast<float>(std::ldexp(f.max_value(), k2));
        if (blk % 6 == 3) top = std::nextafter(top, (blk / 6) % 2 ? INFINITY : 0.0f);
        p[gen() % len] = top;
        break;
      }
    }
  }
  return x;
}

struct Tally {
  int points = 0, disagreements = 0;
};

void compare_all(const std::vector<float>& x, const Groups& groups, Tally& t, bool expect_exact = true) {
  const std::vector<Format> fs = elements();
  const std::vector<ScaledStats> st = collect_both(x, groups, thresholds_of(fs));
  const PreparedScaled prep[2] = {PreparedScaled(st[0]), PreparedScaled(st[1])};
  const ScoreNeeds needs{false, true};
  for (const Format& f : fs)
    for (bool fit : {false, true})
      for (Rounding r : {Rounding::Rne, Rounding::Rna, Rounding::Rtz})
        for (bool sat : {true, false}) {
          QuantOptions o;
          o.rounding = r;
          o.saturate = sat;
          const PowerOfTwoScale sc{fit, -127, 127};
          const auto got = score_scaled(prep[f.sign == 0 ? 1 : 0], f, sc, o, needs);
          if (!expect_exact) continue;
          ++t.points;
          if (!got) {
            ++t.disagreements;
            ADD_FAILURE() << f.name() << (fit ? " fit" : " floor") << " sat " << sat << ": not scored from statistics";
            continue;
          }
          const ErrorSums want = reference(x, groups, f, sc, o);
          const bool ok = got->count == want.count && close(got->sse, want.sse) && close(got->sum_x2, want.sum_x2) &&
                          close(got->sum_xq, want.sum_xq) && close(got->sum_q2, want.sum_q2) &&
                          close(got->max_abs, want.max_abs) && close(got->rel_sum, want.rel_sum) &&
                          got->rel_count == want.rel_count && got->overflow == want.overflow &&
                          got->underflow == want.underflow && got->neg_clipped == want.neg_clipped;
          if (!ok) {
            ++t.disagreements;
            if (t.disagreements < 8)
              ADD_FAILURE() << f.name() << (fit ? " fit " : " floor ") << static_cast<int>(r) << " sat " << sat
                            << ": mse " << got->mse() << " vs " << want.mse() << ", overflow " << got->overflow
                            << " vs " << want.overflow << ", underflow " << got->underflow << " vs "
                            << want.underflow << ", max " << got->max_abs << " vs " << want.max_abs << ", x2 "
                            << got->sum_x2 << " vs " << want.sum_x2 << ", xq " << got->sum_xq << " vs " << want.sum_xq
                            << ", q2 " << got->sum_q2 << " vs " << want.sum_q2 << ", rel " << got->rel_sum << " vs "
                            << want.rel_sum;
          }
        }
}

}  // namespace

TEST(ScaledExactness, Block32WithTailBlocksAgreesWithReference) {
  // [rows, 100]: three blocks of 32 and a tail of 4 per row.
  const std::size_t rows = 240, cols = 100;
  std::vector<float> x = hard_blocks(rows * cols, 32, 7);
  for (std::size_t r = 0; r < rows; ++r) x[r * cols + cols - 1] = std::fabs(x[r * cols + cols - 1]) + 1.0f;  // a positive per tail
  Tally t;
  compare_all(x, blocks(rows, cols, 32), t);
  EXPECT_GT(t.points, 250);
  EXPECT_EQ(t.disagreements, 0);
}

TEST(ScaledExactness, FlatBlocksOfEveryKindAgreeWithReference) {
  std::vector<float> x = hard_blocks(32 * 600 + 13, 32, 11);
  x.back() = 3.0f;
  // Kept groups, scored value by value: a value 2^-158 of its group's maximum (its quotient is
  // no float32), and a block of negatives only (unsigned elements: a == 0, clipped to 0).
  x[64] = 1024.0f;
  x[65] = 3 * 0x1p-148f;
  for (std::size_t i = 128; i < 160; ++i) x[i] = -std::fabs(x[i]) - 1.0f;
  const std::vector<ScaledStats> st = collect_both(x, blocks(1, x.size(), 32), thresholds_of(elements()));
  EXPECT_GE(st[0].kept_ends.size(), 1u);
  EXPECT_GE(st[1].kept_ends.size(), st[0].kept_ends.size() + 1);
  Tally t;
  compare_all(x, blocks(1, x.size(), 32), t);
  EXPECT_EQ(t.disagreements, 0);
}

TEST(ScaledExactness, ChannelAndTensorScalesAgreeWithReference) {
  const std::size_t rows = 48, cols = 96;
  std::vector<float> x = hard_blocks(rows * cols, 96, 3);  // one kind of block per row
  for (std::size_t r = 0; r < rows; ++r) x[r * cols] = std::fabs(x[r * cols]) + 0.5f;
  Tally t;
  compare_all(x, blocks(rows, cols, cols), t);  // channel: one group per row
  compare_all(x, blocks(1, rows * cols, rows * cols), t);  // tensor: one group
  EXPECT_EQ(t.disagreements, 0);
}

TEST(ScaledExactness, SignificandBoundariesSplitSlotsForFit) {
  // Groups whose amax is exactly max(V) of e4m3fn (significand 1.75) and one float32 step above:
  // fit keeps the scale for the first and doubles it for the second; floor keeps both.
  const Format f = Format::parse("e4m3fn");
  const std::vector<float> x = {448.0f, 1.0f, -3.0f, std::nextafter(448.0f, INFINITY), 1.0f, -3.0f};
  const Groups g = {{0, 1, 2}, {3, 4, 5}};
  const std::vector<ScaledStats> st = collect_both(x, g, {max_significand(f)});
  ASSERT_EQ(st[0].slots.size(), 2u);
  EXPECT_EQ(st[0].slots[0].f, 8);
  EXPECT_EQ(st[0].slots[0].j, 0);
  EXPECT_EQ(st[0].slots[1].j, 1);
  const PreparedScaled prep(st[0]);
  for (bool fit : {false, true}) {
    const auto got = score_scaled(prep, f, {fit, -127, 127}, {}, {});
    ASSERT_TRUE(got);
    const ErrorSums want = reference(x, g, f, {fit, -127, 127}, {});
    EXPECT_TRUE(close(got->sse, want.sse)) << got->sse << " vs " << want.sse;
    EXPECT_EQ(got->overflow, fit ? 0.0 : 1.0);  // floor saturates the value above 448
  }
}

TEST(ScaledExactness, ClampedScalesAndIrregularGroupsAreLeftToTheDirectPath) {
  const Format f = Format::parse("e4m3fn");
  // A group whose largest magnitude is 2^-140: floor wants 2^(-140 - 8), beyond e8m0's 2^-127.
  {
    const std::vector<float> x = {0x1p-140f, 0x1p-141f};
    const std::vector<ScaledStats> st = collect_both(x, {{0, 1}}, {max_significand(f)});
    EXPECT_EQ(st[0].irregular_groups, 0u);
    const PreparedScaled prep(st[0]);
    EXPECT_FALSE(score_scaled(prep, f, {false, -127, 127}, {}, {}));
    EXPECT_TRUE(score_scaled(prep, f, {false, -160, 127}, {}, {}));
  }
  // s0e8m0b127 (max(V) = 2^128) on data near 1 needs a scale of 2^-128.
  {
    const Format u = Format::parse("s0e8m0b127");
    const std::vector<float> x = {1.0f, 0.5f};
    const std::vector<ScaledStats> st = collect_both(x, {{0, 1}}, {max_significand(u)});
    EXPECT_FALSE(score_scaled(PreparedScaled(st[1]), u, {false, -127, 127}, {}, {}));
    EXPECT_TRUE(score_scaled(PreparedScaled(st[1]), u, {false, -128, 127}, {}, {}));
  }
  // ±Inf; an unsigned group of negatives only (a == 0 beside non-zero values) is kept.
  {
    const std::vector<float> x = {1.0f, INFINITY, -1.0f, -2.0f};
    const std::vector<ScaledStats> st = collect_both(x, {{0, 1}, {2, 3}}, {max_significand(f)});
    EXPECT_EQ(st[0].irregular_groups, 1u);
    EXPECT_EQ(st[1].irregular_groups, 1u);
    EXPECT_EQ(st[1].kept_ends.size(), 1u);  // kept, scored value by value
    EXPECT_FALSE(score_scaled(PreparedScaled(st[0]), f, {false, -127, 127}, {}, {}));
  }
  // kl_div is not additive over slots; the wrong kind of statistics is refused.
  {
    const std::vector<float> x = {1.0f, 2.0f};
    const std::vector<ScaledStats> st = collect_both(x, {{0, 1}}, {max_significand(f)});
    EXPECT_FALSE(score_scaled(PreparedScaled(st[0]), f, {false, -127, 127}, {}, {true, false}));
    EXPECT_FALSE(score_scaled(PreparedScaled(st[1]), f, {false, -127, 127}, {}, {}));
    EXPECT_TRUE(score_scaled(PreparedScaled(st[0]), f, {false, -127, 127}, {}, {}));
  }
}

TEST(ScaledExactness, ZeroGroupsCountAndNothingElse) {
  const Format f = Format::parse("e2m1");
  const std::vector<float> x = {0.0f, -0.0f, 0.0f, 1.5f, -6.0f, 0.25f};
  const Groups g = {{0, 1, 2}, {3, 4, 5}};
  const std::vector<ScaledStats> st = collect_both(x, g, {max_significand(f)});
  EXPECT_EQ(st[0].zero_values, 3u);
  for (bool fit : {false, true}) {
    const auto got = score_scaled(PreparedScaled(st[0]), f, {fit, -127, 127}, {}, {false, true});
    ASSERT_TRUE(got);
    const ErrorSums want = reference(x, g, f, {fit, -127, 127}, {});
    EXPECT_EQ(got->count, 6.0);
    EXPECT_TRUE(close(got->sse, want.sse));
    EXPECT_EQ(got->rel_count, want.rel_count);
  }
}
