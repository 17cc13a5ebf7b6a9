// Bad input to the eval config and evaluate(): each is a typed error whose message names the
// file and the JSON path, candidate, node or shapes at fault, in the wording every JSON input of
// the project shares.
#include <gtest/gtest.h>

#include <functional>

#include "core/errors.hpp"
#include "core/io/h5.hpp"
#include "explore/eval/config.hpp"
#include "explore/eval/evaluate.hpp"
#include "tests/core/infer/test_util.hpp"

namespace ffp8::explore {
namespace {

namespace test = infer::test;
using test::expect_error;
using nlohmann::json;

TEST(EvalErrors, ConfigKeysAreCheckedWithTheirPath) {
  const json ok = {{"model", "m.h5"}, {"data", "d.h5"}, {"formats", {{"weight", "fit:s1e4m3"}, {"activation", "float32"}}}};
  EXPECT_NO_THROW(parse_eval_config(ok, "/base", "c.json"));
  EXPECT_EQ(parse_eval_config(ok, "/base", "c.json").model, "/base/m.h5");
  auto with = [&](const std::function<void(json&)>& edit) {
    json j = ok;
    edit(j);
    return j;
  };
  expect_error<ConfigError>([&] { parse_eval_config(with([](json& j) { j["formats"].erase("activation"); }), ".", "c.json"); },
                            {"c.json: /formats: missing key \"activation\""});
  expect_error<ConfigError>([&] { parse_eval_config(with([](json& j) { j.erase("formats"); }), ".", "c.json"); },
                            {"c.json: /: missing key \"formats\""});
  expect_error<ConfigError>([&] { parse_eval_config(with([](json& j) { j["batchsize"] = 3; }), ".", "c.json"); },
                            {"c.json: /batchsize: unknown key \"batchsize\" (allowed here:"});
  expect_error<ConfigError>([&] { parse_eval_config(with([](json& j) { j["formats"]["overrides"] = {{"fc", {{"weigth", "float32"}}}}; }), ".", "c.json"); },
                            {"/formats/overrides/fc/weigth"});
  expect_error<ConfigError>([&] { parse_eval_config(with([](json& j) { j["formats"]["weight"] = "s1e4m3"; }), ".", "c.json"); },
                            {"/formats/weight", "s1e4m3"});
  expect_error<ConfigError>([&] { parse_eval_config(with([](json& j) { j["batch"] = 0; }), ".", "c.json"); },
                            {"c.json: /batch: 0 is out of range [1,"});
  expect_error<ConfigError>([&] { parse_eval_config(with([](json& j) { j["rounding"] = "up"; }), ".", "c.json"); },
                            {"/rounding"});
  // int8 has one rounding rule and always saturates; it needs calibration images for its inputs.
  auto int8 = [&](const std::function<void(json&)>& edit) {
    return with([&](json& j) {
      j["formats"]["overrides"] = {{"fc", {{"activation", "int8"}}}};
      edit(j);
    });
  };
  EXPECT_NO_THROW(parse_eval_config(int8([](json&) {}), ".", "c.json"));
  expect_error<ConfigError>([&] { parse_eval_config(int8([](json& j) { j["rounding"] = "stochastic"; }), ".", "c.json"); },
                            {"/rounding", "stochastic", "int8"});
  expect_error<ConfigError>([&] { parse_eval_config(int8([](json& j) { j["saturate"] = false; }), ".", "c.json"); },
                            {"/saturate", "int8"});
  expect_error<ConfigError>([&] { parse_eval_config(int8([](json& j) { j["calib"] = 0; }), ".", "c.json"); },
                            {"/calib", "int8"});
  expect_error<ConfigError>([&] { parse_eval_config(with([](json& j) { j["formats"]["weight"] = "fit:auto:e9"; }), ".", "c.json"); },
                            {"/formats/weight", "fit:auto:e9"});
  // The same checks hold when only a later candidate uses int8.
  auto candidates = [&](const std::function<void(json&)>& edit) {
    return with([&](json& j) {
      j["candidates"] = json::array({{{"name", "fp"}, {"formats", j["formats"]}},
                                     {{"name", "i8"}, {"formats", {{"weight", "int8"}, {"activation", "int8"}}}}});
      j.erase("formats");
      edit(j);
    });
  };
  EXPECT_EQ(parse_eval_config(candidates([](json&) {}), ".", "c.json").candidates.size(), 2u);
  expect_error<ConfigError>([&] { parse_eval_config(candidates([](json& j) { j["rounding"] = "rtz"; }), ".", "c.json"); },
                            {"/rounding", "rtz", "int8"});
  expect_error<ConfigError>([&] { parse_eval_config(candidates([](json& j) { j["calib"] = 0; }), ".", "c.json"); },
                            {"/calib", "int8"});
  expect_error<ConfigError>([&] { parse_eval_config(candidates([](json& j) { j["candidates"][1]["formats"]["weight"] = "int9"; }), ".", "c.json"); },
                            {"/candidates/1/formats/weight", "int9"});
}

// evaluate() on an exported model with a data file whose images have another shape.
TEST(EvalErrors, DataShapeMismatchNamesBothFilesAndShapes) {
  test::TempDir dir;
  const auto model = dir.path() / "vgg.h5";
  test::export_model("tools/ffp8_models.py:vgg_small", model, "--seed 1", false);
  const std::string data = (dir.path() / "rgb.h5").string();
  {
    h5::File f = h5::File::create(data);
    f.create_dataset("/images", {2, 3, 28, 28}, h5::DType::Float32);
    f.create_dataset("/labels", {2}, h5::DType::Int);
    const std::vector<std::int64_t> labels{0, 1};
    f.write("/labels", 0, std::span<const std::int64_t>(labels));
  }
  EvalConfig c = parse_eval_config(
      {{"model", model.string()}, {"data", data}, {"formats", {{"weight", "float32"}, {"activation", "float32"}}}}, ".", "c.json");
  expect_error<DataError>([&] { evaluate(c); }, {data, "[3, 28, 28]", model.string(), "[1, 28, 28]"});
  // An override naming no conv/linear node is a config error naming it.
  {
    h5::File f = h5::File::open_rw(data);
    f.remove("/images");
    f.create_dataset("/images", {2, 1, 28, 28}, h5::DType::Float32);
  }
  c.formats.overrides["nope"] = {};
  expect_error<ConfigError>([&] { evaluate(c); }, {"/formats/overrides/nope"});
  c.formats.overrides.clear();
  EXPECT_NO_THROW(evaluate(c));
  // A data layout version this reader does not know.
  {
    h5::File f = h5::File::open_rw(data);
    f.set_attr("/", "ffp8_data_layout", std::int64_t{7});
  }
  expect_error<DataError>([&] { evaluate(c); }, {data, "ffp8_data_layout", "7"});
}

}  // namespace
}  // namespace ffp8::explore
