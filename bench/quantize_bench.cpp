// Quantization throughput against the memory-bound floor (BM_Memcpy) measured in the same run.
// State results as ratios: time(BM_Quantize) / time(BM_Memcpy) at the same element count.
#include <benchmark/benchmark.h>
#include <cstring>
#include <random>
#include <vector>

#include "core/quant/quantize.hpp"

namespace {

/// Activation-like data: half-normal magnitudes with a sign, a few large outliers.
const std::vector<float>& input(std::size_t n) {
  static std::vector<float> data;
  if (data.size() != n) {
    data.resize(n);
    std::mt19937 gen(42);
    std::normal_distribution<float> dist(0.0f, 2.0f);
    for (auto& v : data) v = dist(gen);
  }
  return data;
}

void BM_Memcpy(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto& in = input(n);
  std::vector<float> out(n);
  for (auto _ : state) {
    std::memcpy(out.data(), in.data(), n * sizeof(float));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0) * 4);
}

void quantize_case(benchmark::State& state, const char* spec, ffp8::Rounding rounding, int threads) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto& in = input(n);
  std::vector<float> out(n);
  ffp8::QuantOptions o;
  o.rounding = rounding;
  o.threads = threads;
  o.seed = 7;
  const ffp8::Quantizer q(ffp8::Format::parse(spec), o);
  for (auto _ : state) {
    auto c = q.quantize(in, out);
    benchmark::DoNotOptimize(c);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0) * 4);
}

void quantize_codes_case(benchmark::State& state, const char* spec, int threads) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto& in = input(n);
  std::vector<std::uint16_t> out(n);
  ffp8::QuantOptions o;
  o.threads = threads;
  const ffp8::Quantizer q(ffp8::Format::parse(spec), o);
  for (auto _ : state) {
    auto c = q.encode(in, out);
    benchmark::DoNotOptimize(c);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

constexpr std::int64_t kN = std::int64_t{1} << 24;

}  // namespace

BENCHMARK(BM_Memcpy)->Arg(kN)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(quantize_case, e4m3fn_rne_1t, "e4m3fn", ffp8::Rounding::Rne, 1)
    ->Name("BM_Quantize/e4m3fn/rne/threads:1")->Arg(kN)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(quantize_case, u_rne_1t, "s0e4m4b10", ffp8::Rounding::Rne, 1)
    ->Name("BM_Quantize/s0e4m4b10/rne/threads:1")->Arg(kN)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(quantize_case, e4m3fn_sr_1t, "e4m3fn", ffp8::Rounding::Stochastic, 1)
    ->Name("BM_Quantize/e4m3fn/stochastic/threads:1")->Arg(kN)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(quantize_case, e4m3fn_rne_2t, "e4m3fn", ffp8::Rounding::Rne, 2)
    ->Name("BM_Quantize/e4m3fn/rne/threads:2")->Arg(kN)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(quantize_case, e4m3fn_sr_2t, "e4m3fn", ffp8::Rounding::Stochastic, 2)
    ->Name("BM_Quantize/e4m3fn/stochastic/threads:2")->Arg(kN)->Unit(benchmark::kMillisecond)->UseRealTime();
// rtz: the general kernel (round_mag() per element; rne and stochastic take the split kernel).
BENCHMARK_CAPTURE(quantize_case, e4m3fn_rtz_1t, "e4m3fn", ffp8::Rounding::Rtz, 1)
    ->Name("BM_Quantize/e4m3fn/rtz/threads:1")->Arg(kN)->Unit(benchmark::kMillisecond)->UseRealTime();
// New members: P3109 (-inf) takes the kernels; E8M0 (-nz) and integers take the exact scalar path.
BENCHMARK_CAPTURE(quantize_case, p3109_rne_1t, "p3109_k8p3se", ffp8::Rounding::Rne, 1)
    ->Name("BM_Quantize/p3109_k8p3se/rne/threads:1")->Arg(kN)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(quantize_case, e8m0_rne_1t, "e8m0", ffp8::Rounding::Rne, 1)
    ->Name("BM_Quantize/e8m0/rne/threads:1")->Arg(kN)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(quantize_case, int8_rne_1t, "i8b6-sym", ffp8::Rounding::Rne, 1)
    ->Name("BM_Quantize/i8b6-sym/rne/threads:1")->Arg(kN)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(quantize_codes_case, e4m3fn_codes_1t, "e4m3fn", 1)
    ->Name("BM_Encode/e4m3fn/rne/threads:1")->Arg(kN)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
