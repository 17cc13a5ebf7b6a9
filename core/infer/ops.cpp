// Float32 kernels of the layout-1 ops other than conv2d (conv.cpp); accumulation is float32.
// Layout-2 ops: tensor_ops.cpp (layout and broadcasting) and math_ops.cpp (activations, softmax,
// layernorm, matmul).
#include "core/infer/ops.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/eigen.hpp"

namespace ffp8::infer::ops {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace

void linear(const Node& nd, const Shape& in, const float* w, const float* bias, const float* x, float* y,
            std::int64_t n, int threads) {
  // Every position of the leading dimensions is one row of the GEMM.
  const std::int64_t f = in.back(), o = nd.shape.back();
  n = n * (numel(in) / f);
  Eigen::Map<const RowMat> wm(w, o, f);
  // Row blocks of the batch per thread; one GEMM each.
  const int nt = static_cast<int>(std::min<std::int64_t>(thread_count(threads), std::max<std::int64_t>(n, 1)));
#pragma omp parallel num_threads(nt)
  {
    omp_set_num_threads(1);  // keeps Eigen's GEMM single-threaded inside this thread
    const std::int64_t t = omp_get_thread_num(), tn = omp_get_num_threads();
    const std::int64_t lo = n * t / tn, hi = n * (t + 1) / tn;
    if (hi > lo) {
      Eigen::Map<const RowMat> xm(x + lo * f, hi - lo, f);
      Eigen::Map<RowMat> ym(y + lo * o, hi - lo, o);
      ym.noalias() = xm * wm.transpose();
      if (bias) {
        Eigen::Map<const Eigen::RowVectorXf> bv(bias, o);
        ym.rowwise() += bv;
      }
    }
  }
}

void batchnorm2d(const Node& nd, const Shape& in, const float* x, float* y, std::int64_t n, int threads) {
  const std::int64_t c = in[0], hw = in[1] * in[2];
  std::vector<float> a(static_cast<std::size_t>(c)), b(static_cast<std::size_t>(c));
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double s = double(nd.weight.data[i]) / std::sqrt(double(nd.var.data[i]) + nd.eps);
    a[i] = static_cast<float>(s);
    b[i] = static_cast<float>(double(nd.bias.data[i]) - double(nd.mean.data[i]) * s);
  }
#pragma omp parallel for schedule(static) num_threads(thread_count(threads))
  for (std::int64_t p = 0; p < n * c; ++p) {
    const auto ch = static_cast<std::size_t>(p % c);
    const float* src = x + p * hw;
    float* dst = y + p * hw;
    const float ai = a[ch], bi = b[ch];
    for (std::int64_t i = 0; i < hw; ++i) dst[i] = src[i] * ai + bi;
  }
}

void relu(const float* x, float* y, std::int64_t count, float cap, int threads) {
#pragma omp parallel for schedule(static) num_threads(thread_count(threads)) if (count > 65536)
  for (std::int64_t i = 0; i < count; ++i) y[i] = std::min(std::max(x[i], 0.0f), cap);
}

namespace {

// The input indices one output row (or column) of a pooling window reads: first + j * step for
// j in [0, count), all inside the input; `pool` is the window's size before clipping to the input.
struct Window {
  std::int64_t first, count, step, pool;
};

// Separable pooling: combine the window's input rows into one row (vectorized over the width),
// then the window's columns of that row; `Op` gives the start value, the combine and the final
// step of one output (which sees its row and column windows).
template <class Op>
void pool2d(const Shape& in, const Node& nd, const std::vector<Window>& rows, const std::vector<Window>& cols,
            const Op& op, const float* x, float* y, std::int64_t n, int threads) {
  const std::int64_t c = in[0], h = in[1], w = in[2], ho = nd.shape[1], wo = nd.shape[2];
#pragma omp parallel num_threads(thread_count(threads)) if (n * c > 1 && threads != 1)
  {
    std::vector<float> tmp(static_cast<std::size_t>(w));
#pragma omp for schedule(static)
    for (std::int64_t p = 0; p < n * c; ++p) {
      const float* src = x + p * h * w;
      float* dst = y + p * ho * wo;
      for (std::int64_t i = 0; i < ho; ++i) {
        const Window& r = rows[static_cast<std::size_t>(i)];
        std::fill(tmp.begin(), tmp.end(), Op::kStart);
        for (std::int64_t a = 0; a < r.count; ++a) {
          const float* row = src + (r.first + a * r.step) * w;
          for (std::int64_t u = 0; u < w; ++u) tmp[static_cast<std::size_t>(u)] = Op::combine(tmp[static_cast<std::size_t>(u)], row[u]);
        }
        for (std::int64_t j = 0; j < wo; ++j) {
          const Window& q = cols[static_cast<std::size_t>(j)];
          float acc = Op::kStart;
          for (std::int64_t b = 0; b < q.count; ++b) acc = Op::combine(acc, tmp[static_cast<std::size_t>(q.first + b * q.step)]);
          dst[i * wo + j] = op.finish(acc, r, q);
        }
      }
    }
  }
}

// Max over the taps inside the input (the padding is -inf). NaN propagates (PyTorch does):
// v + t is NaN when either is.
struct MaxOp {
  static constexpr float kStart = -std::numeric_limits<float>::infinity();
  static float combine(float t, float v) { return (v != v || t != t) ? v + t : std::max(t, v); }
  float finish(float m, const Window&, const Window&) const { return m; }
};

// Sum divided by the layout's divisor: divisor_override, else the unclipped window size with
// count_include_pad, else the taps inside the input.
struct AvgOp {
  const Node& nd;
  static constexpr float kStart = 0.0f;
  static float combine(float t, float v) { return t + v; }
  float finish(float sum, const Window& r, const Window& q) const {
    const std::int64_t div = nd.divisor_override ? *nd.divisor_override
                             : nd.count_include_pad ? r.pool * q.pool
                                                    : r.count * q.count;
    return sum / static_cast<float>(div);
  }
};

}  // namespace

