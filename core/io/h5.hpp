#pragma once
// HDF5 tensor I/O: RAII handles over the HDF5 C library, typed exceptions (IoError) that carry
// the HDF5 error stack text, chunked reads of float16/32/64 datasets of any rank (peak memory
// set by the chunk, not the dataset), and atomic output files (temp name, then rename).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ffp8::h5 {

/// Element type of a dataset as the project sees it.
enum class DType : std::uint8_t { Float16, Float32, Float64, Int, UInt, Other };

/// Name of a DType ("float16", "float32", "float64", "int", "uint", "other").
const char* to_string(DType t);
/// Name with the width for integers: "int64", "uint8"; to_string(dtype) otherwise.
std::string dtype_name(DType t, std::size_t elem_bytes);

/// Shape and type of one dataset.
struct DatasetInfo {
  std::string path;                   ///< absolute path inside the file, e.g. "/weights/conv1"
  std::vector<std::uint64_t> shape;   ///< dims, row-major; empty for a scalar
  DType dtype = DType::Other;
  std::size_t elem_bytes = 0;         ///< bytes per element in the file (e.g. 8 for int64)
  /// A dataset of more than kMaxUnwrittenElements elements of which part was never written
  /// (HDF5 has not allocated its storage and would return fill values): every read of it is a
  /// DataError, so a declared (2^40,) dataset with nothing in it fails at once instead of
  /// streaming terabytes of fill values. Smaller datasets read their fill value, as HDF5 says.
  bool unwritten = false;
  std::uint64_t size() const;         ///< number of elements (1 for a scalar)
};

/// An open HDF5 file (RAII; movable, not copyable). Every failure throws IoError naming the file
/// and object, with the HDF5 library's own error text appended.
class File {
 public:
  /// Opens an existing file read-only.
  static File open(const std::string& path);
  /// Opens an existing file for reading and writing.
  static File open_rw(const std::string& path);
  /// Creates (truncates) a file. For outputs prefer AtomicFile.
  static File create(const std::string& path);

  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  ~File();

  const std::string& path() const;
  /// True if a group or dataset exists at `object` (every intermediate group checked).
  bool exists(const std::string& object) const;
  /// Info of a dataset; throws IoError if missing or not a dataset.
  DatasetInfo info(const std::string& dataset) const;
  /// Info of a dataset that can be streamed as floats: throws IoError naming the file and dataset
  /// when it is missing, not float16/32/64 ("has integer type; expected ...") or empty.
  DatasetInfo float_dataset(const std::string& dataset) const;
  /// Every dataset below `group` (recursive), sorted by path.
  std::vector<DatasetInfo> list(const std::string& group = "/") const;

  /// Reads elements [offset, offset + out.size()) of the row-major flattened dataset, converted
  /// to float32 / float64 by HDF5 (exact for float16/32 into float32 and anything into float64).
  /// Throws IoError for non-float datasets, out-of-range requests and read failures.
  void read(const std::string& dataset, std::uint64_t offset, std::span<float> out) const;
  void read(const std::string& dataset, std::uint64_t offset, std::span<double> out) const;
  /// Reads a whole integer dataset (e.g. labels) as int64.
  std::vector<std::int64_t> read_ints(const std::string& dataset) const;
  /// Elements [offset, offset + out.size()) of an integer dataset (e.g. uint8 images), converted
  /// by HDF5 (values out of the target range are clipped). Throws IoError for non-integer data.
  void read(const std::string& dataset, std::uint64_t offset, std::span<std::uint8_t> out) const;
  void read(const std::string& dataset, std::uint64_t offset, std::span<std::int64_t> out) const;
  /// Text of a scalar string dataset (variable- or fixed-length), e.g. a model's /graph.
  std::string read_string(const std::string& dataset) const;
  /// Creates a scalar variable-length UTF-8 string dataset (as h5py writes a Python str).
  void write_string(const std::string& dataset, const std::string& text);

  /// Creates a dataset (intermediate groups too) of the given shape and element type
  /// (Float32, Float64, Int (int64), UInt (uint8/16 by `uint_bytes`)), chunked and compressed
  /// when large. Throws if it exists. Float16 (an IEEE half type, as h5py writes it) also works.
  void create_dataset(const std::string& dataset, const std::vector<std::uint64_t>& shape, DType type,
                      int uint_bytes = 1);
  /// Writes elements [offset, offset + data.size()) of the flattened dataset (created before).
  void write(const std::string& dataset, std::uint64_t offset, std::span<const float> data);
  void write(const std::string& dataset, std::uint64_t offset, std::span<const double> data);
  void write(const std::string& dataset, std::uint64_t offset, std::span<const std::int64_t> data);
  void write(const std::string& dataset, std::uint64_t offset, std::span<const std::uint16_t> data);
  void write(const std::string& dataset, std::uint64_t offset, std::span<const std::uint8_t> data);
  /// Unlinks a dataset or group (HDF5 does not reclaim its space in the file). Throws if missing.
  void remove(const std::string& object);

