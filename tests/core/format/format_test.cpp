// Format parsing, printing, validation and the pinned facts of docs/formats.md.
#include <cmath>
#include <gtest/gtest.h>
#include <string>
#include <utility>

#include "core/errors.hpp"
#include "core/format/codec.hpp"
#include "core/format/format.hpp"

using ffp8::Format;
using ffp8::FormatError;
using ffp8::Specials;

TEST(Format, PinnedFacts) {
  const Format e4m3 = Format::parse("e4m3fn");
  EXPECT_EQ(e4m3.name(), "s1e4m3b7-fn");
  EXPECT_EQ(e4m3.max_value(), 448.0);
  EXPECT_EQ(e4m3.min_positive(), std::ldexp(1.0, -9));
  const Format e5m2 = Format::parse("e5m2");
  EXPECT_EQ(e5m2.name(), "s1e5m2b15-ieee");
  EXPECT_EQ(e5m2.max_value(), 57344.0);
  EXPECT_EQ(e5m2.min_positive(), std::ldexp(1.0, -16));
  EXPECT_EQ(Format::parse("e4m3fnuz").max_value(), 240.0);
  EXPECT_EQ(Format::parse("e5m2fnuz").max_value(), 57344.0);
  const Format u = Format::parse("s0e4m4b10");
  EXPECT_EQ(u.max_value(), 62.0);
  EXPECT_EQ(u.min_positive(), std::ldexp(1.0, -13));
  EXPECT_EQ(Format::parse("e3m4").max_value(), 30.0);
  EXPECT_EQ(Format::parse("s1e3m4b3-ieee").max_value(), 15.5);
}

TEST(Format, PresetsRoundTrip) {
  ASSERT_GE(ffp8::presets().size(), 7u);
  for (const auto& p : ffp8::presets()) {
    const Format f = Format::parse(p.alias);
    EXPECT_EQ(f.name(), p.canonical) << p.alias;
    EXPECT_EQ(Format::parse(f.name()), f);
  }
}

TEST(Format, CanonicalNamesRoundTrip) {
  int checked = 0;
  for (int s = 0; s <= 1; ++s)
    for (int e = 1; e <= 8; ++e)
      for (int m = 0; m <= 15; ++m)
        for (Specials sp : {Specials::None, Specials::Ieee, Specials::Fn, Specials::Fnuz})
          for (bool sub : {true, false})
            for (int b : {-5, 0, 7, 130}) {
              Format f{s, e, m, b, sp, sub};
              try {
                f.validate();
              } catch (const FormatError&) {
                continue;
              }
              EXPECT_EQ(Format::parse(f.name()), f) << f.name();
              ++checked;
            }
  EXPECT_GT(checked, 1000);
}

TEST(Format, MalformedNamesAreRejectedWithTheText) {
  for (const char* bad : {"", "e4m3", "s2e4m3b7", "s1e4m3", "s1e4m3b7-xx", "s0e4m3b7-fnuz",
                          "s1e9m3b7", "s1e4m16b7", "s1e4m3b7-nosub-fn", "s1e4m3b7 ", "s1e-4m3b7",
                          "s1e8m8b0", "s0e1m0b0"}) {
    try {
      Format::parse(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(Format, NewMembersParseAndPrint) {
  for (const char* name : {"s1e4m3b8-fnuz-inf", "s0e8m0b127-fn-nz", "s1e0m7b0", "s0e0m8b3-fn", "s1e4m3b7-nz",
                           "s1e4m3b7-fn-inf-nosub", "s1e5m2b15-ieee-nz", "i8", "i8b6-sym", "u4b2", "i16b-3", "u2"}) {
    const Format f = Format::parse(name);
    EXPECT_EQ(f.name(), name);
    EXPECT_EQ(Format::parse(f.name()), f);
  }
  EXPECT_EQ(Format::parse("i8b0").name(), "i8");
  EXPECT_TRUE(Format::parse("i8").is_int());
  EXPECT_EQ(Format::parse("i8").width(), 8);
  EXPECT_EQ(Format::parse("u8").max_value(), 255.0);
  EXPECT_EQ(Format::parse("i8").min_value(), -128.0);
  EXPECT_EQ(Format::parse("e8m0").max_value(), std::ldexp(1.0, 127));
  EXPECT_EQ(Format::parse("e8m0").min_positive(), std::ldexp(1.0, -127));
  EXPECT_FALSE(Format::parse("e8m0").has_zero());
  EXPECT_EQ(Format::parse("e2m1").max_value(), 6.0);
  EXPECT_EQ(Format::parse("e2m3").max_value(), 7.5);
  EXPECT_EQ(Format::parse("e3m2").max_value(), 28.0);
  EXPECT_EQ(Format::parse("s1e5m2b16-fnuz-inf").max_value(), 49152.0);
}

TEST(Format, EveryP3109Preset) {
  int n = 0;
  for (int sign = 0; sign <= 1; ++sign)
    for (int p = 1; p <= 8 - sign; ++p)
      for (char ext : {'e', 'f'}) {
        const std::string alias = "p3109_k8p" + std::to_string(p) + (sign ? 's' : 'u') + ext;
        const Format f = Format::parse(alias);
        EXPECT_EQ(f.width(), 8) << alias;
        EXPECT_EQ(f.man, p - 1) << alias;
        EXPECT_EQ(f.bias, 1 << (f.exp - 1)) << alias;
        EXPECT_EQ(f.specials, sign ? Specials::Fnuz : Specials::Fn) << alias;
        EXPECT_EQ(f.has_inf(), ext == 'e') << alias;
        ++n;
      }
  EXPECT_EQ(n, 30);
}

TEST(Format, InvalidCombinationsAreOneSentenceWithTheText) {
  const std::pair<const char*, const char*> cases[] = {
      {"s1e4m3b8-fnuz-nz", "-nz cannot be combined with -fnuz"},
      {"s1e0m7b0-nz", "-nz needs an exponent field"},
      {"s1e5m2b15-ieee-inf", "-inf cannot be combined with -ieee"},
      {"i1", "integer width 1 is not in 2..16"},
      {"i17", "integer width 17 is not in 2..16"},
      {"s1e4m3b7-sym", "-sym applies to signed integers"},
      {"u8-sym", "-sym applies to signed integers"},
      {"i8-fn", "integer formats take no '-fn'"},
      {"p3109_k8p9se", "is not a preset"},
      {"p3109_k8p8se", "is not a preset"},
      {"e9m0", "neither a canonical name nor a preset"},
      {"s1e1m6b1-ieee", "ieee needs exp >= 2"},
      {"s1e4m3b7-nz-nosub", "unexpected '-nosub'"},
  };
  for (const auto& [text, want] : cases) {
    try {
      Format::parse(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const FormatError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(std::string("'") + text + "'"), std::string::npos) << msg;
      EXPECT_NE(msg.find(want), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
}

TEST(Format, NegativeBiasName) {
  const Format f = Format::parse("s1e3m4b-2-nosub");
  EXPECT_EQ(f.bias, -2);
  EXPECT_FALSE(f.subnormals);
  EXPECT_EQ(f.name(), "s1e3m4b-2-nosub");
}
