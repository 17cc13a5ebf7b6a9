// Model inputs: weights from /params, activations recorded through the engine's tap. The
// statistics path must agree with the direct path (which re-runs the engine) on every point.
#include <cmath>
#include <gtest/gtest.h>
#include <map>
#include <random>

#include "core/errors.hpp"
#include "core/infer/engine.hpp"
#include "core/infer/model.hpp"
#include "explore/sweep/source.hpp"
#include "explore/report/report.hpp"
#include "explore/sweep/sweep.hpp"
#include "explore/sweep/units.hpp"
#include "tests/explore/test_util.hpp"

using namespace ffp8;
using namespace ffp8::explore;

namespace {

const std::filesystem::path kModel =
    std::filesystem::path(FFP8_SOURCE_DIR) / "experiments/models/resnet_small.h5";

/// A data file of `n` pseudo-random 1x28x28 images (float32, Fashion-MNIST-like normalisation).
std::filesystem::path data_file(const std::filesystem::path& dir, std::uint64_t n) {
  const auto p = dir / "data.h5";
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-0.81f, 2.02f);
  std::vector<float> img(n * 28 * 28);
  for (auto& v : img) v = u(rng);
  std::vector<std::int64_t> labels(n);
  for (std::uint64_t i = 0; i < n; ++i) labels[i] = static_cast<std::int64_t>(i % 10);
  h5::File f = h5::File::create(p.string());
  f.create_dataset("/images", {n, 1, 28, 28}, h5::DType::Float32);
  f.write("/images", 0, std::span<const float>(img));
  f.create_dataset("/labels", {n}, h5::DType::Int);
  f.write("/labels", 0, std::span<const std::int64_t>(labels));
  f.close();
  return p;
}

nlohmann::json config(const std::filesystem::path& data) {
  return {{"inputs", {{{"model", kModel.string()}, {"data", data.string()}, {"calib", 6}, {"batch", 4}}}},
          {"space", {{"exp", {3, 4}}, {"bias", {{"min", 2}, {"max", 9}}}}}};
}

