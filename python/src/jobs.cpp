// ffp8.sweep / ffp8.eval on the library entry points run_sweep_job / run_eval_job (the same calls
// the CLI makes, in this process, no subprocess). A config is a file path or JSON text (a dict
// on the Python side); the documents come back as the text the CLI writes (CSV, JSON), which the
// Python layer turns into DataFrames and dicts. Outputs are written only when asked (`out`).
#include <filesystem>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "explore/config/config.hpp"
#include "explore/eval/job.hpp"
#include "explore/sweep/job.hpp"
#include "python/src/bindings.hpp"

namespace ffp8::py {

namespace py = pybind11;
namespace ex = ffp8::explore;

namespace {

/// A config file (`path` non-empty) or an in-memory JSON text, with overrides applied.
struct ConfigSource {
  std::string path, json_text, base_dir;
  std::vector<std::string> overrides;

  nlohmann::json in_memory() const {
    nlohmann::json j = nlohmann::json::parse(json_text);
    for (const std::string& o : overrides) ex::apply_override(j, o);
    return j;
  }
};

ConfigSource source(const std::string& path, const std::string& json_text, const std::string& base_dir,
                    const std::vector<std::string>& overrides) {
  return {path, json_text, base_dir, overrides};
}

py::dict sweep(const ConfigSource& src, const std::string& out) {
  ex::SweepOutputs outputs;
  std::string out_dir;
  {
    py::gil_scoped_release unlocked;
    ex::SweepConfig config = src.path.empty() ? ex::parse_config(src.in_memory(), src.base_dir)
                                              : ex::load_config(src.path, src.overrides);
    if (!out.empty()) {
      config.out = out;
      config.effective["out"] = out;
    }
    outputs = ex::run_sweep_job(config);
    if (!out.empty()) ex::write_sweep_outputs(out, outputs);
    out_dir = out;
  }
  py::dict d;
  d["points_csv"] = outputs.points_csv;
  d["pareto_csv"] = outputs.pareto_csv;
  d["summary_json"] = outputs.summary.dump();
  d["units"] = outputs.units;
  d["out"] = out_dir;
  return d;
}

py::dict eval(const ConfigSource& src, const std::string& out) {
  ex::EvalOutputs outputs;
  {
    py::gil_scoped_release unlocked;
    ex::EvalConfig config = src.path.empty() ? ex::parse_eval_config(src.in_memory(), src.base_dir)
                                             : ex::load_eval_config(src.path, src.overrides);
    if (!out.empty()) config.out = out;
    outputs = ex::run_eval_job(config);
    if (!out.empty()) ex::write_eval_outputs(out, outputs);
  }
  std::vector<std::string> docs;
  for (const auto& j : outputs.documents) docs.push_back(j.dump());
  py::dict d;
  d["documents_json"] = docs;
  d["names"] = outputs.names;
  d["candidates_csv"] = outputs.candidates_csv;
  return d;
}

}  // namespace

void bind_jobs(py::module_& m) {
  py::class_<ConfigSource>(m, "ConfigSource");
  m.def("config_source", &source, py::arg("path"), py::arg("json_text"), py::arg("base_dir"), py::arg("overrides"));
  m.def("sweep", &sweep, py::arg("source"), py::arg("out"));
  m.def("eval", &eval, py::arg("source"), py::arg("out"));
}

}  // namespace ffp8::py
