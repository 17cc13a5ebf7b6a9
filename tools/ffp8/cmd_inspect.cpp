// ffp8 inspect FILE.h5 [--json]: the tensors of a weights/activations/model/data file with shape,
// dtype, role and streamed statistics. Thin: ffp8::inspect_file (core/tensors) does the work;
// this file prints its table or JSON.
#include <boost/program_options.hpp>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "core/errors.hpp"
#include "core/tensors/inspect.hpp"
#include "tools/ffp8/args.hpp"
#include "tools/ffp8/command.hpp"

namespace po = boost::program_options;

namespace {

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
  ffp8::cli::require_positional(vm, "file", "FILE.h5");
  const std::string path = vm["file"].as<std::string>();

  const ffp8::Inspection in = ffp8::inspect_file(path);
  if (vm.count("json")) {
    std::cout << ffp8::to_json(in).dump() << "\n";
    return 0;
  }
  const auto& layout = in.layout;
  const auto& rows = in.tensors;
  const auto& skipped = in.skipped;

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
