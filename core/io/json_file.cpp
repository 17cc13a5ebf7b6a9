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
  return parse_json_text(ss.str(), fmt::format("{} {}", what, file.string()));
}

nlohmann::json parse_json_text(const std::string& text, const std::string& name) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 1, column 2: ...".
    const std::string detail = e.what();
    const auto colon = detail.find(": ");
    throw ConfigError(fmt::format("{}: not valid JSON (byte {}){}", name, e.byte,
                                  colon == std::string::npos ? "" : ": " + detail.substr(colon + 2)));
  } catch (const nlohmann::json::exception& e) {
    // e.g. out_of_range.406 "number overflow parsing '1e309'": a number no double holds.
    const std::string detail = e.what();
    const auto bracket = detail.find("] ");
    throw ConfigError(fmt::format("{}: not valid JSON: {}", name,
                                  bracket == std::string::npos ? detail : detail.substr(bracket + 2)));
  }
}

nlohmann::json json_number(double v) {
  if (std::isfinite(v)) return v;
  return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
}

}  // namespace ffp8
