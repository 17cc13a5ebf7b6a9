// Config parsing: every value read through JsonNode, so every error carries its JSON path.
#include "core/io/json_file.hpp"
#include "explore/config/config.hpp"
#include "core/scheme/scheme.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "core/errors.hpp"
#include "core/io/json_reader.hpp"

namespace ffp8::explore {

std::string_view to_string(Granularity g) {
  switch (g) {
    case Granularity::Tensor: return "tensor";
    case Granularity::Channel: return "channel";
    case Granularity::Role: return "role";
  }
  return "tensor";
}

const std::vector<std::string>& numeric_columns() {
  static const std::vector<std::string> cols = {"sign", "exp", "man", "bias", "width", "count",
                                                "area_um2", "energy_pj_per_mac", "effective_bits", "group_size"};
  return cols;
}

namespace {

constexpr Metric kPinned[] = {Metric::Mse, Metric::SqnrDb, Metric::MaxAbsErr, Metric::OverflowFrac,
                              Metric::UnderflowFrac};

Metric read_metric(const JsonNode& n) {
  const std::string name = n.as_string();
  if (auto m = parse_metric(name)) return *m;
  std::string known;
  for (const MetricInfo& i : kMetrics) known += (known.empty() ? "" : ", ") + std::string(i.name);
  n.fail(fmt::format("unknown metric \"{}\" (known: {})", name, known));
}

BiasSpec read_bias(const JsonNode& n) {
  BiasSpec b;
  const auto& j = n.json();
  if (j.is_string()) {
    n.as_choice({"fit"});
    b.kind = BiasSpec::Kind::Fit;
  } else if (j.is_number() || j.is_array()) {
    b.kind = BiasSpec::Kind::List;
    for (auto v : n.as_int_list(-1000, 1000)) b.list.push_back(static_cast<int>(v));
  } else if (j.is_object() && j.contains("percentile")) {
    n.expect_object({"percentile"});
    b.kind = BiasSpec::Kind::Percentile;
    b.percentile = n.at("percentile").as_double();
    if (!(b.percentile > 0 && b.percentile <= 100)) n.at("percentile").fail("expected a percentile in (0, 100]");
  } else if (j.is_object()) {
    const bool argmin = j.contains("argmin");
    if (argmin) n.expect_object({"argmin", "min", "max"});
    else n.expect_object({"min", "max"});
    b.kind = argmin ? BiasSpec::Kind::Argmin : BiasSpec::Kind::Range;
    if (argmin) b.argmin = read_metric(n.at("argmin"));
    b.min = static_cast<int>(n.at("min").as_int(-1000, 1000));
    b.max = static_cast<int>(n.at("max").as_int(-1000, 1000));
    if (b.min > b.max) n.at("max").fail(fmt::format("max {} is below min {}", b.max, b.min));
  } else {
    n.fail(fmt::format("expected \"fit\", an integer, a list, {{\"min\",\"max\"}}, {{\"percentile\"}} or "
                       "{{\"argmin\",\"min\",\"max\"}}, got {}", describe(j)));
  }
  return b;
}

template <class T>
std::vector<int> ints(const std::vector<T>& v) {
  return std::vector<int>(v.begin(), v.end());
}

SpaceConfig read_space(const JsonNode& n) {
  n.expect_object({"width", "sign", "exp", "man", "bias", "specials", "subnormals", "rounding", "saturate",
                   "seed", "constraints", "family", "scaling"});
  SpaceConfig s;
  if (n.has("width")) s.width = ints(n.at("width").as_int_list(2, 16));
  if (n.has("sign")) s.sign = ints(n.at("sign").as_int_list(0, 1));
  if (n.has("exp")) s.exp = ints(n.at("exp").as_int_list(1, 8));
  if (n.has("man")) s.man = ints(n.at("man").as_int_list(0, 15));
  if (n.has("man") && n.has("width")) n.at("man").fail("give either \"width\" or \"man\", not both");
  if (n.has("bias")) s.bias = read_bias(n.at("bias"));
  if (n.has("specials")) {
    const JsonNode sp = n.at("specials");
    s.specials.clear();
    const auto names = sp.as_string_list();
    for (std::size_t i = 0; i < names.size(); ++i) {
      try {
        s.specials.push_back(parse_specials(names[i]));
      } catch (const FormatError& e) {
        (sp.is_array() ? sp.at(i) : sp).fail(e.what());
      }
    }
  }
  if (n.has("subnormals")) s.subnormals = n.at("subnormals").as_bool_list();
  if (n.has("rounding")) {
    const JsonNode r = n.at("rounding");
    s.rounding.clear();
    const auto names = r.as_string_list();
    for (std::size_t i = 0; i < names.size(); ++i) {
      try {
        s.rounding.push_back(parse_rounding(names[i]));
      } catch (const FormatError& e) {
        (r.is_array() ? r.at(i) : r).fail(e.what());
      }
    }
  }
  if (n.has("family")) {
    const JsonNode fam = n.at("family");
    const auto names = fam.as_string_list();
    s.family_float = s.family_int = false;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "float") s.family_float = true;
      else if (names[i] == "int") s.family_int = true;
      else (fam.is_array() ? fam.at(i) : fam).fail(fmt::format("family '{}' is not float or int", names[i]));
    }
    if (names.empty()) fam.fail("family must name float, int or both");
  }
  if (n.has("scaling")) {
    const JsonNode sc = n.at("scaling");
    const auto names = sc.as_string_list();
    if (names.empty()) sc.fail("scaling must name at least one suffix (\"none\" for the plain formats)");
    for (std::size_t i = 0; i < names.size(); ++i) {
      std::string canonical = "none";
      if (names[i] != "none") {
        // A suffix is checked on a stand-in element: the scale part must parse and validate alone.
        try {
          const Scheme probe = Scheme::parse("e4m3fn/" + names[i]);
          const std::string full = probe.name();
          canonical = full.substr(full.find('/') + 1);
        } catch (const FormatError& e) {
          std::string why = e.what();
          if (!why.empty() && why.back() == '.') why.pop_back();
          (sc.is_array() ? sc.at(i) : sc)
              .fail(fmt::format("scaling \"{}\" is not GROUP:SCALE:RULE (such as block32:e8m0:floor) or none: {}",
                                names[i], why));
        }
      }
      if (std::find(s.scaling.begin(), s.scaling.end(), canonical) == s.scaling.end()) s.scaling.push_back(canonical);
    }
  }
  if (n.has("saturate")) s.saturate = n.at("saturate").as_bool();
  if (n.has("seed")) s.seed = static_cast<std::uint64_t>(n.at("seed").as_int(0));
  if (n.has("constraints")) {
    const JsonNode c = n.at("constraints");
    c.expect_object({"man_min", "man_max", "exclude"});
    if (c.has("man_min")) s.man_min = static_cast<int>(c.at("man_min").as_int(0, 15));
    if (c.has("man_max")) s.man_max = static_cast<int>(c.at("man_max").as_int(0, 15));
    if (c.has("exclude")) {
      const JsonNode ex = c.at("exclude");
      const auto names = ex.as_string_list();
      for (std::size_t i = 0; i < names.size(); ++i) {
        try {
          s.exclude.push_back(Format::parse(names[i]).name());
        } catch (const FormatError& e) {
          (ex.is_array() ? ex.at(i) : ex).fail(e.what());
        }
      }
    }
  }
  return s;
}

