// ffp8::h5::File: opening, inspecting, reading and writing datasets over the HDF5 C library.
#include "core/io/h5.hpp"
#include "core/io/h5_compression.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <utility>

#include "core/errors.hpp"
#include "core/io/h5_detail.hpp"

namespace ffp8::h5 {

using detail::check;
using detail::fail;
using detail::Handle;
using detail::normalize;
using detail::own;

const char* to_string(DType t) {
  switch (t) {
    case DType::Float16: return "float16";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int: return "int";
    case DType::UInt: return "uint";
    case DType::Other: break;
  }
  return "other";
}

std::string dtype_name(DType t, std::size_t elem_bytes) {
  if ((t == DType::Int || t == DType::UInt) && elem_bytes > 0) return fmt::format("{}{}", to_string(t), 8 * elem_bytes);
  return to_string(t);
}

std::uint64_t DatasetInfo::size() const {
  std::uint64_t n = 1;
  for (auto d : shape) {
    if (d == 0) return 0;
    if (n > UINT64_MAX / d) n = UINT64_MAX;  // saturates: a shape beyond 2^64 elements is refused by every reader
    else n *= d;
  }
  return n;
}

namespace {

// Strong close: closing the file closes any object still open, so a closed file is really
// closed (AtomicFile renames it right after).
Handle access_plist() {
  Handle fapl = own(H5Pcreate(H5P_FILE_ACCESS), "cannot create a file access property list");
  check(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), "cannot set the file close degree");
  return fapl;
}

hid_t open_impl(const std::string& path, bool rw) {
  detail::quiet();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw IoError(fmt::format("cannot open '{}': no such file", path));
  if (std::filesystem::is_directory(path, ec)) throw IoError(fmt::format("cannot open '{}': it is a folder", path));
  const htri_t is_h5 = H5Fis_hdf5(path.c_str());
  if (is_h5 == 0) throw IoError(fmt::format("cannot open '{}': not an HDF5 file", path));
  if (is_h5 < 0) fail(fmt::format("cannot open '{}'", path));
  Handle fapl = access_plist();
  const hid_t id = H5Fopen(path.c_str(), rw ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get());
  if (id < 0) fail(fmt::format("cannot open '{}'{}", path, rw ? " for writing" : ""));
  return id;
}

// Element type in memory for each span type.
template <class T>
hid_t mem_type();
template <> hid_t mem_type<float>() { return H5T_NATIVE_FLOAT; }
template <> hid_t mem_type<double>() { return H5T_NATIVE_DOUBLE; }
template <> hid_t mem_type<std::int64_t>() { return H5T_NATIVE_INT64; }
template <> hid_t mem_type<std::uint16_t>() { return H5T_NATIVE_UINT16; }
template <> hid_t mem_type<std::uint8_t>() { return H5T_NATIVE_UINT8; }

// IEEE half precision, built the way h5py builds it (float32 with narrowed fields).
Handle half_type() {
  Handle t = own(H5Tcopy(H5T_IEEE_F32LE), "cannot create the float16 type");
  check(H5Tset_fields(t.get(), 15, 10, 5, 0, 10), "cannot create the float16 type");
  check(H5Tset_size(t.get(), 2), "cannot create the float16 type");
  check(H5Tset_ebias(t.get(), 15), "cannot create the float16 type");
  return t;
}

}  // namespace

File File::from_handle(const std::string& path, std::int64_t id, bool writable) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->fid = Handle(static_cast<hid_t>(id));
  impl->writable = writable;
  return File(std::move(impl));
}

File File::open(const std::string& path) { return from_handle(path, open_impl(path, false), false); }
File File::open_rw(const std::string& path) { return from_handle(path, open_impl(path, true), true); }

File File::create(const std::string& path) {
  detail::quiet();
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    throw IoError(fmt::format("cannot create '{}': folder '{}' does not exist", path, parent.string()));
  }
  Handle fapl = access_plist();
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
  if (id < 0) fail(fmt::format("cannot create '{}'", path));
  return from_handle(path, id, true);
}

