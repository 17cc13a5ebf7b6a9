// The fit bias (docs/formats.md) ("largest b whose max(V) >= a") against brute force, and the
// metric table.
#include <cmath>
#include <gtest/gtest.h>
#include <random>

#include "core/errors.hpp"
#include "explore/metrics/metrics.hpp"
#include "explore/space/space.hpp"

using namespace ffp8;
using namespace ffp8::explore;

TEST(Fit, MatchesBruteForce) {
  std::mt19937 gen(4);
  std::uniform_real_distribution<double> mant(1.0, 2.0);
  std::uniform_int_distribution<int> ex(-60, 60);
  int checked = 0;
  for (int sign : {0, 1})
    for (int e = 1; e + sign <= 8; ++e)
      for (Specials sp : {Specials::None, Specials::Ieee, Specials::Fn}) {
        const FormatTemplate l{sign, e, 8 - sign - e, sp, true};
        try {
          l.with_bias(0).validate();
        } catch (const FormatError&) {
          continue;
        }
        for (int t = 0; t < 40; ++t) {
          double a = std::ldexp(mant(gen), ex(gen));
          if (t % 5 == 0) a = l.with_bias(ex(gen) % 20).max_value();  // exactly a max(V)
          int brute = -1001;
          for (int b = -1000; b <= 1000; ++b)
            if (l.with_bias(b).max_value() >= a) brute = b;
          EXPECT_EQ(fit_bias(l, a), brute) << l.name() << " a=" << a;
          ++checked;
        }
      }
  EXPECT_GT(checked, 500);
  EXPECT_EQ(fit_bias(FormatTemplate{1, 4, 3}, 0.0), 7);  // all-zero tensor: the IEEE bias
}

TEST(Fit, KnownValues) {
  // e4m3 with no specials: max(V) = 2^(15-b) * 1.875 = 480 at b = 7.
  EXPECT_EQ(fit_bias(FormatTemplate{1, 4, 3}, 448.0), 7);
  EXPECT_EQ(fit_bias(FormatTemplate{1, 4, 3}, 480.0), 7);
  EXPECT_EQ(fit_bias(FormatTemplate{1, 4, 3}, 480.5), 6);
  EXPECT_EQ(fit_bias(FormatTemplate{0, 4, 4}, 62.0), 10);  // docs/formats.md: s0e4m4b10 has max 62
}

TEST(Metrics, TableIsConsistent) {
  std::size_t i = 0;
  ErrorSums s;
  s.count = 10;
  s.sse = 2;
  s.sum_x2 = 40;
  s.sum_xq = 39;
  s.sum_q2 = 39;
  s.max_abs = 0.5;
  s.rel_sum = 1;
  s.rel_count = 8;
  s.overflow = 1;
  s.underflow = 2;
  s.neg_clipped = 3;
  for (const MetricInfo& m : kMetrics) {
    EXPECT_EQ(static_cast<std::size_t>(m.id), i++) << m.name;
    ASSERT_TRUE(parse_metric(m.name).has_value()) << m.name;
    EXPECT_EQ(*parse_metric(m.name), m.id);
    EXPECT_EQ(&info(m.id), &m);
    EXPECT_TRUE(std::isfinite(metric_value(m.id, s))) << m.name;
    EXPECT_FALSE(m.doc.empty());
  }
  EXPECT_DOUBLE_EQ(metric_value(Metric::Mse, s), 0.2);
  EXPECT_DOUBLE_EQ(metric_value(Metric::SqnrDb, s), 10 * std::log10(20.0));
  EXPECT_DOUBLE_EQ(metric_value(Metric::NegClippedFrac, s), 0.3);
  EXPECT_FALSE(parse_metric("psnr").has_value());
}

TEST(Space, IntegerFamilyAddsIntAndUintTemplates) {
  SpaceConfig sp;
  sp.width = {8};
  sp.sign = {0, 1};
  sp.exp = {4};
  sp.family_int = true;
  SkipCounts sk;
  const auto both = expand_templates(sp, sk);
  std::vector<std::string> names;
  for (const auto& t : both) names.push_back(t.name());
  EXPECT_EQ(names, (std::vector<std::string>{"u8", "i8", "i8-sym", "s0e4m4", "s1e4m3"}));
  sp.family_float = false;
  const auto ints = expand_templates(sp, sk);
  ASSERT_EQ(ints.size(), 3u);
  // The fit rule holds for integers: i8-sym at b = 5 has max 127/32 >= 3, at b = 6 only 1.98.
  EXPECT_EQ(fit_bias(ints[2], 3.0), 5);
  EXPECT_EQ(ints[2].with_bias(5).name(), "i8b5-sym");
}

TEST(Space, ImpossibleCombinationsAreSkippedAndCounted) {
  SpaceConfig sp;
  sp.width = {8};
  sp.sign = {0, 1};
  sp.exp = {1, 4, 8};
  sp.specials = {Specials::None, Specials::Fnuz};
  sp.man_min = 1;
  SkipCounts sk;
  const auto templates = expand_templates(sp, sk);
  EXPECT_EQ(sk.man_negative, 2u);  // sign 1, exp 8, both specials: man = -1
  EXPECT_EQ(sk.constraint, 2u);    // sign 0, exp 8: man = 0 < man_min (checked before validity)
  EXPECT_EQ(sk.invalid, 2u);       // fnuz without a sign bit (exp 1 and 4)
  EXPECT_EQ(templates.size(), 6u);   // s0e1m7, s0e4m4, s1e1m6, s1e4m3, each signed one also -fnuz
}
