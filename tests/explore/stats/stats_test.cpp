// The collector: results independent of chunking and threads; the summary facts it derives.
#include <bit>
#include <cmath>
#include <gtest/gtest.h>

#include "explore/stats/bucket_stats.hpp"
#include "tests/explore/hard_tensors.hpp"

using namespace ffp8::explore;

namespace {
/// Same buckets and sums; `recip`: the reciprocal sums too.
bool same(const BucketStats& a, const BucketStats& b, bool recip = false) {
  if (a.count() != b.count() || a.buckets().size() != b.buckets().size()) return false;
  for (std::size_t i = 0; i < a.buckets().size(); ++i) {
    const Bucket &x = a.buckets()[i], &y = b.buckets()[i];
    if (x.key != y.key || x.n != y.n || x.n0 != y.n0 || x.s1 != y.s1 || x.s2 != y.s2 || x.lmin != y.lmin ||
        x.lmax != y.lmax || (recip && x.r != y.r))
      return false;
  }
  return true;
}
}  // namespace

TEST(Stats, IndependentOfChunksAndThreads) {
  std::vector<float> x = ffp8::test::hard_tensor(2);
  // Large enough to take the multi-threaded path too.
  while (x.size() < 300000) x.insert(x.end(), x.begin(), x.begin() + std::min<std::size_t>(x.size(), 300000 - x.size()));
  const BucketStats one = collect(x, 1);
  const BucketStats two = collect(x, 2);
  Collector c(2);
  for (std::size_t at = 0; at < x.size(); at += 7777) c.add(std::span<const float>(x).subspan(at, std::min<std::size_t>(7777, x.size() - at)));
  const BucketStats chunked = c.finish();
  EXPECT_EQ(one.count(), x.size());
  EXPECT_TRUE(same(one, two));
  EXPECT_TRUE(same(one, chunked));
  // The reciprocal sums (mean_rel_err) are fixed-point integers: identical bit for bit too.
  const BucketStats r1 = collect(x, 1, true);
  Collector rc(2, true);
  for (std::size_t at = 0; at < x.size(); at += 70001) rc.add(std::span<const float>(x).subspan(at, std::min<std::size_t>(70001, x.size() - at)));
  const BucketStats r2 = rc.finish();
  EXPECT_TRUE(same(r1, collect(x, 2, true), true));
  EXPECT_TRUE(same(r1, r2, true));
  EXPECT_TRUE(same(one, r1));
}

TEST(Stats, ReciprocalSumsMatchALongDoubleReference) {
  // Every kind of bucket: normal (large and small exponents), float32-subnormal ones with each
  // top-bit position, and the lowest one (c == 0, plain 1/|x|); L from 1 to 2^15 - 1.
  std::vector<float> x;
  for (std::uint32_t e : {1u, 2u, 60u, 127u, 200u, 254u})
    for (std::uint32_t low : {1u, 2u, 777u, 16384u, 32767u})
      x.push_back(std::bit_cast<float>(e << 23 | 0x5au << 15 | low));
  for (std::uint32_t m : {0u, 1u, 2u, 3u, 64u, 255u})
    for (std::uint32_t low : {1u, 5u, 32767u}) {
      x.push_back(std::bit_cast<float>(m << 15 | low));
      x.push_back(-std::bit_cast<float>(m << 15 | low));
    }
  const BucketStats s = collect(x, 1, true);
  for (const Bucket& b : s.buckets()) {
    long double want = 0;
    for (float v : x) {
      const std::uint32_t u = std::bit_cast<std::uint32_t>(v);
      if ((u >> kLowBits) != b.key || (u & 0x7fffu) == 0) continue;
      const long double a = std::fabs(static_cast<long double>(v)), c = b.edge();
      want += c == 0 ? 1 / a : 1 / c - 1 / a;
    }
    EXPECT_NEAR(b.reciprocal_sum() / static_cast<double>(want), 1.0, 1e-12) << std::hex << b.key;
    // Each term sits below 2^62 units, so n terms never overflow the 128-bit sum.
    EXPECT_LT(b.r, static_cast<u128>(b.n) << 62) << std::hex << b.key;
  }
}

