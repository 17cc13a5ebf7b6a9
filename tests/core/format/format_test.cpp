// Format parsing, printing, validation and the pinned facts of FORMAT.md.
#include <cmath>
#include <gtest/gtest.h>

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
  for (const char* bad : {"", "e4m3", "s2e4m3b7", "s1e0m3b7", "s1e4m3", "s1e4m3b7-xx", "s0e4m3b7-fnuz",
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

TEST(Format, NegativeBiasName) {
  const Format f = Format::parse("s1e3m4b-2-nosub");
  EXPECT_EQ(f.bias, -2);
  EXPECT_FALSE(f.subnormals);
  EXPECT_EQ(f.name(), "s1e3m4b-2-nosub");
}
