#include "hwcost/report.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "core/errors.hpp"

namespace ffp8::hwcost {

namespace {

Format format_option(std::string_view prefix, const char* option, const std::string& text) {
  try {
    return Format::parse(text);
  } catch (const FormatError& e) {
    throw FormatError(fmt::format("{}{}: {}", prefix, option, e.what()));
  }
}

nlohmann::json quality_json(const FitQuality& f) {
  return nlohmann::json{{"points", f.points}, {"median_abs_rel_err", f.median_abs_rel_err},
                        {"max_abs_rel_err", f.max_abs_rel_err}, {"spearman", f.spearman}};
}

}  // namespace

PeSpec parse_pe_spec(const PeOptions& o, std::string_view prefix) {
  if (o.int8) {
    // --int8 prices the INT8 MAC only: a format or float option with it is a contradiction.
    std::string other;
    if (o.format) other = "format";
    else if (o.weight) other = "weight";
    else if (o.activation) other = "activation";
    else if (o.flexible) other = "flexible";
    else if (o.accumulator != "fp32") other = "accumulator";
    if (!other.empty())
      throw ConfigError(fmt::format("{0}int8 prices the INT8 reference MAC and takes no {0}{1}; give one or the other",
                                    prefix, other));
    return PeSpec::int8();
  }
  if (!o.format && !(o.weight && o.activation))
    throw ConfigError(fmt::format("give {0}format SPEC, or both {0}weight SPEC and {0}activation SPEC, or {0}int8", prefix));
  PeSpec spec;
  if (o.format) spec.weight = spec.activation = format_option(prefix, "format", *o.format);
  if (o.weight) spec.weight = format_option(prefix, "weight", *o.weight);
  if (o.activation) spec.activation = format_option(prefix, "activation", *o.activation);
  try {
    spec.accumulator = parse_accumulator(o.accumulator);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}accumulator: {}", prefix, e.what()));
  }
  spec.kulisch_terms = o.kulisch_terms;
  spec.flexible = o.flexible;
  spec.flex.exp_min = o.flex_exp_min;
  spec.flex.exp_max = o.flex_exp_max;
  return spec;
}

nlohmann::json cost_json(const Cost& c, const PeSpec& s, const Cost& int8) {
  nlohmann::json j;
  j["label"] = c.label;
  j["tech"] = c.tech;
  j["feasible"] = c.feasible;
  if (!c.feasible) {
    j["reason"] = c.reason;
    return j;
  }
  if (s.kind == PeKind::Float) {
    j["weight"] = s.weight.name();
    j["activation"] = s.activation.name();
    j["accumulator"] = std::string(to_string(s.accumulator));
    j["flexible"] = s.flexible;
  }
  j["area_um2"] = c.area_um2;
  j["area_ge"] = c.area_ge;
  j["energy_pj_per_mac"] = c.energy_pj_per_mac;
  j["delay_ns"] = c.delay_ns;
  j["area_vs_int8"] = c.area_um2 / int8.area_um2;
  j["energy_vs_int8"] = c.energy_pj_per_mac / int8.energy_pj_per_mac;
  nlohmann::json comp = nlohmann::json::object();
  for (const auto& x : c.components) comp[x.name] = x.area_um2;
  j["components"] = comp;
  const auto& g = c.geometry;
  j["widths"] = {{"product_bits", g.product_bits}, {"accumulator_bits", g.acc_bits},
                 {"kulisch_bits", g.kulisch_bits}, {"exp_path_bits", g.exp_path_bits}};
  if (s.accumulator == Accumulator::Kulisch) j["kulisch_terms"] = s.kulisch_terms;
  return j;
}

nlohmann::json synthesis_json(const SynthResult& r, const SynthOptions& so, const Cost& model) {
  nlohmann::json cells = nlohmann::json::object();
  for (const auto& [k, n] : r.cells) cells[k] = n;
  return {{"area_um2", r.area_um2}, {"cell_count", r.cell_count}, {"cells", cells},
          {"liberty", so.liberty}, {"model_error", (model.area_um2 - r.area_um2) / r.area_um2}};
}

nlohmann::json memory_json(const TensorCounts& n, const PeSpec& spec) {
  nlohmann::json mem = nlohmann::json::array();
  auto all = reference_footprints(n);
  if (spec.kind == PeKind::Float) all.push_back(footprint(n, spec.weight, spec.activation));
  for (const auto& f : all)
    mem.push_back({{"name", f.name}, {"weight_bytes", f.weight_bytes}, {"activation_bytes", f.activation_bytes},
                   {"offchip_bytes_per_inference", f.offchip_bytes_per_inference},
                   {"ratio_to_float32", f.ratio_to_float32}});
  return mem;
}

CalibrationReport calibration_report(const Calibration& c, const SynthOptions& so) {
  CalibrationReport out;
  nlohmann::json pts = nlohmann::json::array();
  out.csv = "label,held_out,synth_um2,synth_spread,synth_cells,model_um2,rel_err\n";
  for (const auto& p : c.points) {
    const double err = (p.model_um2 - p.synth_um2) / p.synth_um2;
    out.csv += fmt::format("\"{}\",{},{:.1f},{:.4f},{},{:.1f},{:.4f}\n", p.label, p.held_out ? 1 : 0, p.synth_um2,
                           p.synth_spread, p.synth_cells, p.model_um2, err);
    pts.push_back({{"label", p.label}, {"held_out", p.held_out}, {"synth_um2", p.synth_um2},
                   {"synth_variants", p.variants.size()}, {"synth_spread", p.synth_spread},
                   {"synth_cells", p.synth_cells}, {"model_um2", p.model_um2}, {"rel_err", err}});
  }
  nlohmann::json& summary = out.summary;
  summary["tool"] = "ffp8 hwcost --calibrate";
  summary["liberty"] = so.liberty;
  summary["flow"] = "yosys: synth -flatten -top pe; dfflibmap -liberty L; abc -liberty L; opt_clean; stat -liberty L";
  summary["fit"] = "weighted NNLS on training points (weights 1/area), register_bit fixed";
  summary["variants"] = "fixed PEs: mean area over biases b-1, b, b+1 of both operands";
  {
    std::vector<double> spread;
    for (const auto& p : c.points)
      if (p.variants.size() > 1) spread.push_back(p.synth_spread);
    std::sort(spread.begin(), spread.end());
    if (!spread.empty())
      summary["synth_spread_over_bias_variants"] = {{"median", spread[spread.size() / 2]}, {"max", spread.back()}};
  }
  summary["train"] = quality_json(c.train);
  summary["held_out"] = quality_json(c.held_out);
  nlohmann::json by_acc = nlohmann::json::object();
  for (const auto& [acc, rho] : c.spearman_by_accumulator) by_acc[acc] = rho;
  summary["spearman_fixed_formats_by_accumulator"] = by_acc;
  nlohmann::json coef = nlohmann::json::object();
  for (int i = 0; i < kCoefCount; ++i) coef[std::string(coefficient_names()[i])] = c.fitted.coef[i];
  summary["coefficients_ge"] = coef;
  summary["points"] = pts;
  out.fitted = c.fitted;
  nlohmann::json cal;
  cal["status"] = "fitted";
  cal["method"] = summary["fit"];
  cal["flow"] = summary["flow"];
  cal["train"] = quality_json(c.train);
  cal["held_out"] = quality_json(c.held_out);
  cal["spearman_fixed_formats_by_accumulator"] = by_acc;
  out.fitted.calibration = cal;
  return out;
}

}  // namespace ffp8::hwcost
