// The sweep's cost against one quantization pass, in the same run: the whole 8-bit space
// (sign 0 and 1, every exponent width, 64 biases: 960 formats) scored on a 2^26-value tensor
// from one-pass statistics (BM_SweepAllFormats), versus Quantizer::quantize over the same tensor
// once (BM_SweepOnePass). The bar: ratio of their times <= 3 at the same thread count.
#include <benchmark/benchmark.h>
#include <random>
#include <algorithm>
#include <span>
#include <vector>

#include "core/quant/quantize.hpp"
#include "explore/metrics/score.hpp"
#include "explore/space/space.hpp"
#include "explore/stats/bucket_stats.hpp"

namespace {

constexpr std::size_t kN = std::size_t{1} << 26;

/// Weight-like data: normal values with a few outliers, both signs.
const std::vector<float>& tensor() {
  static const std::vector<float> data = [] {
    std::vector<float> d(kN);
    std::mt19937 gen(17);
    std::normal_distribution<float> nd(0.0f, 0.05f);
    for (std::size_t i = 0; i < kN; ++i) d[i] = nd(gen) * (i % 1024 == 0 ? 30.0f : 1.0f);
    return d;
  }();
  return data;
}

/// The 8-bit space: sign 0/1, exp 1..8 (man = 8 - sign - exp >= 0), 64 biases centred on the
/// fit bias of the data (biases far from the data are valid formats but pointless).
std::vector<ffp8::Format> space(double max_abs) {
  std::vector<ffp8::Format> out;
  for (int sign : {0, 1})
    for (int e = 1; e + sign <= 8; ++e) {
      const ffp8::explore::FormatTemplate l{sign, e, 8 - sign - e};
      const int fit = ffp8::explore::fit_bias(l, max_abs);
      for (int b = fit - 48; b < fit + 16; ++b) out.push_back(l.with_bias(b));
    }
  return out;
}

void BM_SweepOnePass(benchmark::State& state) {
  const auto& in = tensor();
  std::vector<float> out(in.size());
  ffp8::QuantOptions o;
  o.threads = static_cast<int>(state.range(0));
  const ffp8::Quantizer q(ffp8::Format::parse("e4m3fn"), o);
  for (auto _ : state) {
    auto c = q.quantize(in, out);
    benchmark::DoNotOptimize(c);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}

void BM_SweepAllFormats(benchmark::State& state) {
  const auto& in = tensor();
  const int threads = static_cast<int>(state.range(0));
  std::size_t formats = 0, buckets = 0, by_stats = 0;
  for (auto _ : state) {
    const ffp8::explore::BucketStats st = ffp8::explore::collect(in, threads);
    const ffp8::explore::PreparedStats prep(st);
    const auto fs = space(st.max_abs());
    std::vector<double> mse(fs.size());
    std::vector<char> ok(fs.size());
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
    for (std::size_t i = 0; i < fs.size(); ++i) {
      const auto s = ffp8::explore::score_stats(prep, fs[i], {}, {});
      ok[i] = s.has_value();
      mse[i] = s ? s->sse / s->count : 0.0;
    }
    benchmark::DoNotOptimize(mse.data());
    formats = fs.size();
    buckets = st.buckets().size();
    by_stats = 0;
    for (char c : ok) by_stats += c != 0;
  }
  state.counters["formats"] = static_cast<double>(formats);
  state.counters["buckets"] = static_cast<double>(buckets);
  state.counters["by_stats"] = static_cast<double>(by_stats);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}

}  // namespace

// Process CPU time (all OpenMP threads), so CPU ratios stay meaningful at 2 threads on a loaded
// machine, where wall time mostly measures the other jobs.
BENCHMARK(BM_SweepOnePass)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_SweepAllFormats)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();

namespace {
/// The statistics pass alone (the part of BM_SweepAllFormats that reads the data).
void BM_SweepStatsPass(benchmark::State& state) {
  const auto& in = tensor();
  for (auto _ : state) {
    const auto st = ffp8::explore::collect(in, static_cast<int>(state.range(0)));
    benchmark::DoNotOptimize(st.count());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}
}  // namespace
BENCHMARK(BM_SweepStatsPass)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();

namespace {
/// Scoring alone: preparing the statistics and scoring the 960 formats (statistics collected
/// once, outside the timed loop).
void BM_SweepScoring(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const ffp8::explore::BucketStats st = ffp8::explore::collect(tensor(), threads);
  const auto fs = space(st.max_abs());
  std::vector<double> mse(fs.size());
  for (auto _ : state) {
    const ffp8::explore::PreparedStats prep(st);
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
    for (std::size_t i = 0; i < fs.size(); ++i) {
      const auto s = ffp8::explore::score_stats(prep, fs[i], {}, {});
      mse[i] = s ? s->sse / s->count : 0.0;
    }
    benchmark::DoNotOptimize(mse.data());
  }
  state.counters["formats"] = static_cast<double>(fs.size());
}
}  // namespace
BENCHMARK(BM_SweepScoring)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();

namespace {
/// One format by the direct path, quantize then measure (DirectScorer: the project's
/// quantize-then-measure reference, pinned metrics only, chunks of 2^16 values): the unit a naive
/// sweep repeats once per format. Single-threaded, like the direct path in a sweep (which
/// parallelises over formats).
void BM_SweepDirectPass(benchmark::State& state) {
  const auto& in = tensor();
  ffp8::QuantOptions o;
  constexpr std::size_t kChunk = std::size_t{1} << 16;
  for (auto _ : state) {
    ffp8::explore::DirectScorer d(ffp8::Format::parse("e4m3fn"), o, {}, 0.0);
    for (std::size_t at = 0; at < in.size(); at += kChunk)
      d.add(std::span<const float>(in).subspan(at, std::min(kChunk, in.size() - at)), at);
    const auto s = d.finish();
    benchmark::DoNotOptimize(s.sse);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}
}  // namespace
BENCHMARK(BM_SweepDirectPass)->Arg(1)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
