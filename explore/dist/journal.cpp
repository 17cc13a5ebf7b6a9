#include "explore/dist/journal.hpp"

#include <boost/crc.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "core/errors.hpp"

namespace ffp8::explore::dist {

namespace {

constexpr std::string_view kMagic = "ffp8-journal 1";

std::string record_line(std::size_t unit, std::string_view bytes) {
  const std::string hex = to_hex(bytes);
  return fmt::format("{} {:08x} {}\n", unit, crc32(fmt::format("{} {}", unit, hex)), hex);
}

/// Parses a record line (without newline); false when malformed or the checksum disagrees.
bool parse_record(std::string_view line, std::size_t& unit, std::string& bytes) {
  const auto a = line.find(' ');
  if (a == std::string_view::npos) return false;
  const auto b = line.find(' ', a + 1);
  if (b != a + 9) return false;
  const std::string_view unit_text = line.substr(0, a), crc_text = line.substr(a + 1, 8), hex = line.substr(b + 1);
  std::uint32_t crc = 0;
  std::size_t u = 0;
  try {
    std::size_t used = 0;
    u = std::stoull(std::string(unit_text), &used);
    if (used != unit_text.size()) return false;
    crc = static_cast<std::uint32_t>(std::stoul(std::string(crc_text), &used, 16));
    if (used != 8) return false;
  } catch (const std::exception&) {
    return false;
  }
  if (crc32(fmt::format("{} {}", u, hex)) != crc) return false;
  try {
    bytes = from_hex(hex);
  } catch (const DataError&) {
    return false;
  }
  unit = u;
  return true;
}

bool parse_header(std::string_view line, JournalHeader& h) {
  std::istringstream in{std::string(line.substr(std::min(line.size(), kMagic.size())))};
  if (line.substr(0, kMagic.size()) != kMagic) return false;
  std::string shard;
  if (!(in >> h.key >> h.units >> shard)) return false;
  const auto slash = shard.find('/');
  if (slash == std::string::npos) return false;
  try {
    h.shard = std::stoull(shard.substr(0, slash));
    h.shards = std::stoull(shard.substr(slash + 1));
  } catch (const std::exception&) {
    return false;
  }
  return h.shards > 0 && h.shard < h.shards;
}

void write_all(int fd, std::string_view s, const std::filesystem::path& path) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(fmt::format("cannot write journal \"{}\": {}", path.string(), std::strerror(errno)));
    }
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd) != 0) throw IoError(fmt::format("cannot sync journal \"{}\": {}", path.string(), std::strerror(errno)));
}

}  // namespace

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * bytes.size(), '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 15];
  }
  return out;
}

std::string from_hex(std::string_view hex) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw DataError("malformed unit record (not hex)");
  };
  if (hex.size() % 2) throw DataError("malformed unit record (odd hex length)");
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(digit(hex[2 * i]) << 4 | digit(hex[2 * i + 1]));
  return out;
}

std::uint32_t crc32(std::string_view bytes) {
  boost::crc_32_type c;
  c.process_bytes(bytes.data(), bytes.size());
  return c.checksum();
}

std::string JournalHeader::line() const { return fmt::format("{} {} {} {}/{}", kMagic, key, units, shard, shards); }

JournalContents read_journal(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError(fmt::format("cannot read journal \"{}\"", path.string()));
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  JournalContents c;
  std::size_t at = 0, line_no = 0;
  while (at < text.size()) {
    ++line_no;
    const auto nl = text.find('\n', at);
    const bool complete = nl != std::string::npos;
    const std::string_view line = std::string_view(text).substr(at, complete ? nl - at : std::string::npos);
    const bool last = !complete || nl + 1 == text.size();
    std::size_t unit = 0;
    std::string bytes;
    const bool ok = complete && (line_no == 1 ? parse_header(line, c.header) : parse_record(line, unit, bytes));
    if (!ok) {
      if (!last)
        throw DataError(fmt::format("journal \"{}\" line {} is damaged (only a last line may be torn); delete the journal to start over",
                                    path.string(), line_no));
      c.torn_tail = true;
      break;
    }
    if (line_no > 1) {
      if (unit >= c.header.units)
        throw DataError(fmt::format("journal \"{}\" line {} names unit {} of a {}-unit run", path.string(), line_no,
                                    unit, c.header.units));
      c.records.emplace(unit, std::move(bytes));  // a repeated unit keeps its first record
    }
    at = nl + 1;
    c.valid_bytes = at;
  }
  return c;
}

Journal::Journal(const std::filesystem::path& path, const JournalHeader& header, const JournalOwner& owner)
    : path_(path) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (exists) contents_ = read_journal(path);
  const bool fresh = !exists || contents_.valid_bytes == 0;  // missing, or only a torn header
  if (!fresh && !(contents_.header == header))
    throw DataError(fmt::format(
        "journal \"{}\" belongs to another {} (\"{}\", expected \"{}\"): its key covers {}, and its unit count and "
        "shard must match too; delete the journal or use another output folder",
        path.string(), owner.what, contents_.header.line(), header.line(), owner.key_covers));
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw IoError(fmt::format("cannot open journal \"{}\": {}", path.string(), std::strerror(errno)));
  try {  // the destructor does not run when the constructor throws: close the file here
    // Cut a torn tail (or a torn header) so the next record starts on a fresh line.
    const off_t keep = fresh ? 0 : static_cast<off_t>(contents_.valid_bytes);
    if (::ftruncate(fd_, keep) != 0 || ::lseek(fd_, 0, SEEK_END) < 0)
      throw IoError(fmt::format("cannot truncate journal \"{}\": {}", path.string(), std::strerror(errno)));
    if (fresh) {
      contents_ = {};
      contents_.header = header;
      write_all(fd_, header.line() + "\n", path_);
      // The new file's directory entry must survive a crash too.
      const int dir = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
      if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
      }
    }
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::append(std::size_t unit, std::string_view bytes) { write_all(fd_, record_line(unit, bytes), path_); }

}  // namespace ffp8::explore::dist
