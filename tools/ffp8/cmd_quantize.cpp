// ffp8 quantize: rounds an HDF5 dataset to a format and writes the float32 values of the same
// shape, streamed chunk by chunk (memory independent of the dataset size).
//
// Output policy: OUT.h5 is written whole or not at all. When OUT.h5 exists its other datasets
// and attributes are kept (the new file starts as a copy of it; a dataset already at the output
// path is replaced, and HDF5 does not reclaim the replaced dataset's space: h5repack compacts).
// When the input has NaN and the format has no NaN code nothing is written.
#include <boost/program_options.hpp>
#include <cmath>
#include <fmt/format.h>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/errors.hpp"
#include "core/format/format.hpp"
#include "core/io/h5.hpp"
#include "core/quant/quantize.hpp"
#include "tools/ffp8/args.hpp"
#include "tools/ffp8/command.hpp"

namespace po = boost::program_options;

namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;  // elements per streamed chunk

// Error sums in float64 over the non-NaN inputs (FORMAT.md's mse is over all elements; a NaN
// input can only reach here with a NaN-capable format, where its error is undefined).
struct ErrorSums {
  std::uint64_t count = 0;
  double sum_err2 = 0.0, sum_x2 = 0.0, max_abs_err = 0.0;

  template <class T>
  void add(std::span<const T> x, std::span<const float> q) {
    double e2 = 0.0, x2 = 0.0, mx = max_abs_err;
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double xi = static_cast<double>(x[i]);
      if (std::isnan(xi)) continue;
      const double e = static_cast<double>(q[i]) - xi;
      e2 += e * e;
      x2 += xi * xi;
      mx = std::max(mx, std::abs(e));
      ++n;
    }
    count += n;
    sum_err2 += e2;
    sum_x2 += x2;
    max_abs_err = mx;
  }
  double mse() const { return count ? sum_err2 / double(count) : 0.0; }
  double sqnr_db() const {
    if (sum_err2 == 0.0) return std::numeric_limits<double>::infinity();
    return 10.0 * std::log10(sum_x2 / sum_err2);
  }
};

nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(fmt::format("{}", v)); }

std::string percent(std::uint64_t k, std::uint64_t n) {
  return k == 0 ? "0" : fmt::format("{} ({:.3g}%)", k, 100.0 * double(k) / double(n));
}