void maxpool2d(const Node& nd, const Shape& in, const float* x, float* y, std::int64_t n, int threads) {
  // Window taps k in [lo, hi) with 0 <= o * s - p + k * d < size, computed once per call.
  auto windows = [](std::int64_t out, std::int64_t size, int k, int s, int p, int d) {
    std::vector<Window> v(static_cast<std::size_t>(out));
    for (std::int64_t o = 0; o < out; ++o) {
      const std::int64_t st = o * s - p;
      std::int64_t lo = 0, hi = k;
      while (lo < hi && st + lo * d < 0) ++lo;
      while (hi > lo && st + (hi - 1) * d >= size) --hi;
      v[static_cast<std::size_t>(o)] = {st + lo * d, hi - lo, d, k};
    }
    return v;
  };
  pool2d(in, nd, windows(nd.shape[1], in[1], nd.kernel[0], nd.stride[0], nd.padding[0], nd.dilation[0]),
         windows(nd.shape[2], in[2], nd.kernel[1], nd.stride[1], nd.padding[1], nd.dilation[1]), MaxOp{}, x, y, n,
         threads);
}

void avgpool2d(const Node& nd, const Shape& in, const float* x, float* y, std::int64_t n, int threads) {
  // Per output row/column: the window clipped to the input, and its size clipped only to the
  // padded input (the pool size of the layout doc).
  auto windows = [](std::int64_t out, std::int64_t size, std::int64_t k, std::int64_t st, std::int64_t pad) {
    std::vector<Window> v(static_cast<std::size_t>(out));
    for (std::int64_t o = 0; o < out; ++o) {
      const std::int64_t a = o * st - pad, b = std::min(a + k, size + pad);
      const std::int64_t s = std::max<std::int64_t>(a, 0), e = std::min(b, size);
      v[static_cast<std::size_t>(o)] = {s, e - s, 1, b - a};
    }
    return v;
  };
  pool2d(in, nd, windows(nd.shape[1], in[1], nd.kernel[0], nd.stride[0], nd.padding[0]),
         windows(nd.shape[2], in[2], nd.kernel[1], nd.stride[1], nd.padding[1]), AvgOp{nd}, x, y, n, threads);
}

void adaptive_avgpool2d(const Node& nd, const Shape& in, const float* x, float* y, std::int64_t n, int threads) {
  const std::int64_t c = in[0], h = in[1], w = in[2], ho = nd.shape[1], wo = nd.shape[2];
#pragma omp parallel for schedule(static) num_threads(thread_count(threads))
  for (std::int64_t p = 0; p < n * c; ++p) {
    const float* src = x + p * h * w;
    float* dst = y + p * ho * wo;
    for (std::int64_t i = 0; i < ho; ++i) {
      const std::int64_t hs = (i * h) / ho, he = ((i + 1) * h + ho - 1) / ho;
      for (std::int64_t j = 0; j < wo; ++j) {
        const std::int64_t ws = (j * w) / wo, we = ((j + 1) * w + wo - 1) / wo;
        float sum = 0.0f;
        for (std::int64_t a = hs; a < he; ++a)
          for (std::int64_t b = ws; b < we; ++b) sum += src[a * w + b];
        dst[i * wo + j] = sum / static_cast<float>((he - hs) * (we - ws));
      }
    }
  }
}

void add(const float* a, const float* b, float* y, std::int64_t count, int threads) {
#pragma omp parallel for schedule(static) num_threads(thread_count(threads)) if (count > 65536)
  for (std::int64_t i = 0; i < count; ++i) y[i] = a[i] + b[i];
}

void cat(const Node& nd, std::span<const Shape> shapes, std::span<const float* const> xs, float* y, std::int64_t n) {
  // Per image the output is, for each index of the dims before `dim`, the inputs' blocks in turn.
  const auto d = static_cast<std::size_t>(nd.dim - 1);
  std::int64_t outer = 1;
  for (std::size_t i = 0; i < d; ++i) outer *= shapes[0][i];
  std::vector<std::int64_t> block(xs.size()), whole(xs.size());
  std::int64_t total = 0;
  for (std::size_t t = 0; t < xs.size(); ++t) {
    block[t] = 1;
    for (std::size_t i = d; i < shapes[t].size(); ++i) block[t] *= shapes[t][i];
    whole[t] = block[t] * outer;
    total += block[t];
  }
  for (std::int64_t b = 0; b < n; ++b) {
    for (std::int64_t o = 0; o < outer; ++o) {
      float* dst = y + b * total * outer + o * total;
      for (std::size_t t = 0; t < xs.size(); ++t) {
        std::memcpy(dst, xs[t] + b * whole[t] + o * block[t], static_cast<std::size_t>(block[t]) * sizeof(float));
        dst += block[t];
      }
    }
  }
}

}  // namespace ffp8::infer::ops
