// Eval config parsing: every key checked with its JSON path, unknown keys rejected.
#include "core/io/json_file.hpp"
#include "core/infer/eval_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "core/errors.hpp"

namespace ffp8::infer {

using nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string& source, const std::string& path, const std::string& what) {
  throw ConfigError(fmt::format("{}: {} {}", source, path, what));
}

void only_keys(const json& j, const std::set<std::string>& allowed, const std::string& source, const std::string& at) {
  if (!j.is_object()) fail(source, at.empty() ? "/" : at, "must be a JSON object");
  for (const auto& [k, v] : j.items()) {
    if (!allowed.count(k)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(source, at + "/" + k, fmt::format("is not a known key (allowed here: {})", list));
    }
  }
}

std::int64_t get_int(const json& j, const std::string& source, const std::string& path, std::int64_t min) {
  if (!j.is_number_integer()) fail(source, path, fmt::format("must be an integer, found {}", j.dump()));
  const auto v = j.get<std::int64_t>();
  if (v < min) fail(source, path, fmt::format("must be at least {}, found {}", min, v));
  return v;
}

bool get_bool(const json& j, const std::string& source, const std::string& path) {
  if (!j.is_boolean()) fail(source, path, fmt::format("must be true or false, found {}", j.dump()));
  return j.get<bool>();
}

std::string get_string(const json& j, const std::string& source, const std::string& path) {
  if (!j.is_string()) fail(source, path, fmt::format("must be a string, found {}", j.dump()));
  return j.get<std::string>();
}

FormatChoice get_choice(const json& j, const std::string& source, const std::string& path) {
  const std::string text = get_string(j, source, path);
  try {
    return FormatChoice::parse(text);
  } catch (const FormatError& e) {
    fail(source, path, fmt::format("is not a format choice: {}", e.what()));
  }
}

/// Parses a formats object ({weight, activation, overrides}) at JSON path `at`.
Assignment get_assignment(const json& f, const std::string& source, const std::string& at) {
  only_keys(f, {"weight", "activation", "overrides"}, source, at);
  for (const char* role : {"weight", "activation"})
    if (!f.contains(role))
      fail(source, at + "/" + role,
           "is required: the default format of that role (\"float32\", \"int8\", a format name, or \"fit:TEMPLATE\")");
  Assignment a;
  a.weight = get_choice(f["weight"], source, at + "/weight");
  a.activation = get_choice(f["activation"], source, at + "/activation");
  if (f.contains("overrides")) {
    const json& o = f["overrides"];
    if (!o.is_object()) fail(source, at + "/overrides", "must be an object mapping node names to formats");
    for (const auto& [node, v] : o.items()) {
      const std::string here = at + "/overrides/" + node;
      LayerChoice lc{a.weight, a.activation};
      if (v.is_string()) {
        lc.weight = lc.activation = get_choice(v, source, here);
      } else {
        only_keys(v, {"weight", "activation"}, source, here);
        if (v.contains("weight")) lc.weight = get_choice(v["weight"], source, here + "/weight");
        if (v.contains("activation")) lc.activation = get_choice(v["activation"], source, here + "/activation");
      }
      a.overrides[node] = lc;
    }
  }
  return a;
}

}  // namespace

