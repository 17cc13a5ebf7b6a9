// Provenance: version and build facts compiled in (explore/CMakeLists.txt), the commit read at
// run time with git when available (the binary may be older than the tree), host and threads.
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <cstdio>
#include <ctime>
#include <fmt/format.h>
#include <unistd.h>

#include "explore/report/report.hpp"

#ifndef FFP8_PROJECT_VERSION
#define FFP8_PROJECT_VERSION "unknown"
#endif
#ifndef FFP8_BUILD_COMMIT
#define FFP8_BUILD_COMMIT "unknown"
#endif
#ifndef FFP8_SOURCE_DIR
#define FFP8_SOURCE_DIR "."
#endif
#ifndef FFP8_BUILD_TYPE
#define FFP8_BUILD_TYPE ""
#endif
#ifndef FFP8_CXX_FLAGS
#define FFP8_CXX_FLAGS ""
#endif
#ifndef FFP8_CXX_COMPILER
#define FFP8_CXX_COMPILER ""
#endif

namespace ffp8::explore {

namespace {
std::string run_git_head() {
  const std::string cmd = fmt::format("git -C '{}' rev-parse HEAD 2>/dev/null", FFP8_SOURCE_DIR);
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {};
  std::array<char, 128> buf{};
  std::string out;
  while (fgets(buf.data(), static_cast<int>(buf.size()), p)) out += buf.data();
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out.size() == 40 ? out : std::string{};
}
std::string first_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

// google/benchmark's cache entries: type, level, size in bytes, logical CPUs sharing it.
nlohmann::json caches() {
  nlohmann::json out = nlohmann::json::array();
  const std::filesystem::path dir = "/sys/devices/system/cpu/cpu0/cache";
  for (int i = 0;; ++i) {
    const auto d = dir / fmt::format("index{}", i);
    std::error_code ec;
    if (!std::filesystem::exists(d, ec)) break;
    std::string size = first_line(d / "size");  // "48K", "2048K", "32M"
    std::int64_t bytes = 0;
    try {
      bytes = std::stoll(size);
      if (!size.empty() && size.back() == 'K') bytes *= 1024;
      if (!size.empty() && size.back() == 'M') bytes *= 1024 * 1024;
    } catch (const std::exception&) {
      bytes = 0;
    }
    // shared_cpu_list is "0-1" or "0,2": count the CPUs.
    int sharing = 0;
    std::stringstream list(first_line(d / "shared_cpu_list"));
    for (std::string part; std::getline(list, part, ',');) {
      const auto dash = part.find('-');
      try {
        sharing += dash == std::string::npos ? 1 : std::stoi(part.substr(dash + 1)) - std::stoi(part.substr(0, dash)) + 1;
      } catch (const std::exception&) {
      }
    }
    int level = 0;
    try {
      level = std::stoi(first_line(d / "level"));
    } catch (const std::exception&) {
    }
    out.push_back({{"type", first_line(d / "type")}, {"level", level}, {"size", bytes}, {"num_sharing", sharing}});
  }
  return out;
}

}  // namespace

nlohmann::json run_context() {
  double load[3] = {0, 0, 0};
  const int got = getloadavg(load, 3);
  nlohmann::json avg = nlohmann::json::array();
  for (int i = 0; i < got; ++i) avg.push_back(load[i]);
  return {{"schema_version", kSchemaVersion},
          {"cpu_model", cpu_model()},
          {"num_cpus", sysconf(_SC_NPROCESSORS_ONLN)},
          {"caches", caches()},
          {"load_avg", avg},
          {"compiler", FFP8_CXX_COMPILER},
          {"compiler_flags", FFP8_CXX_FLAGS},
          {"build_type", FFP8_BUILD_TYPE}};
}

nlohmann::json Provenance::to_json() const {
  nlohmann::json j = {{"project", "ffp8"}, {"version", version}, {"git_commit", commit}, {"build_type", build_type},
                      {"config_hash", config_hash}, {"host", host}, {"start", start}, {"end", end},
                      {"threads", threads}, {"ranks", ranks}};
  if (shards > 0) j["shards"] = shards;
  return j;
}

std::string iso_utc(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf.data();
}

Provenance current_provenance() {
  Provenance p;
  p.version = FFP8_PROJECT_VERSION;
  p.commit = run_git_head();
  if (p.commit.empty()) p.commit = FFP8_BUILD_COMMIT;
  p.build_type = FFP8_BUILD_TYPE;
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) == 0) p.host = host.data();
  return p;
}

}  // namespace ffp8::explore
