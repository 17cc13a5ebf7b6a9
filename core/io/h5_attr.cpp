// Attributes of groups and datasets: typed reads that say what they found, and writes that
// replace an existing attribute (strings as variable-length UTF-8, as h5py writes them).
#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/io/h5.hpp"
#include "core/io/h5_detail.hpp"

namespace ffp8::h5 {

using detail::check;
using detail::Handle;
using detail::normalize;
using detail::own;

namespace {

// An open attribute with its type, or nothing when absent.
struct Attr {
  Handle attr, type;
  std::string where;  // "attribute 'role' of '/w' in 'x.h5'"
  std::size_t count = 0;
};

std::optional<Attr> open_attr(const File::Impl& f, const std::string& object, const std::string& name,
                              bool single = true) {
  const std::string obj = normalize(object);
  Handle o = f.open_object(obj);
  const std::string where = fmt::format("attribute '{}' of '{}' in '{}'", name, obj, f.path);
  const htri_t has = H5Aexists(o.get(), name.c_str());
  check(has, fmt::format("cannot look up {}", where));
  if (has == 0) return std::nullopt;
  Attr a;
  a.where = where;
  a.attr = own(H5Aopen(o.get(), name.c_str(), H5P_DEFAULT), fmt::format("cannot open {}", where));
  a.type = own(H5Aget_type(a.attr.get()), fmt::format("cannot read the type of {}", where));
  Handle space = own(H5Aget_space(a.attr.get()), fmt::format("cannot read the shape of {}", where));
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) detail::fail(fmt::format("cannot read the shape of {}", where));
  a.count = static_cast<std::size_t>(n);
  if (single && a.count != 1) throw IoError(fmt::format("{} has {} values; expected one", where, a.count));
  return a;
}

[[noreturn]] void wrong_type(const Attr& a, const char* expected) {
  throw IoError(fmt::format("{} has {}; expected {}", a.where, detail::describe_type(a.type.get()), expected));
}

}  // namespace

std::optional<std::string> File::get_string_attr(const std::string& object, const std::string& name) const {
  auto a = open_attr(live(), object, name);
  if (!a) return std::nullopt;
  if (H5Tget_class(a->type.get()) != H5T_STRING) wrong_type(*a, "a string");
  const std::string what = fmt::format("cannot read {}", a->where);
  if (H5Tis_variable_str(a->type.get()) > 0) {
    Handle mt = own(H5Tcopy(H5T_C_S1), what);
    check(H5Tset_size(mt.get(), H5T_VARIABLE), what);
    check(H5Tset_cset(mt.get(), H5Tget_cset(a->type.get())), what);
    char* text = nullptr;
    check(H5Aread(a->attr.get(), mt.get(), &text), what);
    std::string out = text ? text : "";
    H5free_memory(text);
    return out;
  }
  const std::size_t n = H5Tget_size(a->type.get());
  std::string buf(n, '\0');
  check(H5Aread(a->attr.get(), a->type.get(), buf.data()), what);
  buf.resize(buf.find('\0') == std::string::npos ? n : buf.find('\0'));
  if (H5Tget_strpad(a->type.get()) == H5T_STR_SPACEPAD) {
    while (!buf.empty() && buf.back() == ' ') buf.pop_back();
  }
  return buf;
}

std::optional<double> File::get_double_attr(const std::string& object, const std::string& name) const {
  auto a = open_attr(live(), object, name);
  if (!a) return std::nullopt;
  const auto cls = H5Tget_class(a->type.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) wrong_type(*a, "a number");
  double v = 0.0;
  check(H5Aread(a->attr.get(), H5T_NATIVE_DOUBLE, &v), fmt::format("cannot read {}", a->where));
  return v;
}

std::optional<std::int64_t> File::get_int_attr(const std::string& object, const std::string& name) const {
  auto a = open_attr(live(), object, name);
  if (!a) return std::nullopt;
  if (H5Tget_class(a->type.get()) != H5T_INTEGER) wrong_type(*a, "an integer");
  std::int64_t v = 0;
  check(H5Aread(a->attr.get(), H5T_NATIVE_INT64, &v), fmt::format("cannot read {}", a->where));
  return v;
}

std::optional<std::vector<std::int64_t>> File::get_int_array_attr(const std::string& object,
                                                                  const std::string& name) const {
  auto a = open_attr(live(), object, name, false);
  if (!a) return std::nullopt;
  if (H5Tget_class(a->type.get()) != H5T_INTEGER) wrong_type(*a, "integers");
  std::vector<std::int64_t> v(a->count);
  if (!v.empty()) check(H5Aread(a->attr.get(), H5T_NATIVE_INT64, v.data()), fmt::format("cannot read {}", a->where));
  return v;
}

std::optional<std::vector<double>> File::get_double_array_attr(const std::string& object, const std::string& name) const {
  auto a = open_attr(live(), object, name, false);
  if (!a) return std::nullopt;
  const auto cls = H5Tget_class(a->type.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) wrong_type(*a, "numbers");
  std::vector<double> v(a->count);
  if (!v.empty()) check(H5Aread(a->attr.get(), H5T_NATIVE_DOUBLE, v.data()), fmt::format("cannot read {}", a->where));
  return v;
}

namespace {

// Replaces attribute `name` of `object` with a scalar of file type `type` holding `*value`.
void put_attr(const File::Impl& f, const std::string& object, const std::string& name, hid_t type,
              hid_t mem, const void* value, const hsize_t* count = nullptr) {
  const std::string obj = normalize(object);
  const std::string what = fmt::format("cannot write attribute '{}' of '{}' in '{}'", name, obj, f.path);
  if (!f.writable) throw IoError(fmt::format("{}: the file is open read-only", what));
  Handle o = f.open_object(obj);
  const htri_t has = H5Aexists(o.get(), name.c_str());
  check(has, what);
  if (has > 0) check(H5Adelete(o.get(), name.c_str()), what);
  Handle space = count ? own(H5Screate_simple(1, count, nullptr), what) : own(H5Screate(H5S_SCALAR), what);
  Handle a = own(H5Acreate2(o.get(), name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), what);
  check(H5Awrite(a.get(), mem, value), what);
}

}  // namespace

void File::set_attr(const std::string& object, const std::string& name, const std::string& value) {
  const Impl& f = live();
  Handle t = own(H5Tcopy(H5T_C_S1), "cannot create a string type");
  check(H5Tset_size(t.get(), H5T_VARIABLE), "cannot create a string type");
  check(H5Tset_cset(t.get(), H5T_CSET_UTF8), "cannot create a string type");
  const char* text = value.c_str();
  put_attr(f, object, name, t.get(), t.get(), &text);
}

void File::set_attr(const std::string& object, const std::string& name, double value) {
  put_attr(live(), object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

void File::set_attr(const std::string& object, const std::string& name, std::int64_t value) {
  put_attr(live(), object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void File::set_attr(const std::string& object, const std::string& name, const std::vector<std::int64_t>& values) {
  const hsize_t n = values.size();
  put_attr(live(), object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, values.data(), &n);
}

void File::set_attr(const std::string& object, const std::string& name, const std::vector<double>& values) {
  const hsize_t n = values.size();
  put_attr(live(), object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values.data(), &n);
}

}  // namespace ffp8::h5