std::filesystem::path resolve(const JsonNode& n, const std::filesystem::path& base_dir) {
  const std::string s = n.as_string();
  if (s.empty()) n.fail("expected a non-empty path");
  const std::filesystem::path f = s;
  return f.is_absolute() ? f : base_dir / f;
}

InputConfig read_model_input(const JsonNode& e, const std::filesystem::path& base_dir) {
  e.expect_object({"model", "data", "calib", "batch", "weights", "activations", "nodes"});
  InputConfig ic;
  ic.model = resolve(e.at("model"), base_dir);
  if (e.has("weights")) ic.weights = e.at("weights").as_bool();
  if (e.has("activations")) ic.activations = e.at("activations").as_bool();
  if (!ic.weights && !ic.activations) e.fail("\"weights\" and \"activations\" are both false: nothing to read");
  if (e.has("data")) ic.data = resolve(e.at("data"), base_dir);
  else if (ic.activations) e.fail("missing key \"data\" (calibration images for the activations)");
  if (e.has("calib")) ic.calib = e.at("calib").as_int(1, std::int64_t{1} << 31);
  if (e.has("batch")) ic.batch = e.at("batch").as_int(1, 1 << 16);
  if (e.has("nodes")) ic.nodes = e.at("nodes").as_string_list();
  return ic;
}

}  // namespace

