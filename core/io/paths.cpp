#include "core/io/paths.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fmt/format.h>
#include <optional>

#include "core/errors.hpp"

namespace ffp8::io {

namespace fs = std::filesystem;

namespace {

struct Identity {
  dev_t dev;
  ino_t ino;
  bool operator==(const Identity&) const = default;
};

std::optional<Identity> identity(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return std::nullopt;
  return Identity{st.st_dev, st.st_ino};
}

fs::path resolved(const fs::path& p) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(fs::absolute(p, ec), ec);
  return ec ? fs::absolute(p).lexically_normal() : r;
}

// True when `inner` equals `outer` or lies below it (both resolved, lexically).
bool within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // trailing separator
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

}  // namespace

void refuse_output_over_inputs(const fs::path& output, const std::vector<NamedPath>& inputs, const std::string& what) {
  const fs::path out = resolved(output);
  for (const NamedPath& in : inputs) {
    if (in.path.empty()) continue;
    const fs::path inp = resolved(in.path);
    const auto in_id = identity(in.path);
    bool hit = within(out, inp);
    // Walk the output and its existing ancestors: one of them being the input (a hard link,
    // another mount of it) is the same as the path being it.
    if (!hit && in_id)
      for (fs::path p = out; !hit; p = p.parent_path()) {
        if (const auto id = identity(p); id && *id == *in_id) hit = true;
        if (p == p.parent_path()) break;
      }
    if (hit)
      throw ConfigError(fmt::format("{} \"{}\" {} the {} \"{}\"; refusing to write over an input (choose another path)",
                                    what, output.string(), out == inp || identity(output) == in_id ? "is" : "lies inside",
                                    in.role, in.path.string()));
  }
}

void require_output_folder_possible(const fs::path& dir, const std::string& what) {
  std::error_code ec;
  for (fs::path p = fs::absolute(dir, ec).lexically_normal(); !p.empty(); p = p.parent_path()) {
    if (p.filename().empty() && p != p.root_path()) {  // "a/b/" -> "a/b"
      p = p.parent_path();
      continue;
    }
    const fs::file_status st = fs::status(p, ec);
    if (fs::exists(st)) {
      if (!fs::is_directory(st))
        throw ConfigError(fmt::format("{} \"{}\" cannot be a folder: \"{}\" is a file", what, dir.string(), p.string()));
      return;
    }
    if (p == p.parent_path()) return;
  }
}

void require_output_file_possible(const fs::path& file, const std::string& what) {
  std::error_code ec;
  if (fs::is_directory(file, ec))
    throw ConfigError(fmt::format("{} \"{}\" is a folder, not a file", what, file.string()));
  const fs::path parent = fs::absolute(file, ec).parent_path();
  if (!fs::is_directory(parent, ec)) {
    require_output_folder_possible(parent, what + " folder");
    throw ConfigError(fmt::format("{} \"{}\": folder \"{}\" does not exist", what, file.string(), parent.string()));
  }
}

std::string temp_name(const std::string& path) { return fmt::format("{}.tmp-{}", path, ::getpid()); }

void remove_stale_temps(const std::string& path) {
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  const std::string prefix = p.filename().string() + ".tmp-";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const char* first = name.data() + prefix.size();
    const char* last = name.data() + name.size();
    long pid = 0;
    const auto [end_p, err] = std::from_chars(first, last, pid);
    if (err != std::errc() || end_p != last || pid <= 0 || pid > 0x3fffffff) continue;
    if (pid == ::getpid()) continue;  // this run's own (in use)
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // still running (or not ours to judge)
    std::error_code rm;
    fs::remove(it->path(), rm);
  }
}

}  // namespace ffp8::io
