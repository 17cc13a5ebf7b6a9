// conv2d paths side by side on one thread (as each thread of the batch-parallel engine runs
// them): the register-blocked direct kernel (BM_ConvBlocked, the default) against im2col + Eigen
// GEMM (BM_ConvGemm) on resnet_small's convs, a VGG-style 3x3, mobilenet_small's pointwise convs
// and torchvision-sized 3x3s.
// Arguments: batch, in channels, size (square), out channels, kernel, stride.
// Items per second are images.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "core/infer/ops.hpp"

namespace {

using ffp8::infer::Node;

struct Setup {
  Node node;
  ffp8::infer::Shape in;
  std::vector<float> x, y;
  std::int64_t n;
};

Setup setup(const benchmark::State& st) {
  Setup s;
  s.n = st.range(0);
  const std::int64_t ci = st.range(1), h = st.range(2), co = st.range(3), k = st.range(4);
  const int stride = static_cast<int>(st.range(5)), pad = static_cast<int>(k / 2);
  s.node.op = ffp8::infer::Op::Conv2d;
  s.node.stride = {stride, stride};
  s.node.padding = {pad, pad};
  const std::int64_t ho = (h + 2 * pad - k) / stride + 1;
  s.node.shape = {co, ho, ho};
  s.node.weight.shape = {co, ci, k, k};
  s.in = {ci, h, h};
  std::mt19937 g(3);
  std::normal_distribution<float> d(0.0f, 1.0f);
  s.node.weight.data.resize(static_cast<std::size_t>(co * ci * k * k));
  for (auto& v : s.node.weight.data) v = d(g);
  s.x.resize(static_cast<std::size_t>(s.n * ci * h * h));
  for (auto& v : s.x) v = d(g);
  s.y.resize(static_cast<std::size_t>(s.n * co * ho * ho));
  return s;
}

template <auto Path>
void BM_Conv(benchmark::State& st) {
  Setup s = setup(st);
  for (auto _ : st) {
    Path(s.node, s.in, s.node.weight.data.data(), nullptr, s.x.data(), s.y.data(), s.n, 1);
    benchmark::DoNotOptimize(s.y.data());
  }
  st.SetItemsProcessed(st.iterations() * s.n);
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"n", "ci", "hw", "co", "k", "s"});
  b->Args({32, 1, 28, 24, 3, 2});    // resnet_small stem
  b->Args({32, 24, 14, 24, 3, 1});   // layer1
  b->Args({32, 24, 14, 48, 3, 2});   // layer2 conv1
  b->Args({32, 24, 14, 48, 1, 2});   // layer2 shortcut
  b->Args({32, 48, 7, 64, 3, 1});    // layer3 conv1
  b->Args({32, 64, 7, 64, 3, 1});    // layer3 conv2
  b->Args({32, 16, 14, 32, 3, 1});   // vgg_small
  b->Args({32, 24, 14, 72, 1, 1});   // mobilenet_small expand (pointwise)
  b->Args({32, 96, 7, 32, 1, 1});    // mobilenet_small project (pointwise)
  b->Args({2, 64, 56, 64, 3, 1});    // torchvision-sized
  b->Args({2, 256, 14, 256, 3, 1});  // deep, wide
}

void BM_ConvBlocked(benchmark::State& st) { BM_Conv<ffp8::infer::ops::conv2d_blocked>(st); }
void BM_ConvGemm(benchmark::State& st) { BM_Conv<ffp8::infer::ops::conv2d_gemm>(st); }
BENCHMARK(BM_ConvBlocked)->Apply(shapes);
BENCHMARK(BM_ConvGemm)->Apply(shapes);

}  // namespace
