// ffp8 hwcost: area, energy and delay of a processing element from the analytic model; with
// --synth also the Yosys/ABC area, with --verilog the generated RTL, with --calibrate a fit of
// the model to synthesis over the calibration grid.
#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "core/format/format.hpp"
#include "hwcost/calib/calibrate.hpp"
#include "hwcost/memory.hpp"
#include "hwcost/model.hpp"
#include "hwcost/rtl/verilog.hpp"
#include "hwcost/synth/yosys.hpp"
#include "hwcost/tech.hpp"
#include "tools/ffp8/args.hpp"
#include "tools/ffp8/command.hpp"

namespace po = boost::program_options;
namespace hw = ffp8::hwcost;

namespace {

// Writes `text` to `path` whole or not at all (temporary name, then rename).
void write_atomic(const std::filesystem::path& path, const std::string& text) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw ffp8::IoError(fmt::format("cannot write '{}'", path.string()));
    out << text;
    if (!out) throw ffp8::IoError(fmt::format("cannot write '{}'", path.string()));
  }
  std::filesystem::rename(tmp, path);
}

ffp8::Format format_arg(const std::string& option, const std::string& text) {
  try {
    return ffp8::Format::parse(text);
  } catch (const ffp8::FormatError& e) {
    throw ffp8::FormatError(fmt::format("--{}: {}", option, e.what()));
  }
}