File::File(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;
File::~File() = default;  // Handle closes silently

const File::Impl& File::live() const {
  detail::quiet();
  if (!impl_ || !impl_->fid.valid()) {
    throw IoError(fmt::format("file '{}' is already closed", impl_ ? impl_->path : std::string("?")));
  }
  return *impl_;
}

const std::string& File::path() const {
  static const std::string none;
  return impl_ ? impl_->path : none;
}

void File::close() {
  const Impl& f = live();
  const std::string path = f.path;
  if (impl_->fid.close() < 0) fail(fmt::format("cannot close '{}'", path));
}

bool File::Impl::exists(const std::string& object) const {
  const std::string obj = normalize(object);
  if (obj == "/") return true;
  // H5Lexists needs every intermediate link to exist, so walk the prefixes.
  for (std::size_t pos = obj.find('/', 1);; pos = obj.find('/', pos + 1)) {
    const std::string prefix = obj.substr(0, pos);
    const htri_t r = H5Lexists(fid.get(), prefix.c_str(), H5P_DEFAULT);
    if (r <= 0) {
      detail::clear_errors();  // e.g. a prefix names a dataset
      return false;
    }
    if (pos == std::string::npos) break;
  }
  const htri_t r = H5Oexists_by_name(fid.get(), obj.c_str(), H5P_DEFAULT);  // dangling soft links
  if (r < 0) detail::clear_errors();
  return r > 0;
}

namespace {

// True when part of a dataset's storage was never allocated, so reading it returns fill values:
// a chunked dataset with fewer chunks stored than its shape needs (H5Dget_space_status is no
// help: it compares byte sizes, which compression makes differ), a contiguous one with no storage.
bool has_unwritten_storage(hid_t dset, hid_t space, const std::vector<hsize_t>& dims) {
  Handle dcpl = own(H5Dget_create_plist(dset), "cannot read a dataset's creation properties");
  const H5D_layout_t layout = H5Pget_layout(dcpl.get());
  if (layout == H5D_CONTIGUOUS) return H5Dget_storage_size(dset) == 0;
  if (layout != H5D_CHUNKED) return false;  // compact (stored in the header) or virtual
  std::vector<hsize_t> chunk(dims.size());
  if (H5Pget_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()) < 0) {
    detail::clear_errors();
    return H5Dget_storage_size(dset) == 0;
  }
  hsize_t want = 1;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const hsize_t n = chunk[i] ? (dims[i] + chunk[i] - 1) / chunk[i] : 0;
    want = n != 0 && want > std::numeric_limits<hsize_t>::max() / n ? std::numeric_limits<hsize_t>::max() : want * n;
  }
  hsize_t have = 0;
  if (H5Dget_num_chunks(dset, space, &have) < 0) {
    detail::clear_errors();
    return H5Dget_storage_size(dset) == 0;
  }
  return have < want;
}

}  // namespace

Handle File::Impl::open_object(const std::string& object) const {
  const std::string obj = normalize(object);
  if (!exists(obj)) throw IoError(fmt::format("object '{}' not found in '{}'", obj, path));
  return own(H5Oopen(fid.get(), obj.c_str(), H5P_DEFAULT), fmt::format("cannot open '{}' in '{}'", obj, path));
}

