// INT8 per-tensor symmetric quantizer: round half to even, clamp to ±127 steps, the scale rule,
// a zero tensor (scale 0) and NaN counting.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/infer/int8.hpp"

namespace ffp8::infer {
namespace {

std::vector<float> run(const Int8Quantizer& q, const std::vector<float>& x, QuantCounts* counts = nullptr, int threads = 1) {
  std::vector<float> y(x.size());
  const QuantCounts c = q.quantize(x, y, threads);
  if (counts) *counts = c;
  return y;
}

TEST(Int8Quantizer, ScaleIsMaxAbsOver127InFloat32) {
  EXPECT_EQ(Int8Quantizer::for_max_abs(127.0).scale, 1.0f);
  EXPECT_EQ(Int8Quantizer::for_max_abs(3.0).scale, 3.0f / 127.0f);
  EXPECT_EQ(Int8Quantizer::for_max_abs(0.0).scale, 0.0f);
  EXPECT_DOUBLE_EQ(Int8Quantizer::for_max_abs(127.0).max_value(), 127.0);
}

TEST(Int8Quantizer, TiesGoToEven) {
  const Int8Quantizer q{1.0f};
  QuantCounts c;
  const auto y = run(q, {0.5f, 1.5f, 2.5f, -2.5f, 3.5f, 126.5f, -0.5f, 0.49f, 2.51f}, &c);
  EXPECT_EQ(y, (std::vector<float>{0.0f, 2.0f, 2.0f, -2.0f, 4.0f, 126.0f, -0.0f, 0.0f, 3.0f}));
  EXPECT_TRUE(std::signbit(y[6]));  // -0.5 -> -0, as torch.round gives
  EXPECT_EQ(c.count, 9u);
  EXPECT_EQ(c.underflow, 3u);  // 0.5, -0.5, 0.49
  EXPECT_EQ(c.overflow, 0u);
  // Through the scale rule: max 31.75 gives scale 0.25; ties are those of x / scale.
  const Int8Quantizer s = Int8Quantizer::for_max_abs(31.75);
  ASSERT_EQ(s.scale, 0.25f);
  EXPECT_EQ(run(s, {0.625f, 0.875f, -0.625f, 31.75f}), (std::vector<float>{0.5f, 1.0f, -0.5f, 31.75f}));
}

TEST(Int8Quantizer, ClampsTo127StepsAndCountsOverflow) {
  const Int8Quantizer q{0.5f};  // max 63.5
  const float inf = std::numeric_limits<float>::infinity();
  QuantCounts c;
  const auto y = run(q, {63.5f, 63.6f, 1000.0f, -1e30f, inf, -inf, -63.5f}, &c);
  EXPECT_EQ(y, (std::vector<float>{63.5f, 63.5f, 63.5f, -63.5f, 63.5f, -63.5f, -63.5f}));
  EXPECT_EQ(c.overflow, 5u);
  EXPECT_EQ(c.underflow, 0u);
  EXPECT_EQ(c.neg_clipped, 0u);
}

TEST(Int8Quantizer, ZeroTensorHasScaleZeroAndNoNaN) {
  const Int8Quantizer q = Int8Quantizer::for_max_abs(0.0);
  QuantCounts c;
  const auto y = run(q, {0.0f, -0.0f, 0.0f}, &c);
  for (float v : y) EXPECT_EQ(v, 0.0f);
  EXPECT_EQ(c.overflow + c.underflow + c.nan_inputs, 0u);
  // A later input that is not zero (activations beyond an all-zero calibration) becomes 0, counted.
  const auto z = run(q, {2.0f, -1e-30f}, &c);
  EXPECT_EQ(z, (std::vector<float>{0.0f, 0.0f}));
  EXPECT_EQ(c.overflow, 2u);
}

TEST(Int8Quantizer, NaNStaysNaNAndIsCounted) {
  const Int8Quantizer q{1.0f};
  QuantCounts c;
  const auto y = run(q, {1.0f, std::nanf(""), -3.0f}, &c);
  EXPECT_TRUE(std::isnan(y[1]));
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[2], -3.0f);
  EXPECT_EQ(c.nan_inputs, 1u);
  EXPECT_EQ(c.count, 3u);
}

TEST(Int8Quantizer, ValuesAreOnTheGridAndThreadsDoNotMatter) {
  std::mt19937 g(3);
  std::normal_distribution<float> d(0.0f, 2.0f);
  std::vector<float> x(100001);
  float mx = 0;
  for (float& v : x) mx = std::max(mx, std::abs(v = d(g)));
  const Int8Quantizer q = Int8Quantizer::for_max_abs(mx);
  QuantCounts c1, c2;
  const auto y1 = run(q, x, &c1, 1), y2 = run(q, x, &c2, 2);
  EXPECT_EQ(y1, y2);
  EXPECT_EQ(c1.underflow, c2.underflow);
  EXPECT_EQ(c1.overflow, 0u);  // the max itself maps to 127 steps
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float k = std::nearbyint(y1[i] / q.scale);  // y = k * scale, k an integer of at most 127
    ASSERT_EQ(y1[i], k * q.scale) << i;
    ASSERT_LE(std::abs(k), 127.0f);
    ASSERT_LE(std::abs(x[i] - y1[i]), 0.5f * q.scale * (1 + 1e-6f)) << i;  // nearest grid point
  }
}

}  // namespace
}  // namespace ffp8::infer
