// The run-time configurable PE, simulated with Icarus Verilog and configured to several
// formats (field split, sign presence, bias), checked on every operand pair against the codec.
#include <bit>
#include <cmath>

#include "tests/hwcost/rtl/sim_harness.hpp"

namespace ffp8::hwcost::test {
namespace {

struct Pair {
  const char* w;
  const char* a;
};
// Signed and unsigned, every exponent width of the default range 2..5, non-IEEE biases.
const Pair kConfigs[] = {{"s1e4m3b7", "s1e4m3b7"},   {"s1e5m2b15", "s1e5m2b15"}, {"s0e4m4b10", "s0e4m4b10"},
                         {"s1e3m4b3", "s0e2m6b1"},   {"s1e4m3b10", "s0e5m3b-4"}, {"s1e2m5b-3", "s0e3m5b12"}};

PeSpec flexible(Accumulator acc) {
  PeSpec s;
  s.flexible = true;
  s.accumulator = acc;
  return s;
}

// Runs every operand pair of every configuration through one compiled simulation.
void check_configs(Accumulator acc) {
  PeSpec s = flexible(acc);
  Sim sim(s);
  const auto& g = sim.geometry();
  int configs = 0;
  for (const Pair& p : kConfigs) {
    const Format fw = Format::parse(p.w), fa = Format::parse(p.a);
    ASSERT_FALSE(s.flex.reject(fw)) << p.w;
    ASSERT_FALSE(s.flex.reject(fa)) << p.a;
    std::vector<Vec> vecs;
    for (std::uint32_t w = 0; w < 256; ++w)
      for (std::uint32_t a = 0; a < 256; ++a) vecs.push_back({w, a, true});
    const auto out = sim.run(vecs, flex_config(fw, fa));
    ASSERT_EQ(out.size(), vecs.size());
    int bad = 0, checked = 0;
    for (std::size_t i = 0; i < vecs.size(); ++i) {
      const double v = 0.0 + decode(fw, vecs[i].w).value * decode(fa, vecs[i].a).value;  // +0 start
      std::string want;
      if (acc == Accumulator::Kulisch) {
        const double scaled = std::ldexp(v, -kulisch_lsb_exponent(g, fw, fa));
        want = hex_bits(static_cast<int128>(scaled), g.acc_bits);
      } else {
        want = hex_bits(std::bit_cast<std::uint32_t>(static_cast<float>(v)), 32);
      }
      ++checked;
      if (out[i] != want && ++bad <= 5)
        ADD_FAILURE() << p.w << " x " << p.a << " w=0x" << std::hex << vecs[i].w << " a=0x" << vecs[i].a
                      << ": rtl " << out[i] << " want " << want;
    }
    EXPECT_EQ(bad, 0) << p.w << " x " << p.a;
    EXPECT_EQ(checked, 65536);
    ++configs;
  }
  EXPECT_EQ(configs, 6);
}

TEST(RtlFlexible, KulischAllPairsBitExactForSixConfigurations) { check_configs(Accumulator::Kulisch); }

TEST(RtlFlexible, Fp32AllPairsForSixConfigurations) { check_configs(Accumulator::Fp32); }

}  // namespace
}  // namespace ffp8::hwcost::test
