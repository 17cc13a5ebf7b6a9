// End-to-end synthesis flow on a small PE: Yosys + ABC against the osu018 liberty file.
#include <gtest/gtest.h>

#include "hwcost/model.hpp"
#include "hwcost/synth/yosys.hpp"

namespace ffp8::hwcost {
namespace {

TEST(Synthesis, SmallKulischPeMapsToOsu018Cells) {
  PeSpec s;
  s.weight = s.activation = Format::parse("s1e3m4b3");
  s.accumulator = Accumulator::Kulisch;
  s.kulisch_terms = 16;
  const Tech t = find_tech("osu018");
  SynthOptions o;
  o.liberty = t.liberty;
  const SynthResult r = synthesize(generate_verilog(s, "pe_small"), o);
  EXPECT_GT(r.area_um2, 0);
  EXPECT_GT(r.cell_count, 50);
  long sum = 0, flops = 0;
  for (const auto& [cell, n] : r.cells) {
    sum += n;
    if (cell.rfind("DFF", 0) == 0) flops += n;
  }
  EXPECT_EQ(sum, r.cell_count);
  // Operand and clear registers plus the accumulator: every flop survives mapping.
  EXPECT_EQ(flops, geometry(s).input_reg_bits + geometry(s).acc_bits);
  // The calibrated model should land near the synthesized area (loose: ABC varies by a few %).
  const double model = evaluate(s, t).area_um2;
  EXPECT_NEAR(model / r.area_um2, 1.0, 0.35) << "model " << model << " synthesis " << r.area_um2;
}

}  // namespace
}  // namespace ffp8::hwcost
