#pragma once
// The file layouts of docs/hdf5-layout.md: which layout an HDF5 file declares (model or data)
// and the one check of its version, so every reader (the engine, `ffp8 inspect`) accepts and
// refuses the same files with the same message.
#include <cstdint>
#include <optional>
#include <string>

#include "core/io/h5.hpp"

namespace ffp8::h5 {

/// The two layouts: a model file (graph and parameters) and a data file (images and labels).
enum class FileLayout : std::uint8_t { Model, Data };

/// The newest layout versions this build implements; it reads every version from 1 up to them
/// (a model layout-1 file is a layout-2 file that uses only layout-1 ops).
inline constexpr std::int64_t kModelLayout = 2;
inline constexpr std::int64_t kDataLayout = 1;

/// The root attribute holding a layout's version: "ffp8_layout" or "ffp8_data_layout".
const char* version_attribute(FileLayout layout);
/// The root attribute naming the file's content: "model_name" or "name".
const char* name_attribute(FileLayout layout);
/// "model" or "data".
const char* to_string(FileLayout layout);
/// The newest version this build implements.
std::int64_t supported_version(FileLayout layout);

/// The version `file` declares for `layout`, nullopt when the attribute is absent. Throws
/// ModelError (model) or DataError (data) naming the file and attribute when it is not one
/// integer or not a supported version (1 .. supported_version()).
std::optional<std::int64_t> layout_version(const File& file, FileLayout layout);

/// What a file declares about itself.
struct LayoutTag {
  FileLayout layout = FileLayout::Model;
  std::int64_t version = 0;
  std::string name;  ///< the name attribute ("" when absent)
};
/// The layout `file` declares (model checked first, then data), version checked as
/// layout_version() does; nullopt when it declares none.
std::optional<LayoutTag> detect_layout(const File& file);

}  // namespace ffp8::h5
