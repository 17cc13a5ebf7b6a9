#include "core/tensors/quantize_dataset.hpp"

#include <chrono>
#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/io/h5_compression.hpp"
#include "core/io/json_file.hpp"
#include "core/io/paths.hpp"

namespace ffp8 {

namespace {
constexpr std::size_t kChunk = std::size_t{1} << 20;  // elements per streamed chunk

/// Adds the wall seconds since the last lap (or construction) to a counter.
class Lap {
 public:
  void to(double& seconds) {
    const auto now = std::chrono::steady_clock::now();
    seconds += std::chrono::duration<double>(now - at_).count();
    at_ = now;
  }

 private:
  std::chrono::steady_clock::time_point at_ = std::chrono::steady_clock::now();
};

// "/a//b/" -> "/a/b": HDF5 treats these as one path.
std::string normal_dataset(const std::string& d) {
  std::string out;
  for (char c : d)
    if (c != '/' || out.empty() || out.back() != '/') out += c;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out.empty() || out.front() != '/' ? "/" + out : out;
}

// The output dataset must not be the input dataset (another dataset of the input file is fine:
// the input dataset is copied unchanged into the new file).
void refuse_in_place(const DatasetRef& in, const DatasetRef& out) {
  if (normal_dataset(in.dataset) != normal_dataset(out.dataset)) return;
  try {
    io::refuse_output_over_inputs(out.file, {{in.file, "input file"}}, "output");
  } catch (const ConfigError&) {
    throw ConfigError(fmt::format("output {} is the input dataset {}:{}; refusing to overwrite an input "
                                  "(write to another dataset or file)",
                                  out.text(), in.file, in.dataset));
  }
}
}  // namespace

QuantizeReport quantize_dataset(const DatasetRef& in, const DatasetRef& out, const Format& format,
                                const QuantOptions& qo, bool compress, h5::DType out_dtype,
                                const std::function<void(std::uint64_t done)>& on_chunk) {
  Lap lap;
  const Quantizer q(format, qo);
  if (out_dtype != h5::DType::Float32 && out_dtype != h5::DType::Float64)
    throw FormatError(fmt::format("output dtype '{}' is not float32 or float64", h5::to_string(out_dtype)));
  if (out_dtype == h5::DType::Float32 && !q.float32_output()) {
    throw FormatError(fmt::format(
        "format '{}' has values that are not float32 numbers (max {:.6g}, min positive {:.6g}), so its values "
        "cannot be written as float32; write float64 output instead",
        format.name(), format.max_value(), format.min_positive()));
  }
  refuse_in_place(in, out);
  const h5::File src = h5::File::open(in.file);
  QuantizeReport r{in, out, src.float_dataset(in.dataset), format, qo, out_dtype, {}, {}};
  r.compressed = compress;
  const h5::DatasetInfo& info = r.info;
  lap.to(r.read_s);

  h5::AtomicFile dst(out.file, h5::AtomicFile::Start::CopyExisting);
  h5::File& of = dst.file();
  if (of.exists(out.dataset)) {
    try {
      (void)of.info(out.dataset);
    } catch (const IoError&) {
      throw IoError(fmt::format("cannot write dataset '{}' to '{}': a group of that name exists", out.dataset, out.file));
    }
    of.remove(out.dataset);
  }
  {
    const h5::CompressionScope scope(compress);
    of.create_dataset(out.dataset, info.shape, out_dtype);
  }
  lap.to(r.write_s);

  // Error sums in float64 over the non-NaN inputs (a NaN input can only reach here with a
  // NaN-capable format, where its error is undefined).
  ErrorMeter meter(format.max_value(), format.sign == 0);
  std::vector<float> qbuf(static_cast<std::size_t>(std::min<std::uint64_t>(info.size(), kChunk)));
  if (info.dtype == h5::DType::Float64 || out_dtype == h5::DType::Float64) {
    // Exact path: the double is rounded once, never through float32 first (float16/32 inputs
    // convert to double exactly).
    std::vector<double> qd(qbuf.size());
    h5::for_each_chunk_f64(src, info.path, kChunk, [&](std::span<const double> x, std::uint64_t off) {
      lap.to(r.read_s);
      const std::span<double> qs(qd.data(), x.size());
      r.counts += q.quantize(x, qs, off);
      meter.add(x, std::span<const double>(qs));
      if (out_dtype == h5::DType::Float32)
        for (std::size_t i = 0; i < x.size(); ++i) qbuf[i] = static_cast<float>(qd[i]);  // exact: float32_output()
      lap.to(r.quantize_s);
      if (out_dtype == h5::DType::Float64) of.write(out.dataset, off, std::span<const double>(qs));
      else of.write(out.dataset, off, std::span<const float>(qbuf.data(), x.size()));
      lap.to(r.write_s);
      if (on_chunk) on_chunk(off + x.size());
    });
  } else {
    h5::for_each_chunk(src, info.path, kChunk, [&](std::span<const float> x, std::uint64_t off) {
      lap.to(r.read_s);
      const std::span<float> qs(qbuf.data(), x.size());
      r.counts += q.quantize(x, qs, off);
      meter.add(x, std::span<const float>(qs));
      lap.to(r.quantize_s);
      of.write(out.dataset, off, std::span<const float>(qs));
      lap.to(r.write_s);
      if (on_chunk) on_chunk(off + x.size());
    });
  }
  lap.to(r.read_s);  // the read after the last chunk (end of the input)
  if (r.counts.nan_inputs > 0 && !format.has_nan()) {
    throw DataError(fmt::format(
        "dataset '{}' in '{}' has {} NaN value{}, and format '{}' has no NaN code; nothing was written", info.path,
        in.file, r.counts.nan_inputs, r.counts.nan_inputs == 1 ? "" : "s", format.name()));
  }
  meter.count(static_cast<double>(r.counts.count - r.counts.nan_inputs));
  r.errors = meter.sums();
  // Provenance, so a quantized tensor says how it was made.
  of.set_attr(out.dataset, "ffp8_format", format.name());
  of.set_attr(out.dataset, "ffp8_rounding", std::string(to_string(qo.rounding)));
  of.set_attr(out.dataset, "ffp8_saturate", static_cast<std::int64_t>(qo.saturate));
  of.set_attr(out.dataset, "ffp8_source", fmt::format("{}:{}", in.file, info.path));
  if (qo.rounding == Rounding::Stochastic) of.set_attr(out.dataset, "ffp8_seed", std::to_string(qo.seed));
  if (auto role = src.get_string_attr(info.path, "role")) of.set_attr(out.dataset, "role", *role);
  dst.commit();
  lap.to(r.write_s);
  return r;
}

nlohmann::json to_json(const QuantizeReport& r) {
  nlohmann::json j;
  j["input"] = fmt::format("{}:{}", r.input.file, r.info.path);
  j["output"] = r.output.text();
  j["input_dtype"] = h5::to_string(r.info.dtype);
  j["output_dtype"] = h5::to_string(r.out_dtype);
  j["shape"] = r.info.shape;
  j["format"] = r.format.name();
  j["rounding"] = std::string(to_string(r.options.rounding));
  j["saturate"] = r.options.saturate;
  j["seed"] = r.options.seed;
  j["count"] = r.info.size();
  j["nan"] = r.counts.nan_inputs;
  j["overflow"] = r.counts.overflow;
  j["underflow"] = r.counts.underflow;
  j["neg_clipped"] = r.counts.neg_clipped;
  j["mse"] = json_number(r.errors.mse());
  j["sqnr_db"] = json_number(r.errors.sqnr_db());
  j["max_abs_err"] = json_number(r.errors.max_abs);
  j["compressed"] = r.compressed;
  j["seconds"] = {{"read", r.read_s}, {"quantize", r.quantize_s}, {"write", r.write_s},
                  {"total", r.read_s + r.quantize_s + r.write_s}};
  return j;
}

}  // namespace ffp8
