#pragma once
// Float32 kernels of the ops on batches (PyTorch eval-mode semantics, see docs/hdf5-layout.md;
// images NCHW, other tensors C order with the batch first). Each works on a whole batch of `n`
// images and parallelises with OpenMP; `threads` 0 means OpenMP's default. Shapes are per image.
#include <cstdint>
#include <span>

#include <omp.h>

#include "core/infer/model.hpp"
#include "core/threads.hpp"

namespace ffp8::infer::ops {

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
/// linear over the last dimension: y[n, ..., O] = x[n, ..., F] * w[O, F]^T + bias.
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

/// Elementwise functions of layout 2 (PyTorch's formulas, vectorized with Eigen).
enum class Unary : std::uint8_t { Sigmoid, Tanh, Silu, Hardsigmoid, Hardswish, GeluErf, GeluTanh };
void unary(Unary f, const float* x, float* y, std::int64_t count, int threads);
/// Broadcasting binary ops (numpy rules on the per-image shapes `sa`, `sb`; output shape `so`).
enum class Binary : std::uint8_t { Add, Sub, Mul, Div };
void binary(Binary f, const Shape& sa, const float* a, const Shape& sb, const float* b, const Shape& so, float* y,
            std::int64_t n, int threads);
/// softmax along per-image dimension `axis` (0-based, the batch excluded) of shape `in`.
void softmax(const Shape& in, int axis, const float* x, float* y, std::int64_t n, int threads);
/// layernorm over the last node.normalized_dims dimensions (mean and variance per row in float32).
void layernorm(const Node& node, const Shape& in, const float* x, float* y, std::int64_t n, int threads);
/// mean over node.dims.
void mean(const Node& node, const Shape& in, const float* x, float* y, std::int64_t n, int threads);
/// permute by node.dims (which keeps the batch first).
void permute(const Node& node, const Shape& in, const float* x, float* y, std::int64_t n, int threads);
/// slice along node.dims.
void slice(const Node& node, const Shape& in, const float* x, float* y, std::int64_t n, int threads);
/// pad with node.pad_value.
void pad(const Node& node, const Shape& in, const float* x, float* y, std::int64_t n, int threads);
/// roll along node.dims.
void roll(const Node& node, const Shape& in, const float* x, float* y, std::int64_t n, int threads);
/// Batched matrix product a [..., M, K] @ b [..., K, N] with broadcast leading dimensions (Eigen
/// GEMMs, one per matrix pair, spread over threads).
void matmul(const Shape& sa, const float* a, const Shape& sb, const float* b, const Shape& so, float* y,
            std::int64_t n, int threads);
/// The same per-image tensor `value` (`count` values) for each of the `n` images.
void broadcast_batch(const float* value, std::int64_t count, float* y, std::int64_t n);

}  // namespace ffp8::infer::ops
