#pragma once
// JSON files: reading a document with the project's one-sentence errors, and the one rule for
// numbers that JSON cannot hold.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>

namespace ffp8 {

/// Parses `file` as JSON. Throws IoError ("cannot read <what> '<file>'") when it cannot be
/// opened and ConfigError ("<what> <file>: not valid JSON (byte N): <detail>") when it does not
/// parse. `what` names the file's purpose, e.g. "config file" or "technology file".
nlohmann::json read_json_file(const std::filesystem::path& file, std::string_view what);

/// Parses JSON text with the same errors (ConfigError "<name>: not valid JSON ...", also for a
/// number no double holds, such as 1e309); `name` says what the text is ("config file c.json").
nlohmann::json parse_json_text(const std::string& text, const std::string& name);

/// A number for JSON output, by the project's one rule: finite values as numbers, NaN and ±Inf
/// as the strings "nan", "inf" and "-inf" (JSON has no such numbers; a reader can tell them from
/// a value that does not exist, which is null).
nlohmann::json json_number(double v);

}  // namespace ffp8
