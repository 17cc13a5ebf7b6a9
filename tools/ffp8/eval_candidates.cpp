#include "tools/ffp8/eval_candidates.hpp"

#include <omp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <memory>

#include "core/errors.hpp"
#include "core/infer/model.hpp"
#include "core/io/h5.hpp"
#include "explore/config/config.hpp"
#include "explore/dist/driver.hpp"
#include "explore/dist/journal.hpp"
#include "explore/report/report.hpp"
#include "tools/ffp8/mpi_executor.hpp"

namespace ffp8::cli {

namespace dist = explore::dist;

namespace {

/// Evaluates candidate `t.unit`: its eval.json document (without provenance) as text. `ref`: the
/// float32 reference this process shares between its candidates (calibration, float32 ranks).
std::string evaluate_candidate(const infer::EvalConfig& config, const dist::Task& t, infer::EvalReference& ref) {
  infer::EvalConfig c = config;
  const infer::EvalCandidate& cand = config.candidates.at(t.unit);
  c.formats = cand.formats;
  nlohmann::json j = eval_document(c, infer::evaluate(c, {}, &ref));
  j["candidate"] = cand.name;
  j["formats"] = {{"weight", cand.formats.weight.text()}, {"activation", cand.formats.activation.text()}};
  return j.dump();
}

std::string num(double v) { return fmt::format("{:.17g}", v); }

/// Checks every candidate's per-node override names against the model before any candidate runs
/// (resolve_plan would find a bad name only when its candidate runs, after all earlier ones).
/// Throws ConfigError naming the candidate's JSON path and name.
void check_override_nodes(const infer::EvalConfig& cfg) {
  const infer::Model model = infer::read_model(cfg.model);
  for (std::size_t i = 0; i < cfg.candidates.size(); ++i)
    for (const auto& [node, choice] : cfg.candidates[i].formats.overrides) {
      const int at = model.find(node);
      if (at >= 0 && infer::is_quantizable(model.nodes[static_cast<std::size_t>(at)].op)) continue;
      std::string known;
      for (const infer::Node& n : model.nodes)
        if (infer::is_quantizable(n.op)) known += (known.empty() ? "" : ", ") + n.name;
      throw ConfigError(fmt::format("/candidates/{}/formats/overrides/{}: candidate \"{}\": '{}' has no conv2d or linear "
                                    "node of that name (its quantizable nodes are: {})",
                                    i, node, cfg.candidates[i].name, model.path, known));
    }
}

}  // namespace

nlohmann::json eval_document(const infer::EvalConfig& cfg, const infer::EvalResult& r) {
  nlohmann::json j = infer::to_json(r);
  j["config"] = cfg.as_json;
  j["model"] = cfg.model;
  j["data"] = cfg.data;
  j["rounding"] = std::string(to_string(cfg.quant.rounding));
  j["saturate"] = cfg.quant.saturate;
  j["fold_bn"] = cfg.fold_bn;
  j["per_channel"] = cfg.per_channel;
  j["batch"] = cfg.batch;
  return j;
}

void run_candidates(const infer::EvalConfig& cfg, const std::string& out_dir, const MpiSession& mpi, bool show_progress) {
  const auto start = std::chrono::system_clock::now();
  const std::size_t n = cfg.candidates.size();
  check_override_nodes(cfg);
  const std::filesystem::path out(out_dir);
  std::filesystem::create_directories(out);
  const std::string key = explore::config_hash(
      {{"config", dist::work_key(cfg.as_json)},
       {"files", {dist::file_identity(cfg.model), dist::file_identity(cfg.data)}}});
  dist::Journal journal(out / "eval.journal", {key, n, 0, 1},
                        {"candidate evaluation",
                         "the eval config (without out and threads) and the model and data files' size and modification time"});
  std::vector<std::string> docs(n);
  std::vector<dist::Task> tasks;
  for (std::size_t i = 0; i < n; ++i) {
    if (auto it = journal.records().find(i); it != journal.records().end()) docs[i] = it->second;
    else tasks.push_back({i, {}});
  }
  const std::size_t resumed = n - tasks.size();
  std::size_t finished = 0;
  const auto done = [&](std::size_t unit, std::string bytes) {
    journal.append(unit, bytes);
    docs[unit] = std::move(bytes);
    if (show_progress) fmt::print(stderr, "candidate {} done ({}/{})\n", cfg.candidates[unit].name, resumed + finished + 1, n);
    test_kill_hook(0, ++finished);
  };
  if (mpi.size() > 1) {
    MpiExecutor e(mpi, [&](std::size_t u) { return "candidate " + cfg.candidates.at(u).name; });
    e.run(tasks, done);
    e.stop_workers();
  } else {
    infer::EvalReference ref;
    dist::LocalExecutor e([&](const dist::Task& t) { return evaluate_candidate(cfg, t, ref); });
    e.run(tasks, done);
  }

  explore::Provenance prov = explore::current_provenance();
  prov.start = explore::iso_utc(start);
  prov.end = explore::iso_utc(std::chrono::system_clock::now());
  prov.threads = cfg.threads > 0 ? cfg.threads : omp_get_max_threads();
  prov.ranks = mpi.size();
  std::string csv = "candidate,weight,activation,count,top1,top5,agreement_fp32,top1_fp32,top5_fp32\n";
  std::vector<std::pair<std::filesystem::path, std::string>> files;
  for (std::size_t i = 0; i < n; ++i) {
    nlohmann::json j = nlohmann::json::parse(docs[i]);
    j["provenance"] = prov.to_json();
    j["provenance"].erase("config_hash");
    const auto& cand = cfg.candidates[i];
    csv += fmt::format("{},{},{},{},{},{},{},{},{}\n", cand.name, cand.formats.weight.text(),
                       cand.formats.activation.text(), j["count"].get<std::int64_t>(), num(j["top1"].get<double>()),
                       num(j["top5"].get<double>()), num(j["agreement_fp32"].get<double>()),
                       num(j["top1_fp32"].get<double>()), num(j["top5_fp32"].get<double>()));
    files.emplace_back(out / cand.name / "eval.json", j.dump(2) + "\n");
    fmt::print("{:<24} top1 {:.4f}  top5 {:.4f}  agreement {:.4f}\n", cand.name, j["top1"].get<double>(),
               j["top5"].get<double>(), j["agreement_fp32"].get<double>());
  }
  for (const auto& [path, text] : files) {
    std::filesystem::create_directories(path.parent_path());
    h5::write_text_atomic(path.string(), text);
  }
  h5::write_text_atomic((out / "candidates.csv").string(), csv);
  std::filesystem::remove(journal.path());
  fmt::print("{} candidates: {} evaluated{}{}; wrote {}\n", n, n - resumed,
             resumed ? fmt::format(", {} taken from the journal", resumed) : std::string(),
             mpi.size() > 1 ? fmt::format(" on {} ranks", mpi.size()) : std::string(), (out / "candidates.csv").string());
}

void serve_candidates(const infer::EvalConfig* cfg, const std::string& load_error, const MpiSession& mpi) {
  infer::EvalReference ref;
  serve_units(
      [&](const dist::Task& t) {
        if (!cfg) throw DataError(load_error);
        return evaluate_candidate(*cfg, t, ref);
      },
      [&](std::size_t finished) { test_kill_hook(mpi.rank(), finished); });
}

}  // namespace ffp8::cli
