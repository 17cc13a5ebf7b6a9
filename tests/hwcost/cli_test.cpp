// `ffp8 hwcost` as users and scripts run it: the pinned JSON keys and the exit codes.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>

namespace {

struct CliRun {
  int code = -1;
  std::string out;
};

CliRun run(const std::string& args) {
#ifndef FFP8_CLI
  ADD_FAILURE() << "FFP8_CLI not defined: the ffp8 target is missing";
  return {};
#else
  if (!std::filesystem::exists(FFP8_CLI)) {
    ADD_FAILURE() << FFP8_CLI << " is not built";
    return {};
  }
  const std::string cmd = std::string(FFP8_CLI) + " hwcost " + args + " 2>&1";
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), p)) r.out += buf.data();
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
#endif
}

TEST(Cli, JsonHasThePinnedKeys) {
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

TEST(Cli, FlexibleAndMixedOperands) {
  const CliRun r = run("--weight e4m3fn --activation s0e4m4b10 --accumulator kulisch --flexible --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j.at("flexible").get<bool>());
  EXPECT_EQ(j.at("activation").get<std::string>(), "s0e4m4b10");
}

TEST(Cli, BadInputExitsOneWithOneSentence) {
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

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run("").code, 2);
  EXPECT_EQ(run("--format e4m3fn --accumulator fp64").code, 2);
  EXPECT_EQ(run("--format e4m3fn --no-such-flag").code, 2);
}

}  // namespace
