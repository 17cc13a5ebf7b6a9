// The statistics path against quantize-then-measure (the Quantizer's direct path, float64) on
// tensors built to be hard: every point must agree to 1e-9 relative.
#include <bit>
#include <cmath>
#include <gtest/gtest.h>
#include <vector>

#include "core/errors.hpp"
#include "explore/metrics/score.hpp"
#include "explore/stats/bucket_stats.hpp"
#include "tests/explore/hard_tensors.hpp"

using namespace ffp8;
using namespace ffp8::explore;

namespace {

using test::close;

ErrorSums direct(std::span<const float> x, const Format& f, const QuantOptions& o, const ScoreNeeds& needs,
                 double range) {
  DirectScorer d(f, o, needs, range);
  // Uneven chunks: the direct path must not depend on how the tensor is split.
  std::size_t at = 0, step = 1000;
  while (at < x.size()) {
    const std::size_t len = std::min(step, x.size() - at);
    d.add(x.subspan(at, len), at);
    at += len;
    step = step * 3 / 2;
  }
  return d.finish();
}

std::vector<Format> hard_formats() {
  std::vector<Format> out;
  for (int sign : {0, 1})
    for (int e = 1; e + sign <= 8; ++e)
      for (int b = -12; b <= 30; b += 3) out.push_back(Format::make(sign, e, 8 - sign - e, b));
  // Specials and no-subnormal variants, narrow and odd widths, values beyond float32.
  for (Specials sp : {Specials::Ieee, Specials::Fn, Specials::Fnuz})
    for (int e : {2, 4, 5})
      for (int b : {-3, 7, 15})
        for (bool sub : {true, false}) {
          Format f{1, e, 7 - e, b, sp, sub};
          try {
            f.validate();
            out.push_back(f);
          } catch (const FormatError&) {
          }
        }
  for (int b : {-3, 8}) out.push_back(Format::make(0, 5, 3, b, Specials::None, false));
  out.push_back(Format::make(1, 3, 1, 2));   // width 5
  out.push_back(Format::make(1, 5, 0, 15));  // m = 0: ties to even exponent
  out.push_back(Format::make(0, 7, 0, 60));
  out.push_back(Format::make(1, 5, 2, -110));  // values beyond float32: scalar path
  out.push_back(Format::make(1, 4, 3, 140));   // range among float32 subnormals: direct fallback
  out.push_back(Format::make(1, 8, 7, 127));   // bfloat16-like: man = 7, widest exponent
  return out;
}

}  // namespace

TEST(Exactness, EveryPointOfHardSweepAgreesWithDirectPath) {
  const std::vector<float> x = test::hard_tensor();
  const BucketStats st = collect(x, 2, true);
  ASSERT_EQ(st.count(), x.size());
  const PreparedStats prep(st);
  int points = 0, by_stats = 0, disagreements = 0;
  // Two scorers: per bucket (with reciprocal sums, for mean_rel_err) and by runs of buckets.
  for (const ScoreNeeds needs : {ScoreNeeds{false, true}, ScoreNeeds{true, false}})
  for (const Format& f : hard_formats()) {
    for (Rounding r : {Rounding::Rne, Rounding::Rna, Rounding::Rtz}) {
      QuantOptions o;
      o.rounding = r;
      ++points;
      // The run-based scorer (no reciprocal sums) both ways: by boundaries and by scanning.
      const auto s = score_stats(prep, f, o, needs);
      const auto scan = score_stats(prep, f, o, needs, RunSearch::Scan);
      ASSERT_EQ(s.has_value(), scan.has_value());
      if (!s) {
        EXPECT_TRUE(f.man > 7 || f.bias >= 100) << f.name() << " fell back unexpectedly";
        continue;
      }
      ++by_stats;
      const ErrorSums d = direct(x, f, o, needs, prep.max_abs());
      const std::string what = f.name() + " " + std::string(to_string(r));
      for (const ErrorSums* e : {&*s, &*scan}) {
      bool ok = close(e->sse, d.sse) && close(e->max_abs, d.max_abs) && close(e->sum_x2, d.sum_x2, 1e-12) &&
                close(e->sum_xq, d.sum_xq) && close(e->sum_q2, d.sum_q2) && e->count == d.count &&
                e->overflow == d.overflow && e->underflow == d.underflow && e->neg_clipped == d.neg_clipped &&
                (!needs.relative || (close(e->rel_sum, d.rel_sum) && e->rel_count == d.rel_count));
      if (!ok) {
        ++disagreements;
        ADD_FAILURE() << what << ": sse " << e->sse << " vs " << d.sse << ", max " << e->max_abs << " vs "
                      << d.max_abs << ", ovf " << e->overflow << " vs " << d.overflow << ", unf " << e->underflow
                      << " vs " << d.underflow << ", neg " << e->neg_clipped << " vs " << d.neg_clipped << ", rel "
                      << e->rel_sum << " vs " << d.rel_sum << ", xq " << e->sum_xq << " vs " << d.sum_xq
                      << (e == &*scan ? " (scan)" : "");
      }
      }
    }
  }
  RecordProperty("points", points);
  RecordProperty("by_stats", by_stats);
  std::printf("exactness: %d points, %d scored by statistics, %d disagreements\n", points, by_stats, disagreements);
  EXPECT_EQ(disagreements, 0);
  EXPECT_GT(by_stats, points * 9 / 10);
}