TEST(Stats, VectorLoopMatchesScalarLoop) {
  // With reciprocals the collector takes the scalar loop; without, the AVX-512 loop (when built
  // with it): integer sums, edge counts and L extremes must agree bucket for bucket. Odd sizes
  // leave scalar tails after the 8-value blocks.
  std::vector<float> x = ffp8::test::hard_tensor(3);
  x.push_back(0.0f);
  x.push_back(-0.0f);
  for (std::size_t size : {x.size(), x.size() - 3, std::size_t{7}, std::size_t{9}}) {
    const std::span<const float> v(x.data(), size);
    EXPECT_TRUE(same(collect(v, 1, true), collect(v, 1, false))) << size;
  }
}

TEST(Stats, ZeroHeavyBlocksMatchScalarLoop) {
  // ReLU-like data: the AVX-512 loop counts exact zeros (+0 and -0, one bucket each) apart in
  // blocks that hold many of them and runs blocks with few or none as usual. Alternating
  // zero-heavy and zero-free stretches, values with L > 0 in the zeros' buckets, small adds
  // (touched-key tracking) and large ones must all agree with the scalar loop.
  std::vector<float> x = ffp8::test::hard_tensor(5);
  for (std::size_t i = 0; i < x.size(); ++i)
    if ((i / 3000) % 2 == 0 && (x[i] < 0.0f || i % 5 == 0)) x[i] = i % 7 ? 0.0f : -0.0f;
  x[10] = std::bit_cast<float>(1u);           // smallest subnormal: bucket of +0, L = 1
  x[4100] = std::bit_cast<float>(0x80007fffu);  // bucket of -0, L = 0x7fff
  std::vector<float> big;
  while (big.size() < 100000) big.insert(big.end(), x.begin(), x.end());
  for (const std::vector<float>* t : {&x, &big})
    for (std::size_t size : {t->size(), t->size() - 5}) {
      const std::span<const float> v(t->data(), size);
      const BucketStats scalar = collect(v, 1, true), vector = collect(v, 1, false);
      EXPECT_EQ(vector.count(), size);
      EXPECT_TRUE(same(scalar, vector)) << size;
    }
}

TEST(Stats, SummaryFacts) {
  const std::vector<float> x = {0.5f, -3.0f, 2.25f, 0.0f, 1e-40f, 7.0f};
  const BucketStats s = collect(x, 1);
  EXPECT_EQ(s.max_abs(), 7.0);
  EXPECT_EQ(s.max_positive(), 7.0);
  EXPECT_EQ(s.min(), -3.0);
  EXPECT_EQ(s.nan_count(), 0u);
  EXPECT_EQ(s.abs_percentile(100, false), 7.0);
  EXPECT_EQ(s.abs_percentile(50, false), 0.5);  // rank 3 of |x| sorted: 0, 1e-40, 0.5, ...
  // NaN and ±Inf are counted and left out of every fact (and of finite()).
  const std::vector<float> y = {1.0f, NAN, -NAN, INFINITY, -INFINITY, INFINITY, -2.0f};
  const BucketStats t = collect(y, 1);
  EXPECT_EQ(t.nan_count(), 2u);
  EXPECT_EQ(t.inf_count(), 3u);
  EXPECT_EQ(t.max_abs(), 2.0);
  EXPECT_EQ(t.max_positive(), 1.0);
  EXPECT_EQ(t.min(), -2.0);
  EXPECT_EQ(t.abs_percentile(100, false), 2.0);
  EXPECT_EQ(t.abs_percentile(100, true), 1.0);
  const BucketStats f = t.finite();
  EXPECT_EQ(f.count(), 2u);
  EXPECT_EQ(f.nan_count() + f.inf_count(), 0u);
  EXPECT_TRUE(same(f, collect(std::vector<float>{1.0f, -2.0f}, 1)));
}
