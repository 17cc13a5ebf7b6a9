// ffp8 sweep CONFIG.json [--out DIR] [--set key.path=value ...] [--threads N]: a design-space
// sweep writing points.csv, pareto.csv and summary.json. The library does the work; this file
// parses arguments and draws the progress bar (only when stderr is a terminal).
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <iostream>
#include <omp.h>
#include <unistd.h>

#include "explore/config/config.hpp"
#include "explore/report/report.hpp"
#include "explore/sweep/source.hpp"
#include "explore/sweep/sweep.hpp"
#include "tools/ffp8/command.hpp"

namespace po = boost::program_options;
namespace ex = ffp8::explore;

namespace {

/// A one-line progress bar with ETA on stderr, redrawn at most ~10 times a second.
class ProgressBar {
 public:
  ProgressBar() : start_(std::chrono::steady_clock::now()) {}
  void operator()(std::string_view stage, double done, double total) {
    const auto now = std::chrono::steady_clock::now();
    const bool last = done >= total;
    if (stage == stage_ && (finished_ || (!last && now - drawn_ < std::chrono::milliseconds(100)))) return;
    if (stage != stage_) {
      stage_ = std::string(stage);
      stage_start_ = now;
      finished_ = false;
    }
    finished_ = last;
    drawn_ = now;
    const double f = total > 0 ? std::min(1.0, done / total) : 1.0;
    const double spent = std::chrono::duration<double>(now - stage_start_).count();
    const double eta = f > 0 ? spent * (1 - f) / f : 0;
    constexpr int kWidth = 30;
    const int fill = static_cast<int>(f * kWidth);
    fmt::print(stderr, "\r{:<12} [{}{}] {:5.1f}%  ETA {:4.0f}s ", stage_, std::string(static_cast<std::size_t>(fill), '#'),
               std::string(static_cast<std::size_t>(kWidth - fill), ' '), 100 * f, eta);
    if (last) fmt::print(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  std::chrono::steady_clock::time_point start_, stage_start_, drawn_;
  std::string stage_;
  bool finished_ = false;  // the stage's final line is drawn once
};

int run_sweep_cmd(const std::vector<std::string>& args) {
  po::options_description opts(
      "ffp8 sweep CONFIG.json [--out DIR] [--set key.path=value ...] [--threads N]\n\n"
      "Scores every format of the config's design space on its tensors and writes points.csv,\n"
      "pareto.csv and summary.json into DIR (default: the config's \"out\"). See docs/sweep.md.\n\noptions");
  opts.add_options()("help,h", "show this help")("out", po::value<std::string>(), "output folder (overrides \"out\")")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a config value: key.path=value (value parsed as JSON, else a string); repeatable")(
      "threads", po::value<int>(), "worker threads (default: OpenMP's)")("quiet,q", "no progress bar")(
      "config", po::value<std::string>(), "sweep config (JSON)");
  po::positional_options_description pos;
  pos.add("config", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (!vm.count("config")) throw ffp8::cli::UsageError("missing the CONFIG.json argument");
  if (vm.count("threads") && vm["threads"].as<int>() < 1) throw ffp8::cli::UsageError("--threads must be at least 1");

  const auto start = std::chrono::system_clock::now();
  std::vector<std::string> sets;
  if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
  if (vm.count("out")) sets.push_back("out=" + nlohmann::json(vm["out"].as<std::string>()).dump());
  if (vm.count("threads")) sets.push_back(fmt::format("threads={}", vm["threads"].as<int>()));
  const ex::SweepConfig config = ex::load_config(vm["config"].as<std::string>(), sets);
  const auto sources = ex::open_inputs(config);

  ProgressBar bar;
  ex::ProgressFn progress;
  if (isatty(STDERR_FILENO) && !vm.count("quiet"))
    progress = [&bar](std::string_view s, double d, double t) { bar(s, d, t); };
  const ex::SweepResult result = ex::run_sweep(config, sources, progress);

  ex::Provenance prov = ex::current_provenance();
  prov.config_hash = ex::config_hash(config.effective);
  prov.start = ex::iso_utc(start);
  prov.end = ex::iso_utc(std::chrono::system_clock::now());
  prov.threads = config.threads > 0 ? config.threads : omp_get_max_threads();
  ex::write_outputs(config.out, config, result, prov);

  std::size_t pareto = 0;
  for (const auto& p : result.points) pareto += p.pareto;
  fmt::print("{} points ({} by statistics, {} by the direct path), {} on the Pareto front, {} skipped\n",
             result.points.size(), result.by_stats, result.by_direct, pareto, result.skipped.total());
  for (const auto& c : result.choices)
    if (c.scope == "role") fmt::print("chosen for role {}: {} ({})\n", c.name, c.format.name(), ffp8::to_string(c.rounding));
  fmt::print("wrote {0}/points.csv, {0}/pareto.csv, {0}/summary.json\n", config.out);
  return 0;
}

}  // namespace

FFP8_COMMAND("sweep", "design-space sweep: every format against error metrics, Pareto, selection", run_sweep_cmd);
