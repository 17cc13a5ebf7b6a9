#pragma once
// Reading a JSON document from a file, with the project's one-sentence errors.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>

namespace ffp8 {

/// Parses `file` as JSON. Throws IoError ("cannot read <what> '<file>'") when it cannot be
/// opened and ConfigError ("<what> <file>: not valid JSON (byte N): <detail>") when it does not
/// parse. `what` names the file's purpose, e.g. "config file" or "technology file".
nlohmann::json read_json_file(const std::filesystem::path& file, std::string_view what);

}  // namespace ffp8
