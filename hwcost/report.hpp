#pragma once
// `ffp8 hwcost` as library calls: a PE spec built from named options (as the CLI and the
// Python module take them), the cost of a PE as one JSON document (with synthesis and memory
// footprints when asked), and the calibration's outputs (calibration.csv, calibration.json and
// the fitted technology table).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "hwcost/calib/calibrate.hpp"
#include "hwcost/memory.hpp"
#include "hwcost/model.hpp"
#include "hwcost/spec.hpp"
#include "hwcost/synth/yosys.hpp"
#include "hwcost/tech.hpp"

namespace ffp8::hwcost {

/// A PE as options name it. `format` sets both operands; `weight`/`activation` override it.
struct PeOptions {
  bool int8 = false;                         ///< the INT8 reference MAC (a format, --flexible or accumulator with it: ConfigError)
  std::optional<std::string> format, weight, activation;
  std::string accumulator = "fp32";          ///< fp32, fp16 or kulisch
  std::uint64_t kulisch_terms = 4096;
  bool flexible = false;
  int flex_exp_min = 2, flex_exp_max = 5;
};

/// Builds the PE spec. Throws FormatError "<prefix>weight: ..." for a bad format name,
/// ConfigError naming the option for a missing operand or unknown accumulator; `prefix` is how
/// the caller spells options ("--" for the CLI).
PeSpec parse_pe_spec(const PeOptions& options, std::string_view prefix = "");

/// The cost of `spec` as `ffp8 hwcost --json` prints it (ratios to the INT8 MAC of the same
/// technology); `synthesis` and `memory` added when given.
nlohmann::json cost_json(const Cost& cost, const PeSpec& spec, const Cost& int8);
/// A synthesis result as cost_json's "synthesis" member (with the model's relative error).
nlohmann::json synthesis_json(const SynthResult& r, const SynthOptions& options, const Cost& model);
/// Memory footprints of the reference storage options and of `spec`'s formats.
nlohmann::json memory_json(const TensorCounts& counts, const PeSpec& spec);

/// What a calibration writes.
struct CalibrationReport {
  std::string csv;         ///< calibration.csv
  nlohmann::json summary;  ///< calibration.json
  Tech fitted;             ///< the fitted table, with its provenance in `calibration`
};
/// Renders a calibration run against `synth`'s liberty file.
CalibrationReport calibration_report(const Calibration& c, const SynthOptions& synth);

}  // namespace ffp8::hwcost