EvalConfig parse_eval_config(const json& j, const std::filesystem::path& base, const std::string& source) {
  only_keys(j, {"model", "data", "limit", "batch", "calib", "formats", "rounding", "saturate", "seed", "fold_bn",
                "per_channel", "threads", "out", "comment", "candidates"},
            source, "");
  EvalConfig c;
  c.as_json = j;
  auto path_of = [&](const char* key) {
    if (!j.contains(key)) fail(source, std::string("/") + key, "is required");
    const std::filesystem::path p = get_string(j.at(key), source, std::string("/") + key);
    return (p.is_absolute() ? p : base / p).lexically_normal().string();
  };
  c.model = path_of("model");
  c.data = path_of("data");
  if (j.contains("limit")) c.limit = get_int(j["limit"], source, "/limit", 0);
  if (j.contains("batch")) c.batch = get_int(j["batch"], source, "/batch", 1);
  if (j.contains("calib")) c.calib = get_int(j["calib"], source, "/calib", 0);
  if (j.contains("threads")) c.threads = static_cast<int>(get_int(j["threads"], source, "/threads", 0));
  if (j.contains("fold_bn")) c.fold_bn = get_bool(j["fold_bn"], source, "/fold_bn");
  if (j.contains("per_channel")) c.per_channel = get_bool(j["per_channel"], source, "/per_channel");
  if (j.contains("saturate")) c.quant.saturate = get_bool(j["saturate"], source, "/saturate");
  if (j.contains("seed")) c.quant.seed = static_cast<std::uint64_t>(get_int(j["seed"], source, "/seed", 0));
  if (j.contains("rounding")) {
    try {
      c.quant.rounding = parse_rounding(get_string(j["rounding"], source, "/rounding"));
    } catch (const FormatError& e) {
      fail(source, "/rounding", e.what());
    }
  }
  if (j.contains("out")) {
    const std::filesystem::path p = get_string(j["out"], source, "/out");
    c.out = (p.is_absolute() ? p : base / p).lexically_normal().string();
  }
  if (!j.contains("formats") && !j.contains("candidates"))
    fail(source, "/formats", "is required (an object with 'weight' and 'activation'), or \"candidates\": a list of them");
  if (j.contains("formats") && j.contains("candidates"))
    fail(source, "/candidates", "cannot be combined with \"formats\" (each candidate names its own formats)");
  if (j.contains("formats")) c.formats = get_assignment(j["formats"], source, "/formats");
  if (j.contains("candidates")) {
    const json& list = j["candidates"];
    if (!list.is_array() || list.empty())
      fail(source, "/candidates", "must be a non-empty list of {\"name\", \"formats\"} objects");
    std::set<std::string> names;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string at = fmt::format("/candidates/{}", i);
      only_keys(list[i], {"name", "formats", "comment"}, source, at);
      if (!list[i].contains("name") || !list[i].contains("formats")) fail(source, at, "needs \"name\" and \"formats\"");
      const std::string name = get_string(list[i]["name"], source, at + "/name");
      if (name.empty() || name.find_first_of("/\\,\"\n") != std::string::npos || name == "." || name == "..")
        fail(source, at + "/name", "must be a non-empty folder name (no / \\ , \" or newline)");
      if (!names.insert(name).second) fail(source, at + "/name", fmt::format("repeats the name \"{}\"", name));
      c.candidates.push_back({name, get_assignment(list[i]["formats"], source, at + "/formats")});
    }
    c.formats = c.candidates.front().formats;
  }
  // True when `pred` holds for the formats or for some candidate's formats.
  auto any_assignment = [&](bool (*pred)(const Assignment&)) {
    return pred(c.formats) ||
           std::any_of(c.candidates.begin(), c.candidates.end(), [&](const EvalCandidate& e) { return pred(e.formats); });
  };
  if (any_assignment(needs_calibration) && c.calib == 0)
    fail(source, "/calib", "is 0, but \"fit:\" and \"int8\" activation formats need calibration images (e.g. 256)");
  // INT8 has one rule (round half to even, clamp to ±127): a config asking otherwise is an error, not ignored.
  if (any_assignment(uses_int8) && c.quant.rounding != Rounding::Rne)
    fail(source, "/rounding", fmt::format("is '{}', but \"int8\" rounds half to even only (use \"rne\")",
                                          to_string(c.quant.rounding)));
  if (any_assignment(uses_int8) && !c.quant.saturate)
    fail(source, "/saturate", "is false, but \"int8\" always saturates (clamps to ±127 steps)");
  return c;
}

EvalConfig load_eval_config(const std::filesystem::path& file) {
  const json j = read_json_file(file, "config file");
  return parse_eval_config(j, file.has_parent_path() ? file.parent_path() : std::filesystem::path("."),
                           fmt::format("'{}'", file.string()));
}

}  // namespace ffp8::infer
