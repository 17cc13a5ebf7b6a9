// `ffp8 format SPEC --json`: its documented fields and one value per code.
#include <nlohmann/json.hpp>

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
  expect_error(run({"format", "s1e0m7b1"}), "format", {"s1e0m7b1"});
  EXPECT_EQ(run({"format"}).rc, 2);
  EXPECT_EQ(run({"format", "e4m3fn", "--bogus"}).rc, 2);
}
