// evaluate() with a shared float32 reference (EvalReference): several assignments of one config
// give exactly what each gives alone, while the float32 network runs once.
#include <gtest/gtest.h>

#include <random>

#include "explore/eval/config.hpp"
#include "explore/eval/evaluate.hpp"
#include "core/io/h5.hpp"
#include "tests/core/infer/test_util.hpp"

namespace ffp8::explore {
namespace {

namespace test = infer::test;

using nlohmann::json;

TEST(EvalEvaluate, SharedReferenceGivesWhatEachAssignmentGivesAlone) {
  test::TempDir dir;
  const std::string data = (dir.path() / "data.h5").string();
  constexpr std::int64_t kImages = 40;
  {
    std::mt19937 gen(5);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> images(static_cast<std::size_t>(kImages * 28 * 28));
    for (float& v : images) v = nd(gen);
    std::vector<std::int64_t> labels(kImages);
    for (std::int64_t i = 0; i < kImages; ++i) labels[static_cast<std::size_t>(i)] = i % 10;
    h5::File f = h5::File::create(data);
    f.create_dataset("/images", {kImages, 1, 28, 28}, h5::DType::Float32);
    f.write("/images", 0, std::span<const float>(images));
    f.create_dataset("/labels", {kImages}, h5::DType::Int);
    f.write("/labels", 0, std::span<const std::int64_t>(labels));
  }
  const std::string model = (test::repo_root() / "experiments/models/resnet_small.h5").string();
  const std::vector<std::pair<std::string, std::string>> assignments{
      {"fit:s1e3m4", "fit:auto:e4"}, {"e5m2", "e5m2"}, {"int8", "int8"}, {"float32", "float32"}, {"fit:s1e2m5", "fit:auto:e2"}};
  EvalReference shared;
  for (const auto& [w, a] : assignments) {
    const EvalConfig c = parse_eval_config({{"model", model}, {"data", data}, {"batch", 16}, {"calib", 24},
                                            {"formats", {{"weight", w}, {"activation", a}}}},
                                           ".", "c.json");
    const EvalResult alone = evaluate(c);
    const EvalResult with = evaluate(c, {}, &shared);
    const std::string what = w + " / " + a;
    EXPECT_EQ(with.top1, alone.top1) << what;
    EXPECT_EQ(with.top5, alone.top5) << what;
    EXPECT_EQ(with.top1_fp32, alone.top1_fp32) << what;
    EXPECT_EQ(with.top5_fp32, alone.top5_fp32) << what;
    EXPECT_EQ(with.agreement_fp32, alone.agreement_fp32) << what;
    EXPECT_EQ(with.calib_images, alone.calib_images) << what;
    EXPECT_EQ(eval_json(with)["layers"].dump(), eval_json(alone)["layers"].dump()) << what;
  }
  EXPECT_TRUE(shared.ranked);
  EXPECT_TRUE(shared.calibrated);
  EXPECT_EQ(shared.top1.size(), static_cast<std::size_t>(kImages));
}

}  // namespace
}  // namespace ffp8::explore
