// Engine unit tests on models built in memory: quantization at the documented points (weights
// once, inputs of conv2d/linear per batch) against the project's Quantizer applied by hand, the
// activation tap, batch-size independence, BN folding, the fit rule and the format choices.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <random>

#include "core/errors.hpp"
#include "core/infer/assignment.hpp"
#include "core/infer/engine.hpp"
#include "core/infer/model.hpp"

namespace ffp8::infer {
namespace {

std::vector<float> randn(std::size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

Node make_node(const std::string& name, Op op, std::vector<int> inputs, Shape shape) {
  Node n;
  n.name = name;
  n.op = op;
  n.inputs = std::move(inputs);
  n.shape = std::move(shape);
  return n;
}

// x[2,6,6] -> conv(4, 3x3, pad 1) -> relu -> flatten -> linear(5).
std::shared_ptr<Model> small_model() {
  auto m = std::make_shared<Model>();
  m->path = "memory";
  m->input_shape = {2, 6, 6};
  m->num_classes = 5;
  m->input_name = "x";
  Node c = make_node("conv", Op::Conv2d, {0}, {4, 6, 6});
  c.padding = {1, 1};
  c.weight = {"/params/conv/weight", {4, 2, 3, 3}, randn(72, 1, 0.3f)};
  c.bias = {"/params/conv/bias", {4}, randn(4, 2, 0.1f)};
  Node r = make_node("relu", Op::Relu, {1}, {4, 6, 6});
  Node f = make_node("flatten", Op::Flatten, {2}, {144});
  Node l = make_node("fc", Op::Linear, {3}, {5});
  l.weight = {"/params/fc/weight", {5, 144}, randn(720, 3, 0.1f)};
  m->nodes = {c, r, f, l};
  m->output = 4;
  return m;
}

// Quantizes a vector in place; the second argument is the global index of its first element.
using QuantFn = std::function<void(std::vector<float>&, std::uint64_t)>;

QuantFn by(const Quantizer* z) {
  if (!z) return {};
  return [z](std::vector<float>& v, std::uint64_t first) { z->quantize(v, v, first); };
}

// Direct float64 reference of small_model() with optional quantization of weights and inputs.
std::vector<double> reference(const Model& m, const std::vector<float>& x, std::int64_t n, const QuantFn& qw,
                              const QuantFn& qa_conv, const QuantFn& qa_fc) {
  auto q = [](const QuantFn& z, std::vector<float> v, std::uint64_t first = 0) {
    if (z) z(v, first);
    return v;
  };
  const Node& c = m.nodes[0];
  const Node& l = m.nodes[3];
  const auto wc = q(qw, c.weight.data), wl = q(qw, l.weight.data);
  std::vector<double> out;
  for (std::int64_t b = 0; b < n; ++b) {
    std::vector<float> img(x.begin() + b * 72, x.begin() + (b + 1) * 72);
    img = q(qa_conv, img, static_cast<std::uint64_t>(b) * 72);
    std::vector<float> h(144);
    for (int o = 0; o < 4; ++o)
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 6; ++j) {
          double s = c.bias.data[o];
          for (int ci = 0; ci < 2; ++ci)
            for (int ki = 0; ki < 3; ++ki)
              for (int kj = 0; kj < 3; ++kj) {
                const int y = i + ki - 1, xx = j + kj - 1;
                if (y < 0 || y >= 6 || xx < 0 || xx >= 6) continue;
                s += double(img[(ci * 6 + y) * 6 + xx]) * wc[((o * 2 + ci) * 3 + ki) * 3 + kj];
              }
          h[(o * 6 + i) * 6 + j] = static_cast<float>(std::max(s, 0.0));
        }
    h = q(qa_fc, h, static_cast<std::uint64_t>(b) * 144);
    for (int o = 0; o < 5; ++o) {
      double s = 0;
      for (int k = 0; k < 144; ++k) s += double(h[k]) * wl[o * 144 + k];
      out.push_back(s);
    }
  }
  return out;
}

double max_rel(std::span<const float> a, const std::vector<double>& b) {
  double e = 0, s = 1e-12;
  for (std::size_t i = 0; i < b.size(); ++i) {
    e = std::max(e, std::abs(double(a[i]) - b[i]));
    s = std::max(s, std::abs(b[i]));
  }
  return e / s;
}

TEST(InferEngine, Float32MatchesDirectReference) {
  auto m = small_model();
  Engine e(m);
  const auto x = randn(3 * 72, 7);
  EXPECT_LT(max_rel(e.run(x, 3), reference(*m, x, 3, nullptr, nullptr, nullptr)), 1e-5);
}

TEST(InferEngine, QuantizesWeightsAndInputsWithTheProjectQuantizer) {
  auto m = small_model();
  const Format wf = Format::parse("s1e4m3b9"), af = Format::parse("s1e3m4b4"), hf = Format::parse("s0e4m4b12");
  QuantPlan plan(2);
  plan[0].node = "conv";
  plan[0].weight = {wf};
  plan[0].activation = af;
  plan[1].node = "fc";
  plan[1].op = Op::Linear;
  plan[1].weight = {wf};
  plan[1].activation = hf;
  Engine e(m, plan);
  const auto x = randn(4 * 72, 8);
  const Quantizer qw(wf), qa(af), qh(hf);
  const auto want = reference(*m, x, 4, by(&qw), by(&qa), by(&qh));
  EXPECT_LT(max_rel(e.run(x, 4), want), 1e-5);
  // Without quantization the answer is measurably different (the test can fail).
  EXPECT_GT(max_rel(Engine(m).run(x, 4), want), 1e-3);
  ASSERT_EQ(e.counts().size(), 2u);
  EXPECT_EQ(e.counts()[0].activation.count, 4u * 72u);
  EXPECT_EQ(e.counts()[1].weight.count, 720u);
}

TEST(InferEngine, Int8UsesPerTensorScalesOfWeightsAndCalibration) {
  auto m = small_model();
  Assignment a;
  a.weight = a.activation = FormatChoice::parse("int8");
  const auto x = randn(4 * 72, 21);
  // Calibration statistics from the float32 network's inputs, as evaluate() gathers them.
  std::map<std::string, RangeStats> calib;
  Engine fp(m);
  fp.add_tap([&](const TapEvent& t) { calib[t.node].add(t.values.data(), t.values.size()); });
  fp.run(x, 4);
  const QuantPlan plan = resolve_plan(*m, a, &calib, /*per_channel=*/true);  // int8 weights stay per tensor
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].weight_text(), "int8");
  EXPECT_EQ(plan[1].activation_text(), "int8");
  EXPECT_TRUE(plan[0].weight.empty());
  EXPECT_FLOAT_EQ(plan[0].weight_int8->scale, static_cast<float>(plan[0].weight_max_abs) / 127.0f);
  EXPECT_FLOAT_EQ(plan[1].activation_int8->scale, static_cast<float>(calib["fc"].max_abs) / 127.0f);

