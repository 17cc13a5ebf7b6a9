// ffp8 eval: accuracy of a model under a format assignment (INTERFACES.md "Evaluation"). Thin:
// parses arguments, calls infer::evaluate, prints the summary, writes eval.json (atomically) and
// optionally the logits.
#include <omp.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <optional>

#include "core/errors.hpp"
#include "core/infer/evaluate.hpp"
#include "core/io/h5.hpp"
#include "explore/report/report.hpp"
#include "tools/ffp8/args.hpp"
#include "tools/ffp8/command.hpp"
#include "tools/ffp8/eval_candidates.hpp"
#include "tools/ffp8/mpi_session.hpp"

namespace po = boost::program_options;

namespace {

// A one-line progress bar on stderr, redrawn at most every 0.2 s.
class Progress {
 public:
  explicit Progress(bool on) : on_(on) {}
  void update(std::int64_t done, std::int64_t total) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double s = std::chrono::duration<double>(now - start_).count();
    const int width = 30, fill = total > 0 ? static_cast<int>(width * done / total) : width;
    fmt::print(stderr, "\r[{}{}] {}/{} images, {:.0f} images/s ", std::string(static_cast<std::size_t>(fill), '#'),
               std::string(static_cast<std::size_t>(width - fill), ' '), done, total, s > 0 ? double(done) / s : 0.0);
    if (done >= total) fmt::print(stderr, "\n");
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_{};
};

int run_on_root(const po::variables_map& vm, const ffp8::cli::MpiSession& mpi);

int run_eval(const std::vector<std::string>& args) {
  po::options_description opts(
      "ffp8 eval CONFIG.json [--out DIR] [--logits OUT.h5] [--threads N]\n\n"
      "Accuracy of a model under a format assignment: every conv2d/linear layer's weights and input activations\n"
      "are quantized to the configured formats (float32 arithmetic otherwise); the float32 network runs in the\n"
      "same pass for agreement_fp32. Prints a summary and writes DIR/eval.json. See docs/inference.md.\n"
      "With \"candidates\" in the config instead of \"formats\", evaluates each (spread over the ranks under\n"
      "mpirun or srun) and writes DIR/<name>/eval.json and DIR/candidates.csv (docs/scaling.md).\n\noptions");
  opts.add_options()("help,h", "show this help")                                                         //
      ("out,o", po::value<std::string>(), "output folder for eval.json (default: config \"out\", else .)")  //
      ("logits", po::value<std::string>(), "also write the quantized network's logits as /logits [N, classes]")  //
      ("threads,j", po::value<int>(), "threads (0: OpenMP default); overrides the config's \"threads\"")  //
      ("quiet,q", "no progress bar");
  const auto parsed = ffp8::cli::parse_args(args, opts, {"config"});
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("config")) throw ffp8::cli::UsageError("missing CONFIG.json");

  // Under mpirun/srun: a multi-candidate config spreads its candidates over the ranks; a single
  // evaluation runs on rank 0 alone.
  const ffp8::cli::MpiSession mpi;
  if (mpi.rank() != 0) {
    std::optional<ffp8::infer::EvalConfig> worker_cfg;
    std::string failed;
    try {
      worker_cfg = ffp8::infer::load_eval_config(vm["config"].as<std::string>());
      if (vm.count("threads")) worker_cfg->threads = vm["threads"].as<int>();
    } catch (const std::exception& e) {
      failed = e.what();
    }
    if (worker_cfg && worker_cfg->candidates.empty()) return 0;
    ffp8::cli::serve_candidates(worker_cfg ? &*worker_cfg : nullptr, failed, mpi);
    return 0;
  }
  try {
    return run_on_root(vm, mpi);
  } catch (const std::exception& e) {
    if (mpi.size() <= 1) throw;
    mpi.abort(fmt::format("ffp8 eval: error: {} (stopping all {} ranks)", e.what(), mpi.size()), 1);
  }
}

