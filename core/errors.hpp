#pragma once
// Typed errors of the ffp8 library. Library code throws these and never prints or exits;
// the CLI maps them to messages and exit codes (1 for bad input).
#include <stdexcept>
#include <string>

namespace ffp8 {

/// Base of every error the library throws on bad input.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
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