detail::Dataset File::Impl::open_dataset(const std::string& object) const {
  const std::string obj = normalize(object);
  if (!exists(obj)) throw IoError(fmt::format("dataset '{}' not found in '{}'", obj, path));
  Handle id = own(H5Oopen(fid.get(), obj.c_str(), H5P_DEFAULT), fmt::format("cannot open '{}' in '{}'", obj, path));
  if (H5Iget_type(id.get()) != H5I_DATASET) {
    throw IoError(fmt::format("'{}' in '{}' is a group, not a dataset", obj, path));
  }
  detail::Dataset ds;
  ds.info.path = obj;
  ds.space = own(H5Dget_space(id.get()), fmt::format("cannot read the shape of dataset '{}' in '{}'", obj, path));
  switch (H5Sget_simple_extent_type(ds.space.get())) {
    case H5S_SCALAR: break;
    case H5S_SIMPLE: {
      const int rank = H5Sget_simple_extent_ndims(ds.space.get());
      if (rank < 0) fail(fmt::format("cannot read the shape of dataset '{}' in '{}'", obj, path));
      ds.dims.resize(static_cast<std::size_t>(rank));
      check(H5Sget_simple_extent_dims(ds.space.get(), ds.dims.data(), nullptr),
            fmt::format("cannot read the shape of dataset '{}' in '{}'", obj, path));
      break;
    }
    default: ds.dims = {0}; break;  // H5S_NULL (h5py.Empty): no elements
  }
  ds.info.shape.assign(ds.dims.begin(), ds.dims.end());
  Handle type = own(H5Dget_type(id.get()), fmt::format("cannot read the type of dataset '{}' in '{}'", obj, path));
  ds.info.dtype = detail::classify(type.get());
  ds.info.elem_bytes = H5Tget_size(type.get());
  // Small never-written datasets read as their fill value, as HDF5 defines (h5py users create
  // datasets and fill them later); a large one with unwritten parts is a broken declaration.
  if (ds.info.size() > kMaxUnwrittenElements)
    ds.info.unwritten = has_unwritten_storage(id.get(), ds.space.get(), ds.dims);
  ds.id = std::move(id);
  return ds;
}

detail::Dataset File::Impl::open_float(const std::string& object) const {
  detail::Dataset ds = open_dataset(object);
  const auto t = ds.info.dtype;
  if (t != DType::Float16 && t != DType::Float32 && t != DType::Float64) {
    Handle type = own(H5Dget_type(ds.id.get()), "cannot read a dataset type");
    throw IoError(fmt::format("dataset '{}' in '{}' has {}; expected float16, float32 or float64", ds.info.path,
                              path, detail::describe_type(type.get())));
  }
  return ds;
}

bool File::exists(const std::string& object) const { return live().exists(object); }

DatasetInfo File::info(const std::string& dataset) const { return live().open_dataset(dataset).info; }

DatasetInfo File::float_dataset(const std::string& dataset) const {
  const Impl& f = live();
  DatasetInfo info = f.open_float(dataset).info;
  if (info.size() == 0) throw IoError(fmt::format("dataset '{}' in '{}' is empty", info.path, f.path));
  return info;
}

std::vector<DatasetInfo> File::list(const std::string& group) const {
  const Impl& f = live();
  const std::string root = normalize(group);
  Handle obj = f.open_object(root);
  if (H5Iget_type(obj.get()) == H5I_DATASET) return {f.open_dataset(root).info};
  // Collect names first: the visit callback is C and must not throw.
  std::vector<std::string> names;
  auto visit = [](hid_t, const char* name, const H5L_info_t* info, void* data) noexcept -> herr_t {
    try {
      if (info->type == H5L_TYPE_HARD) static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    } catch (...) {
      return -1;
    }
    return 0;
  };
  check(H5Lvisit(obj.get(), H5_INDEX_NAME, H5_ITER_INC, visit, &names),
        fmt::format("cannot list group '{}' in '{}'", root, f.path));
  std::vector<DatasetInfo> out;
  for (const auto& name : names) {
    const std::string full = root == "/" ? "/" + name : root + "/" + name;
    Handle o = own(H5Oopen(f.fid.get(), full.c_str(), H5P_DEFAULT), fmt::format("cannot open '{}' in '{}'", full, f.path));
    if (H5Iget_type(o.get()) == H5I_DATASET) out.push_back(f.open_dataset(full).info);
  }
  std::sort(out.begin(), out.end(), [](const DatasetInfo& a, const DatasetInfo& b) { return a.path < b.path; });
  return out;
}

