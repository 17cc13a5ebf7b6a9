#include "explore/dist/key.hpp"

#include <fmt/format.h>

#include "core/errors.hpp"
#include "explore/config/config.hpp"

namespace ffp8::explore::dist {

std::string work_key(const nlohmann::json& config) {
  nlohmann::json j = config;
  j.erase("out");
  j.erase("threads");
  return config_hash(j);
}

nlohmann::json file_identity(const std::filesystem::path& f) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(f, ec);
  const auto mtime = ec ? std::filesystem::file_time_type{} : std::filesystem::last_write_time(f, ec);
  if (ec) throw IoError(fmt::format("cannot stat input file \"{}\": {}", f.string(), ec.message()));
  return {{"file", std::filesystem::weakly_canonical(f, ec).string()},
          {"size", size},
          {"mtime_ns", mtime.time_since_epoch().count()}};
}

}  // namespace ffp8::explore::dist
