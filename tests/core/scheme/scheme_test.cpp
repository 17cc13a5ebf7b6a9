// Scheme names (parse, canonical text, presets), validation errors, effective bits and the group
// layout (which values share a scale), each checked against values written out by hand or by
// brute force over the tensor's indices.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "core/errors.hpp"
#include "core/scheme/groups.hpp"
#include "core/scheme/scheme.hpp"

namespace ffp8 {
namespace {

TEST(Scheme, PresetsAreTheOcpAndNvidiaFormats) {
  const std::map<std::string, std::string> expected = {
      {"mxfp8_e4m3", "s1e4m3b7-fn/block32:e8m0:floor"},  {"mxfp8_e5m2", "s1e5m2b15-ieee/block32:e8m0:floor"},
      {"mxfp6_e3m2", "s1e3m2b3/block32:e8m0:floor"},     {"mxfp6_e2m3", "s1e2m3b1/block32:e8m0:floor"},
      {"mxfp4", "s1e2m1b1/block32:e8m0:floor"},          {"mxint8", "i8b6-sym/block32:e8m0:floor"},
      {"nvfp4", "s1e2m1b1/block16:e4m3fn:amax+tensor:f32"},
  };
  ASSERT_EQ(scaled_presets().size(), expected.size());
  for (const Preset& p : scaled_presets()) {
    const Scheme s = Scheme::parse(p.alias);
    EXPECT_EQ(s.name(), expected.at(std::string(p.alias)));
    EXPECT_EQ(s.preset_alias(), p.alias);
    EXPECT_EQ(Scheme::parse(s.name()), s);
  }
  // The spec's spelling with element aliases names the same schemes.
  EXPECT_EQ(Scheme::parse("e4m3fn/block32:e8m0:floor"), Scheme::parse("mxfp8_e4m3"));
  EXPECT_EQ(Scheme::parse("e2m1/block16:e4m3fn:amax+tensor:f32"), Scheme::parse("nvfp4"));
  EXPECT_EQ(Scheme::parse("e2m1/block16:s1e4m3b7-fn:amax+tensor:f32"), Scheme::parse("nvfp4"));
  EXPECT_EQ(Scheme::parse("e2m1/block32:s0e8m0b127-fn-nz:floor"), Scheme::parse("mxfp4"));
}

TEST(Scheme, FieldsOfMxfp8AndNvfp4) {
  const Scheme mx = Scheme::parse("mxfp8_e4m3");
  EXPECT_EQ(mx.element, Format::parse("e4m3fn"));
  EXPECT_EQ(mx.grouping, Grouping::Block);
  EXPECT_EQ(mx.block, 32);
  EXPECT_FALSE(mx.scale.is_f32);
  EXPECT_EQ(mx.scale.format, Format::parse("e8m0"));
  EXPECT_EQ(mx.rule, ScaleRule::Floor);
  EXPECT_FALSE(mx.second_level);
  EXPECT_TRUE(mx.power_of_two_scale());
  EXPECT_FALSE(mx.float32_arithmetic());
  const Scheme nv = Scheme::parse("nvfp4");
  EXPECT_EQ(nv.block, 16);
  EXPECT_EQ(nv.scale.format, Format::parse("e4m3fn"));
  EXPECT_EQ(nv.rule, ScaleRule::Amax);
  EXPECT_TRUE(nv.second_level);
  EXPECT_FALSE(nv.power_of_two_scale());
  EXPECT_TRUE(nv.float32_arithmetic());
  const Scheme i8 = Scheme::parse("i8-sym/tensor:f32:amax");
  EXPECT_EQ(i8.grouping, Grouping::Tensor);
  EXPECT_TRUE(i8.scale.is_f32);
  EXPECT_EQ(i8.name(), "i8-sym/tensor:f32:amax");
}

TEST(Scheme, PlainNamesArePlainFormats) {
  for (const char* text : {"s1e4m3b7-fn", "s0e4m4b10", "e5m2", "i8b6-sym", "p3109_k8p4se", "e8m0"}) {
    const Scheme s = Scheme::parse(text);
    EXPECT_FALSE(s.scaled()) << text;
    EXPECT_EQ(s, Scheme::plain(Format::parse(text))) << text;
    EXPECT_EQ(s.name(), Format::parse(text).name()) << text;
    EXPECT_EQ(s.effective_bits(), Format::parse(text).width()) << text;
    EXPECT_TRUE(s.power_of_two_scale());
    EXPECT_EQ(s.preset_alias(), "");
  }
}

TEST(Scheme, CanonicalTextRoundTrips) {
  const char* names[] = {
      "s1e4m3b7-fn/block32:e8m0:fit",       "s0e4m4b10/tensor:e8m0:fit",      "s1e5m2b15/channel:e8m0:floor",
      "i8-sym/tensor:f32:amax",             "i8-sym/channel:f32:amax",        "u8/block64:e8m0:fit",
      "s1e3m4b3-fn/block7:e4m3fn:amax",     "s1e2m1b1/block16:e4m3fn:amax+tensor:f32",
      "s1e4m3b7/block1:s0e5m0b15:floor",    "s1e4m3b7-fn/block32:s0e8m0b127-fn:floor",
      "s1e2m1b1/block16:s1e5m2b15-ieee:amax", "s1e4m3b7/block32:p3109_k8p4se:amax",
  };
  for (const char* text : names) {
    const Scheme s = Scheme::parse(text);
    EXPECT_TRUE(s.scaled()) << text;
    EXPECT_EQ(Scheme::parse(s.name()), s) << text;
    EXPECT_EQ(Scheme::parse(s.name()).name(), s.name()) << text;
  }
  // Scale formats print by their preset alias where one names them, else canonically.
  EXPECT_EQ(Scheme::parse("s1e4m3b7/block1:s0e5m0b15:floor").name(), "s1e4m3b7/block1:s0e5m0b15:floor");
  EXPECT_EQ(Scheme::parse("e4m3fn/block32:s0e8m0b127-fn-nz:fit").name(), "s1e4m3b7-fn/block32:e8m0:fit");
  EXPECT_EQ(Scheme::parse("s1e4m3b7/block32:p3109_k8p4se:amax").name(),
            "s1e4m3b7/block32:s1e4m3b8-fnuz-inf:amax");
}

TEST(Scheme, EffectiveBits) {
  EXPECT_DOUBLE_EQ(Scheme::parse("mxfp8_e4m3").effective_bits(), 8.25);
  EXPECT_DOUBLE_EQ(Scheme::parse("mxfp8_e5m2").effective_bits(), 8.25);
  EXPECT_DOUBLE_EQ(Scheme::parse("mxfp6_e3m2").effective_bits(), 6.25);
  EXPECT_DOUBLE_EQ(Scheme::parse("mxfp6_e2m3").effective_bits(), 6.25);
  EXPECT_DOUBLE_EQ(Scheme::parse("mxfp4").effective_bits(), 4.25);
  EXPECT_DOUBLE_EQ(Scheme::parse("mxint8").effective_bits(), 8.25);
  EXPECT_DOUBLE_EQ(Scheme::parse("nvfp4").effective_bits(), 4.5);
  EXPECT_DOUBLE_EQ(Scheme::parse("e4m3fn/tensor:e8m0:fit").effective_bits(), 8.0);
  // On a tensor: scales are counted per group, and NVFP4's tensor scale once.
  const std::int64_t shape[] = {4, 70};  // 3 blocks of 32 per row (one a tail of 6)
  const GroupLayout l = GroupLayout::for_shape(shape);
  EXPECT_DOUBLE_EQ(effective_bits(Scheme::parse("mxfp8_e4m3"), l), 8.0 + 8.0 * 12 / 280);
  EXPECT_DOUBLE_EQ(effective_bits(Scheme::parse("nvfp4"), l), 4.0 + (8.0 * 20 + 32) / 280);
  EXPECT_DOUBLE_EQ(effective_bits(Scheme::parse("i8-sym/tensor:f32:amax"), l), 8.0 + 32.0 / 280);
  EXPECT_DOUBLE_EQ(effective_bits(Scheme::parse("i8-sym/channel:f32:amax"), l), 8.0 + 32.0 * 4 / 280);
  EXPECT_DOUBLE_EQ(effective_bits(Scheme::parse("e5m2"), l), 8.0);
}

/// The error message of parsing `text`, or "" when it parses.
std::string parse_error(const std::string& text) {
  try {
    (void)Scheme::parse(text);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

TEST(Scheme, BadNamesAreOneSentenceQuotingTheText) {
  const std::map<std::string, std::string> cases = {
      {"e4m3fn/block0:e8m0:floor", "block size 0 is not a positive integer"},
      {"e4m3fn/block-4:e8m0:floor", "block size -4 is not a positive integer"},
      {"e4m3fn/block:e8m0:floor", "needs a block size"},
      {"e4m3fn/block3x:e8m0:floor", "needs a block size"},
      {"e4m3fn/block99999999999:e8m0:floor", "too large"},
      {"e4m3fn/row32:e8m0:floor", "is not tensor, channel or block{K}"},
      {"e4m3fn/block32:e8m0", "three parts GROUP:SCALE:RULE"},
      {"e4m3fn/block32:e8m0:floor:x", "three parts GROUP:SCALE:RULE"},
      {"e4m3fn/block32:e8m0:ceil", "the rule 'ceil' is not floor, fit or amax"},
      {"e4m3fn/block32::floor", "the scale format is empty"},
      {"e4m3fn/block32:f32:floor", "the rule floor gives powers of two and does not apply to the scale format f32"},
      {"e4m3fn/block32:f32:fit", "the rule fit gives powers of two and does not apply to the scale format f32"},
      {"e2m1/block16:e4m3fn:floor", "does not apply to the scale format e4m3fn"},
      {"e2m1/block16:s1e5m0b15:fit", "does not apply to the scale format s1e5m0b15"},
      {"e4m3fn/block32:e8m0:amax", "with e8m0 use floor or fit"},
      {"e4m3fn/block32:i8:amax", "cannot hold the rule's result"},
      {"e4m3fn/block32:s0e8m0b300:floor", "cannot hold the rule's result"},
      {"e2m1/block16:e8m0:floor+tensor:f32", "needs the amax rule"},
      {"e2m1/block16:f32:amax+tensor:f32", "needs the amax rule and a scale format other than f32"},
      {"e2m1/block16:e4m3fn:amax+tensor:e8m0", "is not tensor:f32"},
      {"e9m1/block16:e8m0:floor", "has a bad element"},
      {"e4m3fn/block16:e8m9:floor", "has a bad scale format"},
      {"e4m3fn:block32:e8m0:floor", "has '/' between the element and its group"},
      {"mxfp5", "or a scaled preset"},
      {"", "or a scaled format"},
  };
  for (const auto& [text, why] : cases) {
    const std::string msg = parse_error(text);
    EXPECT_NE(msg.find(why), std::string::npos) << text << ": " << msg;
    EXPECT_NE(msg.find("'" + text + "'"), std::string::npos) << text << ": " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(GroupLayout, ReductionAxisAndOverrides) {
  const std::int64_t w[] = {8, 3, 3, 3}, v[] = {100}, none[] = {0};
  EXPECT_EQ(GroupLayout::for_shape(w).axis, 1);
  EXPECT_EQ(GroupLayout::for_shape(v).axis, 0);
  EXPECT_EQ(GroupLayout::for_shape(std::span<const std::int64_t>(none, 0)).axis, 0);
  EXPECT_EQ(GroupLayout::for_shape(w, 3).axis, 3);
  EXPECT_EQ(GroupLayout::for_shape(w, -1).axis, 3);
  EXPECT_EQ(GroupLayout::for_shape(w, 0).axis, 0);
  EXPECT_THROW(GroupLayout::for_shape(w, 4), DataError);
  EXPECT_THROW(GroupLayout::for_shape(w, -5), DataError);
  EXPECT_THROW(GroupLayout::for_shape(v, 1), DataError);
  try {
    GroupLayout::for_shape(w, 4);
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("axis 4 is out of range for a tensor of rank 4 (shape [8, 3, 3, 3])"),
              std::string::npos)
        << e.what();
  }
}

/// Brute force: every value is in exactly one group; a block's values share every index but the
/// axis' one, run consecutively along the axis from a multiple of K, and hold K values except a
/// tail block at the axis' end.
void check_partition(const Scheme& s, std::vector<std::int64_t> shape, int axis) {
  const GroupLayout l = GroupLayout::for_shape(shape, axis);
  const GroupGeometry geo = group_geometry(s, l);
  const std::int64_t n = l.size();
  std::vector<int> seen(static_cast<std::size_t>(n), 0);
  auto coords = [&](std::int64_t flat) {
    std::vector<std::int64_t> c(shape.size());
    for (std::size_t d = shape.size(); d-- > 0;) {
      c[d] = flat % shape[d];
      flat /= shape[d];
    }
    return c;
  };
  std::int64_t groups = 0, expect_g = 0;
  for_each_group(geo, [&](std::int64_t g, std::int64_t first, std::int64_t count, std::int64_t stride) {
    EXPECT_EQ(g, expect_g++);
    EXPECT_EQ(geo.first(g), first);
    EXPECT_EQ(geo.count(g), count);
    ++groups;
    const auto c0 = coords(first);
    for (std::int64_t k = 0; k < count; ++k) {
      const std::int64_t j = first + k * stride;
      ASSERT_LT(j, n);
      ++seen[static_cast<std::size_t>(j)];
      const auto c = coords(j);
      for (std::size_t d = 0; d < shape.size(); ++d) {
        const bool along = s.grouping == Grouping::Block && static_cast<int>(d) == axis;
        const bool fixed = s.grouping == Grouping::Block || (s.grouping == Grouping::Channel && d == 0);
        if (along) {
          EXPECT_EQ(c[d], c0[d] + k);
        } else if (fixed) {
          EXPECT_EQ(c[d], c0[d]);
        }
      }
    }
    if (s.grouping == Grouping::Block) {
      EXPECT_EQ(c0[static_cast<std::size_t>(axis)] % s.block, 0);
      const std::int64_t left = shape[static_cast<std::size_t>(axis)] - c0[static_cast<std::size_t>(axis)];
      EXPECT_EQ(count, std::min<std::int64_t>(s.block, left));
    }
  });
  for (std::int64_t j = 0; j < n; ++j) EXPECT_EQ(seen[static_cast<std::size_t>(j)], 1) << j;
  EXPECT_EQ(groups, geo.groups());
}

TEST(GroupLayout, BlocksPartitionTheTensorAlongTheAxis) {
  const Scheme b4 = Scheme::parse("e4m3fn/block4:e8m0:floor"), b32 = Scheme::parse("mxfp8_e4m3");
  check_partition(b4, {3, 10, 2, 3}, 1);   // conv weight, tails of 2, strided blocks
  check_partition(b4, {3, 10, 2, 3}, 3);   // last axis: one tail block of 3 per row
  check_partition(b4, {3, 10, 2, 3}, 0);
  check_partition(b4, {7, 9}, 1);
  check_partition(b4, {13}, 0);
  check_partition(b32, {5, 70}, 1);
  check_partition(b32, {2, 3, 4, 4}, 1);   // a block longer than the axis: one short block
  check_partition(Scheme::parse("e4m3fn/channel:e8m0:fit"), {4, 3, 2}, 1);
  check_partition(Scheme::parse("e4m3fn/tensor:e8m0:fit"), {4, 3, 2}, 1);
  const std::int64_t shape[] = {5, 70};
  const GroupLayout l = GroupLayout::for_shape(shape);
  EXPECT_EQ(group_geometry(b32, l).groups(), 15);
  EXPECT_EQ(scale_shape(b32, l), (std::vector<std::int64_t>{5, 3}));
  const std::int64_t conv[] = {8, 40, 3, 3};
  EXPECT_EQ(scale_shape(b32, GroupLayout::for_shape(conv)), (std::vector<std::int64_t>{8, 2, 3, 3}));
  EXPECT_EQ(scale_shape(Scheme::parse("e4m3fn/channel:e8m0:fit"), l), (std::vector<std::int64_t>{5}));
  EXPECT_EQ(scale_shape(Scheme::parse("e4m3fn/tensor:e8m0:fit"), l), (std::vector<std::int64_t>{1}));
}

TEST(GroupLayout, BlockBeyondTheAxisIsBadInputWhereAsked) {
  const std::int64_t shape[] = {4, 20};
  const Scheme b32 = Scheme::parse("mxfp8_e4m3");
  EXPECT_THROW(check_block_fits(b32, GroupLayout::for_shape(shape)), DataError);
  EXPECT_NO_THROW(check_block_fits(Scheme::parse("e4m3fn/block20:e8m0:floor"), GroupLayout::for_shape(shape)));
  try {
    check_block_fits(b32, GroupLayout::for_shape(shape));
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("block size 32 of s1e4m3b7-fn/block32:e8m0:floor is beyond the axis: axis 1 "
                                         "of shape [4, 20] has 20 values"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ffp8