  // By hand: weights with their own max|w|, inputs with the calibration max|x|.
  auto int8 = [](std::vector<float>& v, float scale) {
    for (float& e : v) e = std::clamp(std::nearbyint(e / scale), -127.0f, 127.0f) * scale;
  };
  const float sconv = plan[0].activation_int8->scale, sfc = plan[1].activation_int8->scale;
  const QuantFn qw = [&](std::vector<float>& v, std::uint64_t) {
    float mx = 0;
    for (float e : v) mx = std::max(mx, std::abs(e));
    int8(v, mx / 127.0f);
  };
  const auto want = reference(*m, x, 4, qw, [&](std::vector<float>& v, std::uint64_t) { int8(v, sconv); },
                              [&](std::vector<float>& v, std::uint64_t) { int8(v, sfc); });
  Engine e(m, plan);
  EXPECT_LT(max_rel(e.run(x, 4), want), 1e-5);
  EXPECT_GT(max_rel(fp.run(x, 4), want), 1e-4);  // the quantization is visible: the check can fail
  EXPECT_EQ(e.counts()[1].weight.count, 720u);
  EXPECT_EQ(e.counts()[0].activation.overflow, 0u);  // the calibration images themselves fit

  // NaN into an int8 input is a DataError naming the node, as for NaN-less formats.
  auto bad = x;
  bad[5] = std::nanf("");
  try {
    e.run(bad, 4);
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& err) {
    EXPECT_NE(std::string(err.what()).find("'conv'"), std::string::npos) << err.what();
  }
  // An int8 activation needs calibration statistics.
  EXPECT_THROW(resolve_plan(*m, a, nullptr, false), ConfigError);
}

