// The sweep engine end to end on HDF5 inputs: every point of a sweep (statistics path) against
// the same sweep scored entirely by the direct path; granularities, bias rules, selection,
// outputs (atomic), and the CLI's exit codes and messages.
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <set>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/wait.h>

#include "core/errors.hpp"
#include "core/format/fit.hpp"
#include "core/quant/quantize.hpp"
#include "explore/report/report.hpp"
#include "explore/sweep/sweep.hpp"
#include "tests/explore/hard_tensors.hpp"
#include "tests/explore/test_util.hpp"

using namespace ffp8;
using namespace ffp8::explore;
using nlohmann::json;

namespace {

bool close(double a, double b, double abs_tol = 0) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= std::max(abs_tol, 1e-9 * std::max(std::fabs(a), std::fabs(b)));
}

/// Inputs: a hard signed tensor (weights, 2-D for channels), a never-negative activation.
std::filesystem::path make_inputs(const std::string& name) {
  const auto dir = test::scratch(name);
  std::vector<float> w = test::hard_tensor(7);
  w.resize(w.size() / 8 * 8);
  std::vector<float> a;
  for (float v : test::hard_tensor(8)) a.push_back(std::fabs(v) < 1e30f ? std::fabs(v) : 1.0f);
  a.resize(8000);
  test::write_h5(dir / "w.h5", {{"/weights/hard", {8, w.size() / 8}, w}, {"/weights/small", {3, 2}, {0.5f, -0.25f, 0.125f, 3.0f, -7.5f, 0.0f}}});
  test::write_h5(dir / "a.h5", {{"/activations/relu", {a.size()}, a}});
  return dir;
}

json base_config() {
  return json::parse(R"({
    "inputs": [
      {"file": "w.h5", "tensors": ["/weights/*"], "role": "weight"},
      {"file": "a.h5", "tensors": ["/activations/*"], "role": "activation"}
    ],
    "space": {"width": 8, "sign": [0, 1], "exp": [1, 2, 3, 4, 5, 6], "bias": {"min": -8, "max": 22},
              "specials": ["none", "fn"], "subnormals": [true, false], "rounding": ["rne", "rtz"]},
    "granularity": ["tensor", "role"],
    "metrics": ["mse", "rmse", "nmse", "sqnr_db", "max_abs_err", "cosine", "kl_div", "neg_clipped_frac"],
    "objectives": [{"column": "mse"}, {"column": "exp", "goal": "min"}],
    "chunk": 4096
  })");
}

SweepResult run(const json& j, const std::filesystem::path& dir) {
  const SweepConfig c = parse_config(j, dir);
  return run_sweep(c, open_inputs(c));
}

}  // namespace

TEST(Sweep, EveryPointAgreesWithTheDirectPath) {
  const auto dir = make_inputs("sweep_exact");
  json j = base_config();
  const SweepResult fast = run(j, dir);
  j["direct_only"] = true;
  const SweepResult slow = run(j, dir);
  ASSERT_EQ(fast.points.size(), slow.points.size());
  ASSERT_GT(fast.points.size(), 12000u);
  EXPECT_EQ(slow.by_stats, 0u);
  std::size_t disagreements = 0;
  for (std::size_t i = 0; i < fast.points.size(); ++i) {
    const Point &p = fast.points[i], &q = slow.points[i];
    ASSERT_EQ(p.format, q.format);
    ASSERT_EQ(p.group, q.group);
    std::string bad;
    for (const MetricInfo& m : kMetrics)
      // sqnr_db is a log: 1e-9 relative agreement of the sums is 4.3e-9 dB absolute.
      if (m.exact && !close(metric_value(m.id, p.sums), metric_value(m.id, q.sums), m.id == Metric::SqnrDb ? 1e-8 : 0))
        bad += " " + std::string(m.name) + " " + std::to_string(metric_value(m.id, p.sums)) + " vs " +
               std::to_string(metric_value(m.id, q.sums));
    if (!bad.empty() && ++disagreements < 20)
      ADD_FAILURE() << fast.groups[p.group].tensor << " " << p.format.name() << " " << to_string(p.rounding) << ":" << bad;
  }
  std::printf("sweep exactness: %zu points (%llu by statistics), %zu disagreements\n", fast.points.size(),
              static_cast<unsigned long long>(fast.by_stats), disagreements);
  EXPECT_EQ(disagreements, 0u);
  EXPECT_EQ(fast.by_stats, fast.points.size());
}