namespace {

template <class T>
void read_range(const File::Impl& f, const detail::Dataset& ds, std::uint64_t offset, std::span<T> out) {
  const std::uint64_t n = ds.info.size();
  if (offset > n || out.size() > n - offset) {
    throw IoError(fmt::format("cannot read elements [{}, {}) of dataset '{}' in '{}': it has {} elements", offset,
                              offset + out.size(), ds.info.path, f.path, n));
  }
  if (out.empty()) return;
  if (ds.info.unwritten)
    throw DataError(fmt::format("dataset '{}' in '{}' declares {} elements but part of it was never written (no "
                                "storage allocated); refusing to read fill values",
                                ds.info.path, f.path, n));
  Handle fspace = own(H5Scopy(ds.space.get()), "cannot copy a dataspace");
  detail::select_flat(fspace.get(), ds.dims, offset, out.size());
  const hsize_t count = out.size();
  Handle mspace = own(H5Screate_simple(1, &count, nullptr), "cannot create a dataspace");
  check(H5Dread(ds.id.get(), mem_type<T>(), mspace.get(), fspace.get(), H5P_DEFAULT, out.data()),
        fmt::format("cannot read dataset '{}' in '{}'", ds.info.path, f.path));
}

template <class T>
void write_range(File::Impl& f, const std::string& dataset, std::uint64_t offset, std::span<const T> data) {
  if (!f.writable) throw IoError(fmt::format("cannot write dataset '{}': '{}' is open read-only", normalize(dataset), f.path));
  detail::Dataset ds = f.open_dataset(dataset);
  const std::uint64_t n = ds.info.size();
  if (offset > n || data.size() > n - offset) {
    throw IoError(fmt::format("cannot write elements [{}, {}) of dataset '{}' in '{}': it has {} elements", offset,
                              offset + data.size(), ds.info.path, f.path, n));
  }
  if (data.empty()) return;
  Handle fspace = own(H5Scopy(ds.space.get()), "cannot copy a dataspace");
  detail::select_flat(fspace.get(), ds.dims, offset, data.size());
  const hsize_t count = data.size();
  Handle mspace = own(H5Screate_simple(1, &count, nullptr), "cannot create a dataspace");
  check(H5Dwrite(ds.id.get(), mem_type<T>(), mspace.get(), fspace.get(), H5P_DEFAULT, data.data()),
        fmt::format("cannot write dataset '{}' in '{}'", ds.info.path, f.path));
}

}  // namespace

void File::read(const std::string& dataset, std::uint64_t offset, std::span<float> out) const {
  const Impl& f = live();
  read_range(f, f.open_float(dataset), offset, out);
}

void File::read(const std::string& dataset, std::uint64_t offset, std::span<double> out) const {
  const Impl& f = live();
  read_range(f, f.open_float(dataset), offset, out);
}


namespace {

detail::Dataset open_int(const File::Impl& f, const std::string& dataset) {
  detail::Dataset ds = f.open_dataset(dataset);
  if (ds.info.dtype != DType::Int && ds.info.dtype != DType::UInt) {
    Handle type = own(H5Dget_type(ds.id.get()), "cannot read a dataset type");
    throw IoError(fmt::format("dataset '{}' in '{}' has {}; expected an integer type", ds.info.path, f.path,
                              detail::describe_type(type.get())));
  }
  return ds;
}

// A variable-length UTF-8 string type, as h5py writes a Python str.
Handle vlen_string_type(const std::string& what) {
  Handle t = own(H5Tcopy(H5T_C_S1), what);
  check(H5Tset_size(t.get(), H5T_VARIABLE), what);
  check(H5Tset_cset(t.get(), H5T_CSET_UTF8), what);
  return t;
}

}  // namespace

void File::read(const std::string& dataset, std::uint64_t offset, std::span<std::uint8_t> out) const {
  const Impl& f = live();
  read_range(f, open_int(f, dataset), offset, out);
}

void File::read(const std::string& dataset, std::uint64_t offset, std::span<std::int64_t> out) const {
  const Impl& f = live();
  read_range(f, open_int(f, dataset), offset, out);
}

