// "scaling" in the sweep space: every element format times every shared-scale suffix; power-of-
// two scales scored from statistics agree with the same sweep scored by the direct path
// (SchemeQuantizer, then measure) to 1e-9; names, columns, objectives and config errors.
#include <gtest/gtest.h>
#include <random>

#include "core/errors.hpp"
#include "explore/report/report.hpp"
#include "explore/sweep/sweep.hpp"
#include "tests/explore/test_util.hpp"

using namespace ffp8;
using namespace ffp8::explore;
using nlohmann::json;

namespace {

bool close(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

/// A conv-like weight [16, 40, 3] (blocks run along axis 1 with stride 3, tail blocks of 8), with
/// zero blocks, blocks spanning a wide range, values on significand boundaries; a ReLU activation.
std::filesystem::path make_inputs(const std::string& name) {
  const auto dir = test::scratch(name);
  std::mt19937 gen(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> w(16 * 40 * 3);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = nd(gen) * std::ldexp(1.0f, static_cast<int>(i / 120) * 3 - 20);
  for (std::size_t c = 0; c < 40; ++c) w[(2 * 40 + c) * 3 + 1] = 0.0f;  // channel 2, inner 1: zero blocks
  w[5 * 120 + 7] = 448.0f;        // on e4m3fn's max(V)
  w[6 * 120 + 7] = 0x1.ep+3f;     // 15 = 1.875 * 2^3: on s1e4m3b7's max significand
  w[7 * 120 + 7] = 0x1.000002p+4f;  // one float32 step above a power of two
  std::vector<float> a(3000);
  for (float& v : a) v = std::max(0.0f, nd(gen)) * 4.0f;
  test::write_h5(dir / "w.h5", {{"/w", {16, 40, 3}, w}});
  test::write_h5(dir / "a.h5", {{"/a", {30, 100}, a}});
  return dir;
}

json config() {
  return json::parse(R"({
    "inputs": [{"file": "w.h5", "tensors": ["/w"], "role": "weight"},
               {"file": "a.h5", "tensors": ["/a"], "role": "activation"}],
    "space": {"width": 8, "sign": [0, 1], "exp": [1, 2, 3, 4, 5, 6, 7], "specials": ["none", "fn"],
              "rounding": ["rne", "rtz"],
              "scaling": ["none", "block32:e8m0:floor", "block32:e8m0:fit", "block8:e8m0:fit",
                          "channel:e8m0:floor", "tensor:e8m0:fit", "channel:f32:amax"]},
    "metrics": ["mse", "sqnr_db", "max_abs_err", "mean_rel_err", "cosine", "neg_clipped_frac", "underflow_frac"],
    "objectives": [{"column": "mse"}, {"column": "effective_bits", "goal": "min"}, {"column": "group_size", "goal": "max"}]
  })");
}

SweepResult run(const json& j, const std::filesystem::path& dir) {
  const SweepConfig c = parse_config(j, dir);
  return run_sweep(c, open_inputs(c));
}

std::string error_of(json j) {
  try {
    parse_config(j, ".");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Scaling, PowerOfTwoScalesFromStatisticsAgreeWithTheDirectPath) {
  const auto dir = make_inputs("scaling_exact");
  json j = config();
  const SweepResult fast = run(j, dir);
  j["direct_only"] = true;
  const SweepResult slow = run(j, dir);
  ASSERT_EQ(fast.points.size(), slow.points.size());
  std::size_t scaled = 0, by_stats = 0, disagreements = 0;
  for (std::size_t i = 0; i < fast.points.size(); ++i) {
    const Point &p = fast.points[i], &q = slow.points[i];
    ASSERT_EQ(point_format_name(p), point_format_name(q));
    EXPECT_FALSE(q.by_stats && !q.scaling.empty());
    if (p.scaling.empty()) continue;
    ++scaled;
    by_stats += p.by_stats;
    if (p.scaling.find("f32") != std::string::npos) {
      EXPECT_FALSE(p.by_stats) << point_format_name(p);
    }
    const bool ok = p.sums.count == q.sums.count && close(p.sums.mse(), q.sums.mse()) && close(p.sums.max_abs, q.sums.max_abs) &&
                    close(p.sums.rel_sum, q.sums.rel_sum) && close(p.sums.sum_xq, q.sums.sum_xq) &&
                    close(p.sums.sum_q2, q.sums.sum_q2) && p.sums.underflow == q.sums.underflow &&
                    p.sums.overflow == q.sums.overflow && p.sums.neg_clipped == q.sums.neg_clipped;
    if (!ok && ++disagreements < 10)
      ADD_FAILURE() << fast.groups[p.group].tensor << " " << point_format_name(p) << " " << to_string(p.rounding)
                    << ": mse " << p.sums.mse() << " vs " << q.sums.mse() << ", max " << p.sums.max_abs << " vs "
                    << q.sums.max_abs << ", overflow " << p.sums.overflow << " vs " << q.sums.overflow;
  }
  EXPECT_EQ(disagreements, 0u);
  EXPECT_GT(scaled, 400u);
  EXPECT_GT(by_stats, scaled * 3 / 4);  // every power-of-two point but the clamped ones
}

TEST(Scaling, NamesColumnsAndEffectiveBits) {
  const auto dir = make_inputs("scaling_columns");
  json j = config();
  j["space"]["scaling"] = json::array({"block32:e8m0:floor"});
  j["space"]["exp"] = json::array({4});
  j["space"]["specials"] = json::array({"fn"});
  const SweepConfig c = parse_config(j, dir);
  const SweepResult r = run_sweep(c, open_inputs(c));
  ASSERT_FALSE(r.points.empty());
  for (const Point& p : r.points) EXPECT_EQ(p.scaling, "block32:e8m0:floor");  // no "none": no plain points
  const std::string csv = points_csv(c, r, false);
  EXPECT_NE(csv.find("tensor,role,granularity,channel,format,scaling,effective_bits,sign"), std::string::npos);
  // The weight [16, 40, 3]: 16 * 2 * 3 blocks (a tail of 8 per row) over 1920 values: 8 + 8 * 96 / 1920.
  EXPECT_NE(csv.find("/w,weight,tensor,-1,s1e4m3b7-fn/block32:e8m0:floor,block32:e8m0:floor,8.4"), std::string::npos)
      << csv.substr(0, 600);
}

TEST(Scaling, BadScalingsAreOneSentenceWithTheirPath) {
  json j = config();
  j["space"]["scaling"] = json::array({"none", "block32:e8m0:ceil"});
  std::string e = error_of(j);
  EXPECT_EQ(e.rfind("/space/scaling/1: scaling \"block32:e8m0:ceil\"", 0), 0u) << e;
  j["space"]["scaling"] = json::array({"block0:e8m0:floor"});
  e = error_of(j);
  EXPECT_EQ(e.rfind("/space/scaling/0: scaling \"block0:e8m0:floor\"", 0), 0u) << e;
  j["space"]["scaling"] = json::array({"tensor:f32:floor"});
  EXPECT_EQ(error_of(j).rfind("/space/scaling/0: ", 0), 0u);
  j["space"]["scaling"] = json::array();
  EXPECT_EQ(error_of(j).rfind("/space/scaling: ", 0), 0u);
  j["space"]["scaling"] = "blocky";
  EXPECT_EQ(error_of(j).rfind("/space/scaling: scaling \"blocky\"", 0), 0u);
  for (const std::string& msg : {error_of(j)}) EXPECT_EQ(msg.find('\n'), std::string::npos);
}