TEST(Exactness, NonSaturatingFormatsAgree) {
  // Out-of-range values become Inf (ieee) or NaN (fn) except within half an ulp of max(V).
  const std::vector<float> x = test::hard_tensor(3);
  const BucketStats st = collect(x, 1);
  const PreparedStats prep(st);
  int checked = 0;
  for (const char* name : {"e5m2", "e4m3fn", "s1e4m3b7", "s1e3m4b2-ieee"})
    for (Rounding r : {Rounding::Rne, Rounding::Rna, Rounding::Rtz}) {
      const Format f = Format::parse(name);
      QuantOptions o;
      o.rounding = r;
      o.saturate = false;
      for (const ScoreNeeds needs : {ScoreNeeds{false, true}, ScoreNeeds{false, false}}) {
        const ErrorSums d = direct(x, f, o, needs, prep.max_abs());
        for (const RunSearch search : {RunSearch::Thresholds, RunSearch::Scan}) {
          const auto s = score_stats(prep, f, o, needs, search);
          ASSERT_TRUE(s) << name;
          EXPECT_TRUE(close(s->sse, d.sse)) << name << " " << to_string(r) << ": " << s->sse << " vs " << d.sse;
          EXPECT_TRUE(close(s->max_abs, d.max_abs)) << name << " " << to_string(r);
          EXPECT_EQ(s->overflow, d.overflow) << name;
        }
        ++checked;
      }
    }
  EXPECT_EQ(checked, 24);
}

TEST(Exactness, BoundarySearchMatchesScan) {
  // The run search from the format's boundaries against rounding every item, on the hard
  // tensor, on bfloat16-like data (every value on a bucket edge, many exact ties) and on ReLU-like
  // data (many zeros): every sum, count and the kl histogram agree.
  std::vector<std::vector<float>> tensors = {test::hard_tensor(5)};
  std::vector<float> edges = test::hard_tensor(6), relu = test::hard_tensor(7);
  for (float& v : edges) v = std::bit_cast<float>(std::bit_cast<std::uint32_t>(v) & 0xffff8000u);
  for (float& v : relu) v = std::max(v, 0.0f);
  tensors.push_back(edges);
  tensors.push_back(relu);
  int compared = 0;
  for (const auto& x : tensors) {
    const BucketStats st = collect(x, 1);
    const PreparedStats prep(st);
    for (const Format& f : hard_formats())
      for (Rounding r : {Rounding::Rne, Rounding::Rna, Rounding::Rtz})
        for (bool saturate : {true, false}) {
          QuantOptions o;
          o.rounding = r;
          o.saturate = saturate;
          const auto a = score_stats(prep, f, o, {true, false});
          const auto b = score_stats(prep, f, o, {true, false}, RunSearch::Scan);
          ASSERT_EQ(a.has_value(), b.has_value());
          if (!a) continue;
          ++compared;
          const std::string what = f.name() + " " + std::string(to_string(r)) + (saturate ? "" : " nonsat");
          EXPECT_TRUE(close(a->sse, b->sse, 1e-12)) << what << ": " << a->sse << " vs " << b->sse;
          EXPECT_TRUE(close(a->max_abs, b->max_abs, 0)) << what;
          EXPECT_TRUE(close(a->sum_xq, b->sum_xq, 1e-12)) << what;
          EXPECT_TRUE(close(a->sum_q2, b->sum_q2, 1e-12)) << what;
          EXPECT_TRUE(close(a->kl, b->kl, 1e-12)) << what;
          EXPECT_EQ(a->count, b->count) << what;
          EXPECT_EQ(a->overflow, b->overflow) << what;
          EXPECT_EQ(a->underflow, b->underflow) << what;
          EXPECT_EQ(a->neg_clipped, b->neg_clipped) << what;
        }
  }
  EXPECT_GT(compared, 1000);
}
