#pragma once
// The `ffp8 eval` configuration (shared/spec/INTERFACES.md "Evaluation"): JSON with the keys
// below; unknown keys and bad values are ConfigErrors naming their JSON path.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/infer/assignment.hpp"
#include "core/quant/quantize.hpp"

namespace ffp8::infer {

/// One named assignment of a multi-candidate eval ("candidates": [{"name", "formats"}, ...]).
struct EvalCandidate {
  std::string name;
  Assignment formats;
};

/// A parsed eval config. Paths are resolved against the config file's folder.
struct EvalConfig {
  std::string model;          ///< "model": model file (layout 1), required
  std::string data;           ///< "data": data file, required
  std::int64_t limit = 0;     ///< "limit": first N images (0 or absent: all)
  std::int64_t batch = 64;    ///< "batch": images per batch (memory follows it)
  std::int64_t calib = 256;   ///< "calib": images for activation calibration (fit and int8 formats)
  Assignment formats;         ///< "formats": {weight, activation, overrides} (weight, activation required)
  std::vector<EvalCandidate> candidates;  ///< "candidates" instead of "formats": each evaluated alike
  QuantOptions quant;         ///< "rounding" (rne), "saturate" (true), "seed" (0)
  bool fold_bn = false;       ///< "fold_bn": fold BatchNorm into convs before weight quantization
  bool per_channel = false;   ///< "per_channel": "fit" weights get one bias per output channel
  int threads = 0;            ///< "threads": 0 = OpenMP's default
  std::string out;            ///< "out": output folder (optional; the CLI's --out wins)
  nlohmann::json as_json;     ///< the config as given (for eval.json)
};

/// Parses a config object; `base` resolves relative paths, `source` names it in messages.
EvalConfig parse_eval_config(const nlohmann::json& j, const std::filesystem::path& base, const std::string& source);
/// Reads and parses a config file; throws IoError (unreadable) or ConfigError.
EvalConfig load_eval_config(const std::filesystem::path& file);

}  // namespace ffp8::infer