TEST(Sweep, ChannelGroupsAgreeAndCoverTheTensor) {
  const auto dir = make_inputs("sweep_channel");
  json j = base_config();
  j["granularity"] = "channel";
  j["space"] = json::parse(R"({"sign": 1, "exp": [3, 4], "bias": "fit", "rounding": ["rne", "stochastic"], "seed": 3})");
  const SweepResult r = run(j, dir);
  std::uint64_t channel_elems = 0;
  std::size_t channels = 0;
  for (const Group& g : r.groups)
    if (g.granularity == Granularity::Channel) {
      EXPECT_EQ(g.role, "weight") << g.tensor;  // an activation's axis 0 is the sample, not a channel
      channel_elems += g.count;
      ++channels;
    }
  EXPECT_EQ(channels, 8u + 3u);
  std::uint64_t tensor_elems = 0;
  for (const Group& g : r.groups)
    if (g.granularity == Granularity::Tensor && g.role == "weight") tensor_elems += g.count;
  EXPECT_EQ(channel_elems, tensor_elems);
  // Weights get points per channel only; the activation gets points as a whole tensor.
  std::size_t activation_points = 0;
  for (const Point& p : r.points) {
    const Group& g = r.groups[p.group];
    if (g.role == "activation") {
      EXPECT_EQ(g.granularity, Granularity::Tensor);
      EXPECT_EQ(g.tensor, "/activations/relu");
      ++activation_points;
    } else {
      EXPECT_EQ(g.granularity, Granularity::Channel);
    }
  }
  EXPECT_GT(activation_points, 0u);
  // Fit bias per channel: the bias of each point is the fit of that channel's own maximum.
  for (const Point& p : r.points) {
    const Group& g = r.groups[p.group];
    EXPECT_EQ(p.format.bias, fit_bias(FormatTemplate{1, p.format.exp, p.format.man}, g.max_abs)) << g.tensor;
  }
}

TEST(Sweep, ArgminKeepsTheBestBias) {
  const auto dir = make_inputs("sweep_argmin");
  json j = base_config();
  j["granularity"] = "tensor";
  j["space"] = json::parse(R"({"sign": 1, "exp": [3, 4, 5], "bias": {"min": -4, "max": 20}})");
  const SweepResult all = run(j, dir);
  j["space"]["bias"] = json::parse(R"({"argmin": "mse", "min": -4, "max": 20})");
  const SweepResult best = run(j, dir);
  // Both runs must score something, or the loops below check nothing.
  ASSERT_FALSE(all.points.empty());
  ASSERT_FALSE(best.points.empty());
  EXPECT_GT(all.points.size(), best.points.size());
  // One point per (tensor, template), each the minimum-mse bias of the full range.
  std::map<std::pair<std::size_t, int>, double> min_mse;
  for (const Point& p : all.points) {
    const auto key = std::make_pair(p.group, p.format.exp);
    const double v = metric_value(Metric::Mse, p.sums);
    if (!min_mse.count(key) || v < min_mse[key]) min_mse[key] = v;
  }
  EXPECT_EQ(best.points.size(), min_mse.size());
  for (const Point& p : best.points) {
    EXPECT_EQ(metric_value(Metric::Mse, p.sums), (min_mse[{p.group, p.format.exp}]));
    EXPECT_EQ(p.bias_rule, "argmin:mse");
  }
}

