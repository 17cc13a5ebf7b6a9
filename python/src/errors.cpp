// Library errors as Python exceptions, with the library's one-sentence messages unchanged:
// bad input (formats, configs, data, models) is a ValueError subclass, a file that cannot be read
// or written an OSError (FileNotFoundError when the file or folder does not exist).
#include <string_view>

#include "core/errors.hpp"
#include "python/src/bindings.hpp"

namespace ffp8::py {

namespace {
bool names_missing_file(std::string_view msg) {
  return msg.find("no such file") != std::string_view::npos || msg.find("does not exist") != std::string_view::npos ||
         msg.find("No such file") != std::string_view::npos;
}
}  // namespace

void bind_errors(pybind11::module_& m) {
  namespace py = pybind11;
  // Subclasses of the built-in exceptions, so `except ValueError` catches them and
  // `except ffp8.FormatError` can be specific. Created once, kept alive by the module.
  static py::exception<FormatError> format_error(m, "FormatError", PyExc_ValueError);
  static py::exception<ConfigError> config_error(m, "ConfigError", PyExc_ValueError);
  static py::exception<DataError> data_error(m, "DataError", PyExc_ValueError);
  static py::exception<ModelError> model_error(m, "ModelError", PyExc_ValueError);
  static py::exception<IoError> io_error(m, "IoError", PyExc_OSError);
  static py::exception<IoError> missing_error(m, "FileMissingError", PyExc_FileNotFoundError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const FormatError& e) {
      format_error(e.what());
    } catch (const ConfigError& e) {
      config_error(e.what());
    } catch (const DataError& e) {
      data_error(e.what());
    } catch (const ModelError& e) {
      model_error(e.what());
    } catch (const IoError& e) {
      if (names_missing_file(e.what()))
        missing_error(e.what());
      else
        io_error(e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
}

}  // namespace ffp8::py
