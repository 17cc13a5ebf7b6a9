// A corpus of bad inputs over every subcommand: missing, empty, truncated and non-HDF5 files,
// folders where files belong, malformed and ill-typed configs, bad names and numbers. Every case
// must exit 1 (bad input: one line "ffp8 CMD: error: ...") or 2 (bad command line: one line
// "ffp8 CMD: ..."), write nothing (no output file or folder, no temp litter) and leave every
// file of the test folder byte for byte as it was.
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "tests/tools/ffp8/cli_run.hpp"
#include "tests/tools/ffp8/fixtures.hpp"

namespace ffp8::test {
namespace {

using nlohmann::json;

class CliBadInputCorpus : public CliTinyEvalTest {
 protected:
  void SetUp() override {
    CliTinyEvalTest::SetUp();
    std::ofstream(path("junk.h5")) << "this is not an HDF5 file\n";
    std::ofstream(path("empty.h5"));
    const std::string model = slurp(dir_ / "model.h5");
    std::ofstream(path("trunc.h5"), std::ios::binary) << model.substr(0, model.size() / 2);
    std::filesystem::create_directories(dir_ / "adir");
    std::ofstream(path("open.json")) << "{\"model\": \"model.h5\",";
    std::ofstream(path("list.json")) << "[1, 2, 3]";
    write_eval_config(path("types.json"), {{"batch", "two"}});
    write_eval_config(path("unknown.json"), {{"formatz", 1}});
    write_eval_config(path("junk_model.json"), {{"model", "junk.h5"}});
    write_eval_config(path("trunc_model.json"), {{"model", "trunc.h5"}});
    write_eval_config(path("junk_data.json"), {{"data", "junk.h5"}});
    write_eval_config(path("model_as_data.json"), {{"data", "model.h5"}});
    write_eval_config(path("bad_format.json"), {{"formats", {{"weight", "s1e9m9b7"}, {"activation", "float32"}}}});
    const json sweep = {{"inputs", {{{"file", "model.h5"}, {"tensors", {"/params/**"}}, {"role", "weight"}}}},
                        {"space", {{"width", 8}, {"sign", 1}, {"exp", 4}, {"bias", "fit"}}}};
    std::ofstream(path("sweep.json")) << sweep.dump();
    json s = sweep;
    s["inputs"][0]["file"] = "junk.h5";
    std::ofstream(path("sweep_junk.json")) << s.dump();
    s = sweep;
    s["inputs"][0]["tensors"] = {"/nothing/*"};
    std::ofstream(path("sweep_none.json")) << s.dump();
    s = sweep;
    s["space"]["exp"] = 99;
    std::ofstream(path("sweep_exp.json")) << s.dump();
    s = sweep;
    s["inputs"][0]["file"] = "adir";
    std::ofstream(path("sweep_dir.json")) << s.dump();
  }

  /// Every file below the test folder with its bytes (folders as "/").
  std::map<std::string, std::string> snapshot() const {
    std::map<std::string, std::string> m;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_)) {
      const std::string rel = std::filesystem::relative(e.path(), dir_).string();
      m[rel] = e.is_directory() ? std::string("/") : slurp(e.path());
    }
    return m;
  }
};

struct Case {
  std::vector<std::string> args;  ///< after "ffp8"; names of the test folder's files as "@name"
};

