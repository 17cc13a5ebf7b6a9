#pragma once
// Accuracy of a model under a format assignment: calibrates fit formats in float32 on the first
// `calib` images, then streams the data set in batches through the quantized engine and the
// float32 engine side by side (one pass), counting top-1, top-5 and top-1 agreement.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>
#include <span>

#include <nlohmann/json.hpp>

#include "core/infer/engine.hpp"
#include "explore/eval/config.hpp"

namespace ffp8::explore {

/// Callbacks of an evaluation (all optional).
struct EvalHooks {
  /// After each batch: images done, images in total.
  std::function<void(std::int64_t done, std::int64_t total)> progress;
  /// After each batch: the quantized engine's logits [n, classes] of images [first, first + n).
  std::function<void(std::int64_t first, std::int64_t n, std::span<const float> logits)> logits;
  /// Once, before the first batch: images to evaluate and classes per image.
  std::function<void(std::int64_t count, std::int64_t classes)> start;
  /// Once, before the first batch: the quantized engine (e.g. to add activation taps).
  std::function<void(infer::Engine& quantized)> on_engine;
};

/// Outcome of an evaluation.
struct EvalResult {
  std::int64_t count = 0, num_classes = 0, calib_images = 0;
  double top1 = 0, top5 = 0;                 ///< quantized network
  double top1_fp32 = 0, top5_fp32 = 0;       ///< float32 network
  double agreement_fp32 = 0;                 ///< share of images with the same top-1 class as float32
  infer::QuantPlan plan;
  std::vector<infer::LayerCounts> counts;
  double seconds = 0;                        ///< wall time of the main pass (data, both engines)
  double quantized_seconds = 0, fp32_seconds = 0, read_seconds = 0, calib_seconds = 0;
  /// CPU time (all threads) of the two engines: robust to other load on the machine.
  double quantized_cpu_seconds = 0, fp32_cpu_seconds = 0;
  bool all_float32 = false;                  ///< nothing quantized: one engine ran
  /// NaN and infinities: parameter values of the model, pixel values of the evaluated images
  /// and images holding any, and images whose quantized (float32) logits hold any. Such an
  /// image is a miss: it counts towards no top-1, top-5 or agreement.
  std::uint64_t nonfinite_weights = 0, nonfinite_pixels = 0, nonfinite_images = 0;
  std::uint64_t nonfinite_logits = 0, nonfinite_logits_fp32 = 0;
};

/// What an evaluation computes independently of the format assignment: the float32 network's
/// calibration statistics and its per-image top-1 class and top-5 hit. Evaluations of several
/// assignments of one config (same model, data, limit, batch, calib, fold_bn) can share one: the
/// first fills each part when it needs it, the others reuse it instead of running float32 again.
struct EvalReference {
  bool calibrated = false;
  std::map<std::string, infer::RangeStats> stats;  ///< per conv/linear node: its input's range
  std::int64_t calib_images = 0;
  double calib_seconds = 0;
  bool ranked = false;
  std::vector<std::int32_t> top1;           ///< per image: the float32 network's top-1 class
  std::vector<std::uint8_t> in_top5;        ///< per image: label among the float32 top 5
  double fp32_seconds = 0, fp32_cpu_seconds = 0;
};

/// Runs an evaluation. Throws IoError/ModelError/ConfigError/DataError/FormatError on bad input (e.g. image
/// shape of the data file differs from the model input). `shared`: an optional float32
/// reference of the same config, filled or reused (see EvalReference).
EvalResult evaluate(const EvalConfig& config, const EvalHooks& hooks = {}, EvalReference* shared = nullptr);

/// The result as eval.json fields (top1, top5, count, agreement_fp32, layers, timing, ...).
nlohmann::json eval_json(const EvalResult& r);

}  // namespace ffp8::explore