bool close(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

std::string error_of(const nlohmann::json& j) {
  try {
    const SweepConfig c = parse_config(j, ".");
    open_inputs(c);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(ModelInput, TensorsAreWeightsAndTappedInputs) {
  const auto dir = test::scratch("model_input_tensors");
  const SweepConfig c = parse_config(config(data_file(dir, 8)), ".");
  const auto sources = open_inputs(c);
  const infer::Model m = infer::read_model(kModel.string());
  std::vector<std::string> quantizable;
  for (const auto& n : m.nodes)
    if (infer::is_quantizable(n.op)) quantizable.push_back(n.name);
  ASSERT_EQ(sources.size(), 2 * quantizable.size());
  EXPECT_EQ(sources[0]->name(), quantizable[0] + ".weight");
  EXPECT_EQ(sources[0]->role(), "weight");
  const TensorSource& a = *sources[quantizable.size()];
  EXPECT_EQ(a.name(), quantizable[0] + ".input");
  EXPECT_EQ(a.role(), "activation");
  EXPECT_EQ(a.shape(), (std::vector<std::uint64_t>{6, 1, 28, 28}));  // the first node reads the images
  // A range crossing a batch boundary (images 3..4) reads the data file's values exactly.
  std::vector<float> got;
  a.read(3 * 784 + 10, 784, 100, [&](std::span<const float> v, std::uint64_t) { got.insert(got.end(), v.begin(), v.end()); });
  h5::File f = h5::File::open((dir / "data.h5").string());
  std::vector<float> want(784);
  f.read("/images", 3 * 784 + 10, std::span<float>(want));
  EXPECT_EQ(got, want);
}

TEST(ModelInput, EveryPointAgreesWithDirectPath) {
  const auto dir = test::scratch("model_input_exact");
  nlohmann::json j = config(data_file(dir, 8));
  j["granularity"] = {"tensor", "role"};
  const SweepConfig c = parse_config(j, ".");
  j["direct_only"] = true;
  const SweepConfig d = parse_config(j, ".");
  const auto sources = open_inputs(c);
  const SweepResult rs = run_sweep(c, sources);
  const SweepResult rd = run_sweep(d, sources);
  ASSERT_EQ(rs.points.size(), rd.points.size());
  ASSERT_GT(rs.by_stats, 0u);
  int bad = 0;
  for (std::size_t i = 0; i < rs.points.size(); ++i) {
    const Point& p = rs.points[i];
    const Point& q = rd.points[i];
    ASSERT_EQ(p.format.name(), q.format.name());
    for (const MetricInfo& m : kMetrics)
      if (!close(metric_value(m.id, p.sums), metric_value(m.id, q.sums)) && ++bad < 10)
        ADD_FAILURE() << rs.groups[p.group].tensor << " " << p.format.name() << " " << m.name << ": "
                      << metric_value(m.id, p.sums) << " vs " << metric_value(m.id, q.sums);
  }
  EXPECT_EQ(bad, 0);
  // ffp8_paper: post-ReLU activations (never negative) get an unsigned format.
  int unsigned_acts = 0;
  for (const Choice& ch : rs.choices)
    if (ch.scope == "tensor" && ch.role == "activation") {
      const Group* g = nullptr;
      for (const Group& gg : rs.groups)
        if (gg.tensor == ch.name) g = &gg;
      ASSERT_NE(g, nullptr);
      EXPECT_EQ(ch.format.sign, g->min >= 0 ? 0 : 1) << ch.name;
      unsigned_acts += g->min >= 0;
    }
  EXPECT_GT(unsigned_acts, 0);
}

// The network runs once per pass unit (image ranges: 40 images in batches of 2 are 20 batches,
// cut into 10 units of 4 images), not once per tensor; the statistics merged over the units are
// the per-tensor reads' exactly, so every output byte is the same.
TEST(ModelInput, PassUnitsEqualPerTensorReads) {
  const auto dir = test::scratch("model_input_passes");
  nlohmann::json j = config(data_file(dir, 40));
  j["inputs"][0]["calib"] = 39;
  j["inputs"][0]["batch"] = 2;
  j["granularity"] = {"tensor", "role"};
  j["metrics"] = {"mse", "mean_rel_err", "kl_div"};
  const SweepConfig c = parse_config(j, ".");
  const auto sources = open_inputs(c);
  const SweepPlan plan(c, sources);
  ASSERT_EQ(plan.units().size() - plan.pass_begin(), 11u);  // 10 pass units and the direct unit
  const WorkUnit& last = plan.units()[plan.units().size() - 2];
  EXPECT_EQ(last.kind, WorkUnit::Kind::Pass);
  EXPECT_EQ(last.first, 36u);
  EXPECT_EQ(last.last, 39u);
  EXPECT_EQ(plan.units().back().kind, WorkUnit::Kind::Direct);
  const SweepResult once = run_sweep(c, sources);
  const SweepResult each = run_sweep(c, sources, {}, false);
  EXPECT_EQ(points_csv(c, once, false), points_csv(c, each, false));
  EXPECT_EQ(points_csv(c, once, true), points_csv(c, each, true));
  ASSERT_EQ(once.groups.size(), each.groups.size());
  for (std::size_t g = 0; g < once.groups.size(); ++g) {
    ASSERT_EQ(once.groups[g].count, each.groups[g].count) << once.groups[g].tensor;
    EXPECT_EQ(once.groups[g].max_abs, each.groups[g].max_abs) << once.groups[g].tensor;
  }
}

TEST(ModelInput, ErrorsNameTheJsonPath) {
  const auto dir = test::scratch("model_input_errors");
  const auto data = data_file(dir, 8);
  auto with = [&](const std::string& set) {
    nlohmann::json j = config(data);
    apply_override(j, set);
    return error_of(j);
  };
  const auto has = [](const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << s;
  };
  EXPECT_TRUE(has(with("inputs.0.model=" + (dir / "nope.h5").string()), "/inputs/0/model: file"));
  EXPECT_TRUE(has(with("inputs.0.model=" + data.string()), "/inputs/0/model: "));
  EXPECT_TRUE(has(with("inputs.0.data=" + (dir / "nope.h5").string()), "/inputs/0/data: file"));
  EXPECT_TRUE(has(with("inputs.0.data=" + kModel.string()), "/inputs/0/data: "));
  EXPECT_TRUE(has(with("inputs.0.calib=9"), "/inputs/0/calib: 9 calibration images"));
  EXPECT_TRUE(has(with("inputs.0.calib=0"), "/inputs/0/calib"));
  EXPECT_TRUE(has(with("inputs.0.calibb=1"), "/inputs/0/calibb: unknown key"));
  EXPECT_TRUE(has(with("inputs.0.nodes=[\"zz*\"]"), "/inputs/0/nodes/0: no conv2d/linear/matmul node"));
  EXPECT_TRUE(has(with("inputs.0.weights=false"), "no error"));
  nlohmann::json j = config(data);
  j["inputs"][0].erase("data");
  EXPECT_TRUE(has(error_of(j), "/inputs/0: missing key \"data\""));
  j["inputs"][0]["activations"] = false;
  EXPECT_TRUE(has(error_of(j), "no error"));
}

// A matmul's two operands (attention's Q and K^T) are two activation tensors of their own,
// named NODE.input and NODE.other, and read what the engine's tap delivers for each operand.
TEST(ModelInput, MatmulOperandsAreTappedApart) {
  const auto dir = test::scratch("model_input_matmul");
  const auto model = dir / "tokens.h5";
  const std::string cmd = "cd '" + std::string(FFP8_SOURCE_DIR) + "' && OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 " +
                          "tools/export.py tests/core/infer/op_models.py:tokens --out '" + model.string() +
                          "' > '" + (dir / "export.log").string() + "' 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::uint64_t n = 5;
  std::mt19937 rng(3);
  std::normal_distribution<float> g;
  std::vector<float> img(n * 3 * 8 * 8);
  for (auto& v : img) v = g(rng);
  const auto data = dir / "data.h5";
  {
    h5::File f = h5::File::create(data.string());
    f.create_dataset("/images", {n, 3, 8, 8}, h5::DType::Float32);
    f.write("/images", 0, std::span<const float>(img));
    std::vector<std::int64_t> labels(n, 0);
    f.create_dataset("/labels", {n}, h5::DType::Int);
    f.write("/labels", 0, std::span<const std::int64_t>(labels));
  }
  const nlohmann::json j = {{"inputs", {{{"model", model.string()}, {"data", data.string()}, {"calib", n}, {"batch", 2},
                                         {"nodes", {"attn_qk"}}}}},
                            {"space", {{"exp", {4}}, {"bias", {{"min", 2}, {"max", 3}}}}}};
  const auto sources = open_inputs(parse_config(j, "."));
  std::map<std::string, const TensorSource*> by;
  for (const auto& s : sources) by[s->name()] = s.get();
  ASSERT_TRUE(by.count("attn_qk.input") && by.count("attn_qk.other")) << sources.size();
  EXPECT_FALSE(by.count("attn_qk.weight"));  // a matmul has no weight
  EXPECT_EQ(by["attn_qk.input"]->role(), "activation");
  EXPECT_EQ(by["attn_qk.other"]->role(), "activation");
  // The engine's own tap of operand 1, for comparison (same batches of 2: GEMM rounding may
  // depend on the batch size).
  auto m = std::make_shared<const infer::Model>(infer::read_model(model.string()));
  infer::Engine e(m);
  std::vector<float> want;
  e.add_tap([&](const infer::TapEvent& t) {
    if (t.node == "attn_qk" && t.operand == 1) want.insert(want.end(), t.values.begin(), t.values.end());
  });
  for (std::uint64_t b = 0; b < n; b += 2) {
    const std::uint64_t k = std::min<std::uint64_t>(2, n - b);
    e.run(std::span<const float>(img).subspan(b * 192, k * 192), static_cast<std::int64_t>(k), b);
  }
  const TensorSource& other = *by["attn_qk.other"];
  ASSERT_EQ(other.shape().front(), n);
  std::vector<float> got;
  other.read(0, want.size(), 64, [&](std::span<const float> v, std::uint64_t) { got.insert(got.end(), v.begin(), v.end()); });
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(got, want);
}
