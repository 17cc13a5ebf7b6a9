#pragma once
// Internals of core/io (not part of the public API): an RAII owner for every hid_t, capture of
// the HDF5 error stack into IoError messages, and the flat-range hyperslab selection.
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/io/h5.hpp"

namespace ffp8::h5::detail {

/// Turns HDF5's automatic error printing off for the calling thread (the Debian build is
/// thread-safe, where that setting is per thread), so the library never writes to the console.
void quiet();

/// Text of the calling thread's HDF5 error stack ("HDF5: f(): what; ..."), then clears it;
/// empty when there is no error recorded.
std::string error_stack();

/// Throws IoError with `message` and the HDF5 error stack appended.
[[noreturn]] void fail(const std::string& message);

/// Discards the HDF5 error stack after a failure that was expected and handled.
void clear_errors();

/// Owns one HDF5 identifier of any kind and closes it with the matching H5*close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  /// Closes the identifier; returns the close call's status (negative on failure).
  herr_t close() noexcept;
  void reset() noexcept { (void)close(); }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

/// Wraps `id`; throws IoError(message + HDF5 stack) when the call that made it failed.
Handle own(hid_t id, const std::string& message);

/// Throws IoError(message + HDF5 stack) when an HDF5 status is negative.
inline void check(herr_t status, const std::string& message) {
  if (status < 0) fail(message);
}

/// "/a/b" from "a/b", "/a/b/", "" ("/").
std::string normalize(const std::string& object);

/// Classifies an HDF5 datatype as the project sees it.
DType classify(hid_t type);
/// Words for an error message: "integer type", "string type", "float32 type", ...
std::string describe_type(hid_t type);

/// Selects elements [offset, offset + count) of the row-major flattened `dims` in `space`
/// as a union of at most 2*rank-1 hyperslab blocks (HDF5 visits them in row-major order).
void select_flat(hid_t space, const std::vector<hsize_t>& dims, std::uint64_t offset, std::uint64_t count);

/// An open dataset with its shape and type, for repeated range reads and writes.
struct Dataset {
  Handle id;
  Handle space;
  std::vector<hsize_t> dims;
  DatasetInfo info;
};

}  // namespace ffp8::h5::detail

namespace ffp8::h5 {

/// File's state, shared by the translation units of core/io.
struct File::Impl {
  std::string path;
  detail::Handle fid;
  bool writable = false;

  /// Opens `object` as a dataset; IoError names it when missing or not a dataset.
  detail::Dataset open_dataset(const std::string& object) const;
  /// Like open_dataset, and also requires a float16/32/64 element type.
  detail::Dataset open_float(const std::string& object) const;
  /// Opens any object (group or dataset); IoError when missing.
  detail::Handle open_object(const std::string& object) const;
  bool exists(const std::string& object) const;
};

}  // namespace ffp8::h5
