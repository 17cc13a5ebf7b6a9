#pragma once
// The `_ffp8` extension module's parts: each file binds one area of the library and registers
// its functions on the module. The Python package `ffp8` (python/ffp8/) wraps them with
// argument checks, dtype handling and docstrings.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>  // in every part alike (pybind11 requires one set of type casters)

namespace ffp8::py {

void bind_errors(pybind11::module_& m);
void bind_format(pybind11::module_& m);
void bind_quantize(pybind11::module_& m);
void bind_jobs(pybind11::module_& m);

}  // namespace ffp8::py
