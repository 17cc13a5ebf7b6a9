#pragma once
// Float32 kernels of the layout-1 ops on NCHW batches (PyTorch eval-mode semantics, see
// docs/hdf5-layout.md). Each works on a whole batch and parallelises with OpenMP over images
// or channel planes; `threads` 0 means OpenMP's default.
#include <cstdint>
#include <span>

#include <omp.h>

#include "core/infer/model.hpp"

namespace ffp8::infer::ops {

/// OpenMP threads for a kernel: `threads`, or OpenMP's default when 0.
inline int thread_count(int threads) { return threads > 0 ? threads : omp_get_max_threads(); }

/// conv2d (stride, padding, dilation, groups): picks one of the paths below by shape.
/// `w` is the (possibly quantized) weight of `node`, `bias` may be null.
void conv2d(const Node& node, const Shape& in, const float* w, const float* bias, const float* x, float* y,
            std::int64_t n, int threads);
/// conv2d path for any shape: register-blocked direct convolution (blocks of output channels x
/// a few output pixels, no im2col), used for every non-depthwise conv except 1x1 stride-1 ones.
void conv2d_blocked(const Node& node, const Shape& in, const float* w, const float* bias, const float* x, float* y,
                    std::int64_t n, int threads);
/// conv2d path for any shape: im2col + Eigen GEMM per image and group (1x1 stride-1 convs skip
/// im2col); used for pointwise convs and as the reference of the other paths in tests.
void conv2d_gemm(const Node& node, const Shape& in, const float* w, const float* bias, const float* x, float* y,
                 std::int64_t n, int threads);
/// conv2d path for one input channel per group (depthwise): direct, per plane on a zero-bordered
/// copy of its input (stride 1: all taps as contiguous runs over the padded grid).
void conv2d_depthwise(const Node& node, const Shape& in, const float* w, const float* bias, const float* x, float* y,
                      std::int64_t n, int threads);
/// linear: y[n, O] = x[n, F] * w[O, F]^T + bias.
void linear(const Node& node, const Shape& in, const float* w, const float* bias, const float* x, float* y,
            std::int64_t n, int threads);
/// batchnorm2d with running statistics: y = x * a + b, a = weight / sqrt(var + eps), b = bias - mean * a.
void batchnorm2d(const Node& node, const Shape& in, const float* x, float* y, std::int64_t n, int threads);
/// relu / relu6 (elementwise over `count` values).
void relu(const float* x, float* y, std::int64_t count, float cap, int threads);
/// maxpool2d with -inf padding, dilation and ceil_mode.
void maxpool2d(const Node& node, const Shape& in, const float* x, float* y, std::int64_t n, int threads);
/// avgpool2d with the layout's window clipping, count_include_pad and divisor_override.
void avgpool2d(const Node& node, const Shape& in, const float* x, float* y, std::int64_t n, int threads);
/// adaptive_avgpool2d: cell (i, j) averages rows floor(i*H/Ho) .. ceil((i+1)*H/Ho) - 1, likewise columns.
void adaptive_avgpool2d(const Node& node, const Shape& in, const float* x, float* y, std::int64_t n, int threads);
/// Elementwise a + b.
void add(const float* a, const float* b, float* y, std::int64_t count, int threads);
/// cat along `dim` (1 = channels; batch is dim 0) of inputs with per-image shapes `shapes`.
void cat(const Node& node, std::span<const Shape> shapes, std::span<const float* const> xs, float* y, std::int64_t n);

}  // namespace ffp8::infer::ops
