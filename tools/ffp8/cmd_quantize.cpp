// ffp8 quantize: rounds an HDF5 dataset to a format and writes the float32 values of the same
// shape. Thin: parses arguments, calls ffp8::quantize_dataset (core/tensors, which states the
// output policy) and prints its report.
#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <iostream>

#include "core/errors.hpp"
#include "core/format/format.hpp"
#include "core/io/h5.hpp"
#include "core/quant/quantize.hpp"
#include "core/scheme/scheme.hpp"
#include "core/tensors/quantize_dataset.hpp"
#include "tools/ffp8/args.hpp"
#include "tools/ffp8/command.hpp"
#include "tools/ffp8/mpi_session.hpp"

namespace po = boost::program_options;

namespace {

std::string percent(std::uint64_t k, std::uint64_t n) {
  return k == 0 ? "0" : fmt::format("{} ({:.3g}%)", k, 100.0 * double(k) / double(n));
}

int run_quantize(const std::vector<std::string>& args) {
  po::options_description opts(
      "ffp8 quantize --format SPEC [options] IN.h5:/dataset OUT.h5:/dataset\n\n"
      "Quantizes a float16/32/64 dataset to a format and writes the float32 (or --out-dtype float64) values of\n"
      "the same shape. A scaled format (mxfp8_e4m3, e4m3fn/block32:e8m0:fit, nvfp4, ...) shares one scale per\n"
      "group: blocks run along the reduction axis (axis 1 for rank >= 2, else 0; --axis K overrides).\n"
      "OUT.h5 is replaced atomically; its other datasets are kept (a dataset at the output path is replaced).\n"
      "Input NaN with a format that has no NaN code is an error and writes nothing. Paths are relative to the\n"
      "working folder. See docs/quantization.md.\n\noptions");
  opts.add_options()("help,h", "show this help")                                             //
      ("format,f", po::value<std::string>(), "format name (s1e4m3b7-fn), preset (e4m3fn) or scaled format (mxfp8_e4m3)")  //
      ("axis", po::value<std::string>(), "block-scaled formats: the axis blocks run along (default 1 for rank >= 2, else 0; negative counts from the end)")  //
      ("rounding,r", po::value<std::string>()->default_value("rne"), "rne, rna, rtz or stochastic")  //
      ("seed", po::value<std::string>()->default_value("0"), "seed of stochastic rounding (unsigned 64-bit)")  //
      ("no-saturate", "out-of-range values become Inf/NaN where the format has them (the overflow rule of docs/formats.md)")  //
      ("threads,j", po::value<std::string>()->default_value("0"), "threads (0: OpenMP default); results do not depend on it")  //
      ("compress", "write the output chunked with deflate (smaller, slower); default: contiguous, uncompressed")  //
      ("out-dtype", po::value<std::string>()->default_value("float32"),
       "float32 (formats whose values are all float32 numbers) or float64 (every format)")  //
      ("json", "print the summary as one JSON object (with the read, quantize and write seconds)");
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
  qo.threads = static_cast<int>(ffp8::cli::int_option(vm, "threads", 0, ffp8::cli::kMaxThreads));

  const std::string out_dtype_text = vm["out-dtype"].as<std::string>();
  if (out_dtype_text != "float32" && out_dtype_text != "float64")
    throw ffp8::cli::UsageError(fmt::format("--out-dtype '{}' is not float32 or float64", out_dtype_text));
  const auto out_dtype = out_dtype_text == "float64" ? ffp8::h5::DType::Float64 : ffp8::h5::DType::Float32;

  const ffp8::Scheme scheme = ffp8::Scheme::parse(vm["format"].as<std::string>());
  std::optional<int> axis;
  if (vm.count("axis")) {
    if (scheme.grouping != ffp8::Grouping::Block)
      throw ffp8::cli::UsageError(fmt::format("--axis applies to block-scaled formats (GROUP block{{K}}), not to {}",
                                              scheme.name()));
    axis = static_cast<int>(ffp8::cli::int_option(vm, "axis", -32, 31));
  }
  std::size_t chunks = 0;
  const ffp8::QuantizeReport r =
      ffp8::quantize_dataset(in, out, scheme, qo, vm.count("compress") > 0, out_dtype,
                             [&](std::uint64_t) { ffp8::cli::test_kill_hook(0, ++chunks); }, axis);
  if (vm.count("json")) {
    std::cout << ffp8::to_json(r).dump() << "\n";
    return 0;
  }
  const ffp8::h5::DatasetInfo& info = r.info;
  const ffp8::QuantCounts& counts = r.counts;
  const std::uint64_t n = info.size();
  fmt::print("{}:{} ({} {}) -> {}:{} ({})\n", in.file, info.path, ffp8::h5::to_string(info.dtype),
             ffp8::cli::shape_text(info.shape), out.file, out.dataset, out_dtype_text);
  fmt::print("format       {}{}, rounding {}{}, {}\n", scheme.name(),
             scheme.grouping == ffp8::Grouping::Block ? fmt::format(" (axis {})", r.axis) : std::string(),
             ffp8::to_string(qo.rounding),
             qo.rounding == ffp8::Rounding::Stochastic ? fmt::format(" (seed {})", qo.seed) : std::string(),
             qo.saturate ? "saturating" : "not saturating");
  fmt::print("count        {}\n", n);
  fmt::print("nan          {}\n", percent(counts.nan_inputs, n));
  fmt::print("overflow     {}\n", percent(counts.overflow, n));
  fmt::print("underflow    {}\n", percent(counts.underflow, n));
  fmt::print("neg_clipped  {}\n", percent(counts.neg_clipped, n));
  fmt::print("mse          {:.6g}\n", r.errors.mse());
  fmt::print("sqnr_db      {:.4g}\n", r.errors.sqnr_db());
  fmt::print("max_abs_err  {:.6g}\n", r.errors.max_abs);
  fmt::print("seconds      read {:.3f}, quantize {:.3f}, write {:.3f}{}\n", r.read_s, r.quantize_s, r.write_s,
             r.compressed ? " (compressed)" : "");
  return 0;
}

}  // namespace

FFP8_COMMAND("quantize", "quantize an HDF5 dataset to a format (float32 or float64 output)", run_quantize);
