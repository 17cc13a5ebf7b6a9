// `ffp8 format SPEC --json`: its documented fields and one value per code.
#include <nlohmann/json.hpp>

#include "core/format/format.hpp"
#include "tests/tools/ffp8/cli_run.hpp"

using ffp8::test::CliTest;
using ffp8::test::expect_error;
using CliFormat = CliTest;

TEST_F(CliFormat, JsonHasThePinnedFieldsAndEveryCode) {
  const auto r = run({"format", "e4m3fn", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"name", "sign", "exp", "man", "bias", "specials", "subnormals", "max", "min_normal",
                          "min_subnormal", "values"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["name"], "s1e4m3b7-fn");
  EXPECT_EQ(j["sign"], 1);
  EXPECT_EQ(j["exp"], 4);
  EXPECT_EQ(j["man"], 3);
  EXPECT_EQ(j["bias"], 7);
  EXPECT_EQ(j["specials"], "fn");
  EXPECT_EQ(j["subnormals"], true);
  EXPECT_EQ(j["max"], 448.0);
  EXPECT_EQ(j["min_subnormal"], 0x1p-9);
  ASSERT_EQ(j["values"].size(), 256u);
  EXPECT_EQ(j["values"][0], 0.0);
  EXPECT_EQ(j["values"][1], 0x1p-9);
  EXPECT_EQ(j["values"][126], 448.0);
  EXPECT_EQ(j["values"][127], "nan");
  EXPECT_EQ(j["values"][128 + 126], -448.0);
  EXPECT_EQ(j["values"][255], "nan");
}

TEST_F(CliFormat, ValuesHaveTwoToTheWidthEntries) {
  for (const auto& [spec, n] : std::vector<std::pair<std::string, std::size_t>>{
           {"s0e4m4b10", 256}, {"s1e3m2b3", 64}, {"e5m2", 256}, {"s1e5m10b15-ieee", 65536}}) {
    const auto r = run({"format", spec, "--json"});
    ASSERT_EQ(r.rc, 0) << spec << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["values"].size(), n) << spec;
    for (const auto& v : j["values"]) {
      EXPECT_TRUE(v.is_number() || v == "nan" || v == "inf" || v == "-inf" || v == "unused") << spec << ": " << v;
    }
  }
  const auto j = nlohmann::json::parse(run({"format", "s0e4m4b10", "--json"}).out);
  EXPECT_EQ(j["max"], 62.0);
  EXPECT_EQ(j["values"][255], 62.0);
}

TEST_F(CliFormat, BadNamesAreOneLineErrors) {
  expect_error(run({"format", "e4m3fm"}), "format", {"'e4m3fm'"});
  expect_error(run({"format", "s0e4m3b7-fnuz"}), "format", {"s0e4m3b7-fnuz"});
  expect_error(run({"format", "i17"}), "format", {"'i17'", "2..16"});
  expect_error(run({"format", "i1"}), "format", {"'i1'", "2..16"});
  expect_error(run({"format", "s1e4m3b8-fnuz-nz"}), "format", {"'s1e4m3b8-fnuz-nz'", "-nz"});
  expect_error(run({"format", "s1e0m7b0-nz"}), "format", {"'s1e0m7b0-nz'", "-nz"});
  expect_error(run({"format", "s1e5m2b15-ieee-inf"}), "format", {"'s1e5m2b15-ieee-inf'", "-inf"});
  expect_error(run({"format", "s1e4m3b7-sym"}), "format", {"'s1e4m3b7-sym'", "-sym"});
  expect_error(run({"format", "p3109_k8p9se"}), "format", {"'p3109_k8p9se'", "preset"});
  expect_error(run({"format", "fit:s0e4m4b3", "--max", "6"}), "format", {"'s0e4m4b3'"});
  EXPECT_EQ(run({"format", "fit:s0e4m4"}).rc, 2);
  EXPECT_EQ(run({"format", "fit:s0e4m4", "--max", "-1"}).rc, 2);
  EXPECT_EQ(run({"format", "e4m3fn", "--max", "6"}).rc, 2);
  EXPECT_EQ(run({"format"}).rc, 2);
  EXPECT_EQ(run({"format", "e4m3fn", "--bogus"}).rc, 2);
}