TEST(Sweep, PaperSelectionDropsTheSignOfNeverNegativeTensors) {
  const auto dir = make_inputs("sweep_select");
  json j = base_config();
  j["space"] = json::parse(R"({"width": 8, "sign": [0, 1], "exp": [2, 3, 4, 5], "bias": "fit"})");
  j["selection"] = json::parse(R"({"strategy": "ffp8_paper", "metric": "mse"})");
  const SweepResult r = run(j, dir);
  bool saw_relu = false, saw_weight_role = false;
  for (const Choice& c : r.choices) {
    if (c.name == "/activations/relu" || (c.scope == "role" && c.name == "activation")) {
      EXPECT_EQ(c.format.sign, 0) << c.name;
      saw_relu = true;
    }
    if (c.scope == "role" && c.name == "weight") {
      EXPECT_EQ(c.format.sign, 1);
      saw_weight_role = true;
      // The winner has the best mse among the fit-bias candidates of the role.
      EXPECT_EQ(c.candidates, 4u);
    }
    EXPECT_EQ(c.format.bias, fit_bias(FormatTemplate{c.format.sign, c.format.exp, c.format.man}, [&] {
                for (const Group& g : r.groups)
                  if ((c.scope == "role" && g.granularity == Granularity::Role && g.role == c.name) ||
                      (c.scope == "tensor" && g.granularity == Granularity::Tensor && g.tensor == c.name))
                    return fit_input(c.format.sign, g.max_abs, g.max_positive);
                return -1.0;
              }()));
  }
  EXPECT_TRUE(saw_relu);
  EXPECT_TRUE(saw_weight_role);
}

TEST(Sweep, ATensorWithNoFiniteValueIsADataError) {
  const auto dir = test::scratch("sweep_nan");
  test::write_h5(dir / "w.h5", {{"/weights/x", {3}, {NAN, INFINITY, NAN}}});
  json j = base_config();
  j["inputs"] = json::parse(R"([{"file": "w.h5", "tensors": ["/weights/x"], "role": "weight"}])");
  try {
    run(j, dir);
    ADD_FAILURE() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("has no finite value (2 NaN, 1 infinite)"), std::string::npos) << e.what();
  }
}