SweepConfig parse_config(const nlohmann::json& j, const std::filesystem::path& base_dir, const std::string& source) {
  {
    const JsonNode root(j, "", source);
    root.expect_object({"inputs", "space", "granularity", "metrics", "objectives", "selection", "hardware", "out",
                        "chunk", "threads", "direct_only", "description"});
    SweepConfig c;
    c.source = source;
    c.effective = j;
    const JsonNode in = root.at("inputs");
    if (!in.is_array() || in.size() == 0) in.fail("expected a non-empty list of inputs");
    for (std::size_t i = 0; i < in.size(); ++i) {
      const JsonNode e = in.at(i);
      if (e.has("model")) {
        c.inputs.push_back(read_model_input(e, base_dir));
        continue;
      }
      e.expect_object({"file", "tensors", "role"});
      InputConfig ic;
      const std::filesystem::path f = e.at("file").as_string();
      ic.file = f.is_absolute() ? f : base_dir / f;
      ic.tensors = e.at("tensors").as_string_list();
      ic.role = e.has("role") ? e.at("role").as_string() : "tensor";
      if (ic.role.empty()) e.at("role").fail("expected a non-empty role");
      c.inputs.push_back(std::move(ic));
    }
    if (root.has("space")) c.space = read_space(root.at("space"));
    if (c.space.man_min > c.space.man_max) root.at("space").fail("constraints man_min exceeds man_max");
    if (root.has("granularity")) {
      const JsonNode g = root.at("granularity");
      c.granularity.clear();
      const std::size_t n = g.is_array() ? g.size() : 1;
      if (g.is_array() && n == 0) g.fail("expected a non-empty list");
      for (std::size_t i = 0; i < n; ++i) {
        const JsonNode gi = g.is_array() ? g.at(i) : g;
        const std::string s = gi.as_choice({"tensor", "channel", "role"});
        const Granularity v = s == "tensor" ? Granularity::Tensor : s == "channel" ? Granularity::Channel : Granularity::Role;
        if (std::find(c.granularity.begin(), c.granularity.end(), v) == c.granularity.end()) c.granularity.push_back(v);
      }
    }
    std::vector<Metric> wanted(std::begin(kPinned), std::end(kPinned));
    if (root.has("metrics")) {
      const JsonNode m = root.at("metrics");
      if (!m.is_array()) m.fail("expected a list of metric names");
      for (std::size_t i = 0; i < m.size(); ++i) wanted.push_back(read_metric(m.at(i)));
    }
    if (root.has("selection")) {
      const JsonNode s = root.at("selection");
      s.expect_object({"strategy", "metric"});
      if (s.has("strategy")) c.selection.strategy = s.at("strategy").as_choice({"ffp8_paper", "best_by_metric", "none"});
      if (s.has("metric")) c.selection.metric = read_metric(s.at("metric"));
    }
    wanted.push_back(c.selection.metric);
    if (c.space.bias.kind == BiasSpec::Kind::Argmin) wanted.push_back(c.space.bias.argmin);
    if (root.has("hardware")) {
      const JsonNode h = root.at("hardware");
      if (h.json().is_boolean()) {
        c.hardware.enabled = h.as_bool();
      } else {
        h.expect_object({"tech", "accumulator", "flexible", "enabled"});
        c.hardware.enabled = h.has("enabled") ? h.at("enabled").as_bool() : true;
        if (h.has("tech")) c.hardware.tech = h.at("tech").as_string();
        if (h.has("accumulator")) c.hardware.accumulator = h.at("accumulator").as_choice({"fp32", "fp16", "kulisch"});
        if (h.has("flexible")) c.hardware.flexible = h.at("flexible").as_bool();
      }
#ifndef FFP8_HAVE_HWCOST
      if (c.hardware.enabled) h.fail("hardware columns need the hwcost library, which this build does not have");
#endif
    }
    if (root.has("objectives")) {
      const JsonNode o = root.at("objectives");
      if (!o.is_array()) o.fail("expected a list of {\"column\", \"goal\"} objects");
      for (std::size_t i = 0; i < o.size(); ++i) {
        const JsonNode oi = o.at(i);
        oi.expect_object({"column", "goal"});
        Objective ob;
        ob.column = oi.at("column").as_string();
        const auto metric = parse_metric(ob.column);
        const auto& nc = numeric_columns();
        if (!metric && std::find(nc.begin(), nc.end(), ob.column) == nc.end()) {
          std::string known;
          for (const auto& s : nc) known += s + ", ";
          oi.at("column").fail(fmt::format("\"{}\" is not a numeric column (use a metric name or one of {})",
                                           ob.column, known.substr(0, known.size() - 2)));
        }
        if ((ob.column == "area_um2" || ob.column == "energy_pj_per_mac") && !c.hardware.enabled)
          oi.at("column").fail("hardware columns need \"hardware\": true");
        if (metric) wanted.push_back(*metric);
        ob.goal = metric ? info(*metric).goal : Goal::Min;
        if (oi.has("goal")) ob.goal = oi.at("goal").as_choice({"min", "max"}) == "min" ? Goal::Min : Goal::Max;
        c.objectives.push_back(ob);
      }
    }
    for (const MetricInfo& m : kMetrics)
      if (std::find(wanted.begin(), wanted.end(), m.id) != wanted.end()) c.metrics.push_back(m.id);
    c.out_given = root.has("out");
    if (c.out_given) c.out = resolve(root.at("out"), base_dir).lexically_normal().string();
    else c.out = default_out(source);
    if (root.has("chunk")) c.chunk = static_cast<std::size_t>(root.at("chunk").as_int(1024, std::int64_t{1} << 30));
    if (root.has("threads")) c.threads = static_cast<int>(root.at("threads").as_int(0, 1024));
    if (root.has("direct_only")) c.direct_only = root.at("direct_only").as_bool();
    if (root.has("description")) (void)root.at("description").as_string();
    return c;
  }
}