TEST_F(CliFormat, FitQueryPicksTheLargestBiasThatCoversTheMax) {
  // s0e4m4: max(V) = 2^(15-b) * 31/16; b = 11 gives 31 >= 6, b = 12 gives 15.5, b = 13 gives 7.75, b = 14 3.875.
  const auto r = run({"format", "fit:s0e4m4", "--max", "6.0"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("bias 13"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("format       s0e4m4b13\n"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(run({"format", "fit:s0e4m4", "--max", "6.0", "--json"}).out);
  EXPECT_EQ(j["name"], "s0e4m4b13");
  EXPECT_EQ(j["fit"]["bias"], 13);
  EXPECT_EQ(j["fit"]["max_abs"], 6.0);
  EXPECT_EQ(j["max"], 7.75);
  const auto k = nlohmann::json::parse(run({"format", "fit:i8-sym", "--max", "2", "--json"}).out);
  EXPECT_EQ(k["name"], "i8b5-sym");  // 127 * 2^-5 = 3.97 >= 2; b = 6 gives 1.98 < 2
}

TEST_F(CliFormat, PrecisionLine) {
  const auto r = run({"format", "e4m3fn"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("precision    4 significant bits"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("epsilon 2^-3, ulp at 1 2^-3"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(run({"format", "e4m3fn", "--json"}).out);
  EXPECT_EQ(j["precision"]["epsilon"], 0.125);
  EXPECT_EQ(j["precision"]["ulp_at_1"], 0.125);
  EXPECT_EQ(j["precision"]["relative_spacing_max"], 0.125);
  const auto i = nlohmann::json::parse(run({"format", "i8b6-sym", "--json"}).out);
  EXPECT_EQ(i["precision"]["ulp_at_1"], 0x1p-6);
  EXPECT_EQ(i["kind"], "int");
  EXPECT_EQ(i["min"], -127.0 / 64);
  EXPECT_EQ(i["values"][0x80], "unused");
}

TEST_F(CliFormat, JsonForEveryPreset) {
  for (const auto& p : ffp8::presets()) {
    const auto r = run({"format", std::string(p.alias), "--json"});
    ASSERT_EQ(r.rc, 0) << p.alias << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["name"], p.canonical) << p.alias;
    EXPECT_EQ(j["values"].size(), std::size_t{1} << int(j["width"])) << p.alias;
  }
  const auto j = nlohmann::json::parse(run({"format", "e8m0", "--json"}).out);
  EXPECT_EQ(j["zero"], false);
  EXPECT_EQ(j["values"][0], 0x1p-127);
  EXPECT_EQ(j["values"][255], "nan");
  const auto k = nlohmann::json::parse(run({"format", "p3109_k8p3se", "--json"}).out);
  EXPECT_EQ(k["values"][0x7f], "inf");
  EXPECT_EQ(k["values"][0xff], "-inf");
  EXPECT_EQ(k["values"][0x80], "nan");
}

TEST_F(CliFormat, ScaledFormatsReportGroupScaleRuleAndEffectiveBits) {
  struct Want {
    const char* spec;
    const char* name;
    const char* group;
    int block;
    const char* scale;
    const char* rule;
    bool second;
    double bits;
  };
  const Want wants[] = {
      {"mxfp8_e4m3", "s1e4m3b7-fn/block32:e8m0:floor", "block", 32, "e8m0", "floor", false, 8.25},
      {"mxfp4", "s1e2m1b1/block32:e8m0:floor", "block", 32, "e8m0", "floor", false, 4.25},
      {"mxint8", "i8b6-sym/block32:e8m0:floor", "block", 32, "e8m0", "floor", false, 8.25},
      {"nvfp4", "s1e2m1b1/block16:e4m3fn:amax+tensor:f32", "block", 16, "e4m3fn", "amax", true, 4.5},
      {"i8-sym/tensor:f32:amax", "i8-sym/tensor:f32:amax", "tensor", 0, "f32", "amax", false, 8.0},
      {"e4m3fn/channel:e8m0:fit", "s1e4m3b7-fn/channel:e8m0:fit", "channel", 0, "e8m0", "fit", false, 8.0},
  };
  for (const Want& w : wants) {
    const auto r = run({"format", w.spec, "--json"});
    ASSERT_EQ(r.rc, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["name"], w.name);
    EXPECT_EQ(j["group"], w.group);
    if (w.block) EXPECT_EQ(j["block"], w.block);
    else EXPECT_TRUE(j["block"].is_null());
    EXPECT_EQ(j["scale"], w.scale);
    EXPECT_EQ(j["rule"], w.rule);
    if (w.second) EXPECT_EQ(j["second_level"], "f32");
    else EXPECT_TRUE(j["second_level"].is_null());
    EXPECT_EQ(j["effective_bits"], w.bits);
    const ffp8::Format elem = ffp8::Format::parse(std::string(w.name).substr(0, std::string(w.name).find('/')));
    EXPECT_EQ(j["element"]["name"], elem.name());
    EXPECT_EQ(j["max"], elem.max_value());  // the element's fields at the top level too
    EXPECT_EQ(j["values"].size(), elem.code_count());
  }
  const auto text = run({"format", "mxfp8_e4m3"});
  ASSERT_EQ(text.rc, 0);
  EXPECT_NE(text.out.find("scaled       s1e4m3b7-fn/block32:e8m0:floor (mxfp8_e4m3)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("effective    8.25 bits per value"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("rule         floor: S = 2^(floor(log2 a) - 8)"), std::string::npos) << text.out;
}

TEST_F(CliFormat, BadScaledNamesAreOneLineErrors) {
  expect_error(run({"format", "e4m3fn/block0:e8m0:floor"}), "format", {"'e4m3fn/block0:e8m0:floor'", "block size 0"});
  expect_error(run({"format", "e4m3fn/block32:f32:floor"}), "format", {"'e4m3fn/block32:f32:floor'", "does not apply"});
  expect_error(run({"format", "e4m3fn/block32:e8m0"}), "format", {"'e4m3fn/block32:e8m0'", "GROUP:SCALE:RULE"});
  expect_error(run({"format", "e4m3fn/block32:e8m0:amax"}), "format", {"use floor or fit"});
}