TEST(InferEngine, StochasticRoundingDoesNotDependOnTheBatchSize) {
  auto m = small_model();
  QuantPlan plan(1);
  plan[0].node = "fc";
  plan[0].op = Op::Linear;
  plan[0].activation = Format::parse("s0e3m2b3");
  EngineOptions eo;
  eo.quant.rounding = Rounding::Stochastic;
  eo.quant.seed = 42;
  Engine whole(m, plan, eo), parts(m, plan, eo);
  const auto x = randn(6 * 72, 9);
  const auto whole_logits = whole.run(x, 6);
  const std::vector<float> all(whole_logits.begin(), whole_logits.end());
  std::vector<float> split;
  for (int b = 0; b < 6; b += 2) {
    const auto l = parts.run(std::span<const float>(x).subspan(static_cast<std::size_t>(b) * 72, 144), 2,
                             static_cast<std::uint64_t>(b));
    split.insert(split.end(), l.begin(), l.end());
  }
  // Equal up to float32 summation order (GEMM blocking depends on the row count); a stream that
  // depended on the batching would move values by whole steps of this coarse format.
  ASSERT_EQ(all.size(), split.size());
  const std::vector<double> ref(all.begin(), all.end());
  EXPECT_LT(max_rel(split, ref), 1e-5);
  EngineOptions other = eo;
  other.quant.seed = 43;
  EXPECT_GT(max_rel(Engine(m, plan, other).run(x, 6), ref), 1e-3);  // the seed matters: the check can fail
}

TEST(InferEngine, TapSeesEveryQuantizableInputBeforeQuantization) {
  auto m = small_model();
  QuantPlan plan(1);
  plan[0].node = "conv";
  plan[0].activation = Format::parse("s1e2m1b1");
  Engine e(m, plan);
  std::vector<std::string> seen;
  std::vector<float> first_input;
  const int id = e.add_tap([&](const TapEvent& t) {
    seen.push_back(t.node + ":" + shape_text(t.shape) + ":" + std::to_string(t.batch) + ":" + std::to_string(t.first_image));
    if (t.node == "conv") first_input.assign(t.values.begin(), t.values.end());
    EXPECT_EQ(t.values.size(), static_cast<std::size_t>(t.batch * numel(t.shape)));
  });
  const auto x = randn(2 * 72, 10);
  e.run(x, 2, 10);
  EXPECT_EQ(seen, (std::vector<std::string>{"conv:[2, 6, 6]:2:10", "fc:[144]:2:10"}));
  EXPECT_EQ(first_input, x);  // the float input, not its quantized value
  e.remove_tap(id);
  e.run(x, 2);
  EXPECT_EQ(seen.size(), 2u);
}

TEST(InferEngine, RejectsAnInputOfTheWrongSize) {
  Engine e(small_model());
  const auto x = randn(71, 1);
  EXPECT_THROW(e.run(x, 1), DataError);
}

TEST(InferEngine, FoldingBatchNormKeepsTheOutput) {
  auto m = small_model();
  Node bn = make_node("bn", Op::BatchNorm2d, {1}, {4, 6, 6});
  bn.eps = 1e-3;
  bn.mean = {"m", {4}, randn(4, 11, 0.5f)};
  bn.var = {"v", {4}, {0.5f, 1.5f, 2.0f, 0.25f}};
  bn.weight = {"w", {4}, randn(4, 12)};
  bn.bias = {"b", {4}, randn(4, 13)};
  m->nodes.insert(m->nodes.begin() + 1, bn);
  for (std::size_t i = 2; i < m->nodes.size(); ++i) m->nodes[i].inputs[0] += 1;
  m->output = 5;
  const Model folded = fold_batchnorm(*m);
  ASSERT_EQ(folded.nodes.size(), 4u);
  EXPECT_EQ(folded.nodes[1].inputs, std::vector<int>{1});
  const auto x = randn(2 * 72, 14);
  Engine a(m), b(std::make_shared<Model>(folded));
  const auto la = a.run(x, 2);
  const std::vector<double> ref(la.begin(), la.end());
  EXPECT_LT(max_rel(b.run(x, 2), ref), 1e-5);
}

TEST(InferAssignment, FitBiasIsTheLargestBiasWhoseMaxCoversTheData) {
  const Format layout = FormatChoice::parse("fit:s0e4m4").format;
  for (double a : {1e-3, 0.7, 1.0, 6.0, 62.0, 63.0, 1234.5}) {
    const int b = fit_bias(layout, a);
    Format f = layout;
    f.bias = b;
    EXPECT_GE(f.max_value(), a) << a;
    f.bias = b + 1;
    EXPECT_LT(f.max_value(), a) << a;
  }
  EXPECT_EQ(fit_bias(layout, 62.0), 10);  // docs/formats.md: (0,4,4,b=10) has max 62
  EXPECT_EQ(fit_bias(FormatChoice::parse("fit:s1e4m3-fn").format, 448.0), 7);
}

