// Float32 kernels of the layout-1 ops other than conv2d (conv.cpp); accumulation is float32.
#include "core/infer/ops.hpp"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace ffp8::infer::ops {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace

void linear(const Node& nd, const Shape& in, const float* w, const float* bias, const float* x, float* y,
            std::int64_t n, int threads) {
  const std::int64_t f = in[0], o = nd.shape[0];
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

// Window taps of one output row/column that land inside the input: k in [lo, hi) with
// 0 <= start + k * d < size, where start = o * s - p.
struct Taps {
  std::int64_t start, lo, hi;
};
std::vector<Taps> window_taps(std::int64_t out, std::int64_t size, int k, int s, int p, int d) {
  std::vector<Taps> t(static_cast<std::size_t>(out));
  for (std::int64_t o = 0; o < out; ++o) {
    const std::int64_t st = o * s - p;
    std::int64_t lo = 0, hi = k;
    while (lo < hi && st + lo * d < 0) ++lo;
    while (hi > lo && st + (hi - 1) * d >= size) --hi;
    t[static_cast<std::size_t>(o)] = {st, lo, hi};
  }
  return t;
}

}  // namespace

void maxpool2d(const Node& nd, const Shape& in, const float* x, float* y, std::int64_t n, int threads) {
  const std::int64_t c = in[0], h = in[1], w = in[2], ho = nd.shape[1], wo = nd.shape[2];
  const std::int64_t d0 = nd.dilation[0], d1 = nd.dilation[1];
  // Window bounds computed once per call, not per element (the padding is -inf: skipped taps).
  const auto rows = window_taps(ho, h, nd.kernel[0], nd.stride[0], nd.padding[0], nd.dilation[0]);
  const auto cols = window_taps(wo, w, nd.kernel[1], nd.stride[1], nd.padding[1], nd.dilation[1]);
  // Separable: combine the window's input rows into one row (vectorized over the width), then the
  // window's columns of that row. NaN propagates (PyTorch does): v + t is NaN when either is.
#pragma omp parallel num_threads(thread_count(threads)) if (n * c > 1 && threads != 1)
  {
    std::vector<float> tmp(static_cast<std::size_t>(w));
#pragma omp for schedule(static)
    for (std::int64_t p = 0; p < n * c; ++p) {
      const float* src = x + p * h * w;
      float* dst = y + p * ho * wo;
      for (std::int64_t i = 0; i < ho; ++i) {
        const Taps& r = rows[static_cast<std::size_t>(i)];
        std::fill(tmp.begin(), tmp.end(), -std::numeric_limits<float>::infinity());
        for (std::int64_t ki = r.lo; ki < r.hi; ++ki) {
          const float* row = src + (r.start + ki * d0) * w;
          for (std::int64_t u = 0; u < w; ++u) {
            const float v = row[u], t = tmp[static_cast<std::size_t>(u)];
            tmp[static_cast<std::size_t>(u)] = (v != v || t != t) ? v + t : std::max(t, v);
          }
        }
        for (std::int64_t j = 0; j < wo; ++j) {
          const Taps& q = cols[static_cast<std::size_t>(j)];
          float m = -std::numeric_limits<float>::infinity();
          for (std::int64_t kj = q.lo; kj < q.hi; ++kj) {
            const float v = tmp[static_cast<std::size_t>(q.start + kj * d1)];
            m = (v != v || m != m) ? v + m : std::max(m, v);
          }
          dst[i * wo + j] = m;
        }
      }
    }
  }
}

void avgpool2d(const Node& nd, const Shape& in, const float* x, float* y, std::int64_t n, int threads) {
  const std::int64_t c = in[0], h = in[1], w = in[2], ho = nd.shape[1], wo = nd.shape[2];
  const std::int64_t k0 = nd.kernel[0], k1 = nd.kernel[1], s0 = nd.stride[0], s1 = nd.stride[1];
  const std::int64_t p0 = nd.padding[0], p1 = nd.padding[1];
  // Per output row/column: the clipped window [s, e) and the pool size before clipping (layout doc).
  struct Win {
    std::int64_t s, e, pool;
  };
  auto wins = [](std::int64_t out, std::int64_t size, std::int64_t k, std::int64_t st, std::int64_t pad) {
    std::vector<Win> v(static_cast<std::size_t>(out));
    for (std::int64_t o = 0; o < out; ++o) {
      const std::int64_t a = o * st - pad, b = std::min(a + k, size + pad);
      v[static_cast<std::size_t>(o)] = {std::max<std::int64_t>(a, 0), std::min(b, size), b - a};
    }
    return v;
  };
  const auto rows = wins(ho, h, k0, s0, p0), cols = wins(wo, w, k1, s1, p1);
  // Separable, as maxpool2d: sum the window's rows into one row, then its columns.
#pragma omp parallel num_threads(thread_count(threads)) if (n * c > 1 && threads != 1)
  {
    std::vector<float> tmp(static_cast<std::size_t>(w));
#pragma omp for schedule(static)
    for (std::int64_t p = 0; p < n * c; ++p) {
      const float* src = x + p * h * w;
      float* dst = y + p * ho * wo;
      for (std::int64_t i = 0; i < ho; ++i) {
        const Win& r = rows[static_cast<std::size_t>(i)];
        std::fill(tmp.begin(), tmp.end(), 0.0f);
        for (std::int64_t a = r.s; a < r.e; ++a) {
          const float* row = src + a * w;
          for (std::int64_t u = 0; u < w; ++u) tmp[static_cast<std::size_t>(u)] += row[u];
        }
        for (std::int64_t j = 0; j < wo; ++j) {
          const Win& q = cols[static_cast<std::size_t>(j)];
          float sum = 0.0f;
          for (std::int64_t b = q.s; b < q.e; ++b) sum += tmp[static_cast<std::size_t>(b)];
          const std::int64_t div = nd.divisor_override ? *nd.divisor_override
                                   : nd.count_include_pad ? r.pool * q.pool
                                                          : (r.e - r.s) * (q.e - q.s);
          dst[i * wo + j] = sum / static_cast<float>(div);
        }
      }
    }
  }
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