void apply_override(nlohmann::json& j, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(fmt::format("--set \"{}\": expected key.path=value", assignment));
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    value = text;  // not JSON: a plain string
  }
  nlohmann::json* at = &j;
  std::stringstream parts(key);
  std::string part, done;
  std::vector<std::string> keys;
  while (std::getline(parts, part, '.')) keys.push_back(part);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string& k = keys[i];
    if (k.empty()) throw ConfigError(fmt::format("--set \"{}\": empty key in the path", assignment));
    done += "/" + k;
    nlohmann::json& cur = *at;
    if (cur.is_array()) {
      std::size_t idx = 0;
      try {
        idx = std::stoul(k);
      } catch (const std::exception&) {
        throw ConfigError(fmt::format("--set \"{}\": {} is a list; expected an index", assignment, done));
      }
      if (idx >= cur.size())
        throw ConfigError(fmt::format("--set \"{}\": {} is past the end of the list ({} elements)", assignment, done, cur.size()));
      at = &cur[idx];
    } else {
      if (!cur.is_object()) {
        if (!cur.is_null())
          throw ConfigError(fmt::format("--set \"{}\": {} is inside a {} value", assignment, done, cur.type_name()));
        cur = nlohmann::json::object();
      }
      at = &cur[k];
    }
  }
  *at = value;
}

std::string default_out(const std::string& config_file) {
  if (config_file.empty()) return {};
  std::filesystem::path p(config_file);
  return (p.parent_path() / p.stem()).lexically_normal().string();
}

std::string config_hash(const nlohmann::json& j) {
  const std::string s = j.dump();  // nlohmann objects are key-sorted: canonical
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

SweepConfig load_config(const std::filesystem::path& file, const std::vector<std::string>& overrides) {
  nlohmann::json j = read_json_file(file, "config file");
  for (const auto& o : overrides) apply_override(j, o);
  return parse_config(j, file.has_parent_path() ? file.parent_path() : std::filesystem::path("."), file.string());
}

}  // namespace ffp8::explore