int run_quantize(const std::vector<std::string>& args) {
  po::options_description opts(
      "ffp8 quantize --format SPEC [options] IN.h5:/dataset OUT.h5:/dataset\n\n"
      "Quantizes a float16/32/64 dataset to a format and writes the float32 values of the same shape.\n"
      "OUT.h5 is replaced atomically; its other datasets are kept (a dataset at the output path is replaced).\n"
      "Input NaN with a format that has no NaN code is an error and writes nothing.\n\noptions");
  opts.add_options()("help,h", "show this help")                                             //
      ("format,f", po::value<std::string>(), "format name (s1e4m3b7-fn) or preset (e4m3fn)")  //
      ("rounding,r", po::value<std::string>()->default_value("rne"), "rne, rna, rtz or stochastic")  //
      ("seed", po::value<std::string>()->default_value("0"), "seed of stochastic rounding (unsigned 64-bit)")  //
      ("no-saturate", "out-of-range values become Inf/NaN where the format has them (FORMAT.md rule 5)")  //
      ("threads,j", po::value<int>()->default_value(0), "threads (0: OpenMP default); results do not depend on it")  //
      ("json", "print the summary as one JSON object");
  const auto parsed = ffp8::cli::parse_args(args, opts, {"in", "out"});
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (!vm.count("format")) throw ffp8::cli::UsageError("missing --format SPEC");
  if (!vm.count("in") || !vm.count("out")) throw ffp8::cli::UsageError("expected IN.h5:/dataset OUT.h5:/dataset");
  const auto in = ffp8::cli::parse_h5_target(vm["in"].as<std::string>(), "input");
  const auto out = ffp8::cli::parse_h5_target(vm["out"].as<std::string>(), "output");

  ffp8::QuantOptions qo;
  qo.rounding = ffp8::cli::parse_rounding_arg(vm["rounding"].as<std::string>());
  qo.seed = ffp8::cli::parse_u64_arg(vm["seed"].as<std::string>(), "--seed");
  qo.saturate = vm.count("no-saturate") == 0;
  qo.threads = vm["threads"].as<int>();
  if (qo.threads < 0) throw ffp8::cli::UsageError(fmt::format("--threads must be 0 or more, not {}", qo.threads));

  const ffp8::Format format = ffp8::Format::parse(vm["format"].as<std::string>());
  const ffp8::Quantizer q(format, qo);
  if (!q.fast_path()) {
    throw ffp8::FormatError(fmt::format(
        "format '{}' has values that are not float32 numbers (max {:.6g}, min positive {:.6g}), so its values "
        "cannot be written as float32",
        format.name(), format.max_value(), format.min_positive()));
  }

  const ffp8::h5::File src = ffp8::h5::File::open(in.file);
  const ffp8::h5::DatasetInfo info = src.float_dataset(in.dataset);

  ffp8::h5::AtomicFile dst(out.file, ffp8::h5::AtomicFile::Start::CopyExisting);
  ffp8::h5::File& of = dst.file();
  if (of.exists(out.dataset)) {
    try {
      (void)of.info(out.dataset);
    } catch (const ffp8::IoError&) {
      throw ffp8::IoError(fmt::format("cannot write dataset '{}' to '{}': a group of that name exists", out.dataset,
                                      out.file));
    }
    of.remove(out.dataset);
  }
  of.create_dataset(out.dataset, info.shape, ffp8::h5::DType::Float32);

  ffp8::QuantCounts counts;
  ErrorSums err;
  std::vector<float> qbuf(static_cast<std::size_t>(std::min<std::uint64_t>(info.size(), kChunk)));
  if (info.dtype == ffp8::h5::DType::Float64) {
    // Exact path: the double is rounded once, never through float32 first.
    std::vector<double> qd(qbuf.size());
    ffp8::h5::for_each_chunk_f64(src, info.path, kChunk, [&](std::span<const double> x, std::uint64_t off) {
      counts += q.quantize(x, std::span<double>(qd.data(), x.size()), off);
      for (std::size_t i = 0; i < x.size(); ++i) qbuf[i] = static_cast<float>(qd[i]);  // exact: fast_path()
      const std::span<const float> qs(qbuf.data(), x.size());
      err.add(x, qs);
      of.write(out.dataset, off, qs);
    });
  } else {
    ffp8::h5::for_each_chunk(src, info.path, kChunk, [&](std::span<const float> x, std::uint64_t off) {
      counts += q.quantize(x, std::span<float>(qbuf.data(), x.size()), off);
      const std::span<const float> qs(qbuf.data(), x.size());
      err.add(x, qs);
      of.write(out.dataset, off, qs);
    });
  }
  if (counts.nan_inputs > 0 && !format.has_nan()) {
    throw ffp8::DataError(fmt::format(
        "dataset '{}' in '{}' has {} NaN value{}, and format '{}' has no NaN code; nothing was written", info.path,
        in.file, counts.nan_inputs, counts.nan_inputs == 1 ? "" : "s", format.name()));
  }
  // Provenance, so a quantized tensor says how it was made.
  of.set_attr(out.dataset, "ffp8_format", format.name());
  of.set_attr(out.dataset, "ffp8_rounding", std::string(ffp8::to_string(qo.rounding)));
  of.set_attr(out.dataset, "ffp8_saturate", static_cast<std::int64_t>(qo.saturate));
  of.set_attr(out.dataset, "ffp8_source", fmt::format("{}:{}", in.file, info.path));
  if (qo.rounding == ffp8::Rounding::Stochastic) of.set_attr(out.dataset, "ffp8_seed", std::to_string(qo.seed));
  if (auto role = src.get_string_attr(info.path, "role")) of.set_attr(out.dataset, "role", *role);
  dst.commit();

  const std::uint64_t n = info.size();
  if (vm.count("json")) {
    nlohmann::json j;
    j["input"] = fmt::format("{}:{}", in.file, info.path);
    j["output"] = fmt::format("{}:{}", out.file, out.dataset);
    j["input_dtype"] = ffp8::h5::to_string(info.dtype);
    j["shape"] = info.shape;
    j["format"] = format.name();
    j["rounding"] = std::string(ffp8::to_string(qo.rounding));
    j["saturate"] = qo.saturate;
    j["seed"] = qo.seed;
    j["count"] = n;
    j["nan"] = counts.nan_inputs;
    j["overflow"] = counts.overflow;
    j["underflow"] = counts.underflow;
    j["neg_clipped"] = counts.neg_clipped;
    j["mse"] = num(err.mse());
    j["sqnr_db"] = num(err.sqnr_db());
    j["max_abs_err"] = num(err.max_abs_err);
    std::cout << j.dump() << "\n";
    return 0;
  }
  fmt::print("{}:{} ({} {}) -> {}:{} (float32)\n", in.file, info.path, ffp8::h5::to_string(info.dtype),
             ffp8::cli::shape_text(info.shape), out.file, out.dataset);
  fmt::print("format       {}, rounding {}{}, {}\n", format.name(), ffp8::to_string(qo.rounding),
             qo.rounding == ffp8::Rounding::Stochastic ? fmt::format(" (seed {})", qo.seed) : std::string(),
             qo.saturate ? "saturating" : "not saturating");
  fmt::print("count        {}\n", n);
  fmt::print("nan          {}\n", percent(counts.nan_inputs, n));
  fmt::print("overflow     {}\n", percent(counts.overflow, n));
  fmt::print("underflow    {}\n", percent(counts.underflow, n));
  fmt::print("neg_clipped  {}\n", percent(counts.neg_clipped, n));
  fmt::print("mse          {:.6g}\n", err.mse());
  fmt::print("sqnr_db      {:.4g}\n", err.sqnr_db());
  fmt::print("max_abs_err  {:.6g}\n", err.max_abs_err);
  return 0;
}

}  // namespace

FFP8_COMMAND("quantize", "quantize an HDF5 dataset to a format (float32 output)", run_quantize);