std::vector<std::int64_t> File::read_ints(const std::string& dataset) const {
  const Impl& f = live();
  const detail::Dataset ds = open_int(f, dataset);
  if (ds.info.size() > kMaxWholeReadElements)
    throw DataError(fmt::format("dataset '{}' in '{}' has {} elements, more than the {} this reader takes", ds.info.path,
                                f.path, ds.info.size(), kMaxWholeReadElements));
  std::vector<std::int64_t> out(ds.info.size());
  read_range(f, ds, 0, std::span<std::int64_t>(out));
  return out;
}

std::string File::read_string(const std::string& dataset) const {
  const Impl& f = live();
  detail::Dataset ds = f.open_dataset(dataset);
  Handle type = own(H5Dget_type(ds.id.get()), fmt::format("cannot read the type of dataset '{}' in '{}'", ds.info.path, f.path));
  if (H5Tget_class(type.get()) != H5T_STRING) {
    throw IoError(fmt::format("dataset '{}' in '{}' has {}; expected a string", ds.info.path, f.path,
                              detail::describe_type(type.get())));
  }
  if (ds.info.size() != 1) {
    throw IoError(fmt::format("dataset '{}' in '{}' has {} strings; expected one", ds.info.path, f.path, ds.info.size()));
  }
  const std::string what = fmt::format("cannot read dataset '{}' in '{}'", ds.info.path, f.path);
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle mt = vlen_string_type(what);
    check(H5Tset_cset(mt.get(), H5Tget_cset(type.get())), what);
    char* text = nullptr;
    check(H5Dread(ds.id.get(), mt.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &text), what);
    std::string out = text ? text : "";
    H5free_memory(text);
    return out;
  }
  const std::size_t n = H5Tget_size(type.get());
  std::string buf(n, '\0');
  check(H5Dread(ds.id.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), what);
  buf.resize(std::min(n, buf.find('\0')));
  if (H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD) {
    while (!buf.empty() && buf.back() == ' ') buf.pop_back();
  }
  return buf;
}

void File::write_string(const std::string& dataset, const std::string& text) {
  const Impl& f = live();
  const std::string obj = normalize(dataset);
  const std::string what = fmt::format("cannot create dataset '{}' in '{}'", obj, f.path);
  if (!f.writable) throw IoError(fmt::format("{}: the file is open read-only", what));
  if (obj == "/" || f.exists(obj)) throw IoError(fmt::format("{}: it already exists", what));
  Handle t = vlen_string_type(what);
  Handle space = own(H5Screate(H5S_SCALAR), what);
  Handle lcpl = own(H5Pcreate(H5P_LINK_CREATE), what);
  check(H5Pset_create_intermediate_group(lcpl.get(), 1), what);
  Handle ds = own(H5Dcreate2(f.fid.get(), obj.c_str(), t.get(), space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), what);
  const char* p = text.c_str();
  check(H5Dwrite(ds.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p), fmt::format("cannot write dataset '{}' in '{}'", obj, f.path));
}

void File::write(const std::string& dataset, std::uint64_t offset, std::span<const float> data) {
  live();
  write_range(*impl_, dataset, offset, data);
}
void File::write(const std::string& dataset, std::uint64_t offset, std::span<const double> data) {
  live();
  write_range(*impl_, dataset, offset, data);
}
void File::write(const std::string& dataset, std::uint64_t offset, std::span<const std::int64_t> data) {
  live();
  write_range(*impl_, dataset, offset, data);
}
void File::write(const std::string& dataset, std::uint64_t offset, std::span<const std::uint16_t> data) {
  live();
  write_range(*impl_, dataset, offset, data);
}
void File::write(const std::string& dataset, std::uint64_t offset, std::span<const std::uint8_t> data) {
  live();
  write_range(*impl_, dataset, offset, data);
}

namespace {

// Chunks of whole trailing rows where possible, about 1 MiB of float32, so that row-major
// streaming touches each chunk once.
std::vector<hsize_t> chunk_dims(const std::vector<hsize_t>& dims) {
  constexpr hsize_t target = hsize_t{1} << 18;
  std::vector<hsize_t> chunk(dims.size(), 1);
  hsize_t inner = 1;
  for (std::size_t i = dims.size(); i-- > 0;) {
    chunk[i] = std::max<hsize_t>(1, std::min(dims[i], target / inner));
    inner *= chunk[i];
  }
  return chunk;
}

}  // namespace

