// HDF5 plumbing shared by core/io: quiet error handling, error-stack capture, handle closing,
// type classification and the flat-range selection.
#include "core/io/h5_detail.hpp"

#include <fmt/format.h>

#include "core/errors.hpp"

namespace ffp8::h5::detail {

void quiet() {
  thread_local bool done = false;
  if (!done) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    done = true;
  }
}

namespace {

herr_t collect(unsigned /*n*/, const H5E_error2_t* e, void* data) noexcept {
  try {
    auto* out = static_cast<std::vector<std::string>*>(data);
    std::string item = fmt::format("{}(): {}", e->func_name ? e->func_name : "?", e->desc ? e->desc : "");
    char minor[160] = "";
    if (H5Eget_msg(e->min_num, nullptr, minor, sizeof minor) > 0 && minor[0] != '\0') {
      item += fmt::format(" [{}]", minor);
    }
    // The same text repeats down the stack; keep each once.
    for (const auto& o : *out)
      if (o == item) return 0;
    out->push_back(std::move(item));
  } catch (...) {
    return -1;
  }
  return 0;
}

}  // namespace

std::string error_stack() {
  quiet();
  const hid_t stack = H5Eget_current_stack();  // copies and clears the thread's stack
  if (stack < 0) return {};
  std::vector<std::string> items;
  H5Ewalk2(stack, H5E_WALK_DOWNWARD, collect, &items);
  H5Eclose_stack(stack);
  if (items.empty()) return {};
  std::string text = "HDF5: ";
  for (std::size_t i = 0; i < items.size(); ++i) text += (i ? "; " : "") + items[i];
  return text;
}

void clear_errors() { H5Eclear2(H5E_DEFAULT); }

[[noreturn]] void fail(const std::string& message) {
  const std::string stack = error_stack();
  throw IoError(stack.empty() ? message : fmt::format("{} ({})", message, stack));
}

herr_t Handle::close() noexcept {
  if (id_ < 0) return 0;
  const hid_t id = std::exchange(id_, H5I_INVALID_HID);
  switch (H5Iget_type(id)) {
    case H5I_FILE: return H5Fclose(id);
    case H5I_GROUP: return H5Gclose(id);
    case H5I_DATASET: return H5Dclose(id);
    case H5I_DATASPACE: return H5Sclose(id);
    case H5I_DATATYPE: return H5Tclose(id);
    case H5I_ATTR: return H5Aclose(id);
    case H5I_GENPROP_LST: return H5Pclose(id);
    default: return H5Idec_ref(id) < 0 ? -1 : 0;
  }
}

Handle own(hid_t id, const std::string& message) {
  if (id < 0) fail(message);
  return Handle(id);
}

std::string normalize(const std::string& object) {
  std::string out;
  out.reserve(object.size() + 1);
  for (char c : object) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;  // "a//b" is "a/b" to HDF5 too
    out += c;
  }
  if (out.empty() || out.front() != '/') out.insert(out.begin(), '/');
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

DType classify(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_FLOAT: {
      std::size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
      if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0) return DType::Other;
      if (esize == 5 && msize == 10) return DType::Float16;
      if (esize == 8 && msize == 23) return DType::Float32;
      if (esize == 11 && msize == 52) return DType::Float64;
      return DType::Other;  // e.g. bfloat16 or long double: not a type the project reads
    }
    case H5T_INTEGER: return H5Tget_sign(type) == H5T_SGN_NONE ? DType::UInt : DType::Int;
    default: return DType::Other;
  }
}

std::string describe_type(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: return "integer type";
    case H5T_FLOAT: {
      const DType d = classify(type);
      if (d == DType::Other) return fmt::format("an unsupported {}-byte float type", H5Tget_size(type));
      return fmt::format("{} type", to_string(d));
    }
    case H5T_STRING: return "string type";
    case H5T_COMPOUND: return "compound type";
    case H5T_ENUM: return "enum type";
    case H5T_ARRAY: return "array type";
    case H5T_VLEN: return "variable-length type";
    case H5T_OPAQUE: return "opaque type";
    case H5T_BITFIELD: return "bitfield type";
    case H5T_REFERENCE: return "reference type";
    case H5T_TIME: return "time type";
    default: return "unknown type";
  }
}

namespace {

// Adds the block covering flat elements [a, b) of the sub-array starting at `level`, with
// start/count of the outer levels already fixed; returns false on an HDF5 failure.
bool add_blocks(hid_t space, const std::vector<hsize_t>& dims, std::vector<hsize_t>& start,
                std::vector<hsize_t>& count, std::size_t level, hsize_t a, hsize_t b, bool& first) {
  const std::size_t rank = dims.size();
  hsize_t stride = 1;
  for (std::size_t i = level + 1; i < rank; ++i) stride *= dims[i];
  auto block = [&](hsize_t lo, hsize_t n) {
    start[level] = lo;
    count[level] = n;
    for (std::size_t i = level + 1; i < rank; ++i) {
      start[i] = 0;
      count[i] = dims[i];
    }
    const H5S_seloper_t op = first ? H5S_SELECT_SET : H5S_SELECT_OR;
    first = false;
    return H5Sselect_hyperslab(space, op, start.data(), nullptr, count.data(), nullptr) >= 0;
  };
  hsize_t ia = a / stride, ib = b / stride;
  const hsize_t ra = a % stride, rb = b % stride;
  if (ia == ib) {  // inside one slice of this level: descend
    start[level] = ia;
    count[level] = 1;
    return add_blocks(space, dims, start, count, level + 1, ra, rb, first);
  }
  if (ra != 0) {  // partial leading slice
    start[level] = ia;
    count[level] = 1;
    if (!add_blocks(space, dims, start, count, level + 1, ra, stride, first)) return false;
    ++ia;
  }
  if (ib > ia && !block(ia, ib - ia)) return false;  // whole slices in the middle
  if (rb != 0) {                                     // partial trailing slice
    start[level] = ib;
    count[level] = 1;
    return add_blocks(space, dims, start, count, level + 1, 0, rb, first);
  }
  return true;
}

}  // namespace

void select_flat(hid_t space, const std::vector<hsize_t>& dims, std::uint64_t offset, std::uint64_t count) {
  if (dims.empty()) {  // scalar: the one element
    check(H5Sselect_all(space), "cannot select a scalar dataset");
    return;
  }
  std::vector<hsize_t> start(dims.size(), 0), cnt(dims.size(), 1);
  bool first = true;
  if (!add_blocks(space, dims, start, cnt, 0, offset, offset + count, first)) {
    fail(fmt::format("cannot select elements [{}, {})", offset, offset + count));
  }
}

}  // namespace ffp8::h5::detail
