// ffp8 hwcost: area, energy and delay of a processing element from the analytic model; with
// --synth also the Yosys/ABC area, with --verilog the generated RTL, with --calibrate a fit of
// the model to synthesis over the calibration grid. Thin: hwcost/report.hpp builds the spec
// and the documents; this file parses arguments, prints and writes (each file whole or not at all).
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "core/io/h5.hpp"
#include "hwcost/report.hpp"
#include "hwcost/rtl/verilog.hpp"
#include "tools/ffp8/args.hpp"
#include "tools/ffp8/command.hpp"

namespace po = boost::program_options;
namespace hw = ffp8::hwcost;

namespace {

// Counts are priced in double precision: at most 2^53, where every integer is exact.
constexpr std::int64_t kMaxCount = std::int64_t{1} << 53;

int run_calibrate(const hw::Tech& prior, const po::variables_map& vm) {
  hw::SynthOptions so;
  if (!prior.liberty.empty()) so.liberty = prior.liberty;
  const int jobs = static_cast<int>(ffp8::cli::int_option(vm, "jobs", 1, 256));
  const hw::Calibration c = hw::calibrate(prior, so, jobs, [](const hw::CalPoint& p, int done, int total) {
    fmt::print(stderr, "[{}/{}] {:<48} {:>10.0f} um2 (spread over {} variants {:.1f}%)\n", done, total, p.label,
               p.synth_um2, p.variants.size(), 100 * p.synth_spread);
  });
  const hw::CalibrationReport report = hw::calibration_report(c, so);
  if (vm.count("out")) {
    const std::filesystem::path dir = vm["out"].as<std::string>();
    ffp8::h5::create_output_folder(dir.string());
    ffp8::h5::write_text_atomic((dir / "calibration.csv").string(), report.csv);
    ffp8::h5::write_text_atomic((dir / "calibration.json").string(), report.summary.dump(2) + "\n");
  }
  if (vm.count("write-tech")) {
    const std::filesystem::path file = vm["write-tech"].as<std::string>();
    if (file.has_parent_path()) ffp8::h5::create_output_folder(file.parent_path().string());
    ffp8::h5::write_text_atomic(file.string(), hw::to_json(report.fitted).dump(2) + "\n");
  }
  const nlohmann::json& summary = report.summary;
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
      "FFP8 weight by an FFP8 activation and accumulates, from the analytic model calibrated to synthesis.\n"
      "Output paths are relative to the working folder; missing folders are created. See docs/hwcost.md.\n\n"
      "options");
  opts.add_options()("help,h", "show this help")("format", po::value<std::string>(), "format of both operands")(
      "weight", po::value<std::string>(), "weight format (overrides --format)")(
      "activation", po::value<std::string>(), "activation format (overrides --format)")(
      "accumulator", po::value<std::string>()->default_value("fp32"), "fp32, fp16 or kulisch (exact)")(
      "kulisch-terms", po::value<std::string>()->default_value("4096"), "K: products a Kulisch register sums")(
      "flexible", "decoders configurable at run time (field split, bias, sign presence)")(
      "flex-exp-min", po::value<std::string>()->default_value("2"), "flexible: narrowest exponent field")(
      "flex-exp-max", po::value<std::string>()->default_value("5"), "flexible: widest exponent field")(
      "int8", "the INT8 reference MAC (32-bit accumulator)")(
      "tech", po::value<std::string>()->default_value("osu018"), "technology table: name in hwcost/tech or a file")(
      "json", "print one JSON object")("synth", "also synthesize with Yosys and report the mapped area")(
      "verilog", po::value<std::string>(), "write the generated Verilog to this file")(
      "weights-count", po::value<std::string>(), "memory footprint: number of weights")(
      "activations-count", po::value<std::string>()->default_value("0"), "memory footprint: activation elements")(
      "calibrate", "synthesize the calibration grid and fit the model")(
      "out", po::value<std::string>(), "calibrate: directory for calibration.csv/json")(
      "write-tech", po::value<std::string>(), "calibrate: write the fitted technology table here")(
      "jobs", po::value<std::string>()->default_value("2"), "calibrate: parallel synthesis runs");
  const auto parsed = ffp8::cli::parse_args(args, opts);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  const hw::Tech tech = hw::find_tech(vm["tech"].as<std::string>());
  if (vm.count("calibrate")) return run_calibrate(tech, vm);

  hw::PeOptions po_;
  po_.int8 = vm.count("int8") > 0;
  for (auto [key, field] : {std::pair{"format", &po_.format}, {"weight", &po_.weight}, {"activation", &po_.activation}})
    if (vm.count(key)) *field = vm[key].as<std::string>();
  po_.accumulator = vm["accumulator"].as<std::string>();
  po_.kulisch_terms = static_cast<std::uint64_t>(ffp8::cli::int_option(vm, "kulisch-terms", 1, kMaxCount));
  po_.flexible = vm.count("flexible") > 0;
  po_.flex_exp_min = static_cast<int>(ffp8::cli::int_option(vm, "flex-exp-min", 0, 31));
  po_.flex_exp_max = static_cast<int>(ffp8::cli::int_option(vm, "flex-exp-max", 0, 31));
  hw::PeSpec spec;
  try {
    spec = hw::parse_pe_spec(po_, "--");
  } catch (const ffp8::ConfigError& e) {
    throw ffp8::cli::UsageError(e.what());  // a missing operand or unknown accumulator: usage
  }
  const hw::Cost cost = hw::evaluate(spec, tech);
  if (!cost.feasible) throw ffp8::ConfigError(fmt::format("infeasible design ({}): {}", cost.label, cost.reason));
  const hw::Cost int8 = hw::int8_cost(tech);
  nlohmann::json j = hw::cost_json(cost, spec, int8);
  if (vm.count("verilog")) {
    const std::filesystem::path file = vm["verilog"].as<std::string>();
    if (file.has_parent_path()) ffp8::h5::create_output_folder(file.parent_path().string());
    ffp8::h5::write_text_atomic(file.string(), hw::generate_verilog(spec, "pe").verilog);
  }
  if (vm.count("synth")) {
    hw::SynthOptions so;
    if (!tech.liberty.empty()) so.liberty = tech.liberty;
    j["synthesis"] = hw::synthesis_json(hw::synthesize(hw::generate_verilog(spec, "pe"), so), so, cost);
  }
  if (vm.count("weights-count")) {
    const hw::TensorCounts n{static_cast<std::uint64_t>(ffp8::cli::int_option(vm, "weights-count", 0, kMaxCount)),
                             static_cast<std::uint64_t>(ffp8::cli::int_option(vm, "activations-count", 0, kMaxCount)),
                             0};
    j["memory"] = hw::memory_json(n, spec);
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
