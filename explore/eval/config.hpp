#pragma once
// The `ffp8 eval` configuration (docs/inference.md "Config"): JSON read with the project's one
// JSON reader, so unknown keys and bad values are ConfigErrors naming the file and JSON path;
// `--set a.b=v` overrides are applied to the JSON before validation, as for sweeps.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/infer/assignment.hpp"
#include "core/quant/quantize.hpp"

namespace ffp8::explore {

/// One named assignment of a multi-candidate eval ("candidates": [{"name", "formats"}, ...]).
struct EvalCandidate {
  std::string name;
  infer::Assignment formats;
};

/// A parsed eval config. Paths in it are relative to the config file's folder.
struct EvalConfig {
  std::string model;          ///< "model": model file (layout 1), required
  std::string data;           ///< "data": data file, required
  std::int64_t limit = 0;     ///< "limit": first N images (0 or absent: all)
  std::int64_t batch = 64;    ///< "batch": images per batch (memory follows it)
  std::int64_t calib = 256;   ///< "calib": images for activation calibration (fit and int8 formats)
  infer::Assignment formats;  ///< "formats": {weight, activation, overrides} (weight, activation required)
  std::vector<EvalCandidate> candidates;  ///< "candidates" instead of "formats": each evaluated alike
  QuantOptions quant;         ///< "rounding" (rne), "saturate" (true), "seed" (0)
  bool fold_bn = false;       ///< "fold_bn": fold BatchNorm into convs before weight quantization
  bool per_channel = false;   ///< "per_channel": "fit" weights get one bias per output channel
  int threads = 0;            ///< "threads": 0 = OpenMP's default
  /// Output folder: "out" (the CLI's --out wins); without it the config's name without ".json"
  /// beside it (configs/x.json -> configs/x, so a config named eval.json is never overwritten).
  std::string out;
  bool out_given = false;     ///< "out" was in the config
  nlohmann::json as_json;     ///< the config as run (after overrides), for eval.json
  std::string source;         ///< config file path ("" when built in memory)
};

/// Parses a config object; `base` resolves relative paths, `source` names it in messages.
EvalConfig parse_eval_config(const nlohmann::json& j, const std::filesystem::path& base, const std::string& source = "");
/// Reads a config file, applies `overrides` ("a.b=v": v parsed as JSON, else taken as a string),
/// then parses it. Throws IoError (unreadable) or ConfigError (file name and JSON path).
EvalConfig load_eval_config(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});

}  // namespace ffp8::explore
