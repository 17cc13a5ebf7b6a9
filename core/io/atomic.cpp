// Whole-or-nothing output files: write under a temporary name in the same folder, then rename
// (atomic on POSIX within one file system).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/io/h5.hpp"
#include "core/io/paths.hpp"

namespace ffp8::h5 {

namespace {

using io::temp_name;

// Flushes a closed file's data to disk so the rename never exposes a half-written file.
void sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

void require_folder(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    throw IoError(fmt::format("cannot write '{}': folder '{}' does not exist", path, parent.string()));
  }
}

}  // namespace

AtomicFile::AtomicFile(const std::string& path) : AtomicFile(path, Start::Empty) {}

AtomicFile::AtomicFile(const std::string& path, Start start) : path_(path), tmp_(temp_name(path)) {
  require_folder(path);
  io::require_output_file_possible(path, "output");
  io::remove_stale_temps(path);
  std::error_code ec;
  if (start == Start::CopyExisting && std::filesystem::exists(path, ec)) {
    std::filesystem::copy_file(path, tmp_, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) {
      std::remove(tmp_.c_str());
      throw IoError(fmt::format("cannot copy '{}' to '{}': {}", path, tmp_, ec.message()));
    }
    try {
      file_.emplace(File::open_rw(tmp_));
    } catch (...) {
      std::remove(tmp_.c_str());
      throw;
    }
  } else {
    try {
      file_.emplace(File::create(tmp_));
    } catch (...) {
      std::remove(tmp_.c_str());
      throw;
    }
  }
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  file_.reset();  // closes silently
  std::remove(tmp_.c_str());
}

File& AtomicFile::file() {
  if (!file_) throw IoError(fmt::format("output '{}' is already committed", path_));
  return *file_;
}

void AtomicFile::commit() {
  if (committed_) throw IoError(fmt::format("output '{}' is already committed", path_));
  try {
    file().close();
  } catch (...) {
    file_.reset();
    std::remove(tmp_.c_str());
    committed_ = true;  // nothing left to clean up
    throw;
  }
  file_.reset();
  sync_file(tmp_);
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp_.c_str());
    committed_ = true;
    throw IoError(fmt::format("cannot rename '{}' to '{}': {}", tmp_, path_, std::strerror(err)));
  }
  committed_ = true;
}

void write_text_atomic(const std::string& path, const std::string& content) {
  require_folder(path);
  io::require_output_file_possible(path, "output");
  io::remove_stale_temps(path);
  const std::string tmp = temp_name(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  const char* p = content.data();
  std::size_t left = content.size();
  int err = 0;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    std::remove(tmp.c_str());
    throw IoError(fmt::format("cannot write '{}': {}", path, std::strerror(err)));
  }
}

void create_output_folder(const std::string& dir) {
  io::require_output_folder_possible(dir, "output folder");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError(fmt::format("cannot create output folder \"{}\": {}", dir, ec.message()));
}

}  // namespace ffp8::h5
