// FP32 parity: the engine's logits match PyTorch's (/reference/logits written by tools/export.py
// --reference) within 1e-4 of the largest logit, for the Fashion-MNIST zoo (untrained, exported
// by each case into a temp folder; and the trained files committed in experiments/models/), one
// untrained torchvision model of each of the 20 classifier families at a reduced input size
// (native sizes: scripts/parity-torchvision, results/parity/), and small models that exercise
// the layout-2 ops one group at a time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/infer/engine.hpp"
#include "core/infer/model.hpp"
#include "tests/core/infer/test_util.hpp"

namespace ffp8::infer {
namespace {

using test::read_all;

// Largest |engine - reference| relative to the largest |reference| logit.
double parity_error(const Model& m, bool fold, int threads, bool with_tap = false) {
  const h5::File f = h5::File::open(m.path);
  const std::vector<float> x = read_all(f, "/reference/inputs");
  const std::vector<float> ref = read_all(f, "/reference/logits");
  // The comparison means something only if the logits depend on the input.
  const auto classes = static_cast<std::size_t>(m.num_classes);
  double spread = 0.0, top = 1e-30;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    spread = std::max(spread, std::abs(double(ref[i]) - double(ref[i % classes])));
    top = std::max(top, std::abs(double(ref[i])));
  }
  EXPECT_GT(spread, 1e-3 * top) << m.path << ": reference logits do not depend on the input";
  auto model = std::make_shared<const Model>(fold ? fold_batchnorm(m) : m);
  EngineOptions eo;
  eo.threads = threads;
  Engine e(model, {}, eo);
  // A tap switches the engine from batch-parallel to layer-parallel execution.
  std::size_t tapped = 0;
  if (with_tap) e.add_tap([&](const TapEvent& t) { tapped += t.values.size(); });
  const auto n = static_cast<std::int64_t>(x.size()) / numel(m.input_shape);
  const std::span<const float> got = e.run(x, n);
  EXPECT_EQ(got.size(), ref.size());
  if (with_tap && std::any_of(m.nodes.begin(), m.nodes.end(), [](const Node& nd) { return is_quantizable(nd.op); })) {
    EXPECT_GT(tapped, 0u);
  }
  double err = 0.0, scale = 1e-6;
  for (std::size_t i = 0; i < std::min(got.size(), ref.size()); ++i) {
    err = std::max(err, std::abs(double(got[i]) - double(ref[i])));
    scale = std::max(scale, std::abs(double(ref[i])));
  }
  return err / scale;
}

struct Case {
  const char* name;
  const char* model;  // exporter MODEL spec, relative to the repo root
  const char* args;   // extra exporter arguments
};
// Readable parameter in test listings (CTest shows GetParam() otherwise as raw bytes).
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class Parity : public ::testing::TestWithParam<Case> {};

TEST_P(Parity, LogitsMatchPyTorch) {
  const Case& c = GetParam();
  test::TempDir dir;
  const auto file = dir.path() / (std::string(c.name) + ".h5");
  test::export_model(c.model, file, std::string("--seed 3 --reference 6 ") + c.args);
  const Model m = read_model(file.string());
  const double err = parity_error(m, false, 2);
  RecordProperty("relative_error", std::to_string(err));
  std::printf("%s: relative error %.3g (%zu nodes)\n", c.name, err, m.nodes.size());
  EXPECT_LT(err, 1e-4) << c.name;
  // Single-threaded, and layer-parallel (a tap registered), give the same answer.
  EXPECT_LT(parity_error(m, false, 1), 1e-4) << c.name;
  EXPECT_LT(parity_error(m, false, 2, true), 1e-4) << c.name << " with a tap";
  // Folding BatchNorm in the engine keeps the logits (float64 folding, float32 weights).
  if (!m.bn_folded) {
    EXPECT_LT(parity_error(m, true, 2), 1e-3) << c.name << " folded";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, Parity,
    ::testing::Values(Case{"vgg_small", "tools/ffp8_models.py:vgg_small", ""},
                      Case{"resnet_small", "tools/ffp8_models.py:resnet_small", ""},
                      Case{"resnet_small_folded", "tools/ffp8_models.py:resnet_small", "--fold-bn"},
                      Case{"mobilenet_small", "tools/ffp8_models.py:mobilenet_small", ""},
                      Case{"densenet_small", "tools/ffp8_models.py:densenet_small", ""},
                      Case{"inception_small", "tools/ffp8_models.py:inception_small", ""},
                      Case{"convnext_mini", "tools/ffp8_models.py:convnext_mini", ""},
                      Case{"vit_mini", "tools/ffp8_models.py:vit_mini", ""},
                      Case{"vit_mini_onnx", "tools/ffp8_models.py:vit_mini", "--via onnx"}),
    [](const auto& p) { return std::string(p.param.name); });

// tests/tools/families.py: torchvision's model with its constant-valued initial tensors redrawn
// (a zero head or 1e-6 layer scales would hide errors). Sizes: small ones that keep each
// family's structure (Swin at 128 so that its windows shift; inception_v3 needs 75).
#define FAMILY(name, model, size, via) \
  Case{name, "tests/tools/families.py:" model "_at_" #size, "--input-shape 3," #size "," #size " " via}
INSTANTIATE_TEST_SUITE_P(
    Torchvision, Parity,
    ::testing::Values(FAMILY("alexnet", "alexnet", 64, ""), FAMILY("convnext", "convnext_tiny", 64, ""),
                      FAMILY("densenet", "densenet121", 32, ""), FAMILY("efficientnet", "efficientnet_b0", 64, ""),
                      FAMILY("efficientnet_v2", "efficientnet_v2_s", 64, ""), FAMILY("googlenet", "googlenet", 32, ""),
                      FAMILY("inception", "inception_v3", 96, ""), FAMILY("maxvit", "maxvit_t", 64, ""),
                      FAMILY("mnasnet", "mnasnet0_5", 64, ""), FAMILY("mobilenet_v2", "mobilenet_v2", 32, ""),
                      FAMILY("mobilenet_v3", "mobilenet_v3_small", 64, ""), FAMILY("regnet", "regnet_y_400mf", 64, ""),
                      FAMILY("resnet", "resnet18", 32, ""), FAMILY("resnext", "resnext50_32x4d", 32, ""),
                      FAMILY("shufflenet", "shufflenet_v2_x0_5", 64, ""), FAMILY("squeezenet", "squeezenet1_0", 64, ""),
                      FAMILY("swin", "swin_t", 128, ""), FAMILY("vgg", "vgg11_bn", 32, ""),
                      FAMILY("vit", "vit_b_16", 32, ""), FAMILY("wide_resnet", "wide_resnet50_2", 32, ""),
                      // the ONNX route (torch.onnx.export, then the ONNX front end) on three families
                      FAMILY("mobilenet_v3_onnx", "mobilenet_v3_small", 64, "--via onnx"),
                      FAMILY("shufflenet_onnx", "shufflenet_v2_x0_5", 64, "--via onnx"),
                      FAMILY("convnext_onnx", "convnext_tiny", 32, "--via onnx")),
    [](const auto& p) { return std::string(p.param.name); });
#undef FAMILY

// tests/core/infer/op_models.py: the layout-2 ops in small groups.
INSTANTIATE_TEST_SUITE_P(
    Ops, Parity,
    ::testing::Values(Case{"activations", "tests/core/infer/op_models.py:activations", ""},
                      Case{"softmax", "tests/core/infer/op_models.py:softmax", ""},
                      Case{"layernorm", "tests/core/infer/op_models.py:layernorm", ""},
                      Case{"reductions", "tests/core/infer/op_models.py:reductions", ""},
                      Case{"layout", "tests/core/infer/op_models.py:layout", ""},
                      Case{"matmul", "tests/core/infer/op_models.py:matmul", ""},
                      Case{"broadcast", "tests/core/infer/op_models.py:broadcast", ""},
                      Case{"tokens", "tests/core/infer/op_models.py:tokens", ""}),
    [](const auto& p) { return std::string(p.param.name); });

// The trained models committed in experiments/models/, each with its PyTorch reference logits.
TEST(ParityBundled, ExperimentModelsMatchTheirReference) {
  const auto dir = test::repo_root() / "experiments" / "models";
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".h5") files.push_back(e.path());
  ASSERT_FALSE(files.empty()) << "no " << dir << "/*.h5";
  for (const auto& p : files) {
    const Model m = read_model(p.string());
    const h5::File f = h5::File::open(p.string());
    ASSERT_TRUE(f.exists("/reference/logits")) << p << " has no /reference/logits";
    const double err = parity_error(m, false, 2);
    std::printf("%s: relative error %.3g\n", p.filename().c_str(), err);
    EXPECT_LT(err, 1e-4) << p;
  }
}

}  // namespace
}  // namespace ffp8::infer
