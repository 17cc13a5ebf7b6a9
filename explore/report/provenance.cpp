// Provenance: version and build facts compiled in (explore/CMakeLists.txt), the commit read at
// run time with git when available (the binary may be older than the tree), host and threads.
#include <array>
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
}  // namespace

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
