#include "explore/report/report.hpp"

#include <cmath>
#include <filesystem>
#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/io/h5.hpp"
#include "core/io/json_file.hpp"

namespace ffp8::explore {

namespace {

// CSV cells follow the JSON rule: nan, inf, -inf for the numbers JSON cannot hold.
std::string num(double v) {
  const nlohmann::json j = json_number(v);
  return j.is_string() ? j.get<std::string>() : fmt::format("{:.17g}", v);
}

std::string cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::string points_csv(const SweepConfig& c, const SweepResult& r, bool pareto_only) {
  const bool scaled = !c.space.scaling.empty();
  std::string out = "tensor,role,granularity,channel,format";
  if (scaled) out += ",scaling,effective_bits";
  out += ",sign,exp,man,bias,specials,subnormals,bias_rule,rounding,count,nan,inf";
  for (Metric m : c.metrics) out += fmt::format(",{}", info(m).name);
  if (c.hardware.enabled) out += ",area_um2,energy_pj_per_mac";
  out += ",path,pareto,knee\n";
  for (const Point& p : r.points) {
    if (pareto_only && !p.pareto) continue;
    const Group& g = r.groups[p.group];
    const Format& f = p.format;
    out += fmt::format("{},{},{},{},{}", cell(g.tensor), cell(g.role), to_string(g.granularity), g.channel,
                       point_format_name(p));
    if (scaled)
      out += fmt::format(",{},{}", p.scaling.empty() ? "none" : p.scaling, num(column_value(p, g, "effective_bits")));
    out += fmt::format(",{},{},{},{},{},{},{},{},{},{},{}", f.sign, f.exp, f.man, f.bias,
                       to_string(f.specials), f.subnormals ? 1 : 0, p.bias_rule, to_string(p.rounding), g.count,
                       g.nan, g.inf);
    for (Metric m : c.metrics) out += "," + num(metric_value(m, p.sums));
    if (c.hardware.enabled) out += "," + num(p.area_um2) + "," + num(p.energy_pj_per_mac);
    out += fmt::format(",{},{},{}\n", p.by_stats ? "stats" : "direct", p.pareto ? 1 : 0, p.knee ? 1 : 0);
  }
  return out;
}

nlohmann::json summary_json(const SweepConfig& c, const SweepResult& r, const Provenance& prov) {
  nlohmann::json s;
  s["config"] = c.effective;
  s["config_file"] = c.source;
  s["provenance"] = prov.to_json();
  s["context"] = run_context();
  s["inputs"] = r.tensors;
  std::size_t pareto = 0;
  for (const Point& p : r.points) pareto += p.pareto;
  s["counts"] = {{"points", r.points.size()},
                 {"pareto", pareto},
                 {"scored_by_stats", r.by_stats},
                 {"scored_by_direct", r.by_direct},
                 {"skipped", {{"man_negative", r.skipped.man_negative},
                              {"constraint", r.skipped.constraint},
                              {"invalid", r.skipped.invalid},
                              {"excluded", r.skipped.excluded}}}};
  nlohmann::json gran = nlohmann::json::array();
  for (Granularity g : c.granularity) gran.push_back(to_string(g));
  s["granularity"] = gran;
  nlohmann::json objectives = nlohmann::json::array();
  for (const Objective& o : c.objectives) objectives.push_back({{"column", o.column}, {"goal", o.goal == Goal::Min ? "min" : "max"}});
  s["objectives"] = objectives;
  nlohmann::json knees = nlohmann::json::array();
  for (const Point& p : r.points) {
    if (!p.knee) continue;
    const Group& g = r.groups[p.group];
    nlohmann::json k = {{"tensor", g.tensor}, {"role", g.role}, {"format", point_format_name(p)},
                        {"rounding", to_string(p.rounding)}};
    for (const Objective& o : c.objectives) k[o.column] = json_number(column_value(p, g, o.column));
    knees.push_back(std::move(k));
  }
  s["knee"] = knees;
  nlohmann::json per_tensor = nlohmann::json::array(), per_role = nlohmann::json::object();
  for (const Choice& ch : r.choices) {
    nlohmann::json j = {{"format", ch.format.name()}, {"rounding", to_string(ch.rounding)},
                        {info(c.selection.metric).name, json_number(ch.value)}, {"candidates", ch.candidates},
                        {"role", ch.role}};
    if (ch.scope == "role") {
      per_role[ch.name] = j;
    } else {
      j["tensor"] = ch.name;
      per_tensor.push_back(std::move(j));
    }
  }
  s["selection"] = {{"strategy", c.selection.strategy}, {"metric", info(c.selection.metric).name},
                    {"per_tensor", per_tensor}, {"per_role", per_role}};
  s["notes"] = {
      "path=stats: scored from one-pass bucket statistics, exact (to float64 rounding) against quantize-then-measure",
      "path=direct: quantize-then-measure with the Quantizer (formats with man > 7, or ranges among float32 subnormals)",
      "stochastic rounding on the stats path reports expectations (sse, counts); the direct path reports one seeded sample",
      "kl_div is approximate by nature (2048-bin histograms on [0, max|x|])",
      "pareto and knee are computed per tensor group",
      "nan, inf: the group's NaN and infinite values, left out of count, every metric, the bias rules and selection"};
  return s;
}

void write_outputs(const std::string& dir, const SweepConfig& c, const SweepResult& r, const Provenance& prov) {
  // Render everything before touching the disk: an error while rendering leaves no file.
  write_outputs(dir, points_csv(c, r, false), points_csv(c, r, true), summary_json(c, r, prov));
}

void write_outputs(const std::string& dir, const std::string& points, const std::string& front,
                   const nlohmann::json& summary_doc) {
  const std::string summary = summary_doc.dump(2) + "\n";
  h5::create_output_folder(dir);
  const std::filesystem::path d(dir);
  h5::write_text_atomic((d / "points.csv").string(), points);
  h5::write_text_atomic((d / "pareto.csv").string(), front);
  h5::write_text_atomic((d / "summary.json").string(), summary);
}

}  // namespace ffp8::explore
