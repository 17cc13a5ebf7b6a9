// The front end shared by every subcommand: `ffp8 help CMD`, the project's message for an
// argument beyond the positional ones (not Boost's "too many positional options"), and the
// paths rule in the --help of the commands that read a config.
#include <gtest/gtest.h>

#include "tests/tools/ffp8/cli_run.hpp"

namespace ffp8::test {
namespace {

class CliMain : public CliTest {};

TEST_F(CliMain, HelpCommandIsTheCommandsHelp) {
  for (const std::string cmd : {"eval", "sweep", "quantize", "inspect", "hwcost", "format", "merge", "ops"}) {
    const Result help = run({"help", cmd});
    const Result direct = run({cmd, "--help"});
    EXPECT_EQ(help.rc, 0) << cmd << help.err;
    EXPECT_EQ(help.out, direct.out) << cmd;
    EXPECT_NE(help.out.find("ffp8 " + cmd), std::string::npos) << help.out;
  }
  const Result all = run({"help"});
  EXPECT_EQ(all.rc, 0);
  EXPECT_NE(all.out.find("ffp8 help <command>"), std::string::npos) << all.out;
}

TEST_F(CliMain, ConfigCommandsStateThePathsRuleAndTheirKeys) {
  for (const std::string cmd : {"eval", "sweep"}) {
    const Result r = run({cmd, "--help"});
    EXPECT_NE(r.out.find("relative to the config file's folder"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Config keys"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--set"), std::string::npos) << r.out;
  }
}

TEST_F(CliMain, AnExtraArgumentIsNamedAndAMissingOneToo) {
  Result r = run({"hwcost", "s1e4m3b7"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("unexpected argument 's1e4m3b7'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("too many positional"), std::string::npos) << r.err;
  r = run({"inspect", "a.h5", "b.h5"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("unexpected argument 'b.h5'"), std::string::npos) << r.err;
  r = run({"eval"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("missing the CONFIG.json argument"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ffp8::test
