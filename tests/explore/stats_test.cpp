// The collector: results independent of chunking and threads; the summary facts it derives.
#include <gtest/gtest.h>

#include "explore/stats/bucket_stats.hpp"
#include "hard_tensors.hpp"

using namespace ffp8::explore;

namespace {
bool same(const BucketStats& a, const BucketStats& b) {
  if (a.count() != b.count() || a.buckets().size() != b.buckets().size()) return false;
  for (std::size_t i = 0; i < a.buckets().size(); ++i) {
    const Bucket &x = a.buckets()[i], &y = b.buckets()[i];
    if (x.key != y.key || x.n != y.n || x.n0 != y.n0 || x.s1 != y.s1 || x.s2 != y.s2 || x.lmin != y.lmin ||
        x.lmax != y.lmax)
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

TEST(Stats, SummaryFacts) {
  const std::vector<float> x = {0.5f, -3.0f, 2.25f, 0.0f, 1e-40f, 7.0f};
  const BucketStats s = collect(x, 1);
  EXPECT_EQ(s.max_abs(), 7.0);
  EXPECT_EQ(s.max_positive(), 7.0);
  EXPECT_EQ(s.min(), -3.0);
  EXPECT_EQ(s.nan_count(), 0u);
  EXPECT_EQ(s.abs_percentile(100, false), 7.0);
  EXPECT_EQ(s.abs_percentile(50, false), 0.5);  // rank 3 of |x| sorted: 0, 1e-40, 0.5, ...
  const std::vector<float> y = {1.0f, NAN, -NAN, INFINITY};
  const BucketStats t = collect(y, 1);
  EXPECT_EQ(t.nan_count(), 2u);
  EXPECT_TRUE(std::isinf(t.max_abs()));
}