// NaN and ±Inf are counted per group and left out of everything else: a tensor with them gives
// the points, fit biases and choices of the same tensor without them (before, +Inf made the fit
// rule choose the bottom of its bias search, s1e4m3b-1000, and every finite value underflowed).
TEST(Sweep, NonFiniteValuesAreCountedAndLeftOut) {
  const auto dir = test::scratch("sweep_nonfinite");
  std::vector<float> w = {0.5f, -3.0f, 2.25f, 0.0f, 1e-40f, 7.0f, -0.1f, 0.3f, 1.5f, -6.5f, 0.02f, 4.0f};
  std::vector<float> a;
  for (int i = 0; i < 40; ++i) a.push_back(static_cast<float>(i) * 0.37f);
  const std::vector<float> w_clean = w, a_clean = a;
  // Non-finite values at the end of each tensor: every finite value keeps its index.
  for (float v : {INFINITY, NAN, -INFINITY, NAN}) w.push_back(v);
  for (float v : {INFINITY, NAN}) a.push_back(v);
  test::write_h5(dir / "clean.h5", {{"/weights/w", {2, 6}, w_clean}, {"/activations/a", {a_clean.size()}, a_clean}});
  test::write_h5(dir / "dirty.h5", {{"/weights/w", {2, 8}, w}, {"/activations/a", {a.size()}, a}});
  for (const bool direct : {false, true}) {
    json j = base_config();
    j["space"] = json::parse(R"({"width": 8, "sign": [0, 1], "exp": [2, 3, 4, 5], "bias": "fit"})");
    j["granularity"] = json::parse(R"(["tensor", "role"])");
    j["metrics"].push_back("mean_rel_err");
    j["direct_only"] = direct;
    j["inputs"] = json::parse(R"([{"file": "clean.h5", "tensors": ["/weights/*"], "role": "weight"},
                                  {"file": "clean.h5", "tensors": ["/activations/*"], "role": "activation"}])");
    const SweepResult clean = run(j, dir);
    for (auto& in : j["inputs"]) in["file"] = "dirty.h5";
    const SweepResult dirty = run(j, dir);
    ASSERT_EQ(clean.points.size(), dirty.points.size());
    ASSERT_GT(dirty.points.size(), 20u);
    for (std::size_t i = 0; i < dirty.points.size(); ++i) {
      const Point &p = clean.points[i], &q = dirty.points[i];
      ASSERT_EQ(p.format, q.format) << i;  // the same fit biases
      EXPECT_GT(q.format.bias, -1000);
      for (Metric m : {Metric::Mse, Metric::SqnrDb, Metric::MaxAbsErr, Metric::KlDiv, Metric::MeanRelErr, Metric::UnderflowFrac})
        EXPECT_TRUE(close(metric_value(m, p.sums), metric_value(m, q.sums))) << q.format.name() << " " << info(m).name;
      EXPECT_EQ(q.sums.count, p.sums.count);
      // Formats with the fit bias hold the largest finite value: nothing overflows.
      EXPECT_EQ(q.sums.overflow, 0.0) << q.format.name();
    }
    ASSERT_EQ(clean.choices.size(), dirty.choices.size());
    for (std::size_t i = 0; i < clean.choices.size(); ++i) EXPECT_EQ(clean.choices[i].format, dirty.choices[i].format);
    // The counts: per tensor in summary.json's inputs, per group in points.csv.
    ASSERT_EQ(dirty.tensors.size(), 2u);
    EXPECT_EQ(dirty.tensors[0]["count"], 12);
    EXPECT_EQ(dirty.tensors[0]["nan"], 2);
    EXPECT_EQ(dirty.tensors[0]["inf"], 2);
    EXPECT_EQ(dirty.tensors[0]["max_abs"], 7.0);
    EXPECT_EQ(dirty.tensors[1]["nan"], 1);
    EXPECT_EQ(dirty.tensors[1]["inf"], 1);
    EXPECT_EQ(clean.tensors[0]["nan"], 0);
    const SweepConfig c = parse_config(j, dir);
    const std::string csv = points_csv(c, dirty, false);
    EXPECT_NE(csv.substr(0, csv.find('\n')).find(",rounding,count,nan,inf,"), std::string::npos);
    std::size_t rows = 0, weight_rows = 0, role_rows = 0;
    for (std::istringstream in(csv); ;) {
      std::string line;
      if (!std::getline(in, line)) break;
      if (rows++ == 0) continue;
      weight_rows += line.rfind("/weights/w,", 0) == 0 && line.find(",12,2,2,") != std::string::npos;
      role_rows += line.rfind("*,weight,", 0) == 0 && line.find(",12,2,2,") != std::string::npos;
    }
    EXPECT_GT(weight_rows, 0u);
    EXPECT_EQ(weight_rows, role_rows);
    const json summary = summary_json(c, dirty, current_provenance());
    EXPECT_EQ(summary["inputs"][0]["nan"], 2);
    EXPECT_NE(summary["notes"].dump().find("nan, inf"), std::string::npos);
  }
}

TEST(Outputs, FilesColumnsAndProvenance) {
  const auto dir = make_inputs("outputs");
  json j = base_config();
  j["space"] = json::parse(R"({"width": 8, "sign": [0, 1], "exp": [2, 3, 4, 5], "bias": {"min": -2, "max": 12}})");
  j["metrics"].push_back("mean_rel_err");
  const SweepConfig c = parse_config(j, dir);
  const SweepResult r = run_sweep(c, open_inputs(c));
  Provenance prov = current_provenance();
  prov.config_hash = config_hash(c.effective);
  write_outputs((dir / "out").string(), c, r, prov);
  std::ifstream pts(dir / "out" / "points.csv");
  std::string header;
  std::getline(pts, header);
  for (const char* col : {"tensor", "role", "format", "sign", "exp", "man", "bias", "rounding", "count", "mse", "sqnr_db",
                          "max_abs_err", "overflow_frac", "underflow_frac", "mean_rel_err", "path", "knee"})
    EXPECT_NE(("," + header + ",").find(std::string(",") + col + ","), std::string::npos) << col;
  std::size_t rows = 0;
  for (std::string line; std::getline(pts, line);) ++rows;
  EXPECT_EQ(rows, r.points.size());
  std::ifstream front(dir / "out" / "pareto.csv");
  std::string fheader;
  std::getline(front, fheader);
  EXPECT_EQ(fheader, header);
  std::size_t frows = 0;
  for (std::string line; std::getline(front, line);) {
    ++frows;
    EXPECT_NE(line.find(",1,"), std::string::npos);  // the pareto column is 1
  }
  EXPECT_GT(frows, 0u);
  const json s = json::parse(std::ifstream(dir / "out" / "summary.json"));
  for (const char* k : {"version", "git_commit", "config_hash", "host", "threads", "ranks"})
    EXPECT_TRUE(s["provenance"].contains(k)) << k;
  EXPECT_EQ(s["config"], c.effective);
  EXPECT_EQ(s["selection"]["per_role"].size(), 2u);
  EXPECT_FALSE(s["knee"].empty());
  // Only the three outputs: no temporary files left behind.
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "out")) files += e.is_regular_file();
  EXPECT_EQ(files, 3u);
}

namespace {
/// Runs the CLI; returns the exit code and stderr.
std::pair<int, std::string> cli(const std::string& args) {
  // One file per test: ctest runs the tests of this file in parallel processes.
  const std::string err = std::string(FFP8_TEST_TMP_DIR) + "/cli_stderr_" +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".txt";
  const int status = std::system((std::string(FFP8_CLI) + " " + args + " >/dev/null 2>" + err).c_str());
  std::stringstream ss;
  ss << std::ifstream(err).rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}
}  // namespace

TEST(Cli, WithoutOutTheOutputsGoBesideTheConfigAndTheCommandSaysSo) {
  // "out" relative to the config file's folder; absent, the config's name beside it.
  const auto dir = make_inputs("cli_no_out");
  json j = base_config();
  j.erase("out");
  j["space"] = json::parse(R"({"sign": 1, "exp": 4, "bias": "fit"})");
  std::ofstream(dir / "study.json") << j.dump();
  auto [code, err] = cli("sweep " + (dir / "study.json").string() + " --set threads=1");
  EXPECT_EQ(code, 0) << err;
  EXPECT_NE(err.find("writing into " + (dir / "study").string()), std::string::npos) << err;
  EXPECT_TRUE(std::filesystem::exists(dir / "study" / "summary.json"));
  j["out"] = "rel";
  std::ofstream(dir / "rel.json") << j.dump();
  std::tie(code, err) = cli("sweep " + (dir / "rel.json").string() + " --set threads=1");
  EXPECT_EQ(code, 0) << err;
  EXPECT_TRUE(err.empty()) << err;  // asked for: nothing to say
  EXPECT_TRUE(std::filesystem::exists(dir / "rel" / "points.csv"));
}

TEST(Cli, ExitCodesMessagesAndAtomicOutputs) {
  const auto dir = make_inputs("cli");
  json j = base_config();
  j["space"] = json::parse(R"({"sign": 1, "exp": [3, 4], "bias": "fit"})");
  std::ofstream(dir / "ok.json") << j.dump();
  const std::string out = (dir / "out").string();
  auto [code, err] = cli("sweep " + (dir / "ok.json").string() + " --out " + out + " --set threads=1");
  EXPECT_EQ(code, 0) << err;
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "summary.json"));
  EXPECT_TRUE(err.empty()) << err;  // not a terminal: no progress bar

  std::tie(code, err) = cli("sweep " + (dir / "ok.json").string() + " --out " + out + "2 --set space.exp=x");
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("/space/exp: expected an integer, got \"x\""), std::string::npos) << err;
  EXPECT_NE(err.find("ok.json"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;  // one sentence
  EXPECT_FALSE(std::filesystem::exists(dir / "out2"));

  std::tie(code, err) = cli("sweep");
  EXPECT_EQ(code, 2);
  std::tie(code, err) = cli("sweep " + (dir / "ok.json").string() + " --bogus");
  EXPECT_EQ(code, 2);

  // A failure during the sweep (no finite value) leaves no output file, not even a partial one.
  test::write_h5(dir / "nan.h5", {{"/weights/x", {3}, {NAN, INFINITY, NAN}}});
  j["inputs"] = json::parse(R"([{"file": "nan.h5", "tensors": ["/weights/x"], "role": "weight"}])");
  std::ofstream(dir / "nan.json") << j.dump();
  std::tie(code, err) = cli("sweep " + (dir / "nan.json").string() + " --out " + out + "3");
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("no finite value (2 NaN, 1 infinite)"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir / "out3" / "points.csv"));
  EXPECT_FALSE(std::filesystem::exists(dir / "out3" / "summary.json"));

  // With finite values among them the sweep runs and says what it left out.
  test::write_h5(dir / "some.h5", {{"/weights/x", {4}, {1.0f, NAN, INFINITY, -2.0f}}});
  j["inputs"][0]["file"] = "some.h5";
  std::ofstream(dir / "some.json") << j.dump();
  const auto said = dir / "some_stdout.txt";
  ASSERT_EQ(std::system((std::string(FFP8_CLI) + " sweep " + (dir / "some.json").string() + " --out " + out + "4 >" +
                         said.string() + " 2>/dev/null").c_str()), 0);
  std::stringstream ss;
  ss << std::ifstream(said).rdbuf();
  EXPECT_NE(ss.str().find("/weights/x: 1 NaN and 1 infinite values left out (scored on its 2 finite values)\n"),
            std::string::npos) << ss.str();
}

TEST(Sweep, WideFormatsTakeTheDirectPathAndAgree) {
  const auto dir = make_inputs("sweep_wide");
  json j = base_config();
  j["inputs"].erase(1);
  j["granularity"] = "tensor";
  // Width 12 gives man 8..9 (beyond the 8-bit buckets): scored by the direct path.
  j["space"] = json::parse(R"({"width": [8, 12], "sign": 1, "exp": [3, 4], "bias": {"min": 0, "max": 9},
                                "rounding": ["rne", "stochastic"], "seed": 5})");
  const SweepResult mixed = run(j, dir);
  j["direct_only"] = true;
  const SweepResult slow = run(j, dir);
  ASSERT_EQ(mixed.points.size(), slow.points.size());
  EXPECT_GT(mixed.by_direct, 0u);
  EXPECT_GT(mixed.by_stats, 0u);
  for (std::size_t i = 0; i < mixed.points.size(); ++i) {
    const Point &p = mixed.points[i], &q = slow.points[i];
    EXPECT_EQ(p.by_stats, p.format.man <= 7) << p.format.name();
    // Stochastic points on the statistics path are expectations, the direct path one sample.
    if (!p.by_stats || p.rounding != Rounding::Stochastic) {
      EXPECT_TRUE(close(p.sums.sse, q.sums.sse)) << p.format.name() << " " << to_string(p.rounding);
    }
  }
}

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::stringstream ss;
  ss << std::ifstream(p).rdbuf();
  return ss.str();
}
}  // namespace

TEST(Sweep, PointsIdenticalForAnyThreadsAndChunks) {
  // mean_rel_err on the statistics path (reciprocal sums) and every sum of the direct path
  // (width 12, stochastic rounding): points.csv is the same bytes for any thread count and
  // chunk size. The tensor is large enough for the collector's multi-threaded split.
  const auto dir = test::scratch("sweep_threads");
  std::vector<float> w;
  while (w.size() < 300000)
    for (float v : test::hard_tensor(9)) w.push_back(std::fabs(v) < 1e30f ? v : 1.0f);
  w.resize(300000);
  test::write_h5(dir / "w.h5", {{"/weights/big", {4, w.size() / 4}, w}});
  json j = base_config();
  j["inputs"] = json::parse(R"([{"file": "w.h5", "tensors": ["/weights/*"], "role": "weight"}])");
  j["space"] = json::parse(R"({"width": [8, 12], "sign": 1, "exp": [3, 4, 5], "bias": {"min": 2, "max": 8},
                                "rounding": ["rne", "stochastic"], "seed": 3})");
  j["granularity"] = json::parse(R"(["tensor", "channel", "role"])");
  j["metrics"].push_back("mean_rel_err");
  std::string first;
  for (const auto& [threads, chunk] : std::vector<std::pair<int, int>>{{1, 1 << 20}, {2, 1 << 20}, {2, 70001}, {1, 4096}}) {
    j["threads"] = threads;
    j["chunk"] = chunk;
    const SweepConfig c = parse_config(j, dir);
    const SweepResult r = run_sweep(c, open_inputs(c));
    ASSERT_GT(r.by_stats, 0u);
    ASSERT_GT(r.by_direct, 0u);
    const auto out = dir / ("out" + std::to_string(threads) + "_" + std::to_string(chunk));
    write_outputs(out.string(), c, r, current_provenance());
    const std::string points = slurp(out / "points.csv");
    if (first.empty()) first = points;
    EXPECT_EQ(points, first) << threads << " threads, chunk " << chunk;
  }
}

TEST(Sweep, Float64TensorsAreScoredInFloat64) {
  // Values a float32 cannot hold: midpoints of s1e4m3 (bias 7) nudged by 2^-30 either way over
  // several binades (their float32 images are exact ties, which round to even instead), thirds,
  // and a maximum 2^-25 above 480 = max(V) of s1e4m3 bias 7 (its float32 image is 480).
  const auto dir = test::scratch("sweep_f64");
  std::vector<double> x;
  for (int e = -3; e <= 3; ++e)
    for (int j = 0; j < 8; ++j)
      for (double nudge : {0x1p-30, -0x1p-30}) x.push_back(std::ldexp(1.0 + (2 * j + 1) / 16.0 + nudge, e));
  for (int k = 1; k < 40; ++k) x.push_back((k % 2 ? -1.0 : 1.0) * k / 3.0);
  const double top = 480.0 + 0x1p-25;
  x.push_back(top);
  {
    h5::File f = h5::File::create((dir / "w.h5").string());
    f.create_dataset("/weights/f64", {x.size()}, h5::DType::Float64);
    f.write("/weights/f64", 0, std::span<const double>(x));
    f.close();
  }
  test::write_h5(dir / "w32.h5", {{"/weights/f32", {3}, {0.5f, -1.25f, 3.0f}}});
  json j = base_config();
  j["inputs"] = json::parse(R"([{"file": "w.h5", "tensors": ["/weights/*"], "role": "weight"},
                                {"file": "w32.h5", "tensors": ["/weights/*"], "role": "weight"}])");
  j["space"] = json::parse(R"({"width": 8, "sign": 1, "exp": [3, 4], "bias": {"min": 5, "max": 9}})");
  j["metrics"].push_back("mean_rel_err");
  const SweepResult r = run(j, dir);
  ASSERT_EQ(r.tensors[0]["tensor"], "/weights/f64");
  EXPECT_EQ(r.tensors[0]["note"], "float64 data: every point scored by the direct path in float64");
  EXPECT_EQ(r.tensors[0]["max_abs"].get<double>(), top);
  EXPECT_FALSE(r.tensors[1].contains("note"));
  std::size_t checked = 0, differs_in_float32 = 0;
  for (const Point& p : r.points) {
    const Group& g = r.groups[p.group];
    if (g.tensor == "/weights/f32") {
      EXPECT_TRUE(p.by_stats);
      continue;
    }
    EXPECT_FALSE(p.by_stats) << g.tensor << " " << p.format.name();  // the f64 tensor and the role
    if (g.tensor != "/weights/f64") continue;
    // Quantize-then-measure in float64, and the same on the float32-rounded data.
    const Quantizer q(p.format);
    long double sse = 0, sse32 = 0, rel = 0;
    double overflow = 0, overflow32 = 0;
    for (double v : x) {
      const double v32 = static_cast<float>(v);
      overflow += std::fabs(v) > p.format.max_value();
      overflow32 += std::fabs(v32) > p.format.max_value();
      sse += std::pow(static_cast<long double>(q.round(v).value) - v, 2);
      sse32 += std::pow(static_cast<long double>(q.round(v32).value) - v32, 2);
      rel += std::fabs(static_cast<long double>(q.round(v).value) - v) / std::fabs(v);
    }
    EXPECT_NEAR(p.sums.sse / static_cast<double>(sse), 1.0, 1e-12) << p.format.name();
    EXPECT_NEAR(p.sums.rel_sum / static_cast<double>(rel), 1.0, 1e-12) << p.format.name();
    EXPECT_EQ(p.sums.count, static_cast<double>(x.size()));
    EXPECT_EQ(p.sums.overflow, overflow) << p.format.name();
    differs_in_float32 += std::fabs(static_cast<double>(sse32 / sse) - 1.0) > 1e-9 || overflow32 != overflow;
    ++checked;
  }
  EXPECT_EQ(checked, 10u);
  EXPECT_GE(differs_in_float32, 8u);  // the old float32 read fails these points above

  // The fit rule reads the exact maximum: 480 + 2^-25 does not fit s1e4m3 bias 7 (max 480);
  // so does the percentile rule (its float32 images are rounded away from zero).
  const Format e4m3 = Format::make(1, 4, 3, 0);
  EXPECT_EQ(ffp8::fit_bias(e4m3, top), 6);
  EXPECT_EQ(ffp8::fit_bias(e4m3, static_cast<float>(top)), 7);
  for (const json& rule : {json("fit"), json::parse(R"({"percentile": 100})")}) {
    j["space"]["bias"] = rule;
    const SweepResult fit = run(j, dir);
    bool seen = false;
    for (const Point& p : fit.points)
      if (fit.groups[p.group].tensor == "/weights/f64" && p.format.exp == 4) {
        EXPECT_EQ(p.format.bias, 6) << rule;
        seen = true;
      }
    EXPECT_TRUE(seen);
  }
}

// "family": ["float", "int"] puts integer members beside the floats of the same width: each
// integer point is scored by the direct path, with the fit bias of its range, and its squared
// error equals the scalar quantizer's summed by hand.
TEST(Sweep, IntegerFamilyIsScoredByTheDirectPathLikeTheQuantizer) {
  const auto dir = make_inputs("sweep_int_family");
  json j = base_config();
  j["inputs"] = json::parse(R"([{"file": "w.h5", "tensors": ["/weights/small"], "role": "weight"}])");
  j["granularity"] = "tensor";
  j["space"] = json::parse(R"({"width": 8, "family": ["float", "int"], "sign": [0, 1], "exp": [3, 4], "bias": "fit"})");
  const SweepResult r = run(j, dir);
  const std::vector<double> x = {0.5, -0.25, 0.125, 3.0, -7.5, 0.0};
  std::set<std::string> ints;
  std::size_t floats = 0;
  for (const Point& p : r.points) {
    if (!p.format.is_int()) {
      ++floats;
      continue;
    }
    ints.insert(p.format.name());
    EXPECT_FALSE(p.by_stats) << p.format.name();
    const Quantizer q(p.format, QuantOptions{});
    double sse = 0;
    for (double v : x) sse += (q.round(v).value - v) * (q.round(v).value - v);
    EXPECT_TRUE(close(p.sums.sse, sse)) << p.format.name() << ": " << p.sums.sse << " vs " << sse;
  }
  EXPECT_GT(floats, 0u);
  // max|x| = 7.5: i8 (max 127 * 2^-B) fits at B = 4; unsigned u8 sees only positives (3.0): B = 6.
  EXPECT_TRUE(ints.count("i8b4")) << fmt::format("{}", fmt::join(ints, " "));
  EXPECT_TRUE(ints.count("i8b4-sym"));
  EXPECT_TRUE(ints.count("u8b6"));
}