int run_on_root(const po::variables_map& vm, const ffp8::cli::MpiSession& mpi) {
  ffp8::infer::EvalConfig cfg = ffp8::infer::load_eval_config(vm["config"].as<std::string>());
  if (vm.count("threads")) {
    cfg.threads = vm["threads"].as<int>();
    if (cfg.threads < 0) throw ffp8::cli::UsageError(fmt::format("--threads must be 0 or more, not {}", cfg.threads));
  }
  const std::string out_dir = vm.count("out") ? vm["out"].as<std::string>() : (cfg.out.empty() ? "." : cfg.out);
  if (!cfg.candidates.empty()) {
    if (vm.count("logits")) throw ffp8::cli::UsageError("--logits takes one evaluation, not a \"candidates\" list");
    ffp8::cli::run_candidates(cfg, out_dir, mpi, isatty(STDERR_FILENO) && !vm.count("quiet"));
    return 0;
  }

  auto prov = ffp8::explore::current_provenance();
  prov.start = ffp8::explore::iso_utc(std::chrono::system_clock::now());
  prov.threads = cfg.threads > 0 ? cfg.threads : omp_get_max_threads();

  Progress bar(isatty(STDERR_FILENO) && !vm.count("quiet"));
  ffp8::infer::EvalHooks hooks;
  hooks.progress = [&](std::int64_t done, std::int64_t total) { bar.update(done, total); };
  std::optional<ffp8::h5::AtomicFile> logits;  // committed only after eval.json: whole or nothing
  if (vm.count("logits")) {
    logits.emplace(vm["logits"].as<std::string>());
    hooks.start = [&](std::int64_t count, std::int64_t classes) {
      ffp8::h5::File& f = logits->file();
      f.create_dataset("/logits", {static_cast<std::uint64_t>(count), static_cast<std::uint64_t>(classes)},
                       ffp8::h5::DType::Float32);
      f.set_attr("/logits", "role", "logits");
    };
    hooks.logits = [&](std::int64_t first, std::int64_t n, std::span<const float> l) {
      const std::uint64_t classes = l.size() / static_cast<std::uint64_t>(n);
      logits->file().write("/logits", static_cast<std::uint64_t>(first) * classes, l);
    };
  }
  const ffp8::infer::EvalResult r = ffp8::infer::evaluate(cfg, hooks);
  prov.end = ffp8::explore::iso_utc(std::chrono::system_clock::now());

  nlohmann::json j = ffp8::cli::eval_document(cfg, r);
  j["provenance"] = prov.to_json();
  j["provenance"].erase("config_hash");
  j["provenance"].erase("ranks");

  std::filesystem::create_directories(out_dir);
  const std::string out_file = (std::filesystem::path(out_dir) / "eval.json").string();
  ffp8::h5::write_text_atomic(out_file, j.dump(2) + "\n");
  if (logits) logits->commit();

  fmt::print("model        {} ({} images of {})\n", cfg.model, r.count, cfg.data);
  for (const auto& l : r.plan) {
    fmt::print("  {:<28} weight {:<22} activation {}\n", l.node, l.weight_text(), l.activation_text());
  }
  fmt::print("top1         {:.4f}   (float32 {:.4f})\n", r.top1, r.top1_fp32);
  fmt::print("top5         {:.4f}   (float32 {:.4f})\n", r.top5, r.top5_fp32);
  fmt::print("agreement    {:.4f}   (top-1 equal to float32)\n", r.agreement_fp32);
  fmt::print("speed        {:.1f} images/s quantized engine, {:.1f} images/s whole pass\n",
             j["images_per_second_quantized"].get<double>(), j["images_per_second"].get<double>());
  fmt::print("wrote        {}{}\n", out_file, logits ? fmt::format(", {}", vm["logits"].as<std::string>()) : "");
  return 0;
}

}  // namespace

FFP8_COMMAND("eval", "accuracy of a model under a format assignment (eval.json)", run_eval);
