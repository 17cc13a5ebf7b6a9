// maxpool2d / avgpool2d (one separable kernel) against the layout doc's definition written out
// per output element, on random shapes: padding, stride, dilation (max), ceil_mode,
// count_include_pad on and off, divisor_override, NaN propagation through max.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "core/infer/ops.hpp"

namespace ffp8::infer {
namespace {

// Reference of docs/hdf5-layout.md, one output at a time.
std::vector<float> reference(const Node& nd, const Shape& in, const std::vector<float>& x, std::int64_t n) {
  const std::int64_t c = in[0], h = in[1], w = in[2], ho = nd.shape[1], wo = nd.shape[2];
  const bool max = nd.op == Op::MaxPool2d;
  std::vector<float> y(static_cast<std::size_t>(n * c * ho * wo));
  for (std::int64_t p = 0; p < n * c; ++p)
    for (std::int64_t i = 0; i < ho; ++i)
      for (std::int64_t j = 0; j < wo; ++j) {
        double acc = max ? -INFINITY : 0.0;
        std::int64_t hs = i * nd.stride[0] - nd.padding[0], ws = j * nd.stride[1] - nd.padding[1];
        std::int64_t he = std::min<std::int64_t>(hs + nd.kernel[0], h + nd.padding[0]);
        std::int64_t we = std::min<std::int64_t>(ws + nd.kernel[1], w + nd.padding[1]);
        const std::int64_t pool = (he - hs) * (we - ws);
        std::int64_t taps = 0;
        for (std::int64_t a = 0; a < nd.kernel[0]; ++a)
          for (std::int64_t b = 0; b < nd.kernel[1]; ++b) {
            const std::int64_t ih = hs + a * (max ? nd.dilation[0] : 1), iw = ws + b * (max ? nd.dilation[1] : 1);
            if (ih < 0 || ih >= h || iw < 0 || iw >= w || (!max && (ih >= he || iw >= we))) continue;
            const double v = x[static_cast<std::size_t>((p * h + ih) * w + iw)];
            acc = max ? (std::isnan(v) || std::isnan(acc) ? NAN : std::max(acc, v)) : acc + v;
            ++taps;
          }
        if (!max) {
          const std::int64_t div = nd.divisor_override ? *nd.divisor_override : nd.count_include_pad ? pool : taps;
          acc /= double(div);
        }
        y[static_cast<std::size_t>((p * ho + i) * wo + j)] = static_cast<float>(acc);
      }
  return y;
}

TEST(InferPool, MaxAndAvgMatchTheLayoutDefinition) {
  std::mt19937 g(7);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(g); };
  std::normal_distribution<float> d(0.0f, 1.0f);
  int nan_cases = 0;
  for (int t = 0; t < 300; ++t) {
    Node nd;
    nd.name = "pool";
    nd.op = t % 2 ? Op::MaxPool2d : Op::AvgPool2d;
    const bool max = nd.op == Op::MaxPool2d;
    nd.kernel = {pick(1, 4), pick(1, 4)};
    nd.stride = {pick(1, 3), pick(1, 3)};
    nd.padding = {pick(0, nd.kernel[0] / 2), pick(0, nd.kernel[1] / 2)};  // PyTorch's limit
    if (max) nd.dilation = {pick(1, 2), pick(1, 2)};
    nd.ceil_mode = pick(0, 1) == 1;
    nd.count_include_pad = pick(0, 1) == 1;
    if (!max && pick(0, 3) == 0) nd.divisor_override = pick(1, 9);
    const std::int64_t n = pick(1, 2);
    const Shape in{pick(1, 3), pick(1, 12) + (nd.kernel[0] - 1) * nd.dilation[0], pick(1, 12) + (nd.kernel[1] - 1) * nd.dilation[1]};
    nd.shape = infer_shape(nd, {in}, "test");
    std::vector<float> x(static_cast<std::size_t>(n * numel(in)));
    for (auto& v : x) v = d(g);
    if (max && t % 10 == 1) {
      x[static_cast<std::size_t>(pick(0, static_cast<int>(x.size()) - 1))] = NAN;
      ++nan_cases;
    }
    const auto ref = reference(nd, in, x, n);
    for (int threads : {1, 2}) {
      std::vector<float> y(ref.size(), 12345.0f);
      (max ? ops::maxpool2d : ops::avgpool2d)(nd, in, x.data(), y.data(), n, threads);
      for (std::size_t i = 0; i < ref.size(); ++i) {
        if (std::isnan(ref[i])) {
          ASSERT_TRUE(std::isnan(y[i])) << "case " << t << " output " << i;
        } else {
          ASSERT_NEAR(y[i], ref[i], 1e-5f * (1.0f + std::abs(ref[i]))) << "case " << t << " output " << i;
        }
      }
    }
  }
  EXPECT_GT(nan_cases, 0);
}

}  // namespace
}  // namespace ffp8::infer
