#pragma once
// Small model, data and config files of the CLI tests, written with the project's own HDF5
// writer: a flatten + linear network over 1x2x2 inputs with 3 classes, so `ffp8 eval` runs in
// milliseconds and every value is known.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io/h5.hpp"
#include "tests/tools/ffp8/cli_run.hpp"

namespace ffp8::test {

/// Writes a layout-1 model: logits = W x, W [3, 4] = `weight` (row-major).
inline void write_tiny_model(const std::string& path, const std::vector<float>& weight) {
  using nlohmann::json;
  h5::File f = h5::File::create(path);
  f.set_attr("/", "ffp8_layout", std::int64_t{1});
  f.set_attr("/", "input_shape", std::vector<std::int64_t>{1, 2, 2});
  f.set_attr("/", "num_classes", std::vector<std::int64_t>{3});
  f.set_attr("/", "model_name", "tiny");
  const json flat = {{"name", "flat"}, {"op", "flatten"}, {"inputs", {"x"}}, {"outputs", {"flat"}}, {"shape", {4}},
                     {"module", "flat"}, {"params", json::object()}, {"attrs", {{"start_dim", 1}, {"end_dim", -1}}}};
  const json fc = {{"name", "fc"}, {"op", "linear"}, {"inputs", {"flat"}}, {"outputs", {"fc"}}, {"shape", {3}},
                   {"module", "fc"}, {"params", {{"weight", "/params/fc/weight"}}}, {"attrs", json::object()}};
  f.write_string("/graph", json{{"inputs", {"x"}}, {"outputs", {"fc"}}, {"nodes", {flat, fc}}}.dump());
  f.create_dataset("/params/fc/weight", {3, 4}, h5::DType::Float32);
  f.write("/params/fc/weight", 0, std::span<const float>(weight));
}

/// The identity-like weights: class c scores pixel c (pixel 3 ignored).
inline std::vector<float> tiny_weights() { return {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}; }

/// Writes a data file of `labels.size()` float32 images [1, 2, 2]; image i has a 1 at pixel
/// labels[i] % 3 (so the tiny model classifies every image right), unless `pixels` is given.
inline void write_tiny_data(const std::string& path, const std::vector<std::int64_t>& labels,
                            std::vector<float> pixels = {}) {
  const std::uint64_t n = labels.size();
  if (pixels.empty()) {
    pixels.assign(n * 4, 0.0f);
    for (std::uint64_t i = 0; i < n; ++i) pixels[i * 4 + static_cast<std::uint64_t>((labels[i] % 3 + 3) % 3)] = 1.0f;
  }
  h5::File f = h5::File::create(path);
  f.create_dataset("/images", {n, 1, 2, 2}, h5::DType::Float32);
  f.create_dataset("/labels", {n}, h5::DType::Int);
  if (n > 0) {
    f.write("/images", 0, std::span<const float>(pixels));
    f.write("/labels", 0, std::span<const std::int64_t>(labels));
  }
}

/// Writes an eval config naming model.h5 and data.h5 beside it (float32 formats unless given).
inline void write_eval_config(const std::string& path, nlohmann::json extra = nlohmann::json::object()) {
  nlohmann::json j = {{"model", "model.h5"}, {"data", "data.h5"}, {"batch", 2},
                      {"formats", {{"weight", "float32"}, {"activation", "float32"}}}};
  j.update(extra);
  std::ofstream(path) << j.dump(2);
}

/// A CliTest whose folder holds the tiny eval: model.h5 (tiny_weights()), data.h5 (labels
/// 0 1 2 0 1 2) and cfg.json (write_eval_config's defaults).
class CliTinyEvalTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    write_tiny_model(path("model.h5"), tiny_weights());
    write_tiny_data(path("data.h5"), {0, 1, 2, 0, 1, 2});
    write_eval_config(path("cfg.json"));
  }
};

}  // namespace ffp8::test
