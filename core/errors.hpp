#pragma once
// Typed errors of the ffp8 library. Library code throws these and never prints or exits;
// the CLI maps them to messages and exit codes (1 for bad input).
#include <stdexcept>
#include <string>

namespace ffp8 {

/// Base of every error the library throws on bad input.
/// Messages are one line: control characters (a newline in a quoted file or format name) are
/// written as escapes (\n, \xNN), so every error the CLI prints is one sentence on one line.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(one_line(message)) {}
  explicit Error(const char* message) : Error(std::string(message)) {}

  /// `text` with bytes below 0x20 and 0x7f escaped.
  static std::string one_line(const std::string& text) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x20 && u != 0x7f) out += c;
      else if (c == '\n') out += "\\n";
      else if (c == '\t') out += "\\t";
      else if (c == '\r') out += "\\r";
      else out += std::string("\\x") + hex[u >> 4] + hex[u & 15];
    }
    return out;
  }
};

/// A format name or parameter combination is malformed or invalid.
class FormatError : public Error {
 public:
  using Error::Error;
};

/// A file, dataset or attribute could not be read or written (carries the HDF5 error text).
/// Only for read/write failures: a file that reads fine but means nothing valid is a ModelError
/// or DataError.
class IoError : public Error {
 public:
  using Error::Error;
};

/// A configuration value is missing, unknown or out of range (message names the JSON path).
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// Data cannot be processed as asked (e.g. NaN inputs for a format without NaN, a data file
/// whose images do not fit the model).
class DataError : public Error {
 public:
  using Error::Error;
};

/// A model file reads fine but is not a valid model: unknown layout version, op or attribute,
/// a graph whose inputs or shapes do not fit (message names the file, node and JSON path).
class ModelError : public Error {
 public:
  using Error::Error;
};

}  // namespace ffp8
