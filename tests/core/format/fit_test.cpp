// The fit bias against its definition, by brute force over biases.
#include <cmath>
#include <gtest/gtest.h>
#include <random>

#include "core/format/fit.hpp"

namespace ffp8 {
namespace {

TEST(FitBias, LargestBiasWhoseMaxCoversTheData) {
  std::mt19937 gen(1);
  std::uniform_real_distribution<double> log_mag(-40.0, 40.0);
  int checked = 0;
  for (const char* layout : {"s1e4m3b0", "s0e4m4b0", "s1e5m2b0-ieee", "s1e4m3b0-fn", "s1e2m5b0", "s0e8m0b0"}) {
    const Format f = Format::parse(layout);
    for (int i = 0; i < 300; ++i) {
      // Half the draws land exactly on a max(V), where ">=" matters.
      double a = std::exp2(log_mag(gen));
      if (i % 2) {
        Format g = f;
        g.bias = static_cast<int>(std::lround(log_mag(gen)));
        a = g.max_value();
      }
      const int b = fit_bias(f, a);
      Format at = f, above = f;
      at.bias = b;
      above.bias = b + 1;
      EXPECT_GE(at.max_value(), a) << layout << " a=" << a;
      EXPECT_LT(above.max_value(), a) << layout << " a=" << a;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 1800);
}

TEST(FitBias, NoDataGivesTheIeeeBias) {
  EXPECT_EQ(fit_bias(Format::parse("s1e4m3b0"), 0.0), 7);
  EXPECT_EQ(fit_bias(Format::parse("s1e5m2b0"), std::nan("")), 15);
  EXPECT_EQ(fit_bias(Format::parse("s1e4m3b0"), INFINITY), -1000);
}

TEST(FitBias, PaperExample) {
  // Unsigned e4m4 with max|x| = 62 fits exactly at bias 10 (docs/formats.md: s0e4m4b10 has max 62).
  EXPECT_EQ(fit_bias(Format::parse("s0e4m4b0"), 62.0), 10);
  EXPECT_EQ(fit_bias(Format::parse("s0e4m4b0"), 62.0001), 9);
}

}  // namespace
}  // namespace ffp8
