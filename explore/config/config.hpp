#pragma once
// The sweep configuration (docs/sweep.md "Config"): parsed from JSON into one validated struct.
// Unknown keys and bad values throw ConfigError naming the file and JSON path; `--set a.b=v`
// overrides are applied to the JSON before validation. Every path in a config is relative to the
// config file's folder.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/format/format.hpp"
#include "core/quant/quantize.hpp"
#include "explore/metrics/metrics.hpp"

namespace ffp8::explore {

/// One input: datasets of an HDF5 file matching glob patterns, all with one role; or (when
/// `model` is set) a model's conv2d/linear weights and input activations recorded through the
/// inference engine's tap over the first `calib` images of `data`.
struct InputConfig {
  std::filesystem::path file;          ///< resolved against the config file's folder
  std::vector<std::string> tensors;    ///< glob patterns over dataset paths ("/weights/*")
  std::string role;                    ///< "weight", "activation", or any label
  std::filesystem::path model;         ///< model file (layout 1); empty for a dataset input
  std::filesystem::path data;          ///< data file of the calibration images
  std::int64_t calib = 256;            ///< calibration images (the first ones of `data`)
  std::int64_t batch = 64;             ///< images per engine run
  bool weights = true, activations = true;
  std::vector<std::string> nodes;      ///< glob patterns over node names (empty: all)
};

/// How the bias of each template is chosen.
struct BiasSpec {
  enum class Kind : std::uint8_t { Range, List, Fit, Percentile, Argmin };
  Kind kind = Kind::Fit;
  int min = 0, max = 0;        ///< Range and Argmin
  std::vector<int> list;       ///< List
  double percentile = 100.0;   ///< Percentile: fit rule with a = P-th percentile of |x|
  Metric argmin = Metric::Mse; ///< Argmin: metric minimized (or maximized, per its goal)
};

/// The design space: lists mean "sweep over each"; man = width - sign - exp unless `man` given.
struct SpaceConfig {
  std::vector<int> width = {8};
  std::vector<int> sign = {0, 1};
  std::vector<int> exp = {2, 3, 4, 5};
  std::vector<int> man;                 ///< optional: sweep man directly instead of width
  BiasSpec bias;
  std::vector<Specials> specials = {Specials::None};
  std::vector<bool> subnormals = {true};
  std::vector<Rounding> rounding = {Rounding::Rne};
  bool saturate = true;
  std::uint64_t seed = 0;               ///< stochastic rounding stream (direct path)
  int man_min = 0;                      ///< constraint: skip templates with man < man_min
  int man_max = 15;
  std::vector<std::string> exclude;     ///< canonical format names never evaluated
  bool family_float = true;             ///< "family": "float" members s{S}e{E}m{M}
  bool family_int = false;              ///< "family": "int" adds i{width}, i{width}-sym (sign 1), u{width} (sign 0)
  /// "scaling": shared-scale suffixes (GROUP:SCALE:RULE[+tensor:f32], canonical) combined with
  /// every element format; "none" is the plain format. Empty: only plain formats.
  std::vector<std::string> scaling;
  /// True when the plain formats are scored (no "scaling", or "none" among it).
  bool plain() const { return scaling.empty() || std::find(scaling.begin(), scaling.end(), "none") != scaling.end(); }
};

/// Units the statistics are gathered over.
enum class Granularity : std::uint8_t { Tensor, Channel, Role };
/// "tensor", "channel", "role".
std::string_view to_string(Granularity g);

/// A Pareto objective: a numeric column and its direction.
struct Objective {
  std::string column;
  Goal goal = Goal::Min;
};

/// Format selection strategy and its metric.
struct SelectionConfig {
  std::string strategy = "ffp8_paper";  ///< "ffp8_paper" | "best_by_metric" | "none"
  Metric metric = Metric::Mse;
};

/// Hardware-cost columns (needs the hwcost library).
struct HardwareConfig {
  bool enabled = false;
  std::string tech = "osu018";
  std::string accumulator = "fp32";
  bool flexible = false;
};

/// A whole validated sweep config.
struct SweepConfig {
  std::vector<InputConfig> inputs;
  SpaceConfig space;
  std::vector<Granularity> granularity = {Granularity::Tensor};
  std::vector<Metric> metrics;          ///< requested, in table order, always incl. the pinned ones
  std::vector<Objective> objectives;
  SelectionConfig selection;
  HardwareConfig hardware;
  /// Output folder: "out" resolved against the config file's folder; without "out", the
  /// config's name without ".json" beside it (configs/x.json -> configs/x); "" in memory.
  std::string out;
  bool out_given = false;               ///< "out" was in the config
  std::size_t chunk = std::size_t{1} << 22;  ///< elements per read: bounds memory
  int threads = 0;                      ///< 0: OpenMP default
  bool direct_only = false;             ///< score everything by the direct path (checks, timing)
  nlohmann::json effective;             ///< the JSON as run (after overrides)
  std::string source;                   ///< config file path ("" when built in memory)
};

/// Numeric columns an objective may name (besides every metric name).
const std::vector<std::string>& numeric_columns();

/// Parses and validates a config. `base_dir` resolves relative paths; `source` prefixes error
/// messages (the config file name) and names the default output folder.
SweepConfig parse_config(const nlohmann::json& j, const std::filesystem::path& base_dir, const std::string& source = "");
/// Reads a config file, applies `overrides` ("a.b=v": v parsed as JSON, else taken as a string),
/// then parses it. Throws IoError (unreadable file) or ConfigError (file name and JSON path).
SweepConfig load_config(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});
/// Applies one "a.b.c=value" override to `j` (array elements by index: "inputs.0.file=x").
void apply_override(nlohmann::json& j, const std::string& assignment);
/// The output folder of a config file without "out": its name without ".json", beside it
/// (configs/x.json -> configs/x); "" for a config not read from a file.
std::string default_out(const std::string& config_file);
/// 64-bit FNV-1a of the canonical (sorted-key, compact) dump, as 16 hex digits.
std::string config_hash(const nlohmann::json& j);

}  // namespace ffp8::explore
