// Eval config parsing: every value read through JsonNode, so every error carries its JSON path.
#include "explore/eval/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/errors.hpp"
#include "core/io/json_file.hpp"
#include "core/io/json_reader.hpp"
#include "explore/config/config.hpp"

namespace ffp8::explore {

using infer::Assignment;
using infer::FormatChoice;
using nlohmann::json;

namespace {

constexpr const char* kChoices = "\"float32\", \"int8\", a format name, \"fit:TEMPLATE\" or \"fit:auto:eE\"";

FormatChoice read_choice(const JsonNode& n) {
  const std::string text = n.as_string();
  try {
    return FormatChoice::parse(text);
  } catch (const FormatError& e) {
    n.fail(e.what());
  }
}

/// A formats object ({weight, activation, overrides}).
Assignment read_assignment(const JsonNode& f) {
  f.expect_object({"weight", "activation", "overrides"});
  for (const char* role : {"weight", "activation"})
    if (!f.has(role)) f.fail(fmt::format("missing key \"{}\": the default format of that role ({})", role, kChoices));
  Assignment a;
  a.weight = read_choice(f.at("weight"));
  a.activation = read_choice(f.at("activation"));
  if (!f.has("overrides")) return a;
  const JsonNode o = f.at("overrides");
  o.expect_any_object();
  for (const auto& [node, v] : o.json().items()) {
    const JsonNode here = o.at(node);
    infer::LayerChoice lc{a.weight, a.activation};
    if (here.is_string()) {
      lc.weight = lc.activation = read_choice(here);
    } else {
      here.expect_object({"weight", "activation"});
      if (here.has("weight")) lc.weight = read_choice(here.at("weight"));
      if (here.has("activation")) lc.activation = read_choice(here.at("activation"));
    }
    a.overrides[node] = lc;
  }
  return a;
}

std::string read_path(const JsonNode& n, const std::filesystem::path& base) {
  const std::filesystem::path p = n.as_string();
  if (p.empty()) n.fail("expected a non-empty path");
  return (p.is_absolute() ? p : base / p).lexically_normal().string();
}

}  // namespace

EvalConfig parse_eval_config(const json& j, const std::filesystem::path& base, const std::string& source) {
  const JsonNode root(j, "", source);
  root.expect_object({"model", "data", "limit", "batch", "calib", "formats", "rounding", "saturate", "seed", "fold_bn",
                      "per_channel", "threads", "out", "comment", "candidates"});
  EvalConfig c;
  c.as_json = j;
  c.source = source;
  c.model = read_path(root.at("model"), base);
  c.data = read_path(root.at("data"), base);
  if (root.has("limit")) c.limit = root.at("limit").as_int(0);
  if (root.has("batch")) c.batch = root.at("batch").as_int(1, std::int64_t{1} << 20);
  if (root.has("calib")) c.calib = root.at("calib").as_int(0, std::int64_t{1} << 31);
  if (root.has("threads")) c.threads = static_cast<int>(root.at("threads").as_int(0, 1024));
  if (root.has("fold_bn")) c.fold_bn = root.at("fold_bn").as_bool();
  if (root.has("per_channel")) c.per_channel = root.at("per_channel").as_bool();
  if (root.has("saturate")) c.quant.saturate = root.at("saturate").as_bool();
  if (root.has("seed")) c.quant.seed = static_cast<std::uint64_t>(root.at("seed").as_int(0));
  if (root.has("rounding")) {
    try {
      c.quant.rounding = parse_rounding(root.at("rounding").as_string());
    } catch (const FormatError& e) {
      root.at("rounding").fail(e.what());
    }
  }
  c.out_given = root.has("out");
  c.out = c.out_given ? read_path(root.at("out"), base) : default_out(source);
  if (root.has("comment")) (void)root.at("comment").as_string();
  if (!root.has("formats") && !root.has("candidates"))
    root.fail("missing key \"formats\" (an object with \"weight\" and \"activation\"), or \"candidates\" (a list of them)");
  if (root.has("formats") && root.has("candidates"))
    root.at("candidates").fail("cannot be combined with \"formats\" (each candidate names its own formats)");
  if (root.has("formats")) c.formats = read_assignment(root.at("formats"));
  if (root.has("candidates")) {
    const JsonNode list = root.at("candidates");
    if (!list.is_array() || list.size() == 0) list.fail("expected a non-empty list of {\"name\", \"formats\"} objects");
    std::set<std::string> names;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const JsonNode e = list.at(i);
      e.expect_object({"name", "formats", "comment"});
      const std::string name = e.at("name").as_string();
      if (name.empty() || name.find_first_of("/\\,\"\n") != std::string::npos || name == "." || name == "..")
        e.at("name").fail("expected a non-empty folder name (no / \\ , \" or newline)");
      if (!names.insert(name).second) e.at("name").fail(fmt::format("repeats the name \"{}\"", name));
      c.candidates.push_back({name, read_assignment(e.at("formats"))});
    }
    c.formats = c.candidates.front().formats;
  }
  // True when `pred` holds for the formats or for some candidate's formats.
  auto any_assignment = [&](bool (*pred)(const Assignment&)) {
    return pred(c.formats) ||
           std::any_of(c.candidates.begin(), c.candidates.end(), [&](const EvalCandidate& e) { return pred(e.formats); });
  };
  const JsonNode calib = root.has("calib") ? root.at("calib") : root;
  if (any_assignment(infer::needs_calibration) && c.calib == 0)
    calib.fail("is 0, but \"fit:\" and \"int8\" activation formats need calibration images (e.g. 256)");
  // INT8 has one rule (round half to even, clamp to ±127): a config asking otherwise is an error, not ignored.
  if (any_assignment(infer::uses_int8) && c.quant.rounding != Rounding::Rne)
    root.at("rounding").fail(fmt::format("is '{}', but \"int8\" rounds half to even only (use \"rne\")",
                                         to_string(c.quant.rounding)));
  if (any_assignment(infer::uses_int8) && !c.quant.saturate)
    root.at("saturate").fail("is false, but \"int8\" always saturates (clamps to ±127 steps)");
  return c;
}

EvalConfig load_eval_config(const std::filesystem::path& file, const std::vector<std::string>& overrides) {
  json j = read_json_file(file, "config file");
  for (const auto& o : overrides) apply_override(j, o);
  return parse_eval_config(j, file.has_parent_path() ? file.parent_path() : std::filesystem::path("."), file.string());
}

}  // namespace ffp8::explore