  /// Attributes on a group or dataset. get_* return nullopt when absent and throw IoError when
  /// present with another type.
  std::optional<std::string> get_string_attr(const std::string& object, const std::string& name) const;
  std::optional<double> get_double_attr(const std::string& object, const std::string& name) const;
  std::optional<std::int64_t> get_int_attr(const std::string& object, const std::string& name) const;
  /// Numeric attributes of any size (a scalar gives one value), e.g. input_shape = [C, H, W];
  /// nullopt when absent; IoError when not an integer (int version) or not a number.
  std::optional<std::vector<std::int64_t>> get_int_array_attr(const std::string& object, const std::string& name) const;
  std::optional<std::vector<double>> get_double_array_attr(const std::string& object, const std::string& name) const;
  void set_attr(const std::string& object, const std::string& name, const std::string& value);
  /// 1-D int64 / float64 array attributes.
  void set_attr(const std::string& object, const std::string& name, const std::vector<std::int64_t>& values);
  void set_attr(const std::string& object, const std::string& name, const std::vector<double>& values);
  void set_attr(const std::string& object, const std::string& name, double value);
  void set_attr(const std::string& object, const std::string& name, std::int64_t value);
  /// Keeps `set_attr(obj, "n", 1)` unambiguous (stored as int64).
  void set_attr(const std::string& object, const std::string& name, int value) {
    set_attr(object, name, static_cast<std::int64_t>(value));
  }
  void set_attr(const std::string& object, const std::string& name, const char* value) {
    set_attr(object, name, std::string(value));
  }

  /// Closes the file now (flushes); further calls throw. Destructor closes too, silently.
  void close();

  /// Opaque state, defined in core/io/h5_detail.hpp for the library's own translation units.
  struct Impl;

 private:
  explicit File(std::unique_ptr<Impl> impl);
  static File from_handle(const std::string& path, std::int64_t id, bool writable);
  const Impl& live() const;  // throws IoError once closed
  std::unique_ptr<Impl> impl_;
};

/// Streams a float dataset in row-major chunks of at most `chunk_elems` elements (0: 1 Mi):
/// `fn(values, offset)` per chunk, one reused buffer, so memory stays flat. An empty dataset
/// gives no call; a non-float one throws IoError.
void for_each_chunk(const File& file, const std::string& dataset, std::size_t chunk_elems,
                    const std::function<void(std::span<const float> values, std::uint64_t offset)>& fn);

/// Same as for_each_chunk, in float64 (exact for every float dataset type).
void for_each_chunk_f64(const File& file, const std::string& dataset, std::size_t chunk_elems,
                        const std::function<void(std::span<const double> values, std::uint64_t offset)>& fn);

/// Above this many elements a dataset with unwritten parts is refused (DatasetInfo::unwritten).
inline constexpr std::uint64_t kMaxUnwrittenElements = std::uint64_t{1} << 24;
/// The most elements a whole-dataset read into memory takes (labels, model parameters): 2^31.
inline constexpr std::uint64_t kMaxWholeReadElements = std::uint64_t{1} << 31;

/// Dataset names matching a glob pattern ('*' within one path level, '**' across levels, '?'),
/// e.g. "/weights/*"; sorted. A pattern without wildcards must name an existing dataset.
std::vector<std::string> glob(const File& file, const std::string& pattern);

/// Writes an output file atomically: opens `<path>.tmp-<pid>` and renames it over `path` on
/// commit(); destroyed without commit, the temp file is removed and `path` is untouched.
class AtomicFile {
 public:
  /// What the temp file starts as: empty, or a copy of `path` when it exists (to add or replace
  /// datasets while keeping the others).
  enum class Start : std::uint8_t { Empty, CopyExisting };
  explicit AtomicFile(const std::string& path);
  AtomicFile(const std::string& path, Start start);
  ~AtomicFile();
  File& file();
  /// Closes the file and renames it over `path`; throws IoError (temp removed) on failure.
  void commit();
  /// The temp file's name.
  const std::string& temp_path() const { return tmp_; }

 private:
  std::string path_, tmp_;
  std::optional<File> file_;
  bool committed_ = false;
};

/// Writes a text file atomically (temp file `<path>.tmp-<pid>` in the same folder, fsync,
/// rename): the one text writer of every output. The folder must exist. Throws IoError.
void write_text_atomic(const std::string& path, const std::string& content);
/// Creates an output folder and its parents when missing. Throws IoError naming it (e.g. when
/// a regular file is in the way).
void create_output_folder(const std::string& dir);

}  // namespace ffp8::h5