nlohmann::json cost_json(const hw::Cost& c, const hw::PeSpec& s, const hw::Cost& int8) {
  nlohmann::json j;
  j["label"] = c.label;
  j["tech"] = c.tech;
  j["feasible"] = c.feasible;
  if (!c.feasible) {
    j["reason"] = c.reason;
    return j;
  }
  if (s.kind == hw::PeKind::Float) {
    j["weight"] = s.weight.name();
    j["activation"] = s.activation.name();
    j["accumulator"] = std::string(hw::to_string(s.accumulator));
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
  if (s.accumulator == hw::Accumulator::Kulisch) j["kulisch_terms"] = s.kulisch_terms;
  return j;
}

int run_calibrate(const hw::Tech& prior, const po::variables_map& vm) {
  hw::SynthOptions so;
  if (!prior.liberty.empty()) so.liberty = prior.liberty;
  const int jobs = vm["jobs"].as<int>();
  const hw::Calibration c = hw::calibrate(prior, so, jobs, [](const hw::CalPoint& p, int done, int total) {
    fmt::print(stderr, "[{}/{}] {:<48} {:>10.0f} um2 (spread over {} variants {:.1f}%)\n", done, total, p.label,
               p.synth_um2, p.variants.size(), 100 * p.synth_spread);
  });
  nlohmann::json pts = nlohmann::json::array();
  std::string csv = "label,held_out,synth_um2,synth_spread,synth_cells,model_um2,rel_err\n";
  for (const auto& p : c.points) {
    const double err = (p.model_um2 - p.synth_um2) / p.synth_um2;
    csv += fmt::format("\"{}\",{},{:.1f},{:.4f},{},{:.1f},{:.4f}\n", p.label, p.held_out ? 1 : 0, p.synth_um2,
                       p.synth_spread, p.synth_cells, p.model_um2, err);
    pts.push_back({{"label", p.label}, {"held_out", p.held_out}, {"synth_um2", p.synth_um2},
                   {"synth_variants", p.variants.size()}, {"synth_spread", p.synth_spread},
                   {"synth_cells", p.synth_cells}, {"model_um2", p.model_um2}, {"rel_err", err}});
  }
  const auto q = [](const hw::FitQuality& f) {
    return nlohmann::json{{"points", f.points}, {"median_abs_rel_err", f.median_abs_rel_err},
                          {"max_abs_rel_err", f.max_abs_rel_err}, {"spearman", f.spearman}};
  };
  nlohmann::json summary;
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
  summary["train"] = q(c.train);
  summary["held_out"] = q(c.held_out);
  nlohmann::json by_acc = nlohmann::json::object();
  for (const auto& [acc, rho] : c.spearman_by_accumulator) by_acc[acc] = rho;
  summary["spearman_fixed_formats_by_accumulator"] = by_acc;
  nlohmann::json coef = nlohmann::json::object();
  for (int i = 0; i < hw::kCoefCount; ++i) coef[std::string(hw::coefficient_names()[i])] = c.fitted.coef[i];
  summary["coefficients_ge"] = coef;
  summary["points"] = pts;
  if (vm.count("out")) {
    const std::filesystem::path dir = vm["out"].as<std::string>();
    write_atomic(dir / "calibration.csv", csv);
    write_atomic(dir / "calibration.json", summary.dump(2) + "\n");
  }
  if (vm.count("write-tech")) {
    hw::Tech t = c.fitted;
    nlohmann::json cal;
    cal["status"] = "fitted";
    cal["method"] = summary["fit"];
    cal["flow"] = summary["flow"];
    cal["train"] = q(c.train);
    cal["held_out"] = q(c.held_out);
    cal["spearman_fixed_formats_by_accumulator"] = by_acc;
    t.calibration = cal;
    write_atomic(vm["write-tech"].as<std::string>(), hw::to_json(t).dump(2) + "\n");
  }
  fmt::print("held-out: {} points, median |err| {:.1f}%, max |err| {:.1f}%, Spearman {:.3f}\n", c.held_out.points,
             100 * c.held_out.median_abs_rel_err, 100 * c.held_out.max_abs_rel_err, c.held_out.spearman);
  fmt::print("training: {} points, median |err| {:.1f}%, max |err| {:.1f}%, Spearman {:.3f}\n", c.train.points,
             100 * c.train.median_abs_rel_err, 100 * c.train.max_abs_rel_err, c.train.spearman);
  for (const auto& [acc, rho] : c.spearman_by_accumulator)
    fmt::print("Spearman over fixed formats, {} accumulator: {:.3f}\n", acc, rho);
  if (summary.contains("synth_spread_over_bias_variants"))
    fmt::print("synthesis spread over bias variants of one template: median {:.1f}%, max {:.1f}%\n",
               100 * summary["synth_spread_over_bias_variants"]["median"].get<double>(),
               100 * summary["synth_spread_over_bias_variants"]["max"].get<double>());
  return 0;
}

int run_hwcost(const std::vector<std::string>& args) {
  po::options_description opts(
      "ffp8 hwcost --format SPEC [--weight SPEC --activation SPEC] [--accumulator fp32|fp16|kulisch]\n"
      "            [--flexible] [--tech FILE] [--json] [--synth] [--verilog OUT.v]\n"
      "ffp8 hwcost --int8 [--tech FILE] [--json]\n"
      "ffp8 hwcost --calibrate [--tech FILE] [--out DIR] [--write-tech FILE] [--jobs N]\n\n"
      "Area (um^2), energy per MAC (pJ) and a delay estimate of a processing element that multiplies an\n"
      "FFP8 weight by an FFP8 activation and accumulates, from the analytic model calibrated to synthesis.\n\n"
      "options");
  opts.add_options()("help,h", "show this help")("format", po::value<std::string>(), "format of both operands")(
      "weight", po::value<std::string>(), "weight format (overrides --format)")(
      "activation", po::value<std::string>(), "activation format (overrides --format)")(
      "accumulator", po::value<std::string>()->default_value("fp32"), "fp32, fp16 or kulisch (exact)")(
      "kulisch-terms", po::value<unsigned long long>()->default_value(4096), "K: products a Kulisch register sums")(
      "flexible", "decoders configurable at run time (field split, bias, sign presence)")(
      "flex-exp-min", po::value<int>()->default_value(2), "flexible: narrowest exponent field")(
      "flex-exp-max", po::value<int>()->default_value(5), "flexible: widest exponent field")(
      "int8", "the INT8 reference MAC (32-bit accumulator)")(
      "tech", po::value<std::string>()->default_value("osu018"), "technology table: name in hwcost/tech or a file")(
      "json", "print one JSON object")("synth", "also synthesize with Yosys and report the mapped area")(
      "verilog", po::value<std::string>(), "write the generated Verilog to this file")(
      "weights-count", po::value<unsigned long long>(), "memory footprint: number of weights")(
      "activations-count", po::value<unsigned long long>()->default_value(0), "memory footprint: activation elements")(
      "calibrate", "synthesize the calibration grid and fit the model")(
      "out", po::value<std::string>(), "calibrate: directory for calibration.csv/json")(
      "write-tech", po::value<std::string>(), "calibrate: write the fitted technology table here")(
      "jobs", po::value<int>()->default_value(2), "calibrate: parallel synthesis runs");
  const auto parsed = ffp8::cli::parse_args(args, opts);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  const hw::Tech tech = hw::find_tech(vm["tech"].as<std::string>());
  if (vm.count("calibrate")) return run_calibrate(tech, vm);

  hw::PeSpec spec;
  if (vm.count("int8")) {
    spec = hw::PeSpec::int8();
  } else {
    if (!vm.count("format") && !(vm.count("weight") && vm.count("activation")))
      throw ffp8::cli::UsageError("give --format SPEC, or both --weight SPEC and --activation SPEC, or --int8");
    if (vm.count("format")) spec.weight = spec.activation = format_arg("format", vm["format"].as<std::string>());
    if (vm.count("weight")) spec.weight = format_arg("weight", vm["weight"].as<std::string>());
    if (vm.count("activation")) spec.activation = format_arg("activation", vm["activation"].as<std::string>());
    try {
      spec.accumulator = hw::parse_accumulator(vm["accumulator"].as<std::string>());
    } catch (const ffp8::ConfigError& e) {
      throw ffp8::cli::UsageError(std::string("--accumulator: ") + e.what());
    }
    spec.kulisch_terms = vm["kulisch-terms"].as<unsigned long long>();
    spec.flexible = vm.count("flexible") > 0;
    spec.flex.exp_min = vm["flex-exp-min"].as<int>();
    spec.flex.exp_max = vm["flex-exp-max"].as<int>();
  }
  const hw::Cost cost = hw::evaluate(spec, tech);
  if (!cost.feasible) throw ffp8::ConfigError(fmt::format("infeasible design ({}): {}", cost.label, cost.reason));
  const hw::Cost int8 = hw::int8_cost(tech);
  nlohmann::json j = cost_json(cost, spec, int8);
  if (vm.count("verilog")) write_atomic(vm["verilog"].as<std::string>(), hw::generate_verilog(spec, "pe").verilog);
  if (vm.count("synth")) {
    hw::SynthOptions so;
    if (!tech.liberty.empty()) so.liberty = tech.liberty;
    const hw::SynthResult r = hw::synthesize(hw::generate_verilog(spec, "pe"), so);
    nlohmann::json cells = nlohmann::json::object();
    for (const auto& [k, n] : r.cells) cells[k] = n;
    j["synthesis"] = {{"area_um2", r.area_um2}, {"cell_count", r.cell_count}, {"cells", cells},
                      {"liberty", so.liberty}, {"model_error", (cost.area_um2 - r.area_um2) / r.area_um2}};
  }
  if (vm.count("weights-count")) {
    hw::TensorCounts n{vm["weights-count"].as<unsigned long long>(), vm["activations-count"].as<unsigned long long>(), 0};
    nlohmann::json mem = nlohmann::json::array();
    auto all = hw::reference_footprints(n);
    if (spec.kind == hw::PeKind::Float) all.push_back(hw::footprint(n, spec.weight, spec.activation));
    for (const auto& f : all)
      mem.push_back({{"name", f.name}, {"weight_bytes", f.weight_bytes}, {"activation_bytes", f.activation_bytes},
                     {"offchip_bytes_per_inference", f.offchip_bytes_per_inference},
                     {"ratio_to_float32", f.ratio_to_float32}});
    j["memory"] = mem;
  }
  if (vm.count("json")) {
    std::cout << j.dump() << "\n";
    return 0;
  }
  fmt::print("design       {}\ntech         {}\n", cost.label, tech.name);
  fmt::print("area         {:.0f} um^2 ({:.0f} GE, {:.2f}x INT8 MAC)\n", cost.area_um2, cost.area_ge,
             cost.area_um2 / int8.area_um2);
  fmt::print("energy       {:.3f} pJ/MAC ({:.2f}x INT8 MAC; estimate)\n", cost.energy_pj_per_mac,
             cost.energy_pj_per_mac / int8.energy_pj_per_mac);
  fmt::print("delay        {:.2f} ns (logic-level estimate)\n", cost.delay_ns);
  fmt::print("components (um^2):\n");
  for (const auto& c : cost.components) fmt::print("  {:<12} {:>10.0f}\n", c.name, c.area_um2);
  if (j.contains("synthesis"))
    fmt::print("synthesis    {:.0f} um^2, {} cells (model error {:+.1f}%)\n", j["synthesis"]["area_um2"].get<double>(),
               j["synthesis"]["cell_count"].get<long>(), 100 * j["synthesis"]["model_error"].get<double>());
  if (j.contains("memory"))
    for (const auto& m : j["memory"])
      fmt::print("memory       {:<40} {:>14.0f} bytes/inference ({:.3f}x float32)\n", m["name"].get<std::string>(),
                 m["offchip_bytes_per_inference"].get<double>(), m["ratio_to_float32"].get<double>());
  return 0;
}

}  // namespace

FFP8_COMMAND("hwcost", "area and energy of a processing element for a format", run_hwcost);
