// ffp8 eval: accuracy of a model under a format assignment (docs/inference.md). Thin: parses
// arguments, calls explore::run_eval_job (one evaluation, or the config's candidates spread over
// MPI ranks when started by mpirun/srun), prints the summary and writes the outputs.
#include <boost/program_options.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <optional>

#include "core/io/h5.hpp"
#include "explore/eval/job.hpp"
#include "tools/ffp8/args.hpp"
#include "tools/ffp8/command.hpp"
#include "tools/ffp8/mpi_executor.hpp"
#include "tools/ffp8/mpi_session.hpp"
#include "tools/ffp8/progress.hpp"

namespace po = boost::program_options;
namespace ex = ffp8::explore;

namespace {

// A single evaluation: progress bar, optional logits file (committed only after eval.json, so
// the two are whole or absent together), summary.
int run_single(const ex::EvalConfig& cfg, const po::variables_map& vm) {
  ffp8::cli::ProgressBar bar(ffp8::cli::show_progress(vm.count("quiet") > 0), "images");
  ex::EvalRunOptions o;
  std::size_t batches = 0;
  o.hooks.progress = [&](std::int64_t done, std::int64_t total) {
    bar("eval", static_cast<double>(done), static_cast<double>(total));
    ffp8::cli::test_kill_hook(0, ++batches);
  };
  std::optional<ffp8::h5::AtomicFile> logits;
  if (vm.count("logits")) {
    ex::check_eval_outputs(cfg, {vm["logits"].as<std::string>()});  // before anything is written
    logits.emplace(vm["logits"].as<std::string>());
    o.hooks.start = [&](std::int64_t count, std::int64_t classes) {
      ffp8::h5::File& f = logits->file();
      f.create_dataset("/logits", {static_cast<std::uint64_t>(count), static_cast<std::uint64_t>(classes)},
                       ffp8::h5::DType::Float32);
      f.set_attr("/logits", "role", "logits");
    };
    o.hooks.logits = [&](std::int64_t first, std::int64_t n, std::span<const float> l) {
      const std::uint64_t classes = l.size() / static_cast<std::uint64_t>(n);
      logits->file().write("/logits", static_cast<std::uint64_t>(first) * classes, l);
    };
  }
  const ex::EvalOutputs out = ex::run_eval_job(cfg, o);
  ex::write_eval_outputs(cfg.out, out);
  if (logits) logits->commit();

  const ex::EvalResult& r = *out.result;
  const nlohmann::json& j = out.documents.front();
  fmt::print("model        {} ({} images of {})\n", cfg.model, r.count, cfg.data);
  for (const auto& l : r.plan)
    fmt::print("  {:<28} weight {:<22} activation {}\n", l.node, l.weight_text(), l.activation_text());
  fmt::print("top1         {:.4f}   (float32 {:.4f})\n", r.top1, r.top1_fp32);
  fmt::print("top5         {:.4f}   (float32 {:.4f})\n", r.top5, r.top5_fp32);
  fmt::print("agreement    {:.4f}   (top-1 equal to float32)\n", r.agreement_fp32);
  fmt::print("speed        {:.1f} images/s quantized engine, {:.1f} images/s whole pass\n",
             j["images_per_second_quantized"].get<double>(), j["images_per_second"].get<double>());
  fmt::print("wrote        {}{}\n", (std::filesystem::path(cfg.out) / "eval.json").string(),
             logits ? fmt::format(", {}", vm["logits"].as<std::string>()) : "");
  return 0;
}

// The config's candidates, on this process or the MPI ranks.
int run_candidates(const ex::EvalConfig& cfg, const po::variables_map& vm, ffp8::explore::dist::Executor* executor) {
  const bool show = ffp8::cli::show_progress(vm.count("quiet") > 0);
  std::size_t finished = 0;
  ex::EvalRunOptions o;
  o.executor = executor;
  o.journal_dir = cfg.out;
  o.on_candidate = [&](const std::string& name, std::size_t recorded, std::size_t total) {
    if (show) fmt::print(stderr, "candidate {} done ({}/{})\n", name, recorded, total);
    ffp8::cli::test_kill_hook(0, ++finished);
  };
  const ex::EvalOutputs out = ex::run_eval_job(cfg, o);
  ex::write_eval_outputs(cfg.out, out);
  for (std::size_t i = 0; i < out.names.size(); ++i) {
    const nlohmann::json& j = out.documents[i];
    fmt::print("{:<24} top1 {:.4f}  top5 {:.4f}  agreement {:.4f}\n", out.names[i], j["top1"].get<double>(),
               j["top5"].get<double>(), j["agreement_fp32"].get<double>());
  }
  const std::size_t n = out.names.size();
  const int ranks = executor ? executor->ranks() : 1;
  fmt::print("{} candidates: {} evaluated{}{}; wrote {}\n", n, out.evaluated,
             out.resumed ? fmt::format(", {} taken from the journal", out.resumed) : std::string(),
             ranks > 1 ? fmt::format(" on {} ranks", ranks) : std::string(),
             (std::filesystem::path(cfg.out) / "candidates.csv").string());
  return 0;
}

int run_eval(const std::vector<std::string>& args) {
  po::options_description opts(
      std::string("ffp8 eval CONFIG.json [--out DIR] [--set key.path=value ...] [--logits OUT.h5] [--threads N]\n\n"
                  "Accuracy of a model under a format assignment: every conv2d/linear layer's weights and input\n"
                  "activations are quantized to the configured formats (float32 arithmetic otherwise); the float32\n"
                  "network runs in the same pass for agreement_fp32. Prints a summary and writes DIR/eval.json.\n"
                  "With \"candidates\" in the config instead of \"formats\", evaluates each (spread over the ranks\n"
                  "under mpirun or srun) and writes DIR/<name>/eval.json and DIR/candidates.csv (docs/scaling.md).\n\n"
                  "Config keys (docs/inference.md has the whole table): model, data (required), formats or\n"
                  "candidates (required), limit, batch, calib, rounding, saturate, seed, fold_bn, per_channel,\n"
                  "threads, out, comment.\n") +
      ffp8::cli::kPathsRule + "\n\noptions");
  opts.add_options()("help,h", "show this help")                                                          //
      ("out,o", po::value<std::string>(), "output folder (overrides \"out\"; relative to the working folder)")  //
      ("set", po::value<std::vector<std::string>>()->composing(),
       "override a config value: key.path=value (value parsed as JSON, else a string); repeatable")  //
      ("logits", po::value<std::string>(), "also write the quantized network's logits as /logits [N, classes]")  //
      ("threads,j", po::value<std::string>(), "threads (0: OpenMP default); overrides the config's \"threads\"")  //
      ("quiet,q", "no progress bar");
  const auto parsed = ffp8::cli::parse_args(args, opts, {"config"});
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  ffp8::cli::require_positional(vm, "config", "CONFIG.json");
  std::vector<std::string> sets;
  if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
  if (vm.count("threads")) sets.push_back(fmt::format("threads={}", ffp8::cli::int_option(vm, "threads", 0, ffp8::cli::kMaxThreads)));
  const auto load = [&] {
    ex::EvalConfig c = ex::load_eval_config(vm["config"].as<std::string>(), sets);
    if (vm.count("out")) c.out = ffp8::cli::out_arg(vm["out"].as<std::string>());  // eval.json's config stays as given
    return c;
  };

  // Under mpirun/srun: a multi-candidate config spreads its candidates over the ranks; a single
  // evaluation runs on rank 0 alone (the workers find nothing to serve).
  const ffp8::cli::MpiSession mpi;
  return ffp8::cli::run_on_ranks(
      mpi, "eval",
      [&]() -> std::unique_ptr<ffp8::explore::dist::Job> {
        ex::EvalConfig c = load();
        if (c.candidates.empty()) return nullptr;
        return std::make_unique<ex::EvalJob>(std::move(c));
      },
      [&](ffp8::explore::dist::Executor* executor) {
        const ex::EvalConfig cfg = load();
        if (!cfg.candidates.empty() && vm.count("logits"))
          throw ffp8::cli::UsageError("--logits takes one evaluation, not a \"candidates\" list");
        if (!vm.count("out") && !cfg.out_given)
          fmt::print(stderr, "ffp8 eval: no \"out\" in the config and no --out: writing into {}\n", cfg.out);
        return cfg.candidates.empty() ? run_single(cfg, vm) : run_candidates(cfg, vm, executor);
      });
}

}  // namespace

FFP8_COMMAND("eval", "accuracy of a model under a format assignment (eval.json)", run_eval);
