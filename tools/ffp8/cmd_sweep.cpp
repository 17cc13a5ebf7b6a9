// ffp8 sweep CONFIG.json [--out DIR] [--set key.path=value ...] [--threads N] [--shard i/N], and
// ffp8 merge CONFIG.json [--out DIR] [...]: a design-space sweep writing points.csv, pareto.csv
// and summary.json. The library does the work (explore/dist drives the units, journals them and
// assembles); this file parses arguments, picks where units run (this process, or MPI ranks when
// started by mpirun/srun) and draws the progress bar (only when stderr is a terminal).
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <omp.h>
#include <optional>
#include <unistd.h>

#include "core/errors.hpp"
#include "explore/config/config.hpp"
#include "explore/dist/driver.hpp"
#include "explore/report/report.hpp"
#include "explore/sweep/source.hpp"
#include "explore/sweep/units.hpp"
#include "tools/ffp8/args.hpp"
#include "tools/ffp8/command.hpp"
#include "tools/ffp8/mpi_executor.hpp"
#include "tools/ffp8/mpi_session.hpp"

namespace po = boost::program_options;
namespace ex = ffp8::explore;
namespace dist = ffp8::explore::dist;

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

enum class Mode { Sweep, Merge };

int run(Mode mode, const std::vector<std::string>& args) {
  const bool merge = mode == Mode::Merge;
  po::options_description opts(
      merge ? "ffp8 merge CONFIG.json [--out DIR] [--set key.path=value ...] [--threads N]\n\n"
              "Combines the shard journals a job array of `ffp8 sweep --shard i/N` left in DIR (default: the\n"
              "config's \"out\") into points.csv, pareto.csv and summary.json, the same as one whole run.\n"
              "See docs/scaling.md.\n\noptions"
            : "ffp8 sweep CONFIG.json [--out DIR] [--set key.path=value ...] [--threads N] [--shard i/N]\n\n"
              "Scores every format of the config's design space on its tensors and writes points.csv,\n"
              "pareto.csv and summary.json into DIR (default: the config's \"out\"). Finished units are\n"
              "journaled in DIR/sweep.journal, so an interrupted run started again resumes. Under mpirun or\n"
              "srun the units are spread over the ranks. See docs/sweep.md and docs/scaling.md.\n\noptions");
  opts.add_options()("help,h", "show this help")("out", po::value<std::string>(), "output folder (overrides \"out\")")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a config value: key.path=value (value parsed as JSON, else a string); repeatable")(
      "threads", po::value<int>(), "worker threads per process (default: OpenMP's)")("quiet,q", "no progress bar");
  if (!merge)
    opts.add_options()("shard", po::value<std::string>(),
                       "run only shard i of N (job arrays): writes DIR/shard-i-of-N.journal; then `ffp8 merge`");
  const auto parsed = ffp8::cli::parse_args(args, opts, {"config"});
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("config")) throw ffp8::cli::UsageError("missing the CONFIG.json argument");
  if (vm.count("threads") && vm["threads"].as<int>() < 1) throw ffp8::cli::UsageError("--threads must be at least 1");

  const ffp8::cli::MpiSession mpi;
  const std::string name = merge ? "merge" : "sweep";
  std::optional<dist::Shard> shard;
  if (vm.count("shard")) {
    shard = dist::parse_shard(vm["shard"].as<std::string>());
    if (mpi.size() > 1) throw ffp8::cli::UsageError("--shard is for single-process job-array tasks, not for mpirun");
  }
  const auto start = std::chrono::system_clock::now();
  std::vector<std::string> sets;
  if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
  if (vm.count("out")) sets.push_back("out=" + nlohmann::json(vm["out"].as<std::string>()).dump());
  if (vm.count("threads")) sets.push_back(fmt::format("threads={}", vm["threads"].as<int>()));

  if (mpi.rank() != 0) {
    // A worker: set up like rank 0; a set-up failure is reported for each unit it is sent.
    std::optional<ex::SweepConfig> config;
    std::vector<std::unique_ptr<ex::TensorSource>> sources;
    std::unique_ptr<ex::SweepPlan> plan;
    std::string failed;
    try {
      config = ex::load_config(vm["config"].as<std::string>(), sets);
      sources = ex::open_inputs(*config);
      plan = std::make_unique<ex::SweepPlan>(*config, sources);
    } catch (const std::exception& e) {
      failed = e.what();
    }
    ffp8::cli::serve_units(
        [&](const dist::Task& t) {
          if (!failed.empty()) throw ffp8::DataError(failed);
          return dist::execute_task(*config, *plan, sources, t);
        },
        [&](std::size_t finished) { ffp8::cli::test_kill_hook(mpi.rank(), finished); });
    return 0;
  }

  try {
    const ex::SweepConfig config = ex::load_config(vm["config"].as<std::string>(), sets);
    const auto sources = ex::open_inputs(config);
    const ex::SweepPlan plan(config, sources);
    const std::filesystem::path out(config.out);
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec) throw ffp8::IoError(fmt::format("cannot create output folder \"{}\": {}", out.string(), ec.message()));

    ProgressBar bar;
    const bool show = isatty(STDERR_FILENO) && !vm.count("quiet");
    dist::DriveOptions o;
    o.journal = shard ? dist::shard_journal(out, *shard) : dist::run_journal(out);
    o.shard = shard;
    if (merge) o.shard_inputs = dist::find_shard_journals(out);
    std::size_t computed = 0;
    o.on_record = [&](std::size_t recorded, std::size_t total) {
      if (show) bar("units", static_cast<double>(recorded), static_cast<double>(total));
      ffp8::cli::test_kill_hook(0, ++computed);
    };
    std::unique_ptr<dist::Executor> executor;
    ffp8::cli::MpiExecutor* mpi_exec = nullptr;
    if (mpi.size() > 1) {
      auto e = std::make_unique<ffp8::cli::MpiExecutor>(mpi, [&](std::size_t u) { return plan.units().at(u).name; });
      mpi_exec = e.get();
      executor = std::move(e);
    } else {
      executor = std::make_unique<dist::LocalExecutor>(
          [&](const dist::Task& t) { return dist::execute_task(config, plan, sources, t); });
    }
    const dist::DriveOutcome outcome = dist::drive(config, plan, sources, *executor, o);
    if (mpi_exec) mpi_exec->stop_workers();
    const std::string resumed =
        outcome.resumed ? fmt::format(", {} taken from journals{}", outcome.resumed,
                                      outcome.dropped_torn_tail ? " (a torn last record was dropped)" : "")
                        : std::string();
    if (shard) {
      fmt::print("shard {}/{}: {} unit{} computed{}; wrote {}\n", shard->index, shard->count, outcome.computed,
                 outcome.computed == 1 ? "" : "s", resumed,
                 o.journal.string());
      return 0;
    }
    const ex::SweepResult& result = *outcome.result;
    ex::Provenance prov = ex::current_provenance();
    prov.config_hash = ex::config_hash(config.effective);
    prov.start = ex::iso_utc(start);
    prov.end = ex::iso_utc(std::chrono::system_clock::now());
    prov.threads = config.threads > 0 ? config.threads : omp_get_max_threads();
    prov.ranks = mpi.size();
    if (merge) prov.shards = static_cast<int>(o.shard_inputs.size());
    ex::write_outputs(config.out, config, result, prov);
    std::filesystem::remove(o.journal, ec);  // outputs are whole: the journal has done its job

    std::size_t pareto = 0;
    for (const auto& p : result.points) pareto += p.pareto;
    fmt::print("{} points ({} by statistics, {} by the direct path), {} on the Pareto front, {} skipped\n",
               result.points.size(), result.by_stats, result.by_direct, pareto, result.skipped.total());
    fmt::print("{} units: {} computed{}{}\n", outcome.units, outcome.computed, resumed,
               mpi.size() > 1 ? fmt::format(" on {} ranks", mpi.size()) : std::string());
    for (const auto& c : result.choices)
      if (c.scope == "role") fmt::print("chosen for role {}: {} ({})\n", c.name, c.format.name(), ffp8::to_string(c.rounding));
    fmt::print("wrote {0}/points.csv, {0}/pareto.csv, {0}/summary.json\n", config.out);
    return 0;
  } catch (const std::exception& e) {
    if (mpi.size() <= 1) throw;
    mpi.abort(fmt::format("ffp8 {}: error: {} (stopping all {} ranks)", name, e.what(), mpi.size()), 1);
  }
}

int run_sweep_cmd(const std::vector<std::string>& args) { return run(Mode::Sweep, args); }
int run_merge_cmd(const std::vector<std::string>& args) { return run(Mode::Merge, args); }

}  // namespace

FFP8_COMMAND("sweep", "design-space sweep: every format against error metrics, Pareto, selection", run_sweep_cmd);
FFP8_COMMAND("merge", "combine the shard journals of `sweep --shard i/N` into the sweep's outputs", run_merge_cmd);
