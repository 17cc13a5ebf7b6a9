// Generated fixed-format PEs simulated with Icarus Verilog against the project's codec: every
// operand pair for e4m3fn, e5m2 and an unsigned FFP8 format, with Kulisch (bit-exact integer),
// fp32 and fp16 accumulators, plus accumulation sequences.
#include <bit>
#include <cmath>
#include <random>

#include "core/quant/quantize.hpp"
#include "tests/hwcost/rtl/sim_harness.hpp"

namespace ffp8::hwcost::test {
namespace {

PeSpec fixed(const char* w, const char* a, Accumulator acc) { return PeSpec::fixed(w, a, acc); }

std::vector<Vec> all_pairs(const PeSpec& s) {
  std::vector<Vec> v;
  for (std::uint32_t w = 0; w < s.weight.code_count(); ++w)
    for (std::uint32_t a = 0; a < s.activation.code_count(); ++a) v.push_back({w, a, true});
  return v;
}

double product(const PeSpec& s, const Vec& x) {
  return decode(s.weight, x.w).value * decode(s.activation, x.a).value;
}

std::uint64_t finite_pairs(const PeSpec& s) {
  std::uint64_t nw = 0, na = 0;
  for (std::uint32_t c = 0; c < s.weight.code_count(); ++c) nw += finite_code(s.weight, c);
  for (std::uint32_t c = 0; c < s.activation.code_count(); ++c) na += finite_code(s.activation, c);
  return nw * na;
}

// Expected accumulator bits of `value` for the PE's accumulator (value exact in double).
std::string expected(const PeSpec& s, const PeGeometry& g, double value) {
  switch (s.accumulator) {
    case Accumulator::Kulisch: {
      const double scaled = std::ldexp(value, -kulisch_lsb_exponent(g, s.weight, s.activation));
      EXPECT_EQ(scaled, std::trunc(scaled)) << "product is not a multiple of the Kulisch LSB";
      return hex_bits(static_cast<int128>(scaled), g.acc_bits);
    }
    case Accumulator::Fp32:
      return hex_bits(std::bit_cast<std::uint32_t>(static_cast<float>(value)), 32);
    case Accumulator::Fp16: {
      static const Quantizer q16(Format::parse("s1e5m10b15-ieee"), QuantOptions{});
      return hex_bits(q16.round(value).code, 16);
    }
  }
  return {};
}

// Checks every finite operand pair as a single product (acc cleared each cycle).
void check_all_products(const PeSpec& s) {
  Sim sim(s);
  const auto vecs = all_pairs(s);
  const auto out = sim.run(vecs);
  ASSERT_EQ(out.size(), vecs.size());
  std::uint64_t checked = 0, bad = 0;
  for (std::size_t i = 0; i < vecs.size(); ++i) {
    if (!finite_code(s.weight, vecs[i].w) || !finite_code(s.activation, vecs[i].a)) continue;
    ++checked;
    // The sum starts at +0, so a -0 product gives +0 (IEEE: +0 + -0 = +0).
    const std::string want = expected(s, sim.geometry(), 0.0 + product(s, vecs[i]));
    if (out[i] != want && ++bad <= 5)
      ADD_FAILURE() << s.label() << " w=0x" << std::hex << vecs[i].w << " a=0x" << vecs[i].a << " p="
                    << product(s, vecs[i]) << ": rtl " << out[i] << " want " << want;
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(checked, finite_pairs(s));
}

// Random sums of `len` products: Kulisch exactly; floats rounded once per step (the double
// sum of an accumulator value and an exact product is exact here, so one rounding suffices).
void check_sums(const PeSpec& s, int sums, int len) {
  Sim sim(s);
  std::mt19937 rng(1234);
  std::vector<Vec> vecs;
  std::vector<std::string> want;
  std::uniform_int_distribution<std::uint32_t> dw(0, s.weight.code_count() - 1), da(0, s.activation.code_count() - 1);
  const auto& g = sim.geometry();
  const Quantizer q16(Format::parse("s1e5m10b15-ieee"), QuantOptions{});
  int inexact = 0;
  for (int k = 0; k < sums; ++k) {
    int128 exact = 0;
    double acc = 0;
    for (int j = 0; j < len; ++j) {
      Vec x{dw(rng), da(rng), j == 0};
      while (!finite_code(s.weight, x.w)) x.w = dw(rng);
      while (!finite_code(s.activation, x.a)) x.a = da(rng);
      vecs.push_back(x);
      const double p = product(s, x);
      switch (s.accumulator) {
        case Accumulator::Kulisch:
          exact += static_cast<int128>(std::ldexp(p, -kulisch_lsb_exponent(g, s.weight, s.activation)));
          want.push_back(hex_bits(exact, g.acc_bits));
          break;
        case Accumulator::Fp32: {
          const double sum = acc + p;
          inexact += (sum - acc) != p;  // double sum exact?
          acc = static_cast<float>(sum);
          want.push_back(hex_bits(std::bit_cast<std::uint32_t>(static_cast<float>(acc)), 32));
          break;
        }
        case Accumulator::Fp16: {
          const double sum = acc + p;
          inexact += (sum - acc) != p;
          const auto r = q16.round(sum);
          acc = r.value;
          want.push_back(hex_bits(r.code, 16));
          break;
        }
      }
    }
  }
  const auto out = sim.run(vecs);
  ASSERT_EQ(out.size(), want.size());
  int bad = 0;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i] != want[i] && ++bad <= 5) ADD_FAILURE() << s.label() << " step " << i << ": rtl " << out[i] << " want " << want[i];
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(inexact, 0) << "reference sums were not exact in double";
}

struct Case {
  const char* w;
  const char* a;
};
const Case kCases[] = {{"e4m3fn", "e4m3fn"}, {"e5m2", "e5m2"}, {"s0e4m4b10", "s0e4m4b10"}, {"e4m3fn", "s0e4m4b10"}};

TEST(RtlFixed, KulischAllPairsBitExact) {
  for (const Case& c : kCases) check_all_products(fixed(c.w, c.a, Accumulator::Kulisch));
}

TEST(RtlFixed, Fp32AllPairs) {
  for (const Case& c : kCases) check_all_products(fixed(c.w, c.a, Accumulator::Fp32));
}

TEST(RtlFixed, Fp16AllPairsRounded) {
  // fp16 rounds e.g. e4m3 x e4m3 products (8-bit significands, up to 200704): saturation,
  // subnormals and rounding are all exercised.
  for (const Case& c : kCases) check_all_products(fixed(c.w, c.a, Accumulator::Fp16));
}

TEST(RtlFixed, KulischSumsExact) {
  PeSpec s = fixed("e5m2", "e5m2", Accumulator::Kulisch);
  s.kulisch_terms = 64;
  check_sums(s, 40, 64);
  check_sums(fixed("s0e4m4b10", "e4m3fn", Accumulator::Kulisch), 40, 64);
}

TEST(RtlFixed, FloatSumsRoundedOncePerStep) {
  check_sums(fixed("e4m3fn", "e4m3fn", Accumulator::Fp32), 40, 64);
  check_sums(fixed("s1e3m4b3", "s0e3m5b3", Accumulator::Fp16), 40, 64);
}

}  // namespace
}  // namespace ffp8::hwcost::test