TEST(InferAssignment, ParsesChoices) {
  EXPECT_EQ(FormatChoice::parse("float32").kind, FormatChoice::Kind::Float32);
  EXPECT_EQ(FormatChoice::parse("e4m3fn").format.name(), "s1e4m3b7-fn");
  EXPECT_EQ(FormatChoice::parse("fit:s1e4m3-fn").text(), "fit:s1e4m3-fn");
  EXPECT_EQ(FormatChoice::parse("fit:s0e4m4").text(), "fit:s0e4m4");
  EXPECT_EQ(FormatChoice::parse("fit:e5m2").text(), "fit:s1e5m2-ieee");
  EXPECT_THROW(FormatChoice::parse("fit:s1e4m3b7"), FormatError);
  EXPECT_THROW(FormatChoice::parse("fit:banana"), FormatError);
  EXPECT_THROW(FormatChoice::parse("float16"), FormatError);
  EXPECT_EQ(FormatChoice::parse("int8").kind, FormatChoice::Kind::Int8);
  EXPECT_EQ(FormatChoice::parse("int8").text(), "int8");
  EXPECT_THROW(FormatChoice::parse("fit:int8"), FormatError);
  const FormatChoice au = FormatChoice::parse("fit:auto:e4");
  EXPECT_TRUE(au.auto_sign);
  EXPECT_EQ(au.kind, FormatChoice::Kind::Fit);
  EXPECT_EQ(au.text(), "fit:auto:e4");
  EXPECT_EQ(FormatChoice::parse(au.text()).template_for(true).name(), "s1e4m3b0");
  EXPECT_EQ(au.template_for(false).name(), "s0e4m4b0");
  EXPECT_EQ(FormatChoice::parse("fit:s1e4m3").template_for(false).name(), "s1e4m3b0");  // not auto: as written
  for (const char* bad : {"fit:auto:e0", "fit:auto:e9", "fit:auto:4", "fit:auto:", "fit:auto:e4m3"})
    EXPECT_THROW(FormatChoice::parse(bad), FormatError) << bad;
}

TEST(InferAssignment, RangeStatsTrackMaxAbsMaxPositiveAndMinOfFiniteValues) {
  RangeStats r;
  const std::vector<float> a{1.0f, -2.0f, std::nanf(""), 3.0f, -std::numeric_limits<float>::infinity()};
  r.add(a.data(), a.size());
  EXPECT_EQ(r.max_abs, 3.0);
  EXPECT_EQ(r.max_positive, 3.0);
  EXPECT_EQ(r.min, -2.0);
  const std::vector<float> b{-7.0f};
  r.add(b.data(), b.size());
  EXPECT_EQ(r.min, -7.0);
  EXPECT_EQ(r.max_abs, 7.0);
  EXPECT_EQ(r.count, 6u);
}

TEST(InferAssignment, ResolvesDefaultsOverridesAndPerChannelFit) {
  auto m = small_model();
  Assignment a;
  a.weight = FormatChoice::parse("fit:s1e4m3");
  a.activation = FormatChoice::parse("fit:s0e4m4");
  a.overrides["conv"] = {FormatChoice::parse("float32"), FormatChoice::parse("s1e3m4b4")};
  std::map<std::string, RangeStats> calib;
  calib["fc"].max_positive = 5.0;
  calib["fc"].max_abs = 9.0;
  const QuantPlan p = resolve_plan(*m, a, &calib, true);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_TRUE(p[0].weight.empty());
  EXPECT_EQ(p[0].activation->name(), "s1e3m4b4");
  EXPECT_EQ(p[1].weight.size(), 5u);  // one per output channel
  EXPECT_EQ(p[1].activation->bias, fit_bias(a.activation.format, 5.0));  // unsigned: max positive
  // fit:auto: the sign follows the presence of negative values (calibration min; the weights' min).
  Assignment au;
  au.weight = au.activation = FormatChoice::parse("fit:auto:e3");
  calib["conv"].max_abs = calib["conv"].max_positive = 2.0;
  calib["conv"].min = -0.5;  // negatives smaller than the positive max still make the input signed
  calib["fc"].min = 0.0;
  calib["fc"].max_abs = 5.0;
  const QuantPlan pa = resolve_plan(*m, au, &calib, false);
  EXPECT_EQ(pa[0].activation->sign, 1);
  EXPECT_EQ(pa[0].activation->man, 4);
  EXPECT_EQ(pa[0].activation->bias, fit_bias(au.activation.format, 2.0));
  EXPECT_EQ(pa[1].activation->sign, 0);
  EXPECT_EQ(pa[1].activation->man, 5);
  EXPECT_EQ(pa[1].activation->bias, fit_bias(au.activation.template_for(false), 5.0));
  EXPECT_EQ(pa[1].weight[0].sign, 1);  // random weights have negatives
  // fit activations without calibration data, and overrides of unknown nodes, are errors
  EXPECT_THROW(resolve_plan(*m, a, nullptr, false), ConfigError);
  a.overrides["relu"] = {};
  EXPECT_THROW(resolve_plan(*m, a, &calib, false), ConfigError);
}

}  // namespace
}  // namespace ffp8::infer
