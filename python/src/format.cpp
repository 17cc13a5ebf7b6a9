// ffp8.Format: the C++ Format value type with its derived facts, the decode table, and the fit
// bias rule. Parsing is the library's (Format::parse), so every name the CLI accepts works here.
#include <cmath>
#include <limits>

#include <pybind11/numpy.h>
#include <pybind11/operators.h>
#include <pybind11/stl.h>

#include "core/format/codec.hpp"
#include "core/format/fit.hpp"
#include "core/format/format.hpp"
#include "core/infer/assignment.hpp"
#include "python/src/bindings.hpp"

namespace ffp8::py {

namespace py = pybind11;

namespace {
/// Value of every code (index = code): NaN for NaN and unused codes, +-inf for Inf codes.
py::array_t<double> values_of(const Format& f) {
  py::array_t<double> v(static_cast<py::ssize_t>(f.code_count()));
  double* out = v.mutable_data();
  for (std::uint32_t c = 0; c < f.code_count(); ++c) {
    const CodeValue cv = decode(f, c);
    out[c] = (cv.kind == CodeKind::Nan || cv.kind == CodeKind::Unused) ? std::numeric_limits<double>::quiet_NaN()
                                                                        : cv.value;
  }
  return v;
}
}  // namespace

void bind_format(py::module_& m) {
  // Specials first: Format.make's default argument is one.
  py::enum_<Specials>(m, "Specials")
      .value("none", Specials::None)
      .value("ieee", Specials::Ieee)
      .value("fn", Specials::Fn)
      .value("fnuz", Specials::Fnuz);
  m.def("parse_specials", &parse_specials);
  py::class_<Format>(m, "Format")
      .def(py::init(&Format::parse), py::arg("name"))
      .def_static("make", &Format::make, py::arg("sign"), py::arg("exp"), py::arg("man"), py::arg("bias"),
                  py::arg("specials") = Specials::None, py::arg("subnormals") = true)
      // The fields and derived facts, with the docs the Python Format shows for them.
      .def_property_readonly("name", &Format::name, "canonical name, e.g. 's1e4m3b7-fn'")
      .def_readonly("sign", &Format::sign, "1 when the top bit is a sign bit, 0 for unsigned")
      .def_readonly("exp", &Format::exp, "exponent field width")
      .def_readonly("man", &Format::man, "mantissa field width")
      .def_readonly("bias", &Format::bias, "exponent bias")
      .def_property_readonly("specials", [](const Format& f) { return std::string(to_string(f.specials)); },
                             "special codes: 'none', 'ieee', 'fn' or 'fnuz'")
      .def_readonly("subnormals", &Format::subnormals, "True when exponent code 0 encodes subnormals")
      .def_property_readonly("width", &Format::width, "bits per code (sign + exp + man)")
      .def_property_readonly("code_count", &Format::code_count, "number of codes, 2**width")
      .def_property_readonly("has_nan", &Format::has_nan, "True when some code is NaN")
      .def_property_readonly("has_inf", &Format::has_inf, "True when the format has ±Inf codes (ieee)")
      .def_property_readonly("max", &Format::max_value, "largest finite value max(V)")
      .def_property_readonly("min_normal", &Format::min_normal, "smallest positive normal value, 2**(1 - bias)")
      .def_property_readonly("min_positive", &Format::min_positive,
                             "smallest positive value (a subnormal, or min_normal without subnormals)")
      .def_property_readonly("fits_float32", &Format::fits_float32,
                             "True when every value is a float32 number (float32 quantize works)")
      .def("values", &values_of)
      .def(py::self == py::self)
      .def("__hash__", [](const Format& f) { return py::hash(py::str(f.name())); })
      .def(py::pickle([](const Format& f) { return f.name(); }, [](const std::string& n) { return Format::parse(n); }));


  m.def("presets", [] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const Preset& p : presets()) out.emplace_back(std::string(p.alias), std::string(p.canonical));
    return out;
  });
  m.def("fit_bias", py::overload_cast<const Format&, double>(&fit_bias), py::arg("format"), py::arg("a"));
  m.def("fit_input", &fit_input, py::arg("sign"), py::arg("max_abs"), py::arg("max_positive"));

  // A role's choice as eval configs write it ("float32", "int8", a name, "fit:TEMPLATE", "fit:auto:eE").
  py::class_<infer::FormatChoice> choice(m, "FormatChoice");
  py::enum_<infer::FormatChoice::Kind>(choice, "Kind")
      .value("float32", infer::FormatChoice::Kind::Float32)
      .value("fixed", infer::FormatChoice::Kind::Fixed)
      .value("fit", infer::FormatChoice::Kind::Fit)
      .value("int8", infer::FormatChoice::Kind::Int8);
  choice.def(py::init(&infer::FormatChoice::parse), py::arg("text"))
      .def_readonly("kind", &infer::FormatChoice::kind)
      .def_readonly("format", &infer::FormatChoice::format)
      .def_readonly("auto_sign", &infer::FormatChoice::auto_sign)
      .def("text", &infer::FormatChoice::text)
      .def("template_for", &infer::FormatChoice::template_for, py::arg("has_negative"));
}

}  // namespace ffp8::py
