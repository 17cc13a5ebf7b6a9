// Streaming reads (one reused buffer per call) and glob matching of dataset paths.
#include <fmt/format.h>

#include <vector>

#include "core/errors.hpp"
#include "core/io/h5.hpp"
#include "core/io/h5_detail.hpp"

namespace ffp8::h5 {

namespace {

constexpr std::size_t kDefaultChunk = std::size_t{1} << 20;

template <class T, class Fn>
void stream(const File& file, const std::string& dataset, std::size_t chunk_elems, const Fn& fn) {
  const DatasetInfo info = file.info(dataset);
  const std::uint64_t n = info.size();
  if (chunk_elems == 0) chunk_elems = kDefaultChunk;
  // Reading zero elements still checks the element type, so an integer dataset fails here
  // even when it is empty.
  file.read(info.path, 0, std::span<T>());
  std::vector<T> buf(static_cast<std::size_t>(std::min<std::uint64_t>(n, chunk_elems)));
  for (std::uint64_t off = 0; off < n; off += buf.size()) {
    const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), n - off));
    const std::span<T> part(buf.data(), len);
    file.read(info.path, off, part);
    fn(std::span<const T>(part), off);
  }
}

// '*' and '?' stay within one path level; '**' crosses levels.
bool match(std::string_view pat, std::string_view s) {
  if (pat.empty()) return s.empty();
  if (pat.substr(0, 2) == "**") {
    for (std::size_t i = 0; i <= s.size(); ++i)
      if (match(pat.substr(2), s.substr(i))) return true;
    return false;
  }
  if (pat[0] == '*') {
    for (std::size_t i = 0; i <= s.size(); ++i) {
      if (match(pat.substr(1), s.substr(i))) return true;
      if (i < s.size() && s[i] == '/') break;
    }
    return false;
  }
  if (s.empty()) return false;
  if (pat[0] == '?') return s[0] != '/' && match(pat.substr(1), s.substr(1));
  return pat[0] == s[0] && match(pat.substr(1), s.substr(1));
}

}  // namespace

void for_each_chunk(const File& file, const std::string& dataset, std::size_t chunk_elems,
                    const std::function<void(std::span<const float>, std::uint64_t)>& fn) {
  stream<float>(file, dataset, chunk_elems, fn);
}

void for_each_chunk_f64(const File& file, const std::string& dataset, std::size_t chunk_elems,
                        const std::function<void(std::span<const double>, std::uint64_t)>& fn) {
  stream<double>(file, dataset, chunk_elems, fn);
}

std::vector<std::string> glob(const File& file, const std::string& pattern) {
  const std::string pat = detail::normalize(pattern);
  if (pat.find_first_of("*?") == std::string::npos) {
    return {file.info(pat).path};  // throws when missing or not a dataset
  }
  std::vector<std::string> out;
  for (const auto& d : file.list("/"))
    if (match(pat, d.path)) out.push_back(d.path);
  return out;  // list() is sorted already
}

}  // namespace ffp8::h5
