// Stochastic rounding: the statistics path gives the expected squared error, exact from n, S1,
// S2; checked against the expectation computed value by value from the format's value set.
#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>

#include "explore/metrics/score.hpp"
#include "tests/explore/hard_tensors.hpp"

using namespace ffp8;
using namespace ffp8::explore;

namespace {

/// E[(q - x)^2] for one value by brute force over the sorted finite values of f.
double expected_sq_err(const std::vector<double>& v, const Format& f, double x) {
  if (f.sign == 0 && x < 0) return x * x;
  const double a = std::fabs(x);
  if (a > v.back()) return (a - v.back()) * (a - v.back());
  const auto it = std::lower_bound(v.begin(), v.end(), a);
  if (*it == a) return 0.0;
  const double hi = *it, lo = *(it - 1);
  return (a - lo) * (hi - a);
}

}  // namespace

TEST(Stochastic, ExpectedSseMatchesBruteForce) {
  const std::vector<float> x = test::hard_tensor(5);
  const BucketStats st = collect(x, 1);
  const PreparedStats prep(st);
  QuantOptions o;
  o.rounding = Rounding::Stochastic;
  int checked = 0, bad = 0;
  for (int sign : {0, 1})
    for (int e = 2; e <= 6; ++e)
      for (int b : {-5, 3, 7, 11, 18}) {
        const Format f = Format::make(sign, e, 8 - sign - e, b);
        std::vector<double> v;
        for (std::uint32_t c = 0; c < f.code_count(); ++c) {
          const CodeValue cv = decode(f, c);
          if (cv.kind == CodeKind::Finite && cv.value >= 0) v.push_back(cv.value);
        }
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
        double want = 0;
        for (float xi : x) want += expected_sq_err(v, f, xi);
        const auto s = score_stats(prep, f, o, {});
        ASSERT_TRUE(s.has_value()) << f.name();
        ++checked;
        if (!(std::fabs(s->sse - want) <= 1e-9 * std::max(std::fabs(want), std::fabs(s->sse)))) {
          ++bad;
          ADD_FAILURE() << f.name() << ": " << s->sse << " vs " << want;
        }
      }
  EXPECT_EQ(checked, 50);
  EXPECT_EQ(bad, 0);
}

TEST(Stochastic, SeededDirectSampleIsNearTheExpectation) {
  // One seeded sample over many values lands near the expectation (law of large numbers).
  std::vector<float> x;
  std::mt19937 gen(3);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int i = 0; i < 200000; ++i) x.push_back(nd(gen));
  const BucketStats st = collect(x, 1);
  const PreparedStats prep(st);
  QuantOptions o;
  o.rounding = Rounding::Stochastic;
  o.seed = 11;
  const Format f = Format::parse("s1e4m3b7");
  const auto s = score_stats(prep, f, o, {});
  ASSERT_TRUE(s);
  DirectScorer d(f, o, {}, prep.max_abs());
  d.add(x, 0);
  const ErrorSums sample = d.finish();
  EXPECT_NEAR(sample.sse / s->sse, 1.0, 0.02);
}
