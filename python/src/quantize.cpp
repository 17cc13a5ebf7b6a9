// quantize / encode / decode on numpy buffers. The Python layer hands over C-contiguous arrays
// (a view of the caller's array whenever its layout allows) and a preallocated output; here the
// C++ kernels run on the raw memory with the GIL released. float32 data takes the vectorized
// kernel, float64 the exact double path (both split over the library's threads: results do not
// depend on the split, the stochastic stream is keyed by element index).
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include <fmt/format.h>
#include <pybind11/numpy.h>

#include "core/errors.hpp"
#include "core/format/codec.hpp"
#include "core/infer/int8.hpp"
#include "core/quant/quantize.hpp"
#include "python/src/bindings.hpp"

namespace ffp8::py {

namespace py = pybind11;

namespace {

bool c_contiguous(const py::array& a) { return (a.flags() & py::array::c_style) != 0; }

void require(const py::array& a, const char* what, bool writable) {
  if (!c_contiguous(a)) throw DataError(fmt::format("{} must be a C-contiguous array", what));
  if (writable && !a.writeable()) throw DataError(fmt::format("{} must be writable", what));
}

QuantOptions options(const std::string& rounding, bool saturate, std::uint64_t seed, int threads) {
  QuantOptions o;
  o.rounding = parse_rounding(rounding);
  o.saturate = saturate;
  o.seed = seed;
  o.threads = threads;
  return o;
}

py::dict counts_dict(const QuantCounts& c) {
  py::dict d;
  for (const auto& [name, value] : c.named()) d[py::str(name.data(), name.size())] = value;
  return d;
}

void check_nan(const QuantCounts& c, const Format& f) {
  if (c.nan_inputs > 0 && !f.has_nan())
    throw DataError(fmt::format("the input has {} NaN value{}, and format '{}' has no NaN code", c.nan_inputs,
                                c.nan_inputs == 1 ? "" : "s", f.name()));
}

/// Quantizes x into out (same dtype, float32 or float64, same size); returns the counts.
py::dict quantize(const py::array& x, py::array& out, const Format& f, const std::string& rounding, bool saturate,
                  std::uint64_t seed, int threads) {
  require(x, "the input", false);
  require(out, "out", true);
  if (x.size() != out.size() || !x.dtype().is(out.dtype()))
    throw DataError("out must have the input's size and dtype");
  const Quantizer q(f, options(rounding, saturate, seed, threads));
  const auto n = static_cast<std::size_t>(x.size());
  QuantCounts c;
  if (x.dtype().is(py::dtype::of<float>())) {
    const auto* in = static_cast<const float*>(x.data());
    auto* o = static_cast<float*>(out.mutable_data());
    if (!q.fast_path()) q.quantize(std::span<const float>(), std::span<float>());  // throws the library's message
    py::gil_scoped_release unlocked;
    c = q.quantize(std::span<const float>(in, n), std::span<float>(o, n));
  } else if (x.dtype().is(py::dtype::of<double>())) {
    const auto* in = static_cast<const double*>(x.data());
    auto* o = static_cast<double*>(out.mutable_data());
    py::gil_scoped_release unlocked;
    c = q.quantize(std::span<const double>(in, n), std::span<double>(o, n));
  } else {
    throw DataError("the input must be float32 or float64");
  }
  check_nan(c, f);
  return counts_dict(c);
}

/// Codes of x (float32 or float64) into `codes` (uint8 for widths up to 8, else uint16).
py::dict encode(const py::array& x, py::array& codes, const Format& f, const std::string& rounding, bool saturate,
                std::uint64_t seed, int threads) {
  require(x, "the input", false);
  require(codes, "codes", true);
  if (x.size() != codes.size()) throw DataError("codes must have the input's size");
  const bool narrow = codes.dtype().is(py::dtype::of<std::uint8_t>());
  if (!narrow && !codes.dtype().is(py::dtype::of<std::uint16_t>())) throw DataError("codes must be uint8 or uint16");
  if (narrow && f.width() > 8) throw DataError(fmt::format("format '{}' needs uint16 codes", f.name()));
  const Quantizer q(f, options(rounding, saturate, seed, threads));
  const auto n = static_cast<std::size_t>(x.size());
  const bool is_f32 = x.dtype().is(py::dtype::of<float>());
  if (!is_f32 && !x.dtype().is(py::dtype::of<double>())) throw DataError("the input must be float32 or float64");
  const void* in = x.data();
  void* out = codes.mutable_data();
  QuantCounts c;
  {
    py::gil_scoped_release unlocked;
    // uint8 codes go through a uint16 buffer: the library writes codes of widths up to 16.
    std::vector<std::uint16_t> wide(narrow ? n : 0);
    const std::span<std::uint16_t> dst(narrow ? wide.data() : static_cast<std::uint16_t*>(out), n);
    if (is_f32)
      c = q.encode(std::span<const float>(static_cast<const float*>(in), n), dst);
    else
      c = q.encode(std::span<const double>(static_cast<const double*>(in), n), dst);
    if (narrow) std::copy(wide.begin(), wide.end(), static_cast<std::uint8_t*>(out));
  }
  check_nan(c, f);
  return counts_dict(c);
}

/// Values of `codes` (any unsigned integer dtype) into `out` (float32 or float64).
void decode_codes(const py::array& codes, py::array& out, const Format& f) {
  require(codes, "codes", false);
  require(out, "out", true);
  if (codes.size() != out.size()) throw DataError("out must have the codes' size");
  if (codes.dtype().kind() != 'u') throw DataError("codes must be an unsigned integer array");
  const bool f32 = out.dtype().is(py::dtype::of<float>());
  if (!f32 && !out.dtype().is(py::dtype::of<double>())) throw DataError("out must be float32 or float64");
  if (f32 && !f.fits_float32())
    throw FormatError(fmt::format("format '{}' has values that are not float32 numbers; decode to float64", f.name()));
  std::vector<double> table(f.code_count());
  for (std::uint32_t k = 0; k < f.code_count(); ++k) {
    const CodeValue cv = decode(f, k);
    table[k] = (cv.kind == CodeKind::Nan || cv.kind == CodeKind::Unused) ? std::nan("") : cv.value;
  }
  const auto n = static_cast<std::size_t>(codes.size());
  const int item = static_cast<int>(codes.itemsize());
  std::uint64_t bad = 0, bad_code = 0;
  void* dst = out.mutable_data();
  {
    py::gil_scoped_release unlocked;
    const auto* raw = static_cast<const unsigned char*>(codes.data());
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t k = 0;
      switch (item) {
        case 1: k = raw[i]; break;
        case 2: k = reinterpret_cast<const std::uint16_t*>(raw)[i]; break;
        case 4: k = reinterpret_cast<const std::uint32_t*>(raw)[i]; break;
        default: k = reinterpret_cast<const std::uint64_t*>(raw)[i]; break;
      }
      if (k >= f.code_count()) {
        if (bad++ == 0) bad_code = k;
        k = 0;
      }
      if (f32)
        static_cast<float*>(dst)[i] = static_cast<float>(table[k]);
      else
        static_cast<double*>(dst)[i] = table[k];
    }
  }
  if (bad > 0)
    throw DataError(fmt::format("{} code{} out of range for format '{}' ({} codes), the first {}", bad,
                                bad == 1 ? " is" : "s are", f.name(), f.code_count(), bad_code));
}

/// INT8 per-tensor symmetric (the eval baseline "int8") of float32 x with `scale` into out.
py::dict int8_quantize(const py::array& x, py::array& out, float scale, int threads) {
  require(x, "the input", false);
  require(out, "out", true);
  if (!x.dtype().is(py::dtype::of<float>()) || !out.dtype().is(py::dtype::of<float>()) || x.size() != out.size())
    throw DataError("int8 quantization takes float32 arrays of one size");
  const infer::Int8Quantizer q{scale};
  const auto n = static_cast<std::size_t>(x.size());
  const auto* in = static_cast<const float*>(x.data());
  auto* o = static_cast<float*>(out.mutable_data());
  QuantCounts c;
  {
    py::gil_scoped_release unlocked;
    c = q.quantize(std::span<const float>(in, n), std::span<float>(o, n), threads);
  }
  if (c.nan_inputs > 0) throw DataError(fmt::format("the input has {} NaN value{}, and int8 has no NaN code",
                                                    c.nan_inputs, c.nan_inputs == 1 ? "" : "s"));
  return counts_dict(c);
}

}  // namespace

void bind_quantize(py::module_& m) {
  m.def("quantize", &quantize, py::arg("x"), py::arg("out"), py::arg("format"), py::arg("rounding"),
        py::arg("saturate"), py::arg("seed"), py::arg("threads"));
  m.def("encode", &encode, py::arg("x"), py::arg("codes"), py::arg("format"), py::arg("rounding"),
        py::arg("saturate"), py::arg("seed"), py::arg("threads"));
  m.def("decode", &decode_codes, py::arg("codes"), py::arg("out"), py::arg("format"));
  m.def("int8_scale", [](double max_abs) { return infer::Int8Quantizer::for_max_abs(max_abs).scale; },
        py::arg("max_abs"));
  m.def("int8_quantize", &int8_quantize, py::arg("x"), py::arg("out"), py::arg("scale"), py::arg("threads"));
  m.def("rounding_names", [] {
    std::vector<std::string> v;
    for (Rounding r : {Rounding::Rne, Rounding::Rna, Rounding::Rtz, Rounding::Stochastic})
      v.emplace_back(to_string(r));
    return v;
  });
}

}  // namespace ffp8::py
