// The analytic model: widths it derives, the pinned facts of the design notes, feasibility as
// a result, monotonicity, memory footprint, and the fitting helpers on synthetic data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/errors.hpp"
#include "hwcost/calib/calibrate.hpp"
#include "hwcost/memory.hpp"
#include "hwcost/model.hpp"

namespace ffp8::hwcost {
namespace {

Tech tech() { return find_tech("osu018"); }

PeSpec pe(const char* w, const char* a, Accumulator acc, bool flexible = false) {
  PeSpec s;
  s.weight = Format::parse(w);
  s.activation = Format::parse(a);
  s.accumulator = acc;
  s.flexible = flexible;
  return s;
}

TEST(Geometry, KulischWidthFollowsTheNotesFormula) {
  // W = 2 (2^exp + man - 1) + ceil(log2 K) + 1 for two identical formats with every code finite.
  int checked = 0;
  for (int e = 2; e <= 5; ++e) {
    PeSpec s = pe("e4m3fn", "e4m3fn", Accumulator::Kulisch);
    s.weight = s.activation = Format::make(1, e, 7 - e, 3);
    for (std::uint64_t k : {1ull, 16ull, 4096ull}) {
      s.kulisch_terms = k;
      const int want = 2 * ((1 << e) + (7 - e) - 1) + clog2(static_cast<long long>(k)) + 1;
      EXPECT_EQ(geometry(s).kulisch_bits, want) << "e=" << e << " K=" << k;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 12);
}

TEST(Geometry, FlexibleDecoderCoversTheWidestFormat) {
  PeSpec s = pe("e4m3fn", "e4m3fn", Accumulator::Kulisch, true);
  const PeGeometry g = geometry(s);
  EXPECT_EQ(g.w.frac_bits, 6);  // s0e2m6: the widest mantissa of the default range 2..5
  EXPECT_EQ(g.w.exp_bits, 5);
  EXPECT_EQ(g.product_bits, 14);
}

TEST(Model, ComponentsSumToTheTotal) {
  const Cost c = evaluate(pe("e4m3fn", "s0e4m4b10", Accumulator::Fp32), tech());
  ASSERT_TRUE(c.feasible);
  double sum = 0;
  for (const auto& x : c.components) sum += x.area_um2;
  EXPECT_NEAR(sum, c.area_um2, 1e-6 * c.area_um2);
  EXPECT_GT(c.energy_pj_per_mac, 0);
  EXPECT_GT(c.delay_ns, 0);
  EXPECT_EQ(c.tech, "osu018");
  EXPECT_GE(c.components.size(), 7u);
}

TEST(Model, OrderingsEveryPeMustRespect) {
  const Tech t = tech();
  const auto area = [&](const PeSpec& s) { return evaluate(s, t).area_um2; };
  // fp32 accumulation costs more than fp16; exact accumulation grows with the exponent range.
  EXPECT_GT(area(pe("e4m3fn", "e4m3fn", Accumulator::Fp32)), area(pe("e4m3fn", "e4m3fn", Accumulator::Fp16)));
  EXPECT_GT(area(pe("e5m2", "e5m2", Accumulator::Kulisch)), area(pe("e4m3fn", "e4m3fn", Accumulator::Kulisch)));
  EXPECT_GT(area(pe("e4m3fn", "e4m3fn", Accumulator::Kulisch)), area(pe("s1e3m4b3", "s1e3m4b3", Accumulator::Kulisch)));
  // Run-time configurability is never free.
  for (auto acc : {Accumulator::Fp16, Accumulator::Fp32, Accumulator::Kulisch})
    EXPECT_GT(area(pe("e4m3fn", "e4m3fn", acc, true)), area(pe("e4m3fn", "e4m3fn", acc))) << to_string(acc);
  // The INT8 reference is a few hundred to a few thousand GE.
  const Cost i8 = int8_cost(t);
  EXPECT_GT(i8.area_ge, 300);
  EXPECT_LT(i8.area_ge, 3000);
}

TEST(Model, InfeasibleDesignIsAResultWithAReason) {
  const Tech t = tech();
  const Cost c = evaluate(pe("s1e6m1b31", "e4m3fn", Accumulator::Fp32, true), t);
  EXPECT_FALSE(c.feasible);
  EXPECT_NE(c.reason.find("s1e6m1b31"), std::string::npos) << c.reason;
  EXPECT_NE(c.reason.find("2..5"), std::string::npos) << c.reason;
  EXPECT_FALSE(evaluate(pe("s1e4m4b7", "e4m3fn", Accumulator::Fp32, true), t).feasible);  // 9 bits
  EXPECT_FALSE(evaluate(pe("s1e4m3b200", "e4m3fn", Accumulator::Kulisch, true), t).feasible);  // bias
  // An exact accumulator for two 8-bit exponents needs 537 bits, beyond the 512-bit limit.
  const Cost k = evaluate(pe("s1e8m7b127", "s1e8m7b127", Accumulator::Kulisch), t);
  EXPECT_FALSE(k.feasible);
  EXPECT_NE(k.reason.find("bits"), std::string::npos);
  // Malformed specs are errors, not results.
  PeSpec bad = pe("e4m3fn", "e4m3fn", Accumulator::Kulisch);
  bad.kulisch_terms = 0;
  EXPECT_THROW(evaluate(bad, t), ConfigError);
  EXPECT_THROW(parse_accumulator("fp64"), ConfigError);
}

TEST(Memory, EightBitFormatsStoreAQuarterOfFloat32) {
  const TensorCounts n{11'000'000, 2'000'000, 60};
  const auto refs = reference_footprints(n);
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_DOUBLE_EQ(refs[0].ratio_to_float32, 1.0);
  EXPECT_NEAR(refs[1].ratio_to_float32, 0.5, 1e-12);
  const Footprint f = footprint(n, Format::parse("e4m3fn"), Format::parse("s0e4m4b10"));
  EXPECT_DOUBLE_EQ(f.weight_bytes, 11'000'000.0);
  EXPECT_DOUBLE_EQ(f.activation_bytes, 2'000'000.0);
  EXPECT_NEAR(f.ratio_to_float32, 0.25, 1e-5);
  EXPECT_EQ(f.offchip_bytes_per_inference, 11e6 + 2 * 2e6 + 60);
}

TEST(Fit, NnlsRecoversKnownCoefficientsAndKeepsThemNonNegative) {
  std::array<double, kCoefCount> truth{};
  for (int i = 0; i < kCoefCount; ++i) truth[i] = i % 3 == 0 ? 0.0 : 1.0 + i;
  std::vector<std::array<double, kCoefCount>> a;
  std::vector<double> b, w;
  for (int r = 0; r < 40; ++r) {
    std::array<double, kCoefCount> row{};
    double y = 0;
    for (int i = 0; i < kCoefCount; ++i) {
      row[i] = 1.0 + ((r * 7 + i * 13) % 11) + (r % (i + 2));
      y += row[i] * truth[i];
    }
    a.push_back(row);
    b.push_back(y);
    w.push_back(1.0 / y);
  }
  std::array<bool, kCoefCount> fixed{};
  fixed[static_cast<int>(Coef::RegisterBit)] = true;
  const auto x = fit_coefficients(a, b, w, fixed, truth);
  for (int i = 0; i < kCoefCount; ++i) {
    EXPECT_GE(x[i], 0.0);
    EXPECT_NEAR(x[i], truth[i], 1e-6) << coefficient_names()[i];
  }
}

TEST(Fit, Spearman) {
  EXPECT_DOUBLE_EQ(spearman({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0);
  EXPECT_DOUBLE_EQ(spearman({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0);
  EXPECT_NEAR(spearman({1, 2, 3, 4, 5}, {2, 1, 4, 3, 5}), 0.8, 1e-12);
}

TEST(Fit, GridCoversFormatsAccumulatorsAndHoldsOutAQuarter) {
  const auto g = calibration_grid();
  int held = 0, flex = 0, int8 = 0;
  for (const auto& p : g) {
    held += p.held_out;
    flex += p.spec.flexible;
    int8 += p.spec.kind == PeKind::Int8;
    EXPECT_TRUE(infeasibility(p.spec).empty()) << p.label;
  }
  EXPECT_GE(g.size(), 40u);
  EXPECT_EQ(held, static_cast<int>(g.size()) / 4);
  EXPECT_GE(flex, 9);
  EXPECT_EQ(int8, 1);
}

TEST(Tech, ShippedTableIsCalibratedOrPriorAndRoundTrips) {
  const Tech t = tech();
  EXPECT_EQ(t.name, "osu018");
  EXPECT_GT(t.ge_um2, 0);
  const Tech back = tech_from_json(to_json(t), "round trip");
  EXPECT_EQ(back.coef, t.coef);
  EXPECT_EQ(back.liberty, t.liberty);
}

}  // namespace
}  // namespace ffp8::hwcost

namespace ffp8::hwcost {
namespace {

// The shipped table must still describe the committed synthesis results: a change to the
// model's terms without re-running scripts/calibrate-hwcost fails here.
TEST(Calibration, ShippedTableMatchesCommittedSynthesisResults) {
  const auto file = tech_dir() / ".." / ".." / "results" / "hwcost" / "calibration.json";
  std::ifstream in(file);
  ASSERT_TRUE(in) << file;
  const auto j = nlohmann::json::parse(in);
  const Tech t = find_tech("osu018");
  std::vector<CalPoint> grid = calibration_grid();
  int matched = 0;
  std::vector<double> err, model, synth;
  for (const auto& p : j.at("points")) {
    for (const CalPoint& g : grid) {
      if (g.label != p.at("label").get<std::string>()) continue;
      ++matched;
      const double s = p.at("synth_um2").get<double>(), m = evaluate(g.spec, t).area_um2;
      model.push_back(m);
      synth.push_back(s);
      if (g.held_out) err.push_back(std::abs(m - s) / s);
    }
  }
  EXPECT_EQ(matched, static_cast<int>(grid.size()));
  ASSERT_FALSE(err.empty());
  std::sort(err.begin(), err.end());
  EXPECT_LT(err[err.size() / 2], 0.15) << "held-out median error";
  EXPECT_GE(spearman(model, synth), 0.9);
}

}  // namespace
}  // namespace ffp8::hwcost