namespace {
thread_local bool compression_on = true;  // see h5_compression.hpp
}  // namespace

CompressionScope::CompressionScope(bool compress) : saved_(compression_on) { compression_on = compress; }
CompressionScope::~CompressionScope() { compression_on = saved_; }

void File::create_dataset(const std::string& dataset, const std::vector<std::uint64_t>& shape, DType type,
                          int uint_bytes) {
  const Impl& f = live();
  const std::string obj = normalize(dataset);
  if (!f.writable) throw IoError(fmt::format("cannot create dataset '{}': '{}' is open read-only", obj, f.path));
  if (obj == "/" || f.exists(obj)) {
    throw IoError(fmt::format("cannot create dataset '{}' in '{}': it already exists", obj, f.path));
  }
  const std::string what = fmt::format("cannot create dataset '{}' in '{}'", obj, f.path);
  for (std::size_t pos = obj.find('/', 1); pos != std::string::npos; pos = obj.find('/', pos + 1)) {
    const std::string parent = obj.substr(0, pos);
    if (f.exists(parent) && H5Iget_type(f.open_object(parent).get()) != H5I_GROUP) {
      throw IoError(fmt::format("{}: '{}' is a dataset, not a group", what, parent));
    }
  }
  Handle ftype;
  switch (type) {
    case DType::Float16: ftype = half_type(); break;
    case DType::Float32: ftype = own(H5Tcopy(H5T_IEEE_F32LE), what); break;
    case DType::Float64: ftype = own(H5Tcopy(H5T_IEEE_F64LE), what); break;
    case DType::Int: ftype = own(H5Tcopy(H5T_STD_I64LE), what); break;
    case DType::UInt:
      switch (uint_bytes) {
        case 1: ftype = own(H5Tcopy(H5T_STD_U8LE), what); break;
        case 2: ftype = own(H5Tcopy(H5T_STD_U16LE), what); break;
        case 4: ftype = own(H5Tcopy(H5T_STD_U32LE), what); break;
        case 8: ftype = own(H5Tcopy(H5T_STD_U64LE), what); break;
        default: throw IoError(fmt::format("{}: uint_bytes must be 1, 2, 4 or 8, not {}", what, uint_bytes));
      }
      break;
    case DType::Other: throw IoError(fmt::format("{}: element type 'other' cannot be created", what));
  }
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space = dims.empty() ? own(H5Screate(H5S_SCALAR), what)
                              : own(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), what);
  Handle lcpl = own(H5Pcreate(H5P_LINK_CREATE), what);
  check(H5Pset_create_intermediate_group(lcpl.get(), 1), what);
  Handle dcpl = own(H5Pcreate(H5P_DATASET_CREATE), what);
  std::uint64_t n = 1;
  for (auto d : shape) n *= d;
  constexpr std::uint64_t large = 1u << 16;
  if (compression_on && !dims.empty() && n >= large) {
    const auto chunk = chunk_dims(dims);
    check(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), what);
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
      check(H5Pset_shuffle(dcpl.get()), what);  // byte planes of floats compress far better
      check(H5Pset_deflate(dcpl.get(), 1), what);
    }
  }
  Handle ds = own(H5Dcreate2(f.fid.get(), obj.c_str(), ftype.get(), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
                  what);
}

void File::remove(const std::string& object) {
  const Impl& f = live();
  const std::string obj = normalize(object);
  if (!f.writable) throw IoError(fmt::format("cannot remove '{}': '{}' is open read-only", obj, f.path));
  if (obj == "/" || !f.exists(obj)) throw IoError(fmt::format("cannot remove '{}' from '{}': not found", obj, f.path));
  check(H5Ldelete(f.fid.get(), obj.c_str(), H5P_DEFAULT), fmt::format("cannot remove '{}' from '{}'", obj, f.path));
}

}  // namespace ffp8::h5
