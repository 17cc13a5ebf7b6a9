#pragma once
// The journal of finished units: an append-only text file, one record a line, each line
// "<unit> <crc32> <hex bytes>\n" fsync'd before the next unit is counted done. A run killed at
// any moment leaves at most one torn last line, which the next open detects (no newline, bad
// checksum) and cuts off; anything wrong before the last line is an error, not silently skipped.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace ffp8::explore::dist {

/// What a journal belongs to: its work key, its unit count and the shard ("0/1": all).
struct JournalHeader {
  std::string key;
  std::size_t units = 0;
  std::size_t shard = 0, shards = 1;
  bool operator==(const JournalHeader&) const = default;
  std::string line() const;  ///< the header line, without newline
};

/// Reads a journal: its header and records (unit -> bytes), the valid prefix's length, and
/// whether a torn last line was dropped. Throws DataError naming the file and line otherwise.
struct JournalContents {
  JournalHeader header;
  std::map<std::size_t, std::string> records;
  std::uint64_t valid_bytes = 0;
  bool torn_tail = false;
};
JournalContents read_journal(const std::filesystem::path& path);

/// What a journal belongs to, for the message when its header does not match: e.g. "sweep", and
/// what its key covers ("the config without out and threads, ...").
struct JournalOwner {
  std::string what, key_covers;
};

/// A journal opened for appending: created with `header` when missing (or holding only a torn
/// header), else checked against it (DataError naming the file, `owner.what` and what the key
/// covers when it belongs to other work or another shard) and cut back to its valid prefix.
class Journal {
 public:
  Journal(const std::filesystem::path& path, const JournalHeader& header, const JournalOwner& owner);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  /// Records read at open (unit -> bytes).
  const std::map<std::size_t, std::string>& records() const { return contents_.records; }
  bool dropped_torn_tail() const { return contents_.torn_tail; }
  /// Appends one record and fsyncs it. Throws IoError.
  void append(std::size_t unit, std::string_view bytes);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  JournalContents contents_;
  int fd_ = -1;
};

/// Lower-case hex text of bytes, and back (throws DataError on a bad digit or odd length).
std::string to_hex(std::string_view bytes);
std::string from_hex(std::string_view hex);
/// CRC-32 (IEEE) of bytes.
std::uint32_t crc32(std::string_view bytes);

}  // namespace ffp8::explore::dist
