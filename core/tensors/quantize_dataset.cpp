#include "core/tensors/quantize_dataset.hpp"

#include <chrono>
#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/io/h5_compression.hpp"
#include "core/io/json_file.hpp"
#include "core/io/paths.hpp"
#include "core/scheme/groups.hpp"
#include "core/scheme/scheme_quantizer.hpp"

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

/// Values per chunk that hold whole groups: whole outer indices of a block layout, whole channels,
/// or everything (a tensor or two-level scale); plain formats stream kChunk values.
std::uint64_t group_unit(const Scheme& s, const GroupLayout& layout) {
  const std::uint64_t n = static_cast<std::uint64_t>(layout.size());
  if (!s.scaled() || n == 0) return 1;
  if (s.grouping == Grouping::Tensor || s.second_level) return n;
  const GroupGeometry geo = group_geometry(s, layout);
  return static_cast<std::uint64_t>(geo.length * geo.inner);
}

/// The layout of a chunk of `len` values (whole units) of `layout`.
GroupLayout chunk_layout(const Scheme& s, const GroupLayout& layout, std::uint64_t unit, std::uint64_t len) {
  if (!s.scaled()) return GroupLayout::flat(static_cast<std::int64_t>(len));
  const GroupGeometry geo = group_geometry(s, layout);
  const auto outer = static_cast<std::int64_t>(len / unit);
  if (s.grouping == Grouping::Tensor) return GroupLayout::flat(static_cast<std::int64_t>(len));
  if (s.grouping == Grouping::Channel) {
    const std::int64_t shape[2] = {outer, static_cast<std::int64_t>(unit)};
    return GroupLayout::for_shape(shape);
  }
  const std::int64_t shape[3] = {static_cast<std::int64_t>(len) / std::max<std::int64_t>(geo.length * geo.inner, 1),
                                 geo.length, geo.inner};
  return GroupLayout::for_shape(shape, 1);
}

}  // namespace

QuantizeReport quantize_dataset(const DatasetRef& in, const DatasetRef& out, const Scheme& scheme,
                                const QuantOptions& qo, bool compress, h5::DType out_dtype,
                                const std::function<void(std::uint64_t done)>& on_chunk, std::optional<int> axis) {
  Lap lap;
  const SchemeQuantizer q(scheme, qo);
  const Format& format = scheme.element;
  if (out_dtype != h5::DType::Float32 && out_dtype != h5::DType::Float64)
    throw FormatError(fmt::format("output dtype '{}' is not float32 or float64", h5::to_string(out_dtype)));
  if (out_dtype == h5::DType::Float32 && !q.element().float32_output()) {
    throw FormatError(fmt::format(
        "format '{}' has values that are not float32 numbers (max {:.6g}, min positive {:.6g}), so its values "
        "cannot be written as float32; write float64 output instead",
        format.name(), format.max_value(), format.min_positive()));
  }
  refuse_in_place(in, out);
  const h5::File src = h5::File::open(in.file);
  QuantizeReport r{in, out, src.float_dataset(in.dataset), scheme, 0, qo, out_dtype, {}, {}};
  r.compressed = compress;
  const h5::DatasetInfo& info = r.info;
  std::vector<std::int64_t> shape(info.shape.begin(), info.shape.end());
  GroupLayout layout;
  try {
    layout = GroupLayout::for_shape(shape, axis);
    check_block_fits(scheme, layout);
  } catch (const DataError& e) {
    throw DataError(fmt::format("dataset '{}' in '{}': {}", info.path, in.file, e.what()));
  }
  r.axis = layout.axis;
  const std::uint64_t unit = group_unit(scheme, layout);
  const std::uint64_t chunk = std::max<std::uint64_t>(1, kChunk / unit) * unit;
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
  // (A scaled format has no one max(V): the meter's own overflow count is not used here.)
  ErrorMeter meter(scheme.scaled() ? INFINITY : format.max_value(), format.sign == 0);
  std::vector<float> qbuf(static_cast<std::size_t>(std::min<std::uint64_t>(info.size(), chunk)));
  if (info.dtype == h5::DType::Float64 || out_dtype == h5::DType::Float64) {
    // Exact path: the double is rounded once, never through float32 first (float16/32 inputs
    // convert to double exactly).
    std::vector<double> qd(qbuf.size());
    h5::for_each_chunk_f64(src, info.path, chunk, [&](std::span<const double> x, std::uint64_t off) {
      lap.to(r.read_s);
      const std::span<double> qs(qd.data(), x.size());
      r.counts += q.quantize(x, qs, chunk_layout(scheme, layout, unit, x.size()), off);
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
    h5::for_each_chunk(src, info.path, chunk, [&](std::span<const float> x, std::uint64_t off) {
      lap.to(r.read_s);
      const std::span<float> qs(qbuf.data(), x.size());
      r.counts += q.quantize(x, qs, chunk_layout(scheme, layout, unit, x.size()), off);
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
        in.file, r.counts.nan_inputs, r.counts.nan_inputs == 1 ? "" : "s", scheme.name()));
  }
  meter.count(static_cast<double>(r.counts.count - r.counts.nan_inputs));
  r.errors = meter.sums();
  // Provenance, so a quantized tensor says how it was made.
  of.set_attr(out.dataset, "ffp8_format", scheme.name());
  if (scheme.grouping == Grouping::Block) of.set_attr(out.dataset, "ffp8_axis", static_cast<std::int64_t>(r.axis));
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
  j["format"] = r.scheme.name();
  if (r.scheme.scaled()) {
    j["effective_bits"] = effective_bits(r.scheme, GroupLayout::for_shape(std::vector<std::int64_t>(
                                                                           r.info.shape.begin(), r.info.shape.end()),
                                                                       r.axis));
    if (r.scheme.grouping == Grouping::Block) j["axis"] = r.axis;
  }
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
