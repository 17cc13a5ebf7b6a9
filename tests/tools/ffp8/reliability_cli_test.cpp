// Careless-user checks over every command: an output is never an input (resolved paths, hard
// links), outputs are committed only after the whole run succeeded, a killed run leaves no torn
// output and its temp files go on the next run, numbers are range-checked, declared shapes are
// checked before anything is read, and NaN/Inf are counted and never scored as a class.
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/io/h5.hpp"
#include "tests/tools/ffp8/cli_run.hpp"
#include "tests/tools/ffp8/fixtures.hpp"

namespace ffp8::test {
namespace {

using nlohmann::json;

// A system() status of a command that was SIGKILLed (directly, or as the shell's last command).
bool killed(int status) {
  return (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) || (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGKILL);
}

class CliReliability : public CliTinyEvalTest {
 protected:
  json eval_json(const std::string& dir) const { return json::parse(slurp(dir_ / dir / "eval.json")); }
  /// Bytes of every input, to check nothing was modified.
  std::string inputs() const { return slurp(dir_ / "model.h5") + slurp(dir_ / "data.h5") + slurp(dir_ / "cfg.json"); }
};

TEST_F(CliReliability, TinyEvalRunsAndIsRight) {
  const Result r = run({"eval", path("cfg.json"), "--out", path("o"), "-q"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const json j = eval_json("o");
  EXPECT_EQ(j["count"], 6);
  EXPECT_EQ(j["top1"], 1.0);
  EXPECT_EQ(j["nonfinite"]["logits"], 0);
  EXPECT_EQ(j["nonfinite"]["weights"], 0);
}

TEST_F(CliReliability, EvalNeverWritesOverAnInput) {
  const std::string before = inputs();
  ASSERT_EQ(::link(path("model.h5").c_str(), path("hard.h5").c_str()), 0);
  std::filesystem::create_symlink(path("data.h5"), path("soft.h5"));
  for (const std::string target : {"model.h5", "data.h5", "cfg.json", "hard.h5", "soft.h5", "./sub/../model.h5"}) {
    std::filesystem::create_directories(dir_ / "sub");
    const Result r = run({"eval", path("cfg.json"), "--out", path("o"), "-q", "--logits", path(target)});
    expect_error(r, "eval", {"refusing to write over an input"});
    EXPECT_FALSE(std::filesystem::exists(dir_ / "o" / "eval.json")) << target;
  }
  // The output folder being an input file, or eval.json being the config, are refused alike.
  expect_error(run({"eval", path("cfg.json"), "--out", path("model.h5"), "-q"}), "eval", {path("model.h5")});
  std::filesystem::create_directories(dir_ / "c");
  write_eval_config((dir_ / "c" / "eval.json").string(), {{"model", "../model.h5"}, {"data", "../data.h5"}});
  const std::string cfg = slurp(dir_ / "c" / "eval.json");
  expect_error(run({"eval", path("c/eval.json"), "--out", path("c"), "-q"}), "eval", {"config", "refusing"});
  EXPECT_EQ(slurp(dir_ / "c" / "eval.json"), cfg);
  EXPECT_TRUE(inputs() == before);
}

TEST_F(CliReliability, EvalOutputsFailUpFrontAndNothingIsWritten) {
  std::ofstream(path("file")) << "x";
  expect_error(run({"eval", path("cfg.json"), "--out", path("file"), "-q"}), "eval", {path("file"), "is a file"});
  expect_error(run({"eval", path("cfg.json"), "--out", path("file/below"), "-q"}), "eval", {path("file"), "is a file"});
  std::filesystem::create_directories(dir_ / "adir");
  expect_error(run({"eval", path("cfg.json"), "--out", path("o"), "-q", "--logits", path("adir")}), "eval",
               {path("adir"), "is a folder"});
  EXPECT_FALSE(std::filesystem::exists(dir_ / "o"));
  expect_error(run({"eval", path("cfg.json"), "--out", path("o"), "-q", "--logits", path("o/eval.json")}), "eval",
               {"o/eval.json"});
  EXPECT_FALSE(std::filesystem::exists(dir_ / "o" / "eval.json"));
}

TEST_F(CliReliability, NanWeightsAndPixelsAreCountedAndNeverHits) {
  std::vector<float> w = tiny_weights();
  w[5] = NAN;  // class 1 scores NaN for every image
  write_tiny_model(path("model.h5"), w);
  Result r = run({"eval", path("cfg.json"), "--out", path("o"), "-q"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = eval_json("o");
  EXPECT_EQ(j["nonfinite"]["weights"], 1);
  EXPECT_EQ(j["nonfinite"]["logits"], 6);
  EXPECT_EQ(j["top1"], 0.0);
  EXPECT_EQ(j["top5"], 0.0);
  EXPECT_EQ(j["agreement_fp32"], 0.0);
  // One NaN pixel: that image alone is a miss.
  write_tiny_model(path("model.h5"), tiny_weights());
  std::vector<float> px(6 * 4, 0.0f);
  for (int i = 0; i < 6; ++i) px[static_cast<std::size_t>(i * 4 + i % 3)] = 1.0f;
  px[4 * 4 + 1] = NAN;
  write_tiny_data(path("data.h5"), {0, 1, 2, 0, 1, 2}, px);
  r = run({"eval", path("cfg.json"), "--out", path("o"), "-q"});
  ASSERT_EQ(r.rc, 0) << r.err;
  j = eval_json("o");
  EXPECT_EQ(j["nonfinite"]["pixels"], 1);
  EXPECT_EQ(j["nonfinite"]["images"], 1);
  EXPECT_EQ(j["nonfinite"]["logits"], 1);
  EXPECT_DOUBLE_EQ(j["top1"].get<double>(), 5.0 / 6.0);
  EXPECT_DOUBLE_EQ(j["top5"].get<double>(), 5.0 / 6.0);
}

TEST_F(CliReliability, BadLabelsAndEmptyDataNameTheFile) {
  write_tiny_data(path("data.h5"), {0, 1, 3});
  expect_error(run({"eval", path("cfg.json"), "--out", path("o"), "-q"}), "eval",
               {path("data.h5"), "/labels[2] is 3", "[0, 3)"});
  write_tiny_data(path("data.h5"), {0, -1});
  expect_error(run({"eval", path("cfg.json"), "--out", path("o"), "-q"}), "eval", {"/labels[1] is -1"});
  write_tiny_data(path("data.h5"), {});
  write_eval_config(path("cfg.json"), {{"formats", {{"weight", "float32"}, {"activation", "fit:s1e4m3"}}}});
  expect_error(run({"eval", path("cfg.json"), "--out", path("o"), "-q"}), "eval", {path("data.h5"), "no images"});
  EXPECT_FALSE(std::filesystem::exists(dir_ / "o" / "eval.json"));
}

TEST_F(CliReliability, DeclaredHugeShapesFailBeforeAnyRead) {
  {  // a parameter declared (2^40,) with nothing written
    h5::File f = h5::File::open_rw(path("model.h5"));
    f.remove("/params/fc/weight");
    f.create_dataset("/params/fc/weight", {std::uint64_t{1} << 40}, h5::DType::Float32);
  }
  expect_error(run({"eval", path("cfg.json"), "--out", path("o"), "-q"}), "eval", {"/params/fc/weight", "2147483648"});
  {
    h5::File f = h5::File::create(path("big.h5"));
    f.create_dataset("/x", {std::uint64_t{1} << 40}, h5::DType::Float32);
  }
  expect_error(run({"inspect", path("big.h5")}), "inspect", {"'/x'", "never written"});
  expect_error(run({"quantize", "--format", "e4m3fn", path("big.h5") + ":/x", path("q.h5") + ":/q"}), "quantize",
               {"'/x'", "never written"});
  EXPECT_FALSE(std::filesystem::exists(dir_ / "q.h5"));
}

TEST_F(CliReliability, QuantizeNeverOverwritesItsInputDataset) {
  const std::vector<float> v = {1.1f, 2.2f, 3.3f};
  {
    h5::File f = h5::File::create(path("t.h5"));
    f.create_dataset("/x", {3}, h5::DType::Float32);
    f.write("/x", 0, std::span<const float>(v));
  }
  ASSERT_EQ(::link(path("t.h5").c_str(), path("t2.h5").c_str()), 0);
  const std::string before = slurp(dir_ / "t.h5");
  for (const std::string& out : {path("t.h5") + ":/x", path("t2.h5") + ":/x", path("t.h5") + "://x"})
    expect_error(run({"quantize", "--format", "e4m3fn", path("t.h5") + ":/x", out}), "quantize",
                 {"is the input dataset", "refusing"});
  EXPECT_TRUE(slurp(dir_ / "t.h5") == before);
  // Another dataset of the same file is allowed: the input dataset is kept as it is.
  ASSERT_EQ(run({"quantize", "--format", "e4m3fn", path("t.h5") + ":/x", path("t.h5") + ":/q"}).rc, 0);
  std::vector<float> back(3);
  h5::File::open(path("t.h5")).read("/x", 0, std::span<float>(back));
  EXPECT_EQ(back, v);
}

TEST_F(CliReliability, KilledEvalAndQuantizeLeaveNoTornOutputAndNoLitterAfterTheNextRun) {
  // eval: killed after its first batch of three (logits and eval.json half done).
  write_tiny_data(path("data.h5"), {0, 1, 2, 0, 1, 2});
  Result r = ffp8(dir_, {"eval", path("cfg.json"), "--out", path("o"), "-q", "--logits", path("l.h5")});
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string logits = slurp(dir_ / "l.h5"), doc = slurp(dir_ / "o" / "eval.json");
  const std::string cmd = "cd " + quote(dir_.string()) + " && FFP8_TEST_KILL_AFTER=1 " + quote(FFP8_BIN) +
                          " eval cfg.json --out o -q --logits l.h5 >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  EXPECT_TRUE(killed(status)) << status;
  EXPECT_TRUE(slurp(dir_ / "l.h5") == logits);  // the old outputs stand whole
  EXPECT_TRUE(slurp(dir_ / "o" / "eval.json") == doc);
  bool litter = false;
  for (const auto& e : std::filesystem::directory_iterator(dir_))
    litter |= e.path().filename().string().find(".tmp-") != std::string::npos;
  EXPECT_TRUE(litter) << "the kill should have left l.h5.tmp-PID";
  r = ffp8(dir_, {"eval", path("cfg.json"), "--out", path("o"), "-q", "--logits", path("l.h5")});
  ASSERT_EQ(r.rc, 0) << r.err;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();

  // quantize: 3 chunks of 1 Mi elements, killed after the first.
  std::vector<float> big(3u << 20);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<float>(i % 1000) / 7.0f;
  {
    h5::File f = h5::File::create(path("big.h5"));
    f.create_dataset("/x", {big.size()}, h5::DType::Float32);
    f.write("/x", 0, std::span<const float>(big));
  }
  const std::string q = "cd " + quote(dir_.string()) + " && FFP8_TEST_KILL_AFTER=1 " + quote(FFP8_BIN) +
                        " quantize --format e4m3fn big.h5:/x q.h5:/q >/dev/null 2>&1";
  const int qs = std::system(q.c_str());
  EXPECT_TRUE(killed(qs)) << qs;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "q.h5"));
  ASSERT_EQ(run({"quantize", "--format", "e4m3fn", path("big.h5") + ":/x", path("q.h5") + ":/q"}).rc, 0);
  for (const auto& e : std::filesystem::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST_F(CliReliability, NumbersAreRangeChecked) {
  auto usage = [&](const std::vector<std::string>& args, const std::string& part) {
    const Result r = run(args);
    EXPECT_EQ(r.rc, 2) << r.err;
    EXPECT_NE(r.err.find(part), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  };
  usage({"hwcost", "--format", "e4m3fn", "--accumulator", "kulisch", "--kulisch-terms", "-1"}, "--kulisch-terms");
  usage({"hwcost", "--format", "e4m3fn", "--weights-count", "-5"}, "--weights-count");
  usage({"hwcost", "--format", "e4m3fn", "--weights-count", "18446744073709551616"}, "--weights-count");
  usage({"hwcost", "--format", "e4m3fn", "--weights-count", "1e3"}, "--weights-count");
  usage({"eval", path("cfg.json"), "--threads", "99999999999"}, "--threads");
  usage({"sweep", path("cfg.json"), "--threads", "0"}, "--threads");
  usage({"quantize", "--format", "e4m3fn", "--threads", "-3", "a.h5:/x", "b.h5:/x"}, "--threads");
  usage({"hwcost", "--int8", "--format", "e4m3fn", "--flexible"}, "--int8");
  usage({"hwcost", "--int8", "--flexible"}, "--flexible");
  const Result ok = run({"hwcost", "--format", "e4m3fn", "--weights-count", "1000", "--json"});
  EXPECT_EQ(ok.rc, 0) << ok.err;
}

TEST_F(CliReliability, HwcostVerilogPathsFailCleanly) {
  std::filesystem::create_directories(dir_ / "adir");
  std::ofstream(path("file")) << "x";
  expect_error(run({"hwcost", "--format", "e4m3fn", "--verilog", path("adir")}), "hwcost", {"is a folder"});
  expect_error(run({"hwcost", "--format", "e4m3fn", "--verilog", path("file/pe.v")}), "hwcost", {"is a file"});
  ASSERT_EQ(run({"hwcost", "--format", "e4m3fn", "--verilog", path("v/pe.v")}).rc, 0);
  EXPECT_NE(slurp(dir_ / "v" / "pe.v").find("module"), std::string::npos);
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
}

TEST_F(CliReliability, StaleTempFilesOfDeadRunsAreRemoved) {
  // A temp file of a process that no longer runs (pid 2^30 - 1 is beyond any pid_max) goes; one
  // of a live process (this test's own pid) stays.
  std::ofstream(path("l.h5.tmp-1073741823")) << "stale";
  const std::string live = "l.h5.tmp-" + std::to_string(::getpid());
  std::ofstream(path(live)) << "live";
  std::filesystem::create_directories(dir_ / "o");
  std::ofstream(path("o/eval.json.tmp-1073741822")) << "stale";
  ASSERT_EQ(run({"eval", path("cfg.json"), "--out", path("o"), "-q", "--logits", path("l.h5")}).rc, 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "l.h5.tmp-1073741823"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "o" / "eval.json.tmp-1073741822"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / live));
}

TEST_F(CliReliability, SweepAndMergeRefuseInputsAndBadShardsAndJournalNames) {
  std::vector<float> v(64);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) / 10.0f - 3.0f;
  {
    h5::File f = h5::File::create(path("t.h5"));
    f.create_dataset("/w", {v.size()}, h5::DType::Float32);
    f.write("/w", 0, std::span<const float>(v));
  }
  std::ofstream(path("s.json")) << R"({"inputs": [{"file": "t.h5", "tensors": ["/w"], "role": "weight"}],
    "space": {"width": [8], "sign": [1], "exp": [4], "bias": "fit"},
    "metrics": ["mse"], "objectives": [{"column": "mse"}, {"column": "width"}]})";
  const std::string before = slurp(dir_ / "t.h5");
  expect_error(run({"sweep", path("s.json"), "--out", path("t.h5"), "-q"}), "sweep", {path("t.h5"), "is a file"});
  std::ofstream(path("file")) << "x";
  expect_error(run({"sweep", path("s.json"), "--out", path("file/o"), "-q"}), "sweep", {"is a file"});
  for (const std::string shard : {"0/99999999999999999999999", "5/3", "0/0", "1/2x"})
    expect_error(run({"sweep", path("s.json"), "--out", path("o"), "-q", "--shard", shard}), "sweep", {shard});
  // A huge N is fine (most shards get nothing) and costs no memory.
  const Result big = run({"sweep", path("s.json"), "--out", path("o"), "-q", "--shard", "999999998/999999999"});
  EXPECT_EQ(big.rc, 0) << big.err;
  ASSERT_EQ(run({"sweep", path("s.json"), "--out", path("m"), "-q", "--shard", "0/1"}).rc, 0);
  std::ofstream(path("m/shard-0-of-99999999999999999999.journal")) << "x";
  expect_error(run({"merge", path("s.json"), "--out", path("m"), "-q"}), "merge",
               {"shard-0-of-99999999999999999999.journal", "not a shard journal"});
  std::filesystem::remove(dir_ / "m" / "shard-0-of-99999999999999999999.journal");
  const Result merged = run({"merge", path("s.json"), "--out", path("m"), "-q"});
  ASSERT_EQ(merged.rc, 0) << merged.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "m" / "summary.json"));
  EXPECT_TRUE(slurp(dir_ / "t.h5") == before);
}

}  // namespace
}  // namespace ffp8::test
