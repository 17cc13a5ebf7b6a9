// Layout-2 kernels that compute: activations (Eigen's vectorized exp, tanh, erf, logistic),
// softmax, layernorm and the batched matmul (Eigen GEMMs). Float32 arithmetic throughout, with
// PyTorch's formulas, so float32 logits match PyTorch's to rounding.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/eigen.hpp"
#include "core/infer/ops.hpp"
#include "core/infer/shape.hpp"

namespace ffp8::infer::ops {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Arr = Eigen::Map<const Eigen::ArrayXf>;
using ArrOut = Eigen::Map<Eigen::ArrayXf>;

// fn(x-chunk, y-chunk) over `count` values in chunks spread over threads (x may equal y).
template <class F>
void chunks(const float* x, float* y, std::int64_t count, int threads, const F& fn) {
  constexpr std::int64_t kChunk = 16384;
  const std::int64_t parts = (count + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) num_threads(thread_count(threads)) if (parts > 1)
  for (std::int64_t p = 0; p < parts; ++p) {
    const std::int64_t lo = p * kChunk, len = std::min(kChunk, count - lo);
    ArrOut out(y + lo, len);
    fn(Arr(x + lo, len), out);
  }
}

}  // namespace

void unary(Unary f, const float* x, float* y, std::int64_t count, int threads) {
  switch (f) {
    case Unary::Sigmoid: chunks(x, y, count, threads, [](const Arr& a, ArrOut& o) { o = a.logistic(); }); break;
    case Unary::Tanh: chunks(x, y, count, threads, [](const Arr& a, ArrOut& o) { o = a.tanh(); }); break;
    case Unary::Silu: chunks(x, y, count, threads, [](const Arr& a, ArrOut& o) { o = a * a.logistic(); }); break;
    case Unary::Hardsigmoid:
      chunks(x, y, count, threads, [](const Arr& a, ArrOut& o) { o = (a + 3.0f).max(0.0f).min(6.0f) / 6.0f; });
      break;
    case Unary::Hardswish:
      chunks(x, y, count, threads, [](const Arr& a, ArrOut& o) { o = a * (a + 3.0f).max(0.0f).min(6.0f) / 6.0f; });
      break;
    case Unary::GeluErf:
      chunks(x, y, count, threads, [](const Arr& a, ArrOut& o) {
        o = a * 0.5f * (1.0f + (a * static_cast<float>(M_SQRT1_2)).erf());
      });
      break;
    case Unary::GeluTanh: {
      const float beta = static_cast<float>(M_SQRT2 * M_2_SQRTPI * 0.5), kappa = 0.044715f;
      chunks(x, y, count, threads, [&](const Arr& a, ArrOut& o) {
        o = 0.5f * a * (1.0f + (beta * (a + kappa * a.cube())).tanh());
      });
      break;
    }
  }
}

void softmax(const Shape& in, int axis, const float* x, float* y, std::int64_t n, int threads) {
  std::int64_t outer = n, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= in[static_cast<std::size_t>(d)];
  for (std::size_t d = static_cast<std::size_t>(axis) + 1; d < in.size(); ++d) inner *= in[d];
  const std::int64_t len = in[static_cast<std::size_t>(axis)];
#pragma omp parallel num_threads(thread_count(threads)) if (outer * inner * len > 16384)
  {
    std::vector<float> tmp(static_cast<std::size_t>(inner > 1 ? len : 0));
#pragma omp for schedule(static)
    for (std::int64_t r = 0; r < outer * inner; ++r) {
      const std::int64_t o = r / inner, i = r % inner;
      const float* src = x + o * len * inner + i;
      float* dst = y + o * len * inner + i;
      if (inner == 1) {
        const Arr a(src, len);
        ArrOut out(dst, len);
        const float m = a.maxCoeff();
        out = (a - m).exp();
        out *= 1.0f / out.sum();
      } else {
        float m = src[0];
        for (std::int64_t k = 1; k < len; ++k) m = std::max(m, src[k * inner]);
        float s = 0.0f;
        for (std::int64_t k = 0; k < len; ++k) s += tmp[static_cast<std::size_t>(k)] = std::exp(src[k * inner] - m);
        const float inv = 1.0f / s;
        for (std::int64_t k = 0; k < len; ++k) dst[k * inner] = tmp[static_cast<std::size_t>(k)] * inv;
      }
    }
  }
}

void layernorm(const Node& nd, const Shape& in, const float* x, float* y, std::int64_t n, int threads) {
  std::int64_t len = 1;
  for (std::size_t d = in.size() - static_cast<std::size_t>(nd.normalized_dims); d < in.size(); ++d) len *= in[d];
  const std::int64_t rows = n * numel(in) / len;
  const float* w = nd.weight.empty() ? nullptr : nd.weight.data.data();
  const float* b = nd.bias.empty() ? nullptr : nd.bias.data.data();
#pragma omp parallel for schedule(static) num_threads(thread_count(threads)) if (rows * len > 16384)
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* src = x + r * len;
    float* dst = y + r * len;
    double s = 0.0, q = 0.0;
    for (std::int64_t i = 0; i < len; ++i) s += src[i];
    const double mu = s / static_cast<double>(len);
    for (std::int64_t i = 0; i < len; ++i) q += (src[i] - mu) * (src[i] - mu);
    const float m = static_cast<float>(mu);
    const float rstd = static_cast<float>(1.0 / std::sqrt(q / static_cast<double>(len) + nd.eps));
    for (std::int64_t i = 0; i < len; ++i) {
      float v = (src[i] - m) * rstd;
      if (w) v *= w[i];
      if (b) v += b[i];
      dst[i] = v;
    }
  }
}

void matmul(const Shape& sa, const float* a, const Shape& sb, const float* b, const Shape& so, float* y,
            std::int64_t n, int threads) {
  const std::int64_t m = sa[sa.size() - 2], k = sa.back(), nn = sb.back();
  const Shape lead(so.begin(), so.end() - 2);
  // Offsets of each matrix pair: leading dims aligned right, a size-1 dim repeats its matrix.
  auto steps = [&](const Shape& s) {
    const Shape l(s.begin(), s.end() - 2);
    std::vector<std::int64_t> st(lead.size(), 0);
    std::int64_t step = s[s.size() - 2] * s.back();
    for (std::size_t i = l.size(); i-- > 0;) {
      const std::size_t j = lead.size() - l.size() + i;
      st[j] = l[i] == 1 ? 0 : step;
      step *= l[i];
    }
    return st;
  };
  const std::vector<std::int64_t> stA = steps(sa), stB = steps(sb);
  const std::int64_t per = numel(lead), items = n * per, imgA = numel(sa), imgB = numel(sb);
  const int nt = static_cast<int>(std::min<std::int64_t>(thread_count(threads), std::max<std::int64_t>(items, 1)));
#pragma omp parallel num_threads(nt)
  {
    omp_set_num_threads(1);  // keeps Eigen's GEMM single-threaded inside this thread
#pragma omp for schedule(static)
    for (std::int64_t it = 0; it < items; ++it) {
      std::int64_t img = it / per, rest = it % per, oa = img * imgA, ob = img * imgB;
      for (std::size_t d = lead.size(); d-- > 0;) {
        const std::int64_t idx = rest % lead[d];
        rest /= lead[d];
        oa += idx * stA[d];
        ob += idx * stB[d];
      }
      Eigen::Map<const RowMat> am(a + oa, m, k), bm(b + ob, k, nn);
      Eigen::Map<RowMat> ym(y + it * m * nn, m, nn);
      ym.noalias() = am * bm;
    }
  }
}

}  // namespace ffp8::infer::ops
