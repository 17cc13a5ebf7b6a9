#include "core/io/layout.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.hpp"

namespace ffp8::h5 {

const char* version_attribute(FileLayout l) { return l == FileLayout::Model ? "ffp8_layout" : "ffp8_data_layout"; }
const char* name_attribute(FileLayout l) { return l == FileLayout::Model ? "model_name" : "name"; }
const char* to_string(FileLayout l) { return l == FileLayout::Model ? "model" : "data"; }
std::int64_t supported_version(FileLayout l) { return l == FileLayout::Model ? kModelLayout : kDataLayout; }

std::optional<std::int64_t> layout_version(const File& f, FileLayout l) {
  const char* attr = version_attribute(l);
  auto fail = [&](const std::string& what) -> std::int64_t {
    const std::string m = fmt::format("'{}': root attribute {} {}", f.path(), attr, what);
    if (l == FileLayout::Model) throw ModelError(m);
    throw DataError(m);
  };
  std::optional<std::vector<std::int64_t>> v;
  try {
    v = f.get_int_array_attr("/", attr);
  } catch (const IoError&) {
    fail("has another type; expected an integer");
  }
  if (!v) return std::nullopt;
  if (v->size() != 1) fail(fmt::format("= [{}]; expected an integer", fmt::join(*v, ", ")));
  if ((*v)[0] < 1 || (*v)[0] > supported_version(l))
    fail(fmt::format("= {} is not supported (this ffp8 reads {} {})", (*v)[0], to_string(l),
                     supported_version(l) == 1 ? std::string("layout 1") : fmt::format("layouts 1 to {}", supported_version(l))));
  return (*v)[0];
}

std::optional<LayoutTag> detect_layout(const File& f) {
  for (FileLayout l : {FileLayout::Model, FileLayout::Data}) {
    const auto v = layout_version(f, l);
    if (!v) continue;
    std::string name;
    try {
      name = f.get_string_attr("/", name_attribute(l)).value_or("");
    } catch (const IoError&) {
      // A non-string name attribute is someone else's: the file still has its layout.
    }
    return LayoutTag{l, *v, name};
  }
  return std::nullopt;
}

}  // namespace ffp8::h5
