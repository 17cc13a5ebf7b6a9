// ffp8 sweep CONFIG.json [--out DIR] [--set key.path=value ...] [--threads N] [--shard i/N], and
// ffp8 merge CONFIG.json [--out DIR] [...]: a design-space sweep writing points.csv, pareto.csv
// and summary.json. Thin: parses arguments, calls explore::run_sweep_job (which drives, journals
// and assembles the units; on MPI ranks when started by mpirun/srun), prints and writes.
#include <boost/program_options.hpp>
#include <filesystem>
#include <fmt/format.h>

#include "explore/config/config.hpp"
#include "explore/sweep/job.hpp"
#include "tools/ffp8/args.hpp"
#include "tools/ffp8/command.hpp"
#include "tools/ffp8/mpi_executor.hpp"
#include "tools/ffp8/mpi_session.hpp"
#include "tools/ffp8/progress.hpp"

namespace po = boost::program_options;
namespace ex = ffp8::explore;
namespace dist = ffp8::explore::dist;

namespace {

enum class Mode { Sweep, Merge };

int run(Mode mode, const std::vector<std::string>& args) {
  const bool merge = mode == Mode::Merge;
  po::options_description opts(
      std::string(merge ? "ffp8 merge CONFIG.json [--out DIR] [--set key.path=value ...] [--threads N]\n\n"
              "Combines the shard journals a job array of `ffp8 sweep --shard i/N` left in DIR (default: the\n"
              "config's \"out\") into points.csv, pareto.csv and summary.json, the same as one whole run.\n"
              "See docs/scaling.md.\n"
            : "ffp8 sweep CONFIG.json [--out DIR] [--set key.path=value ...] [--threads N] [--shard i/N]\n\n"
              "Scores every format of the config's design space on its tensors and writes points.csv,\n"
              "pareto.csv and summary.json into DIR. Finished units are journaled in DIR/sweep.journal, so an\n"
              "interrupted run started again resumes. Under mpirun or srun the units are spread over the ranks.\n\n"
              "Config keys (docs/sweep.md has the whole table): inputs (required), space, granularity, metrics,\n"
              "objectives, selection, hardware, out, chunk, threads, direct_only, description.\n") +
      ffp8::cli::kPathsRule + "\n\noptions");
  opts.add_options()("help,h", "show this help")(
      "out", po::value<std::string>(), "output folder (overrides \"out\"; relative to the working folder)")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a config value: key.path=value (value parsed as JSON, else a string); repeatable")(
      "threads", po::value<std::string>(), "worker threads per process (default: OpenMP's)")("quiet,q", "no progress bar");
  if (!merge)
    opts.add_options()("shard", po::value<std::string>(),
                       "run only shard i of N (job arrays): writes DIR/shard-i-of-N.journal; then `ffp8 merge`");
  const auto parsed = ffp8::cli::parse_args(args, opts, {"config"});
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  const std::string name = merge ? "merge" : "sweep";
  ffp8::cli::require_positional(vm, "config", "CONFIG.json");

  const ffp8::cli::MpiSession mpi;
  std::optional<dist::Shard> shard;
  if (vm.count("shard")) {
    shard = dist::parse_shard(vm["shard"].as<std::string>());
    if (mpi.size() > 1) throw ffp8::cli::UsageError("--shard is for single-process job-array tasks, not for mpirun");
  }
  std::vector<std::string> sets;
  if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
  if (vm.count("threads")) sets.push_back(fmt::format("threads={}", ffp8::cli::int_option(vm, "threads", 1, ffp8::cli::kMaxThreads)));
  const auto load = [&] {
    ex::SweepConfig c = ex::load_config(vm["config"].as<std::string>(), sets);
    if (vm.count("out")) {
      c.out = ffp8::cli::out_arg(vm["out"].as<std::string>());
      c.effective["out"] = vm["out"].as<std::string>();  // summary.json's config records it, as always
    }
    return c;
  };

  return ffp8::cli::run_on_ranks(
      mpi, name, [&] { return std::make_unique<ex::SweepJob>(load()); },
      [&](dist::Executor* executor) {
        const ex::SweepConfig config = load();
        if (!vm.count("out") && !config.out_given)
          fmt::print(stderr, "ffp8 {}: no \"out\" in the config and no --out: writing into {}\n", name, config.out);
        ffp8::cli::ProgressBar bar(ffp8::cli::show_progress(vm.count("quiet") > 0), "units");
        std::size_t computed = 0;
        ex::SweepRunOptions o;
        o.executor = executor;
        o.journal_dir = config.out;
        o.shard = shard;
        o.merge = merge;
        o.on_record = [&](std::size_t recorded, std::size_t total) {
          bar("units", static_cast<double>(recorded), static_cast<double>(total));
          ffp8::cli::test_kill_hook(0, ++computed);
        };
        const ex::SweepOutputs out = ex::run_sweep_job(config, o);
        const std::string resumed =
            out.resumed ? fmt::format(", {} taken from journals{}", out.resumed,
                                      out.dropped_torn_tail ? " (a torn last record was dropped)" : "")
                        : std::string();
        if (shard) {
          fmt::print("shard {}/{}: {} unit{} computed{}; wrote {}\n", shard->index, shard->count, out.computed,
                     out.computed == 1 ? "" : "s", resumed, out.journal.string());
          return 0;
        }
        ex::write_sweep_outputs(config.out, out);
        const ex::SweepResult& result = *out.result;
        std::size_t pareto = 0;
        for (const auto& p : result.points) pareto += p.pareto;
        fmt::print("{} points ({} by statistics, {} by the direct path), {} on the Pareto front, {} skipped\n",
                   result.points.size(), result.by_stats, result.by_direct, pareto, result.skipped.total());
        fmt::print("{} units: {} computed{}{}\n", out.units, out.computed, resumed,
                   mpi.size() > 1 ? fmt::format(" on {} ranks", mpi.size()) : std::string());
        for (const auto& t : result.tensors)
          if (t["nan"].get<std::uint64_t>() + t["inf"].get<std::uint64_t>() > 0)
            fmt::print("{}: {} NaN and {} infinite values left out (scored on its {} finite values)\n",
                       t["tensor"].get<std::string>(), t["nan"].get<std::uint64_t>(), t["inf"].get<std::uint64_t>(),
                       t["count"].get<std::uint64_t>());
        for (const auto& c : result.choices)
          if (c.scope == "role")
            fmt::print("chosen for role {}: {} ({})\n", c.name, c.format.name(), ffp8::to_string(c.rounding));
        fmt::print("wrote {0}/points.csv, {0}/pareto.csv, {0}/summary.json\n", config.out);
        return 0;
      });
}

int run_sweep_cmd(const std::vector<std::string>& args) { return run(Mode::Sweep, args); }
int run_merge_cmd(const std::vector<std::string>& args) { return run(Mode::Merge, args); }

}  // namespace

FFP8_COMMAND("sweep", "design-space sweep: every format against error metrics, Pareto, selection", run_sweep_cmd);
FFP8_COMMAND("merge", "combine the shard journals of `sweep --shard i/N` into the sweep's outputs", run_merge_cmd);
