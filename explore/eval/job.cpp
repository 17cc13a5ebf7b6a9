#include "explore/eval/job.hpp"

#include <omp.h>

#include <chrono>
#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/threads.hpp"
#include "core/infer/model.hpp"
#include "core/io/h5.hpp"
#include "core/io/paths.hpp"
#include "explore/config/config.hpp"
#include "explore/dist/journal.hpp"
#include "explore/dist/key.hpp"
#include "explore/dist/run.hpp"
#include "explore/report/report.hpp"

namespace ffp8::explore {

namespace {

std::string num(double v) { return fmt::format("{:.17g}", v); }

/// Checks every candidate's per-node override names against the model before any candidate runs
/// (resolve_plan would find a bad name only when its candidate runs, after all earlier ones).
void check_override_nodes(const EvalConfig& cfg) {
  const infer::Model model = infer::read_model(cfg.model);
  for (std::size_t i = 0; i < cfg.candidates.size(); ++i)
    for (const auto& [node, choice] : cfg.candidates[i].formats.overrides) {
      const int at = model.find(node);
      if (at >= 0 && infer::is_quantizable(model.nodes[static_cast<std::size_t>(at)].op)) continue;
      std::string known;
      for (const infer::Node& n : model.nodes)
        if (infer::is_quantizable(n.op)) known += (known.empty() ? "" : ", ") + n.name;
      throw ConfigError(fmt::format("{}/candidates/{}/formats/overrides/{}: candidate \"{}\": '{}' has no conv2d or "
                                    "linear node of that name (its quantizable nodes are: {})",
                                    cfg.source.empty() ? "" : cfg.source + ": ", i, node, cfg.candidates[i].name,
                                    model.path, known));
    }
}

Provenance eval_provenance(const EvalConfig& cfg, std::chrono::system_clock::time_point start, int ranks) {
  Provenance prov = current_provenance();
  prov.start = iso_utc(start);
  prov.end = iso_utc(std::chrono::system_clock::now());
  prov.threads = thread_count(cfg.threads);
  prov.ranks = ranks;
  return prov;
}

}  // namespace

nlohmann::json eval_document(const EvalConfig& cfg, const EvalResult& r) {
  nlohmann::json j = eval_json(r);
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

EvalJob::EvalJob(EvalConfig config) : config_(std::move(config)) { check_override_nodes(config_); }

std::string EvalJob::run(const dist::Task& t) {
  EvalConfig c = config_;
  const EvalCandidate& cand = config_.candidates.at(t.unit);
  c.formats = cand.formats;
  nlohmann::json j = eval_document(c, evaluate(c, {}, &reference_));
  j["candidate"] = cand.name;
  j["formats"] = {{"weight", cand.formats.weight.text()}, {"activation", cand.formats.activation.text()}};
  return j.dump();
}

std::string EvalJob::work_key() const {
  return config_hash({{"config", dist::work_key(config_.as_json)},
                      {"files", {dist::file_identity(config_.model), dist::file_identity(config_.data)}}});
}

void check_eval_outputs(const EvalConfig& cfg, const std::vector<std::filesystem::path>& extra_files) {
  const std::vector<io::NamedPath> inputs = {{cfg.source, "config"}, {cfg.model, "model"}, {cfg.data, "data file"}};
  std::vector<std::pair<std::filesystem::path, std::string>> files;
  if (!cfg.out.empty()) {
    const std::filesystem::path dir(cfg.out);
    io::require_output_folder_possible(dir, "output folder");
    io::refuse_output_over_inputs(dir, inputs, "output folder");
    if (cfg.candidates.empty()) {
      files.emplace_back(dir / "eval.json", "output");
    } else {
      for (const auto& c : cfg.candidates) files.emplace_back(dir / c.name / "eval.json", "output");
      files.emplace_back(dir / "candidates.csv", "output");
      files.emplace_back(dir / "eval.journal", "journal");
    }
  }
  const std::size_t own = files.size();
  for (const auto& f : extra_files) files.emplace_back(f, "output");
  for (const auto& [f, what] : files) {
    std::error_code ec;
    if (std::filesystem::is_directory(f, ec))
      throw ConfigError(fmt::format("{} \"{}\" is a folder, not a file", what, f.string()));
    io::refuse_output_over_inputs(f, inputs, what);
  }
  for (std::size_t i = own; i < files.size(); ++i)  // an extra file must not be one of the folder's outputs
    for (std::size_t k = 0; k < own; ++k) io::refuse_output_over_inputs(files[i].first, {{files[k].first, "output"}}, "output");
}

EvalOutputs run_eval_job(const EvalConfig& cfg, const EvalRunOptions& o) {
  const auto start = std::chrono::system_clock::now();
  check_eval_outputs(cfg);
  EvalOutputs out;
  if (cfg.candidates.empty()) {
    const EvalResult r = evaluate(cfg, o.hooks);
    nlohmann::json j = eval_document(cfg, r);
    j["provenance"] = eval_provenance(cfg, start, 1).to_json();
    j["provenance"].erase("config_hash");
    j["provenance"].erase("ranks");
    j["context"] = run_context();
    out.documents.push_back(std::move(j));
    out.result = r;
    out.evaluated = 1;
    return out;
  }

  EvalJob job(cfg);
  const std::size_t n = cfg.candidates.size();
  std::optional<dist::Journal> journal;
  if (!o.journal_dir.empty()) {
    h5::create_output_folder(o.journal_dir.string());
    journal.emplace(o.journal_dir / "eval.journal", dist::JournalHeader{job.work_key(), n, 0, 1},
                    dist::JournalOwner{"candidate evaluation",
                                       "the eval config (without out and threads) and the model and data files' size "
                                       "and modification time"});
    out.journal = journal->path();
  }
  std::vector<std::string> docs(n);
  std::vector<dist::Task> tasks;
  for (std::size_t i = 0; i < n; ++i) {
    if (journal && journal->records().count(i)) docs[i] = journal->records().at(i);
    else tasks.push_back({i, "candidate " + cfg.candidates[i].name, {}});
  }
  out.resumed = n - tasks.size();
  dist::UnitLog log;
  log.journal = journal ? &*journal : nullptr;
  log.recorded = out.resumed;
  log.total = n;
  std::size_t last = 0;
  log.on_record = [&](std::size_t recorded, std::size_t total) {
    if (o.on_candidate) o.on_candidate(cfg.candidates[last].name, recorded, total);
  };
  dist::LocalExecutor local(job);
  dist::Executor& executor = o.executor ? *o.executor : local;
  executor.set_local([&job](const dist::Task& t) { return job.run(t); });
  out.evaluated = dist::run_units(
      executor, std::move(tasks), [](std::size_t) { return 1.0; },
      [&](std::size_t u, const std::string& bytes) {
        docs[u] = bytes;
        last = u;
      },
      log);

  const nlohmann::json prov = [&] {
    nlohmann::json p = eval_provenance(cfg, start, executor.ranks()).to_json();
    p.erase("config_hash");
    return p;
  }();
  const nlohmann::json context = run_context();
  std::string csv = "candidate,weight,activation,count,top1,top5,agreement_fp32,top1_fp32,top5_fp32\n";
  for (std::size_t i = 0; i < n; ++i) {
    nlohmann::json j = nlohmann::json::parse(docs[i]);
    j["provenance"] = prov;
    j["context"] = context;
    const auto& cand = cfg.candidates[i];
    csv += fmt::format("{},{},{},{},{},{},{},{},{}\n", cand.name, cand.formats.weight.text(),
                       cand.formats.activation.text(), j["count"].get<std::int64_t>(), num(j["top1"].get<double>()),
                       num(j["top5"].get<double>()), num(j["agreement_fp32"].get<double>()),
                       num(j["top1_fp32"].get<double>()), num(j["top5_fp32"].get<double>()));
    out.documents.push_back(std::move(j));
    out.names.push_back(cand.name);
  }
  out.candidates_csv = std::move(csv);
  return out;
}

void write_eval_outputs(const std::filesystem::path& dir, const EvalOutputs& o) {
  // Render everything first: an error while rendering leaves no file.
  std::vector<std::pair<std::filesystem::path, std::string>> files;
  if (o.names.empty()) {
    for (const auto& d : o.documents) files.emplace_back(dir / "eval.json", d.dump(2) + "\n");
  } else {
    for (std::size_t i = 0; i < o.names.size(); ++i)
      files.emplace_back(dir / o.names[i] / "eval.json", o.documents.at(i).dump(2) + "\n");
    files.emplace_back(dir / "candidates.csv", o.candidates_csv);
  }
  for (const auto& [path, text] : files) {
    h5::create_output_folder(path.parent_path().string());
    h5::write_text_atomic(path.string(), text);
  }
  std::error_code ec;
  if (!o.journal.empty()) std::filesystem::remove(o.journal, ec);
}

}  // namespace ffp8::explore
