// conv2d paths. The default for grouped-or-dense convs with a spatial kernel (or a stride) is a
// register-blocked direct convolution: no im2col matrix and no GEMM packing, which on the small
// feature maps of the zoo (7x7, 14x14) cost as much as the multiply-adds. 1x1 stride-1 convs
// multiply the input planes directly with Eigen; depthwise convs run per plane on a zero-bordered
// copy (see conv2d_depthwise).
// Accumulation is float32 everywhere (each output sums its taps in (channel, row, column) order).
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/eigen.hpp"
#include "core/infer/ops.hpp"

namespace ffp8::infer::ops {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Geometry of one conv2d call (per image, per group).
struct ConvGeom {
  std::int64_t ci, h, w, co, ho, wo, g, cig, cog, kh, kw, s0, s1, p0, p1, d0, d1;
  ConvGeom(const Node& nd, const Shape& in)
      : ci(in[0]), h(in[1]), w(in[2]), co(nd.shape[0]), ho(nd.shape[1]), wo(nd.shape[2]), g(nd.groups),
        cig(ci / g), cog(co / g), kh(nd.weight.shape[2]), kw(nd.weight.shape[3]), s0(nd.stride[0]),
        s1(nd.stride[1]), p0(nd.padding[0]), p1(nd.padding[1]), d0(nd.dilation[0]), d1(nd.dilation[1]) {}
  // Rows and columns of the input (from -p0, -p1) that the windows touch.
  std::int64_t padded_rows() const { return (ho - 1) * s0 + (kh - 1) * d0 + 1; }
  std::int64_t padded_cols() const { return (wo - 1) * s1 + (kw - 1) * d1 + 1; }
};

// ---------------------------------------------------------------- register-blocked direct conv

// 8 float32 lanes (one AVX register; GCC lowers it to what the target has).
using V8 = float __attribute__((vector_size(32)));
using V8u = float __attribute__((vector_size(32), aligned(4)));  // unaligned loads
constexpr std::int64_t kLanes = 8;
constexpr int kMaxVecs = 3;   // output channels per block: 3 x 8
constexpr int kMaxPixels = 7; // output pixels per tile: 3 x 7 accumulators stay in registers

// Weights of one group repacked for the kernel: blocks of up to 24 output channels, each
// [K][nv * 8] (channel fastest, zero past the group's last channel).
void pack_weights(const float* w, std::int64_t cog, std::int64_t k, float* out) {
  for (std::int64_t c0 = 0; c0 < cog; c0 += kMaxVecs * kLanes) {
    const std::int64_t width = std::min<std::int64_t>(kMaxVecs, (cog - c0 + kLanes - 1) / kLanes) * kLanes;
    for (std::int64_t t = 0; t < k; ++t)
      for (std::int64_t j = 0; j < width; ++j) out[t * width + j] = c0 + j < cog ? w[(c0 + j) * k + t] : 0.0f;
    out += k * width;
  }
}

// One tile: R output pixels (input offsets `base`) x NV*8 output channels of one block, summed
// over the K taps (input offsets `taps`), plus bias; written to the channels' NCHW planes.
template <int NV, int R>
void conv_tile(const float* x, const std::int64_t* base, const std::int64_t* taps, std::int64_t k, const float* wp,
               const float* bias, std::int64_t channels, float* y, std::int64_t plane) {
  V8 acc[NV][R] = {};
  const float* xr[R];
  for (int r = 0; r < R; ++r) xr[r] = x + base[r];
  for (std::int64_t t = 0; t < k; ++t) {
    V8 wv[NV];
    for (int v = 0; v < NV; ++v) wv[v] = *reinterpret_cast<const V8u*>(wp + (t * NV + v) * kLanes);
    const std::int64_t off = taps[t];
    for (int r = 0; r < R; ++r) {
      const float s = xr[r][off];
      for (int v = 0; v < NV; ++v) acc[v][r] += wv[v] * s;
    }
  }
  // Constant indices only on `acc` (it stays in registers); lanes are read from a copy.
  float out[NV][R][kLanes];
  for (int v = 0; v < NV; ++v)
    for (int r = 0; r < R; ++r) std::memcpy(out[v][r], &acc[v][r], sizeof(V8));
  for (int v = 0; v < NV; ++v)
    for (std::int64_t l = 0; l < kLanes && v * kLanes + l < channels; ++l) {
      const std::int64_t c = v * kLanes + l;
      float* dst = y + c * plane;
      const float b = bias ? bias[c] : 0.0f;
      for (int r = 0; r < R; ++r) dst[r] = out[v][r][l] + b;
    }
}

template <int NV, int R = kMaxPixels>
void conv_tile_n(int r, const float* x, const std::int64_t* base, const std::int64_t* taps, std::int64_t k,
                 const float* wp, const float* bias, std::int64_t channels, float* y, std::int64_t plane) {
  if constexpr (R > 1) {
    if (r < R) return conv_tile_n<NV, R - 1>(r, x, base, taps, k, wp, bias, channels, y, plane);
  }
  conv_tile<NV, R>(x, base, taps, k, wp, bias, channels, y, plane);
}

// All output pixels of one block of channels: tiles of up to kMaxPixels pixels in NCHW order.
void conv_block(int nv, const float* x, const std::int64_t* base, std::int64_t pixels, const std::int64_t* taps,
                std::int64_t k, const float* wp, const float* bias, std::int64_t channels, float* y) {
  for (std::int64_t q = 0; q < pixels; q += kMaxPixels) {
    const int r = static_cast<int>(std::min<std::int64_t>(kMaxPixels, pixels - q));
    if (nv == 1) conv_tile_n<1>(r, x, base + q, taps, k, wp, bias, channels, y + q, pixels);
    if (nv == 2) conv_tile_n<2>(r, x, base + q, taps, k, wp, bias, channels, y + q, pixels);
    if (nv == 3) conv_tile_n<3>(r, x, base + q, taps, k, wp, bias, channels, y + q, pixels);
  }
}

// ---------------------------------------------------------------- im2col + GEMM

// Rows are short (a feature-map row, e.g. 7 or 14 floats): plain loops, which GCC vectorizes,
// beat memcpy/memset calls there, so keep GCC from turning the loops back into library calls.
__attribute__((optimize("no-tree-loop-distribute-patterns")))
// Rows of im2col for one group: row (c, ki, kj), column (oh, ow); zero outside the input. Rows
// are `ld` floats apart (several images can share one column matrix).
void im2col(const float* x, const ConvGeom& gm, float* col, std::int64_t ld) {
  const std::int64_t ho = gm.ho, wo = gm.wo, h = gm.h, w = gm.w, s0 = gm.s0, s1 = gm.s1;
  for (std::int64_t c = 0; c < gm.cig; ++c) {
    const float* plane = x + c * h * w;
    for (std::int64_t ki = 0; ki < gm.kh; ++ki) {
      for (std::int64_t kj = 0; kj < gm.kw; ++kj) {
        float* row = col + ((c * gm.kh + ki) * gm.kw + kj) * ld;
        // Columns ow with 0 <= ow*s1 - p1 + kj*d1 < w.
        const std::int64_t off = kj * gm.d1 - gm.p1;
        const std::int64_t lo = off >= 0 ? 0 : std::min(wo, (-off + s1 - 1) / s1);
        const std::int64_t hi = std::max(lo, std::min(wo, w - off > 0 ? (w - off + s1 - 1) / s1 : 0));
        for (std::int64_t oh = 0; oh < ho; ++oh) {
          float* r = row + oh * wo;
          const std::int64_t ih = oh * s0 - gm.p0 + ki * gm.d0;
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

// The rows [-p0, rows - p0) and columns [-p1, cols - p1) of `channels` planes of the input,
// zero outside it.
__attribute__((optimize("no-tree-loop-distribute-patterns")))  // short rows: see im2col
void pad_image(const float* x, std::int64_t channels, const ConvGeom& gm, std::int64_t rows, std::int64_t cols,
               float* out) {
  const std::int64_t lo = std::min(gm.p1, cols), hi = std::clamp(gm.w + gm.p1, lo, cols);
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t r = 0; r < rows; ++r) {
      float* dst = out + (c * rows + r) * cols;
      const std::int64_t ih = r - gm.p0;
      if (ih < 0 || ih >= gm.h) {
        for (std::int64_t j = 0; j < cols; ++j) dst[j] = 0.0f;
        continue;
      }
      const float* src = x + (c * gm.h + ih) * gm.w - gm.p1;
      for (std::int64_t j = 0; j < lo; ++j) dst[j] = 0.0f;
      for (std::int64_t j = lo; j < hi; ++j) dst[j] = src[j];
      for (std::int64_t j = hi; j < cols; ++j) dst[j] = 0.0f;
    }
}

}  // namespace

void conv2d(const Node& nd, const Shape& in, const float* w, const float* bias, const float* x, float* y,
            std::int64_t n, int threads) {
  const ConvGeom gm(nd, in);
  if (gm.cig == 1 && gm.g > 1) return conv2d_depthwise(nd, in, w, bias, x, y, n, threads);
  const bool pointwise = gm.kh == 1 && gm.kw == 1 && gm.s0 == 1 && gm.s1 == 1 && gm.p0 == 0 && gm.p1 == 0;
  if (pointwise) return conv2d_gemm(nd, in, w, bias, x, y, n, threads);
  conv2d_blocked(nd, in, w, bias, x, y, n, threads);
}

void conv2d_blocked(const Node& nd, const Shape& in, const float* w, const float* bias, const float* x, float* y,
                    std::int64_t n, int threads) {
  const ConvGeom gm(nd, in);
  const std::int64_t k = gm.cig * gm.kh * gm.kw, pixels = gm.ho * gm.wo;
  const std::int64_t wgroup = k * ((gm.cog + kLanes - 1) / kLanes * kLanes);  // packed floats per group
  // The input as the kernel reads it: either the image itself (no padding) or a zero-bordered
  // copy holding exactly the rows and columns the windows touch, so the kernel never tests bounds.
  const bool padded = gm.p0 > 0 || gm.p1 > 0;
  const std::int64_t rows = padded ? gm.padded_rows() : gm.h, cols = padded ? gm.padded_cols() : gm.w;
  std::vector<float> wp(static_cast<std::size_t>(wgroup * gm.g));
  for (std::int64_t gi = 0; gi < gm.g; ++gi) pack_weights(w + gi * gm.cog * k, gm.cog, k, wp.data() + gi * wgroup);
  std::vector<std::int64_t> taps(static_cast<std::size_t>(k)), base(static_cast<std::size_t>(pixels));
  for (std::int64_t c = 0; c < gm.cig; ++c)
    for (std::int64_t ki = 0; ki < gm.kh; ++ki)
      for (std::int64_t kj = 0; kj < gm.kw; ++kj)
        taps[static_cast<std::size_t>((c * gm.kh + ki) * gm.kw + kj)] = (c * rows + ki * gm.d0) * cols + kj * gm.d1;
  for (std::int64_t q = 0; q < pixels; ++q) base[static_cast<std::size_t>(q)] = (q / gm.wo) * gm.s0 * cols + (q % gm.wo) * gm.s1;

  const int nt = static_cast<int>(std::min<std::int64_t>(thread_count(threads), std::max<std::int64_t>(n, 1)));
#pragma omp parallel num_threads(nt)
  {
    const std::int64_t t = omp_get_thread_num(), tn = omp_get_num_threads();
    thread_local std::vector<float> pad;
    if (padded && pad.size() < static_cast<std::size_t>(gm.ci * rows * cols))
      pad.resize(static_cast<std::size_t>(gm.ci * rows * cols));
    for (std::int64_t b = n * t / tn; b < n * (t + 1) / tn; ++b) {
      const float* img = x + b * gm.ci * gm.h * gm.w;
      if (padded) {
        pad_image(img, gm.ci, gm, rows, cols, pad.data());
        img = pad.data();
      }
      for (std::int64_t gi = 0; gi < gm.g; ++gi) {
        const float* xg = img + gi * gm.cig * rows * cols;
        for (std::int64_t c0 = 0; c0 < gm.cog; c0 += kMaxVecs * kLanes) {
          const std::int64_t channels = std::min<std::int64_t>(kMaxVecs * kLanes, gm.cog - c0);
          const int nv = static_cast<int>((channels + kLanes - 1) / kLanes);
          const float* wb = wp.data() + gi * wgroup + k * c0;
          const float* bb = bias ? bias + gi * gm.cog + c0 : nullptr;
          conv_block(nv, xg, base.data(), pixels, taps.data(), k, wb, bb, channels,
                     y + (b * gm.co + gi * gm.cog + c0) * pixels);
        }
      }
    }
  }
}

void conv2d_depthwise(const Node& nd, const Shape& in, const float* w, const float* bias, const float* x, float* y,
                      std::int64_t n, int threads) {
  const ConvGeom gm(nd, in);
  const std::int64_t ho = gm.ho, wo = gm.wo, kh = gm.kh, kw = gm.kw, s1 = gm.s1;
  const std::int64_t rows = gm.padded_rows(), cols = gm.padded_cols();
  // Stride 1: outputs computed on the padded plane's grid (oh * cols + ow, the columns past wo
  // are junk), where every tap reads one contiguous run: 32 outputs at a time stay in registers
  // across the taps. Otherwise row by row, each tap a strided run along the row.
  const bool flat = gm.s0 == 1 && s1 == 1;
  constexpr std::int64_t kChunk = 32;
  const std::int64_t grid = (ho * cols + kChunk - 1) / kChunk * kChunk;
  const std::int64_t slack = flat ? kChunk + (kh - 1) * gm.d0 * cols + (kw - 1) * gm.d1 : 0;  // reads past the plane feed junk only
  std::vector<std::int64_t> taps(static_cast<std::size_t>(kh * kw));
  for (std::int64_t t = 0; t < kh * kw; ++t) taps[static_cast<std::size_t>(t)] = (t / kw) * gm.d0 * cols + (t % kw) * gm.d1;
#pragma omp parallel num_threads(thread_count(threads)) if (n * gm.co > 1 && threads != 1)
  {
    thread_local std::vector<float> pad, ext;
    if (pad.size() < static_cast<std::size_t>(rows * cols + slack)) pad.resize(static_cast<std::size_t>(rows * cols + slack));
    if (flat && ext.size() < static_cast<std::size_t>(grid)) ext.resize(static_cast<std::size_t>(grid));
#pragma omp for schedule(static)
    for (std::int64_t p = 0; p < n * gm.co; ++p) {
      const std::int64_t b = p / gm.co, o = p % gm.co;
      pad_image(x + (b * gm.ci + o / gm.cog) * gm.h * gm.w, 1, gm, rows, cols, pad.data());
      const float* k = w + o * kh * kw;
      float* out = y + p * ho * wo;
      const float b0 = bias ? bias[o] : 0.0f;
      if (flat) {
        for (std::int64_t q = 0; q < grid; q += kChunk) {
          float acc[kChunk] = {};
          for (std::int64_t t = 0; t < kh * kw; ++t) {
            const float* src = pad.data() + q + taps[static_cast<std::size_t>(t)];
            const float wt = k[t];
            for (std::int64_t j = 0; j < kChunk; ++j) acc[j] += wt * src[j];
          }
          std::memcpy(ext.data() + q, acc, sizeof acc);
        }
        for (std::int64_t oh = 0; oh < ho; ++oh)
          for (std::int64_t ow = 0; ow < wo; ++ow) out[oh * wo + ow] = ext[static_cast<std::size_t>(oh * cols + ow)] + b0;
        continue;
      }
      for (std::int64_t oh = 0; oh < ho; ++oh) {
        float* dst = out + oh * wo;
        for (std::int64_t ow = 0; ow < wo; ++ow) dst[ow] = 0.0f;
        for (std::int64_t t = 0; t < kh * kw; ++t) {
          const float* src = pad.data() + oh * gm.s0 * cols + taps[static_cast<std::size_t>(t)];
          const float wt = k[t];
          for (std::int64_t ow = 0; ow < wo; ++ow) dst[ow] += wt * src[ow * s1];
        }
        for (std::int64_t ow = 0; ow < wo; ++ow) dst[ow] += b0;
      }
    }
  }
}

void conv2d_gemm(const Node& nd, const Shape& in, const float* w, const float* bias, const float* x, float* y,
                 std::int64_t n, int threads) {
  const ConvGeom gm(nd, in);
  const std::int64_t ci = gm.ci, hw = gm.h * gm.w, co = gm.co, g = gm.g, cig = gm.cig, cog = gm.cog;
  const std::int64_t k = cig * gm.kh * gm.kw, p = gm.ho * gm.wo;
  const bool direct = gm.kh == 1 && gm.kw == 1 && gm.s0 == 1 && gm.s1 == 1 && gm.p0 == 0 && gm.p1 == 0;
  const int nt = static_cast<int>(std::min<std::int64_t>(thread_count(threads), std::max<std::int64_t>(n, 1)));
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
          const float* xg = x + ((b0 + i) * ci + gi * cig) * hw;
          if (direct) {
            for (std::int64_t r = 0; r < k; ++r)
              std::memcpy(col.data() + r * m * p + i * p, xg + r * p, static_cast<std::size_t>(p) * sizeof(float));
          } else {
            im2col(xg, gm, col.data() + i * p, m * p);
          }
        }
        const float* cols = single ? x + (b0 * ci + gi * cig) * hw : col.data();
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

}  // namespace ffp8::infer::ops
