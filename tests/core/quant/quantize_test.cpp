// Codec round trips, counts, stochastic rounding statistics and thread/chunk invariance.
#include <bit>
#include <cstring>
#include <tuple>
#include <cmath>
#include <gtest/gtest.h>
#include <limits>
#include <random>
#include <vector>

#include "core/errors.hpp"
#include "core/format/codec.hpp"
#include "core/quant/quantize.hpp"

namespace ffp8 {
namespace {

TEST(Codec, EveryCodeDecodesAndReencodesToItself) {
  std::size_t formats = 0, codes = 0;
  for (int sign = 0; sign <= 1; ++sign)
    for (int e = 1; e <= 8 - sign; ++e)
      for (int b : {-10, (1 << (e - 1)) - 1, (1 << e) + 10})
        for (Specials sp : {Specials::None, Specials::Ieee, Specials::Fn, Specials::Fnuz})
          for (bool sub : {true, false}) {
            const Format f{sign, e, 8 - sign - e, b, sp, sub};
            try {
              f.validate();
            } catch (const FormatError&) {
              continue;
            }
            ++formats;
            const Quantizer q(f);
            for (std::uint32_t c = 0; c < f.code_count(); ++c) {
              const CodeValue v = decode(f, c);
              if (v.kind == CodeKind::Unused) continue;
              const Rounded r = q.round(v.value);
              ++codes;
              if (v.kind == CodeKind::Nan) {
                EXPECT_TRUE(std::isnan(r.value)) << f.name() << " code " << c;
                EXPECT_EQ(decode(f, r.code).kind, CodeKind::Nan) << f.name() << " code " << c;
                continue;
              }
              if (v.kind == CodeKind::Inf) {
                // +-Inf saturates by default: it is beyond max(V).
                EXPECT_EQ(r.outcome, Outcome::Overflow);
                continue;
              }
              EXPECT_EQ(r.code, c) << f.name() << " value " << v.value;
              EXPECT_EQ(r.outcome, Outcome::Exact);
            }
          }
  EXPECT_GT(formats, 150u);
  EXPECT_GT(codes, 150u * 200u);
}

TEST(Codec, NonSaturatingInfRoundTrip) {
  QuantOptions o;
  o.saturate = false;
  const Format f = Format::parse("e5m2");
  const Quantizer q(f, o);
  EXPECT_EQ(q.round(INFINITY).code, 0x7cu);
  EXPECT_EQ(q.round(-INFINITY).code, 0xfcu);
  // The top ulp is 2^13 = 8192: max + 4096 (a tie) overflows; just below it rounds to max.
  EXPECT_TRUE(std::isinf(q.round(57344.0 + 4096.0).value));
  EXPECT_EQ(q.round(std::nextafter(57344.0 + 4096.0, 0.0)).value, 57344.0);
  // e4m3fn has no Inf: non-saturating overflow gives NaN. Exactly at max + ulp/2 = 464 the tie
  // goes to max (its code 0x7e is even; the virtual next code 0x7f is odd), as OCP OFP8 says.
  const Quantizer fn(Format::parse("e4m3fn"), o);
  EXPECT_EQ(fn.round(464.0).value, 448.0);
  EXPECT_EQ(fn.round(464.0).code, 0x7eu);
  EXPECT_TRUE(std::isnan(fn.round(std::nextafter(464.0, 1e9)).value));
  EXPECT_EQ(fn.round(463.9).value, 448.0);
  // rtz saturates finite values, but ±Inf stays Inf (NaN without Inf) in every mode.
  o.rounding = Rounding::Rtz;
  EXPECT_EQ(Quantizer(Format::parse("e4m3fn"), o).round(1e9).value, 448.0);
  EXPECT_TRUE(std::isnan(Quantizer(Format::parse("e4m3fn"), o).round(INFINITY).value));
  EXPECT_EQ(Quantizer(Format::parse("e5m2"), o).round(-INFINITY).code, 0xfcu);
  EXPECT_EQ(Quantizer(Format::parse("e5m2"), o).round(1e9).value, 57344.0);
  // The batch kernels agree.
  for (Rounding r : {Rounding::Rne, Rounding::Rtz, Rounding::Stochastic}) {
    o.rounding = r;
    const Quantizer q8(Format::parse("e4m3fn"), o);
    const std::vector<float> in = {464.0f, INFINITY, -INFINITY, 1e9f};
    std::vector<float> out(in.size());
    q8.quantize(in, out);
    EXPECT_EQ(out[0], 448.0f);
    EXPECT_TRUE(std::isnan(out[1]) && std::isnan(out[2]));
    if (r == Rounding::Rne) EXPECT_TRUE(std::isnan(out[3]));
    else EXPECT_EQ(out[3], 448.0f);
  }
}

TEST(Codec, NewMembersPinnedValues) {
  // OCP E8M0: codes 0x00..0xfe are 2^-127 .. 2^127, 0xff NaN, no zero.
  const Format e8m0 = Format::parse("e8m0");
  EXPECT_EQ(decode(e8m0, 0x00).value, std::ldexp(1.0, -127));
  EXPECT_EQ(decode(e8m0, 0xfe).value, std::ldexp(1.0, 127));
  EXPECT_EQ(decode(e8m0, 0xff).kind, CodeKind::Nan);
  const Quantizer q(e8m0);
  EXPECT_EQ(q.round(0.0).code, 0x00u);  // no zero: the smallest value (underflow)
  EXPECT_EQ(q.round(0.0).outcome, Outcome::Underflow);
  EXPECT_EQ(q.round(-3.0).value, std::ldexp(1.0, -127));  // unsigned: clipped to 0, then no zero
  EXPECT_EQ(q.round(1.5).code, 0x80u);  // tie between 2^0 (0x7f) and 2^1 (0x80): the even code
  EXPECT_EQ(q.round(3.0).code, 0x80u);  // tie between 2^1 (0x80) and 2^2 (0x81)
  // P3109 K8P3 signed extended: max 49152 = 0x7e, +Inf 0x7f, -Inf 0xff, NaN 0x80.
  const Format k8p3 = Format::parse("p3109_k8p3se");
  EXPECT_EQ(k8p3.name(), "s1e5m2b16-fnuz-inf");
  EXPECT_EQ(k8p3.max_value(), 49152.0);
  EXPECT_EQ(decode(k8p3, 0x7f).kind, CodeKind::Inf);
  EXPECT_EQ(decode(k8p3, 0xff).value, -INFINITY);
  EXPECT_EQ(decode(k8p3, 0x80).kind, CodeKind::Nan);
  QuantOptions ns;
  ns.saturate = false;
  EXPECT_EQ(Quantizer(k8p3, ns).round(1e6).code, 0x7fu);
  EXPECT_EQ(Quantizer(k8p3, ns).round(-1e6).code, 0xffu);
  EXPECT_EQ(Quantizer(k8p3).round(1e6).code, 0x7eu);
  // Unsigned extended: NaN 0xff, +Inf 0xfe.
  const Format u = Format::parse("p3109_k8p3ue");
  EXPECT_EQ(decode(u, 0xff).kind, CodeKind::Nan);
  EXPECT_EQ(decode(u, 0xfe).value, INFINITY);
  // MX INT8 element i8b6-sym: [-127, 127] * 2^-6; -128's code 0x80 is not a value.
  const Format i8 = Format::parse("i8b6-sym");
  EXPECT_EQ(i8.max_value(), 127.0 / 64);
  EXPECT_EQ(i8.min_value(), -127.0 / 64);
  EXPECT_EQ(decode(i8, 0x80).kind, CodeKind::Unused);
  EXPECT_EQ(Quantizer(i8).round(-100.0).code, 0x81u);
  EXPECT_EQ(Quantizer(Format::parse("i8")).round(-1000.0).code, 0x80u);
  EXPECT_EQ(Quantizer(Format::parse("i8")).round(2.5).value, 2.0);   // tie to the even integer
  EXPECT_EQ(Quantizer(Format::parse("i8")).round(-3.5).value, -4.0);
  EXPECT_EQ(Quantizer(Format::parse("i8")).round(-3.5).code, 0xfcu);
  // OCP E2M1: 0, 0.5, 1, 1.5, 2, 3, 4, 6.
  const Format e2m1 = Format::parse("e2m1");
  std::vector<double> pos;
  for (std::uint32_t c = 0; c < 8; ++c) pos.push_back(decode(e2m1, c).value);
  EXPECT_EQ(pos, (std::vector<double>{0, 0.5, 1, 1.5, 2, 3, 4, 6}));
  // Exponent width 0: fixed point, every code "subnormal".
  const Format fx = Format::parse("s1e0m7b0");
  EXPECT_EQ(fx.max_value(), 127.0 / 64);  // 2^(1-b) * M / 2^m
  EXPECT_EQ(Quantizer(fx).round(0.3).value, 19.0 / 64);
  // Formats in float32's subnormal range are float32 numbers: float32 output is accepted.
  for (const char* name : {"s1e4m3b128", "s0e8m0b128-fn-nz", "e8m0"}) {
    const Quantizer qq(Format::parse(name));
    EXPECT_TRUE(qq.float32_output()) << name;
    std::vector<float> in = {1e-38f, 3.0f}, out(2);
    qq.quantize(in, out);
    EXPECT_EQ(static_cast<double>(out[1]), qq.round(3.0).value) << name;
    EXPECT_EQ(static_cast<double>(out[0]), qq.round(static_cast<double>(1e-38f)).value) << name;
  }
  EXPECT_FALSE(Quantizer(Format::parse("s1e8m7b-20")).float32_output());
}

TEST(Quantize, CountsNanOverflowUnderflowAndNegativeClipping) {
  const Quantizer u(Format::parse("s0e4m4b10"));
  const std::vector<float> in = {1.0f, -2.0f, -0.0f, 1e-9f, 100.0f, INFINITY, NAN, 0.0f, -100.0f, -INFINITY};
  std::vector<float> out(in.size());
  const QuantCounts c = u.quantize(in, out);
  EXPECT_EQ(c.count, 10u);
  EXPECT_EQ(c.neg_clipped, 3u);  // -2, -100, -Inf (not -0): clipped, never "overflow"
  // Every batch path counts like the exact scalar path.
  std::vector<std::uint16_t> codes(in.size());
  const QuantCounts ce = u.encode(in, codes);
  std::vector<double> din(in.begin(), in.end()), dout(in.size());
  const QuantCounts cd = u.quantize(din, dout);
  for (const QuantCounts& o : {ce, cd}) {
    EXPECT_EQ(o.neg_clipped, c.neg_clipped);
    EXPECT_EQ(o.overflow, c.overflow);
    EXPECT_EQ(o.underflow, c.underflow);
    EXPECT_EQ(o.nan_inputs, c.nan_inputs);
  }
  EXPECT_EQ(c.underflow, 1u);    // 1e-9
  EXPECT_EQ(c.overflow, 2u);     // 100, +Inf
  EXPECT_EQ(c.nan_inputs, 1u);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_FALSE(std::signbit(out[2]));
  EXPECT_EQ(out[4], 62.0f);
  EXPECT_TRUE(std::isnan(out[6]));
}

TEST(Quantize, FormatsBeyondFloat32AreRefusedForFloatOutputButEncode) {
  const Quantizer q(Format{1, 8, 7, 200, Specials::None, true});
  EXPECT_FALSE(q.fast_path());
  std::vector<float> in = {1e-40f, 1.0f}, out(2);
  EXPECT_THROW(q.quantize(in, out), FormatError);
  std::vector<std::uint16_t> codes(2);
  EXPECT_NO_THROW(q.encode(in, codes));
  EXPECT_EQ(codes[0], q.round(1e-40f).code);
}

std::vector<float> random_data(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> d(0.0f, 3.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

TEST(Stochastic, IdenticalForAnyThreadCountAndChunking) {
  const auto in = random_data(1 << 20, 3);
  QuantOptions o;
  o.rounding = Rounding::Stochastic;
  o.seed = 12345;
  o.threads = 1;
  std::vector<float> one(in.size()), two(in.size()), chunks(in.size());
  Quantizer(Format::parse("e4m3fn"), o).quantize(in, one);
  o.threads = 2;
  Quantizer(Format::parse("e4m3fn"), o).quantize(in, two);
  // Odd-sized chunks with their global offsets.
  const Quantizer q(Format::parse("e4m3fn"), o);
  for (std::size_t off = 0; off < in.size(); off += 77777) {
    const std::size_t n = std::min<std::size_t>(77777, in.size() - off);
    q.quantize(std::span(in).subspan(off, n), std::span(chunks).subspan(off, n), off);
  }
  EXPECT_EQ(std::memcmp(one.data(), two.data(), one.size() * 4), 0);
  EXPECT_EQ(std::memcmp(one.data(), chunks.data(), one.size() * 4), 0);
  // A different seed gives a different stream.
  o.seed = 12346;
  std::vector<float> other(in.size());
  Quantizer(Format::parse("e4m3fn"), o).quantize(in, other);
  EXPECT_NE(std::memcmp(one.data(), other.data(), one.size() * 4), 0);
}

TEST(Stochastic, RoundsUpWithProbabilityProportionalToDistance) {
  // x between neighbours lo and hi of e4m3fn, in the normal and the subnormal range.
  for (const auto& [lo, hi, x] : {std::tuple{1.0, 1.125, 1.03125}, std::tuple{1.0, 1.125, 1.1},
                                  std::tuple{0.001953125, 0.00390625, 0.0025}, std::tuple{0.0, 0.001953125, 0.0001}}) {
    QuantOptions o;
    o.rounding = Rounding::Stochastic;
    o.seed = 77;
    const Quantizer q(Format::parse("e4m3fn"), o);
    constexpr int kN = 200000;
    std::vector<float> in(kN, static_cast<float>(x)), out(kN);
    q.quantize(in, out);
    int ups = 0;
    for (float v : out) {
      ASSERT_TRUE(v == static_cast<float>(lo) || v == static_cast<float>(hi)) << v;
      ups += v == static_cast<float>(hi);
    }
    const double p = (static_cast<float>(x) - lo) / (hi - lo);
    const double sigma = std::sqrt(p * (1 - p) / kN);
    EXPECT_NEAR(static_cast<double>(ups) / kN, p, 5 * sigma + 1e-9) << "x=" << x;
  }
}

TEST(Quantize, MismatchedSpansAreAnError) {
  const Quantizer q(Format::parse("e4m3fn"));
  std::vector<float> in(3), out(2);
  EXPECT_THROW(q.quantize(in, out), DataError);
}

TEST(Quantize, RoundingNamesParse) {
  for (Rounding r : {Rounding::Rne, Rounding::Rna, Rounding::Rtz, Rounding::Stochastic})
    EXPECT_EQ(parse_rounding(to_string(r)), r);
  EXPECT_THROW(parse_rounding("nearest"), FormatError);
}

}  // namespace
}  // namespace ffp8
