// Entry point of the `_ffp8` extension module (the C++ half of the `ffp8` Python package).
#include "python/src/bindings.hpp"

PYBIND11_MODULE(_ffp8, m) {
  m.doc() = "C++ kernels of the ffp8 package (use `import ffp8`, not this module)";
  ffp8::py::bind_errors(m);
  ffp8::py::bind_format(m);
  ffp8::py::bind_quantize(m);
  ffp8::py::bind_jobs(m);
}