TEST_F(CliBadInputCorpus, EveryCommandFailsCleanlyOnBadInput) {
  const std::vector<Case> cases = {
      // eval
      {{"eval"}},
      {{"eval", "@missing.json", "--out", "@o"}},
      {{"eval", "@adir", "--out", "@o"}},
      {{"eval", "@junk.h5", "--out", "@o"}},
      {{"eval", "@open.json", "--out", "@o"}},
      {{"eval", "@list.json", "--out", "@o"}},
      {{"eval", "@types.json", "--out", "@o"}},
      {{"eval", "@unknown.json", "--out", "@o"}},
      {{"eval", "@junk_model.json", "--out", "@o"}},
      {{"eval", "@trunc_model.json", "--out", "@o"}},
      {{"eval", "@junk_data.json", "--out", "@o"}},
      {{"eval", "@model_as_data.json", "--out", "@o"}},
      {{"eval", "@bad_format.json", "--out", "@o"}},
      {{"eval", "@cfg.json", "--out", "@o", "--threads", "-3"}},
      {{"eval", "@cfg.json", "--out", "@o", "--set", "batch=0"}},
      {{"eval", "@cfg.json", "--out", "@o", "--set", "nosuch.key=1"}},
      {{"eval", "@cfg.json", "--out", "@o", "--logits", "@adir"}},
      {{"eval", "@cfg.json", "--out", "@junk.h5"}},
      {{"eval", "@cfg.json", "--out", "@o", "--bogus"}},
      // format
      {{"format"}},
      {{"format", "s1e9m9"}},
      {{"format", ""}},
      {{"format", "fit:s1e4m3"}},
      {{"format", "fit:s1e4m3", "--max", "-1"}},
      {{"format", "fit:s1e4m3", "--max", "nan"}},
      {{"format", "fit:s1e4m3", "--max", "inf"}},
      {{"format", "fit:s1e4m3b7", "--max", "2"}},
      {{"format", "e4m3fn", "--bogus"}},
      // hwcost
      {{"hwcost"}},
      {{"hwcost", "--format", "bogus"}},
      {{"hwcost", "--format", "e4m3fn", "--kulisch-terms", "-1"}},
      {{"hwcost", "--format", "e4m3fn", "--weights-count", "1e3"}},
      {{"hwcost", "--format", "e4m3fn", "--tech", "@junk.h5"}},
      {{"hwcost", "--format", "e4m3fn", "--verilog", "@adir"}},
      {{"hwcost", "--format", "e4m3fn", "--verilog", "@junk.h5/pe.v"}},
      {{"hwcost", "--int8", "--format", "e4m3fn"}},
      // inspect
      {{"inspect"}},
      {{"inspect", "@missing.h5"}},
      {{"inspect", "@junk.h5"}},
      {{"inspect", "@empty.h5"}},
      {{"inspect", "@trunc.h5"}},
      {{"inspect", "@adir"}},
      {{"inspect", "@model.h5", "--bogus"}},
      // ops
      {{"ops", "--bogus"}},
      // quantize
      {{"quantize"}},
      {{"quantize", "--format", "e4m3fn", "@junk.h5:/x", "@q.h5:/x"}},
      {{"quantize", "--format", "e4m3fn", "@missing.h5:/x", "@q.h5:/x"}},
      {{"quantize", "--format", "e4m3fn", "@model.h5:/nope", "@q.h5:/x"}},
      {{"quantize", "--format", "e4m3fn", "@model.h5:/params", "@q.h5:/x"}},
      {{"quantize", "--format", "e4m3fn", "@model.h5", "@q.h5:/x"}},
      {{"quantize", "--format", "bogus", "@model.h5:/params/fc/weight", "@q.h5:/x"}},
      {{"quantize", "--format", "e4m3fn", "@model.h5:/params/fc/weight", "@model.h5:/params/fc/weight"}},
      {{"quantize", "--format", "e4m3fn", "@model.h5:/params/fc/weight", "@adir:/x"}},
      {{"quantize", "--format", "e4m3fn", "@model.h5:/params/fc/weight", "@junk.h5:/x"}},
      {{"quantize", "--format", "e4m3fn", "@model.h5:/params/fc/weight", "@q.h5:/x", "--threads", "x"}},
      // record
      {{"record"}},
      {{"record", "@junk.h5", "@data.h5", "--count", "2", "--out", "@acts.h5"}},
      {{"record", "@trunc.h5", "@data.h5", "--count", "2", "--out", "@acts.h5"}},
      {{"record", "@model.h5", "@junk.h5", "--count", "2", "--out", "@acts.h5"}},
      {{"record", "@model.h5", "@model.h5", "--count", "2", "--out", "@acts.h5"}},
      {{"record", "@model.h5", "@data.h5", "--count", "-1", "--out", "@acts.h5"}},
      {{"record", "@model.h5", "@data.h5", "--count", "99", "--out", "@acts.h5"}},
      {{"record", "@model.h5", "@data.h5", "--count", "2", "--out", "@model.h5"}},
      {{"record", "@model.h5", "@data.h5", "--count", "2", "--out", "@adir"}},
      // sweep
      {{"sweep"}},
      {{"sweep", "@missing.json", "--out", "@o"}},
      {{"sweep", "@adir", "--out", "@o"}},
      {{"sweep", "@open.json", "--out", "@o"}},
      {{"sweep", "@cfg.json", "--out", "@o"}},
      {{"sweep", "@sweep_junk.json", "--out", "@o"}},
      {{"sweep", "@sweep_none.json", "--out", "@o"}},
      {{"sweep", "@sweep_exp.json", "--out", "@o"}},
      {{"sweep", "@sweep_dir.json", "--out", "@o"}},
      {{"sweep", "@sweep.json", "--out", "@junk.h5"}},
      {{"sweep", "@sweep.json", "--out", "@model.h5"}},
      {{"sweep", "@sweep.json", "--out", "@o", "--shard", "3/2"}},
      {{"sweep", "@sweep.json", "--out", "@o", "--threads", "1e9"}},
      {{"sweep", "@sweep.json", "--out", "@o", "--set", "space.width=99"}},
      // merge
      {{"merge"}},
      {{"merge", "@sweep.json", "--out", "@o"}},
      {{"merge", "@sweep.json", "--out", "@adir"}},
      {{"merge", "@missing.json", "--out", "@o"}},
  };
  const auto before = snapshot();
  for (const Case& c : cases) {
    std::vector<std::string> args;
    std::string shown;
    for (const std::string& a : c.args) {
      args.push_back(a.rfind('@', 0) == 0 ? path(a.substr(1)) : a);
      shown += " " + a;
    }
    const Result r = run(args);
    SCOPED_TRACE("ffp8" + shown);
    const std::string& cmd = c.args.front();
    EXPECT_TRUE(r.rc == 1 || r.rc == 2) << r.rc << ": " << r.err;
    EXPECT_EQ(r.err.rfind("ffp8 " + cmd + ": " + (r.rc == 1 ? "error: " : ""), 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    const auto after = snapshot();
    std::string changed;
    for (const auto& [name, bytes] : after)
      if (!before.count(name) || before.at(name) != bytes) changed += " " + name;
    for (const auto& [name, bytes] : before)
      if (!after.count(name)) changed += " -" + name;
    EXPECT_EQ(changed, "") << "written, changed or removed";
  }
}

}  // namespace
}  // namespace ffp8::test
