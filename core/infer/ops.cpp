// Float32 kernels of the layout-1 ops. Convolutions are im2col + Eigen GEMM per image (one
// image per OpenMP thread, so Eigen runs single-threaded inside); accumulation is float32.
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

int nthreads(int threads) { return threads > 0 ? threads : omp_get_max_threads(); }

// Rows are short (a feature-map row, e.g. 7 or 14 floats): plain loops, which GCC vectorizes,
// beat memcpy/memset calls there, so keep GCC from turning the loops back into library calls.
__attribute__((optimize("no-tree-loop-distribute-patterns")))
// Rows of im2col for one group: row (c, ki, kj), column (oh, ow); zero outside the input. Rows
// are `ld` floats apart (several images can share one column matrix).
void im2col(const float* x, std::int64_t cin, std::int64_t h, std::int64_t w, const Node& nd, std::int64_t kh,
            std::int64_t kw, std::int64_t ho, std::int64_t wo, float* col, std::int64_t ld) {
  const std::int64_t s0 = nd.stride[0], s1 = nd.stride[1], p0 = nd.padding[0], p1 = nd.padding[1];
  const std::int64_t d0 = nd.dilation[0], d1 = nd.dilation[1];
  for (std::int64_t c = 0; c < cin; ++c) {
    const float* plane = x + c * h * w;
    for (std::int64_t ki = 0; ki < kh; ++ki) {
      for (std::int64_t kj = 0; kj < kw; ++kj) {
        float* row = col + ((c * kh + ki) * kw + kj) * ld;
        // Columns ow with 0 <= ow*s1 - p1 + kj*d1 < w.
        const std::int64_t off = kj * d1 - p1;
        const std::int64_t lo = off >= 0 ? 0 : std::min(wo, (-off + s1 - 1) / s1);
        const std::int64_t hi = std::max(lo, std::min(wo, w - off > 0 ? (w - off + s1 - 1) / s1 : 0));
        for (std::int64_t oh = 0; oh < ho; ++oh) {
          float* r = row + oh * wo;
          const std::int64_t ih = oh * s0 - p0 + ki * d0;
          if (ih < 0 || ih >= h) {
            for (std::int64_t ow = 0; ow < wo; ++ow) r[ow] = 0.0f;
            continue;
          }
          const float* src = plane + ih * w;
          for (std::int64_t ow = 0; ow < lo; ++ow) r[ow] = 0.0f;
          if (s1 == 1) {
            const float* s = src + off;
            for (std::int64_t ow = lo; ow < hi; ++ow) r[ow] = s[ow];
          } else {
            for (std::int64_t ow = lo; ow < hi; ++ow) r[ow] = src[ow * s1 + off];
          }
          for (std::int64_t ow = hi; ow < wo; ++ow) r[ow] = 0.0f;
        }
      }
    }
  }
}

// Depthwise-style conv (one input channel per group): a direct loop beats tiny GEMMs.
void conv_direct(const Node& nd, const Shape& in, const float* w, const float* bias, const float* x, float* y,
                 std::int64_t n, int threads) {
  const std::int64_t ci = in[0], h = in[1], wd = in[2], co = nd.shape[0], ho = nd.shape[1], wo = nd.shape[2];
  const std::int64_t kh = nd.weight.shape[2], kw = nd.weight.shape[3], per_group = co / nd.groups;
  const std::int64_t s0 = nd.stride[0], s1 = nd.stride[1], p0 = nd.padding[0], p1 = nd.padding[1];
  const std::int64_t d0 = nd.dilation[0], d1 = nd.dilation[1];
#pragma omp parallel for collapse(2) schedule(static) num_threads(nthreads(threads))
  for (std::int64_t b = 0; b < n; ++b) {
    for (std::int64_t o = 0; o < co; ++o) {
      const float* plane = x + (b * ci + o / per_group) * h * wd;
      const float* k = w + o * kh * kw;
      float* out = y + (b * co + o) * ho * wo;
      const float b0 = bias ? bias[o] : 0.0f;
      for (std::int64_t oh = 0; oh < ho; ++oh) {
        for (std::int64_t ow = 0; ow < wo; ++ow) {
          float acc = 0.0f;
          for (std::int64_t ki = 0; ki < kh; ++ki) {
            const std::int64_t ih = oh * s0 - p0 + ki * d0;
            if (ih < 0 || ih >= h) continue;
            for (std::int64_t kj = 0; kj < kw; ++kj) {
              const std::int64_t iw = ow * s1 - p1 + kj * d1;
              if (iw >= 0 && iw < wd) acc += plane[ih * wd + iw] * k[ki * kw + kj];
            }
          }
          out[oh * wo + ow] = acc + b0;
        }
      }
    }
  }
}

}  // namespace

