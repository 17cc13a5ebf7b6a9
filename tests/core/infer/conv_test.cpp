// conv2d paths against each other and against a float64 direct loop, on random shapes: the
// register-blocked kernel (the default) and the depthwise loop must equal im2col + GEMM (the
// reference path) up to float32 summation order, for strides, paddings, dilations, groups,
// depthwise, channel counts off the kernel's 8-lane blocks and pixel counts off its 7-pixel tiles.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/infer/ops.hpp"

namespace ffp8::infer {
namespace {

struct ConvCase {
  std::int64_t n, ci, h, w, co, kh, kw;
  int s0, s1, p0, p1, d0, d1, groups;
  bool bias;
};

// The conv node of a case; output size as PyTorch computes it (floor).
Node conv_node(const ConvCase& c, std::mt19937& g) {
  Node nd;
  nd.name = "conv";
  nd.op = Op::Conv2d;
  nd.stride = {c.s0, c.s1};
  nd.padding = {c.p0, c.p1};
  nd.dilation = {c.d0, c.d1};
  nd.groups = c.groups;
  const std::int64_t ho = (c.h + 2 * c.p0 - c.d0 * (c.kh - 1) - 1) / c.s0 + 1;
  const std::int64_t wo = (c.w + 2 * c.p1 - c.d1 * (c.kw - 1) - 1) / c.s1 + 1;
  nd.shape = {c.co, ho, wo};
  std::normal_distribution<float> d(0.0f, 1.0f);
  nd.weight.shape = {c.co, c.ci / c.groups, c.kh, c.kw};
  nd.weight.data.resize(static_cast<std::size_t>(numel(nd.weight.shape)));
  for (auto& v : nd.weight.data) v = d(g);
  if (c.bias) {
    nd.bias.shape = {c.co};
    for (std::int64_t i = 0; i < c.co; ++i) nd.bias.data.push_back(d(g));
  }
  return nd;
}

// float64 direct convolution (the definition).
std::vector<double> reference(const Node& nd, const ConvCase& c, const std::vector<float>& x) {
  const std::int64_t ho = nd.shape[1], wo = nd.shape[2], cig = c.ci / c.groups, cog = c.co / c.groups;
  std::vector<double> y(static_cast<std::size_t>(c.n * c.co * ho * wo));
  for (std::int64_t b = 0; b < c.n; ++b)
    for (std::int64_t o = 0; o < c.co; ++o)
      for (std::int64_t i = 0; i < ho; ++i)
        for (std::int64_t j = 0; j < wo; ++j) {
          double s = c.bias ? nd.bias.data[static_cast<std::size_t>(o)] : 0.0;
          for (std::int64_t ch = 0; ch < cig; ++ch)
            for (std::int64_t ki = 0; ki < c.kh; ++ki)
              for (std::int64_t kj = 0; kj < c.kw; ++kj) {
                const std::int64_t ih = i * c.s0 - c.p0 + ki * c.d0, iw = j * c.s1 - c.p1 + kj * c.d1;
                if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w) continue;
                const std::int64_t in_ch = (o / cog) * cig + ch;
                s += double(x[static_cast<std::size_t>(((b * c.ci + in_ch) * c.h + ih) * c.w + iw)]) *
                     nd.weight.data[static_cast<std::size_t>(((o * cig + ch) * c.kh + ki) * c.kw + kj)];
              }
          y[static_cast<std::size_t>(((b * c.co + o) * ho + i) * wo + j)] = s;
        }
  return y;
}

using ConvPath = void (*)(const Node&, const Shape&, const float*, const float*, const float*, float*, std::int64_t,
                          int);

// Largest |path - reference| relative to the largest |reference|.
double path_error(ConvPath path, const Node& nd, const ConvCase& c, const std::vector<float>& x,
                  const std::vector<double>& ref, int threads) {
  std::vector<float> y(ref.size(), std::nanf(""));
  path(nd, {c.ci, c.h, c.w}, nd.weight.data.data(), c.bias ? nd.bias.data.data() : nullptr, x.data(), y.data(), c.n,
       threads);
  double err = 0.0, scale = 1e-30;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    err = std::max(err, std::abs(double(y[i]) - ref[i]));  // NaN (an output never written) fails below
    if (std::isnan(y[i])) err = INFINITY;
    scale = std::max(scale, std::abs(ref[i]));
  }
  return err / scale;
}

