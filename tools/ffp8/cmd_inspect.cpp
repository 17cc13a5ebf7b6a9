// ffp8 inspect FILE.h5 [--json]: the tensors of a weights/activations/model/data file with shape,
// dtype, role and streamed statistics (memory independent of the tensor sizes).
#include <boost/program_options.hpp>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "core/errors.hpp"
#include "core/io/h5.hpp"
#include "core/io/layout.hpp"
#include "tools/ffp8/cli_stats.hpp"
#include "tools/ffp8/args.hpp"
#include "tools/ffp8/command.hpp"

namespace po = boost::program_options;

namespace {

// The `role` attribute when it is a string, else a guess from the path (docs/hdf5-layout.md).
std::string role_of(const ffp8::h5::File& f, const std::string& path) {
  try {
    if (auto r = f.get_string_attr(path, "role")) return *r;
  } catch (const ffp8::IoError&) {
    // A non-string `role` is someone else's attribute: fall back to the path.
  }
  if (path.rfind("/params/", 0) == 0) {
    const auto leaf = path.substr(path.rfind('/') + 1);
    return leaf == "bias" ? "bias" : "weight";
  }
  if (path.rfind("/activations/", 0) == 0) return "activation";
  return "-";
}

nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json stats_json(const ffp8::cli::TensorStats& s) {
  return {{"count", s.count},      {"min", num(s.min())},         {"max", num(s.max())},
          {"max_abs", num(s.max_abs())}, {"mean", num(s.mean())}, {"std", num(s.std())},
          {"zero_frac", num(s.zero_frac())}, {"neg_frac", num(s.neg_frac())}, {"nan", s.nan},
          {"inf", s.pos_inf + s.neg_inf}};
}

std::string g(double v) { return std::isnan(v) ? "-" : fmt::format("{:.4g}", v); }

int run_inspect(const std::vector<std::string>& args) {
  po::options_description opts(
      "ffp8 inspect FILE.h5 [--json]\n\n"
      "Lists the tensors of an HDF5 file (every float dataset, recursively) with shape, dtype, role and\n"
      "statistics (min/max/mean/std over finite values; NaN and Inf counted apart). Integer datasets are\n"
      "listed with shape and dtype only. Model and data files (docs/hdf5-layout.md) show their layout first.\n\n"
      "options");
  opts.add_options()("help,h", "show this help")("json", "print one JSON object");
  const auto parsed = ffp8::cli::parse_args(args, opts, {"file"});
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("file")) throw ffp8::cli::UsageError("missing the FILE.h5 argument");
  const std::string path = vm["file"].as<std::string>();

  const ffp8::h5::File f = ffp8::h5::File::open(path);
  const std::optional<ffp8::h5::LayoutTag> layout = ffp8::h5::detect_layout(f);

  struct Row {
    ffp8::h5::DatasetInfo info;
    std::string role;
    std::optional<ffp8::cli::TensorStats> stats;
  };
  std::vector<Row> rows;
  std::vector<std::string> skipped;  // strings, compounds, ...: not tensors
  for (auto& d : f.list("/")) {
    const bool is_float = d.dtype == ffp8::h5::DType::Float16 || d.dtype == ffp8::h5::DType::Float32 ||
                          d.dtype == ffp8::h5::DType::Float64;
    const bool is_int = d.dtype == ffp8::h5::DType::Int || d.dtype == ffp8::h5::DType::UInt;
    if (!is_float && !is_int) {
      skipped.push_back(d.path);
      continue;
    }
    Row r{d, role_of(f, d.path), std::nullopt};
    if (is_float) {
      ffp8::cli::TensorStats s;
      ffp8::h5::for_each_chunk_f64(f, d.path, 0, [&](std::span<const double> v, std::uint64_t) { s.add(v); });
      r.stats = s;
    }
    rows.push_back(std::move(r));
  }

  if (vm.count("json")) {
    nlohmann::json j;
    j["file"] = path;
    if (layout) {
      j["layout"] = {{"attribute", ffp8::h5::version_attribute(layout->layout)}, {"version", layout->version},
                     {"kind", ffp8::h5::to_string(layout->layout)}, {"name", layout->name}};
    } else {
      j["layout"] = nullptr;
    }
    j["tensors"] = nlohmann::json::array();
    for (const auto& r : rows) {
      j["tensors"].push_back({{"path", r.info.path},
                              {"shape", r.info.shape},
                              {"dtype", ffp8::h5::dtype_name(r.info.dtype, r.info.elem_bytes)},
                              {"role", r.role},
                              {"stats", r.stats ? stats_json(*r.stats) : nlohmann::json(nullptr)}});
    }
    j["skipped"] = skipped;
    std::cout << j.dump() << "\n";
    return 0;
  }

  fmt::print("file     {}\n", path);
  if (layout) {
    fmt::print("layout   {} {} ({} file), {} '{}'\n", ffp8::h5::version_attribute(layout->layout), layout->version,
               ffp8::h5::to_string(layout->layout), ffp8::h5::name_attribute(layout->layout), layout->name);
  }
  fmt::print("tensors  {}\n", rows.size());
  if (!skipped.empty()) fmt::print("skipped  {} (not numeric)\n", fmt::join(skipped, ", "));
  if (rows.empty()) return 0;
  // Columns sized to their widest cell.
  std::vector<std::vector<std::string>> table;
  table.push_back({"path", "shape", "dtype", "role", "count", "min", "max", "max|x|", "mean", "std", "zeros", "neg",
                   "nan", "inf"});
  for (const auto& r : rows) {
    std::vector<std::string> c = {r.info.path, ffp8::cli::shape_text(r.info.shape),
                                  ffp8::h5::dtype_name(r.info.dtype, r.info.elem_bytes), r.role,
                                  std::to_string(r.info.size())};
    if (r.stats) {
      const auto& s = *r.stats;
      for (double v : {s.min(), s.max(), s.max_abs(), s.mean(), s.std(), s.zero_frac(), s.neg_frac()}) c.push_back(g(v));
      c.push_back(std::to_string(s.nan));
      c.push_back(std::to_string(s.pos_inf + s.neg_inf));
    }
    table.push_back(std::move(c));
  }
  std::vector<std::size_t> width(table.front().size(), 0);
  for (const auto& row : table)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : table) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      // Text columns left-aligned, numbers right-aligned.
      line += i < 4 ? fmt::format("{:<{}}", row[i], width[i]) : fmt::format("{:>{}}", row[i], width[i]);
      if (i + 1 < row.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print("{}\n", line);
  }
  return 0;
}

}  // namespace

FFP8_COMMAND("inspect", "tensors of an HDF5 file with shape, role and statistics", run_inspect);