void conv2d(const Node& nd, const Shape& in, const float* w, const float* bias, const float* x, float* y,
            std::int64_t n, int threads) {
  const std::int64_t ci = in[0], h = in[1], wd = in[2], co = nd.shape[0], ho = nd.shape[1], wo = nd.shape[2];
  const std::int64_t g = nd.groups, cig = ci / g, cog = co / g, kh = nd.weight.shape[2], kw = nd.weight.shape[3];
  if (cig == 1 && g > 1) {
    conv_direct(nd, in, w, bias, x, y, n, threads);
    return;
  }
  const std::int64_t k = cig * kh * kw, p = ho * wo;
  const bool direct = kh == 1 && kw == 1 && nd.stride[0] == 1 && nd.stride[1] == 1 && nd.padding[0] == 0 &&
                      nd.padding[1] == 0;
  const int nt = static_cast<int>(std::min<std::int64_t>(nthreads(threads), std::max<std::int64_t>(n, 1)));
  // Tiny feature maps (7x7) make thin GEMMs: put a few images side by side in one column matrix.
  // Larger blocks leave L2 and their scatter back to NCHW costs more than the wider GEMM gains.
  const std::int64_t per_thread = (n + nt - 1) / nt;
  constexpr std::int64_t kColumns = 128;  // measured on the zoo: wider blocks cost more in copies than they gain
  const std::int64_t nb = std::clamp<std::int64_t>(kColumns / std::max<std::int64_t>(p, 1), 1, per_thread);
#pragma omp parallel num_threads(nt)
  {
    omp_set_num_threads(1);  // this thread's nested regions: keeps Eigen's GEMM single-threaded
    const std::int64_t t = omp_get_thread_num(), tn = omp_get_num_threads();
    const std::int64_t lo = n * t / tn, hi = n * (t + 1) / tn;
    const bool single = nb == 1 && direct;  // the input plane is already the column matrix
    // Scratch kept per thread across calls: grows (zero-filled once), never cleared per call.
    thread_local std::vector<float> col, res;
    if (!single && col.size() < static_cast<std::size_t>(k * p * nb)) col.resize(static_cast<std::size_t>(k * p * nb));
    if (nb > 1 && res.size() < static_cast<std::size_t>(cog * p * nb)) res.resize(static_cast<std::size_t>(cog * p * nb));
    for (std::int64_t b0 = lo; b0 < hi; b0 += nb) {
      const std::int64_t m = std::min(nb, hi - b0);
      for (std::int64_t gi = 0; gi < g; ++gi) {
        for (std::int64_t i = 0; i < m && !single; ++i) {
          const float* xg = x + ((b0 + i) * ci + gi * cig) * h * wd;
          if (direct) {
            for (std::int64_t r = 0; r < k; ++r)
              std::memcpy(col.data() + r * m * p + i * p, xg + r * p, static_cast<std::size_t>(p) * sizeof(float));
          } else {
            im2col(xg, cig, h, wd, nd, kh, kw, ho, wo, col.data() + i * p, m * p);
          }
        }
        const float* cols = single ? x + (b0 * ci + gi * cig) * h * wd : col.data();
        Eigen::Map<const RowMat> wm(w + gi * cog * k, cog, k);
        Eigen::Map<const RowMat> cm(cols, k, m * p);
        if (m == 1) {
          Eigen::Map<RowMat> ym(y + (b0 * co + gi * cog) * p, cog, p);
          ym.noalias() = wm * cm;
          if (bias)
            for (std::int64_t o = 0; o < cog; ++o) ym.row(o).array() += bias[gi * cog + o];
        } else {
          Eigen::Map<RowMat> rm(res.data(), cog, m * p);
          rm.noalias() = wm * cm;
          for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t o = 0; o < cog; ++o) {
              float* dst = y + ((b0 + i) * co + gi * cog + o) * p;
              const float* src = res.data() + o * m * p + i * p;
              const float bo = bias ? bias[gi * cog + o] : 0.0f;
              for (std::int64_t q = 0; q < p; ++q) dst[q] = src[q] + bo;
            }
        }
      }
    }
  }
}

void linear(const Node& nd, const Shape& in, const float* w, const float* bias, const float* x, float* y,
            std::int64_t n, int threads) {
  const std::int64_t f = in[0], o = nd.shape[0];
  Eigen::Map<const RowMat> wm(w, o, f);
  // Row blocks of the batch per thread; one GEMM each.
  const int nt = static_cast<int>(std::min<std::int64_t>(nthreads(threads), std::max<std::int64_t>(n, 1)));
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
#pragma omp parallel for schedule(static) num_threads(nthreads(threads))
  for (std::int64_t p = 0; p < n * c; ++p) {
    const auto ch = static_cast<std::size_t>(p % c);
    const float* src = x + p * hw;
    float* dst = y + p * hw;
    const float ai = a[ch], bi = b[ch];
    for (std::int64_t i = 0; i < hw; ++i) dst[i] = src[i] * ai + bi;
  }
}

void relu(const float* x, float* y, std::int64_t count, float cap, int threads) {
#pragma omp parallel for schedule(static) num_threads(nthreads(threads)) if (count > 65536)
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
#pragma omp parallel num_threads(nthreads(threads)) if (n * c > 1 && threads != 1)
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
#pragma omp parallel num_threads(nthreads(threads)) if (n * c > 1 && threads != 1)
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
#pragma omp parallel for schedule(static) num_threads(nthreads(threads))
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
#pragma omp parallel for schedule(static) num_threads(nthreads(threads)) if (count > 65536)
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
