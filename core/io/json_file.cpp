#include "core/io/json_file.hpp"

#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "core/errors.hpp"

namespace ffp8 {

nlohmann::json read_json_file(const std::filesystem::path& file, std::string_view what) {
  std::ifstream in(file);
  if (!in) throw IoError(fmt::format("cannot read {} '{}'", what, file.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 1, column 2: ...".
    const std::string detail = e.what();
    const auto colon = detail.find(": ");
    throw ConfigError(fmt::format("{} {}: not valid JSON (byte {}){}", what, file.string(), e.byte,
                                  colon == std::string::npos ? "" : ": " + detail.substr(colon + 2)));
  }
}

nlohmann::json json_number(double v) {
  if (std::isfinite(v)) return v;
  return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
}

}  // namespace ffp8
