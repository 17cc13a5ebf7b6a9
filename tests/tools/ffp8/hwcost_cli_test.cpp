// `ffp8 hwcost` as users and scripts run it: the pinned JSON keys and the exit codes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/tools/ffp8/cli_run.hpp"

namespace {

struct CliRun {
  int code = -1;
  std::string out;  ///< stdout then stderr
};

/// Runs `ffp8 hwcost ARGS` (ARGS split at spaces), its output captured in a fresh temp folder.
CliRun run(const std::string& args) {
  std::vector<std::string> argv{"hwcost"};
  std::istringstream words(args);
  for (std::string w; words >> w;) argv.push_back(w);
  std::string tmpl = (std::filesystem::temp_directory_path() / "ffp8-hwcost-cli-XXXXXX").string();
  const std::filesystem::path dir = mkdtemp(tmpl.data());
  const ffp8::test::Result r = ffp8::test::ffp8(dir, argv);
  std::filesystem::remove_all(dir);
  return {r.rc, r.out + r.err};
}

TEST(HwcostCli, JsonHasThePinnedKeys) {
  for (const std::string acc : {"fp32", "fp16", "kulisch"}) {
    const CliRun r = run("--format e4m3fn --accumulator " + acc + " --json");
    ASSERT_EQ(r.code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_GT(j.at("area_um2").get<double>(), 0);
    EXPECT_GT(j.at("energy_pj_per_mac").get<double>(), 0);
    EXPECT_EQ(j.at("tech").get<std::string>(), "osu018");
    double sum = 0;
    for (const auto& [k, v] : j.at("components").items()) sum += v.get<double>();
    EXPECT_NEAR(sum, j.at("area_um2").get<double>(), 1e-6 * sum);
  }
}

TEST(HwcostCli, FlexibleAndMixedOperands) {
  const CliRun r = run("--weight e4m3fn --activation s0e4m4b10 --accumulator kulisch --flexible --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j.at("flexible").get<bool>());
  EXPECT_EQ(j.at("activation").get<std::string>(), "s0e4m4b10");
}

TEST(HwcostCli, BadInputExitsOneWithOneSentence) {
  CliRun r = run("--format e4m3fn --tech /nonexistent/lib.json");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("/nonexistent/lib.json"), std::string::npos) << r.out;
  r = run("--format s1e6m1b31 --flexible");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("s1e6m1b31"), std::string::npos) << r.out;
  r = run("--format e9m9");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--format"), std::string::npos) << r.out;
}

TEST(HwcostCli, UsageErrorsExitTwo) {
  EXPECT_EQ(run("").code, 2);
  EXPECT_EQ(run("--format e4m3fn --accumulator fp64").code, 2);
  EXPECT_EQ(run("--format e4m3fn --no-such-flag").code, 2);
}

}  // namespace
