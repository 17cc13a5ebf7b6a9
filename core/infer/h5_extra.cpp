// ExtraReader over the HDF5 C API, reusing core/io's handle and error-stack helpers.
#include "core/infer/h5_extra.hpp"

#include <fmt/format.h>
#include <hdf5.h>

#include "core/errors.hpp"
#include "core/io/h5_detail.hpp"

namespace ffp8::infer::detail {

using h5::detail::check;
using h5::detail::Handle;
using h5::detail::own;

ExtraReader::ExtraReader(const std::string& path) : path_(path) {
  h5::detail::quiet();
  // Same close degree as core/io's handle on the same file, or HDF5 refuses the second open.
  Handle fapl = own(H5Pcreate(H5P_FILE_ACCESS), "cannot create a file access property list");
  check(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), "cannot set the file close degree");
  fid_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get());
  if (fid_ < 0) h5::detail::fail(fmt::format("cannot open '{}'", path));
}

ExtraReader::~ExtraReader() {
  if (fid_ >= 0) H5Fclose(fid_);
}

std::string ExtraReader::read_string(const std::string& dataset) const {
  const std::string what = fmt::format("cannot read string dataset '{}' in '{}'", dataset, path_);
  Handle ds = own(H5Dopen2(fid_, dataset.c_str(), H5P_DEFAULT), what);
  Handle type = own(H5Dget_type(ds.get()), what);
  if (H5Tget_class(type.get()) != H5T_STRING) throw IoError(fmt::format("{}: it is not a string", what));
  Handle space = own(H5Dget_space(ds.get()), what);
  if (H5Sget_simple_extent_npoints(space.get()) != 1) throw IoError(fmt::format("{}: expected one string", what));
  Handle mem = own(H5Tcopy(H5T_C_S1), what);
  if (H5Tis_variable_str(type.get()) > 0) {
    check(H5Tset_size(mem.get(), H5T_VARIABLE), what);
    check(H5Tset_cset(mem.get(), H5Tget_cset(type.get())), what);
    char* text = nullptr;
    check(H5Dread(ds.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &text), what);
    std::string out = text ? text : "";
    H5free_memory(text);
    return out;
  }
  const std::size_t n = H5Tget_size(type.get());
  check(H5Tset_size(mem.get(), n + 1), what);
  std::string out(n + 1, '\0');
  check(H5Dread(ds.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), what);
  out.resize(out.find('\0') == std::string::npos ? n : out.find('\0'));
  return out;
}

namespace {

// Opens attribute `name` of `object`; an invalid handle when absent.
Handle open_attr(hid_t fid, const std::string& path, const std::string& object, const std::string& name) {
  const std::string what = fmt::format("cannot read attribute '{}' of '{}' in '{}'", name, object, path);
  const htri_t has = H5Aexists_by_name(fid, object.c_str(), name.c_str(), H5P_DEFAULT);
  check(has, what);
  if (has == 0) return Handle();
  return own(H5Aopen_by_name(fid, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), what);
}

template <class T>
std::vector<T> read_attr(hid_t attr, hid_t mem, const std::string& what) {
  Handle space = own(H5Aget_space(attr), what);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) h5::detail::fail(what);
  std::vector<T> v(static_cast<std::size_t>(n));
  if (n > 0) check(H5Aread(attr, mem, v.data()), what);
  return v;
}

}  // namespace

std::optional<std::vector<std::int64_t>> ExtraReader::int_array_attr(const std::string& object,
                                                                     const std::string& name) const {
  Handle a = open_attr(fid_, path_, object, name);
  if (!a.valid()) return std::nullopt;
  const std::string what = fmt::format("attribute '{}' of '{}' in '{}'", name, object, path_);
  Handle type = own(H5Aget_type(a.get()), what);
  if (H5Tget_class(type.get()) != H5T_INTEGER) throw IoError(fmt::format("{} is not an integer", what));
  return read_attr<std::int64_t>(a.get(), H5T_NATIVE_INT64, what);
}

std::optional<std::vector<double>> ExtraReader::double_array_attr(const std::string& object,
                                                                  const std::string& name) const {
  Handle a = open_attr(fid_, path_, object, name);
  if (!a.valid()) return std::nullopt;
  const std::string what = fmt::format("attribute '{}' of '{}' in '{}'", name, object, path_);
  Handle type = own(H5Aget_type(a.get()), what);
  const auto cls = H5Tget_class(type.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) throw IoError(fmt::format("{} is not a number", what));
  return read_attr<double>(a.get(), H5T_NATIVE_DOUBLE, what);
}

void ExtraReader::read_u8(const std::string& dataset, std::uint64_t offset, std::span<std::uint8_t> out) const {
  const std::string what = fmt::format("cannot read elements [{}, {}) of '{}' in '{}'", offset,
                                       offset + out.size(), dataset, path_);
  Handle ds = own(H5Dopen2(fid_, dataset.c_str(), H5P_DEFAULT), what);
  Handle space = own(H5Dget_space(ds.get()), what);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) h5::detail::fail(what);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), what);
  std::uint64_t total = 1;
  for (auto d : dims) total *= d;
  if (offset + out.size() > total) throw IoError(fmt::format("{}: the dataset has {} elements", what, total));
  if (out.empty()) return;
  h5::detail::select_flat(space.get(), dims, offset, out.size());
  const hsize_t n = out.size();
  Handle mspace = own(H5Screate_simple(1, &n, nullptr), what);
  check(H5Dread(ds.get(), H5T_NATIVE_UINT8, mspace.get(), space.get(), H5P_DEFAULT, out.data()), what);
}

}  // namespace ffp8::infer::detail
