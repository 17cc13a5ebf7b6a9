#pragma once
// Journal keys: what a journal is tied to, so that a run resumes only from a journal of the same
// work (same config and the same input files, unchanged).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace ffp8::explore::dist {

/// A config's journal key: the config as run without "out" and "threads" (which do not change any
/// result), hashed. Every job's key starts from it.
std::string work_key(const nlohmann::json& config);
/// A file as a journal key sees it: canonical path, size and modification time (a regenerated
/// file is other work). Throws IoError when it cannot be stat'ed.
nlohmann::json file_identity(const std::filesystem::path& file);

}  // namespace ffp8::explore::dist
