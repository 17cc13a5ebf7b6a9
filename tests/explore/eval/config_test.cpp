// The eval config: --set overrides as for sweeps, and the one rule for paths (relative to the
// config file's folder; without "out", the config's name beside it).
#include <gtest/gtest.h>

#include <fstream>

#include "core/errors.hpp"
#include "explore/eval/config.hpp"
#include "tests/core/infer/test_util.hpp"

namespace ffp8::explore {
namespace {

namespace test = infer::test;

TEST(EvalConfig, OverridesAndPathsFollowTheConfigFile) {
  test::TempDir dir;
  const auto file = dir.path() / "eval.json";
  std::ofstream(file) << R"({"model": "m.h5", "data": "../d.h5",
                              "formats": {"weight": "float32", "activation": "float32"}})";
  const EvalConfig plain = load_eval_config(file);
  EXPECT_EQ(plain.model, (dir.path() / "m.h5").string());
  EXPECT_EQ(plain.data, (dir.path().parent_path() / "d.h5").string());
  // No "out": the config's name beside it, never the config file itself.
  EXPECT_EQ(plain.out, (dir.path() / "eval").string());
  EXPECT_FALSE(plain.out_given);
  const EvalConfig set = load_eval_config(file, {"limit=7", "formats.weight=e4m3fn", "out=res"});
  EXPECT_EQ(set.limit, 7);
  EXPECT_EQ(set.formats.weight.text(), "s1e4m3b7-fn");
  EXPECT_EQ(set.out, (dir.path() / "res").string());
  EXPECT_TRUE(set.out_given);
  EXPECT_EQ(set.as_json["limit"], 7);  // the config as run
  try {
    (void)load_eval_config(file, {"limt=7"});
    ADD_FAILURE() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string() + ": /limt: unknown key \"limt\""), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ffp8::explore