void expect_paths_agree(const ConvCase& c, unsigned seed) {
  std::mt19937 g(seed);
  const Node nd = conv_node(c, g);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(c.n * c.ci * c.h * c.w));
  for (auto& v : x) v = d(g);
  const auto ref = reference(nd, c, x);
  const std::string what = ::testing::PrintToString(std::vector<std::int64_t>{
      c.n, c.ci, c.h, c.w, c.co, c.kh, c.kw, c.s0, c.s1, c.p0, c.p1, c.d0, c.d1, c.groups, c.bias});
  // float32 sums of up to a few hundred terms: 1e-5 of the largest output is far above rounding
  // and far below any wrong tap (a missing or extra term moves an output by O(1)).
  for (int threads : {1, 2}) {
    EXPECT_LT(path_error(ops::conv2d_gemm, nd, c, x, ref, threads), 1e-5) << "gemm " << what;
    EXPECT_LT(path_error(ops::conv2d_blocked, nd, c, x, ref, threads), 1e-5) << "blocked " << what;
    EXPECT_LT(path_error(ops::conv2d, nd, c, x, ref, threads), 1e-5) << "conv2d " << what;
    if (c.ci == c.groups) {
      EXPECT_LT(path_error(ops::conv2d_depthwise, nd, c, x, ref, threads), 1e-5) << "depthwise " << what;
    }
  }
}

TEST(InferConv, PathsAgreeOnTheZooShapes) {
  // resnet_small's convs (stem, 3x3 at 14x14 and 7x7, stride-2 3x3 and 1x1 shortcut), MobileNet
  // depthwise and pointwise convs, more depthwise shapes.
  const ConvCase cases[] = {
      {3, 1, 28, 28, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, false},  {2, 24, 14, 14, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, false},
      {2, 24, 14, 14, 48, 3, 3, 2, 2, 1, 1, 1, 1, 1, false}, {2, 24, 14, 14, 48, 1, 1, 2, 2, 0, 0, 1, 1, 1, false},
      {2, 48, 7, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, true},    {2, 32, 7, 7, 32, 3, 3, 1, 1, 1, 1, 1, 1, 32, true},
      {2, 32, 7, 7, 16, 1, 1, 1, 1, 0, 0, 1, 1, 1, true},
      // depthwise, stride 1 (the padded-grid path): 14x14, dilated, 5x5 unpadded, multiplier 2
      {2, 16, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16, false}, {1, 8, 9, 11, 8, 3, 3, 1, 1, 2, 2, 2, 2, 8, true},
      {1, 6, 12, 12, 6, 5, 5, 1, 1, 0, 0, 1, 1, 6, true},     {2, 5, 10, 7, 10, 3, 2, 1, 1, 1, 0, 1, 1, 5, false},
      {2, 72, 14, 14, 72, 3, 3, 2, 2, 1, 1, 1, 1, 72, false},
  };
  unsigned seed = 1;
  for (const ConvCase& c : cases) expect_paths_agree(c, seed++);
}

TEST(InferConv, PathsAgreeOnRandomShapes) {
  std::mt19937 g(2024);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(g); };
  for (int t = 0; t < 150; ++t) {
    ConvCase c{};
    c.groups = pick(0, 3) == 0 ? pick(2, 4) : 1;
    const bool depthwise = pick(0, 4) == 0;
    c.ci = depthwise ? pick(1, 12) : c.groups * pick(1, 9);
    c.co = depthwise ? c.ci * pick(1, 2) : c.groups * pick(1, 30);  // off and on 8-lane blocks
    if (depthwise) c.groups = static_cast<int>(c.ci);
    c.n = pick(1, 3);
    c.kh = pick(1, 5);
    c.kw = pick(1, 5);
    c.s0 = pick(1, 3);
    c.s1 = pick(1, 3);
    c.d0 = pick(1, 2);
    c.d1 = pick(1, 2);
    c.p0 = pick(0, 3);
    c.p1 = pick(0, 3);
    c.bias = pick(0, 1) == 1;
    // Input at least one window in size (after padding), so the output has a pixel.
    c.h = std::max<std::int64_t>(pick(1, 16), c.d0 * (c.kh - 1) + 1 - 2 * c.p0);
    c.w = std::max<std::int64_t>(pick(1, 16), c.d1 * (c.kw - 1) + 1 - 2 * c.p1);
    expect_paths_agree(c, static_cast<unsigned>(t));
  }
}

}  // namespace
}  // namespace ffp8::infer
