#pragma once
// The one rule for a run's output paths: an output never is, and never lies inside, a file or
// folder the run reads (compared by resolved path and by file identity, so symbolic and hard
// links count as the same file); an output folder is a folder; and temp files a killed run left
// beside its outputs are removed when the next run writes them.
#include <filesystem>
#include <string>
#include <vector>

namespace ffp8::io {

/// A path the run reads, with what it is for the message ("model", "config", "data", "input").
struct NamedPath {
  std::filesystem::path path;
  std::string role;
};

/// Throws ConfigError when `output` (a file or folder the run will write, existing or not) is
/// the same file as an input, lies inside an input folder, or has an input file among its
/// ancestors. `what` names the output in the message ("--logits", "output").
void refuse_output_over_inputs(const std::filesystem::path& output, const std::vector<NamedPath>& inputs,
                               const std::string& what);

/// Throws ConfigError when `dir` exists and is not a folder, or when one of its existing
/// ancestors is not a folder (so a run fails before it works, not when it writes).
void require_output_folder_possible(const std::filesystem::path& dir, const std::string& what);

/// Throws ConfigError when the output file `file` exists as a folder, or its parent folder does
/// not exist or is not a folder.
void require_output_file_possible(const std::filesystem::path& file, const std::string& what);

/// The temp name of an atomic output in this process: `<path>.tmp-<pid>`.
std::string temp_name(const std::string& path);

/// Removes `<path>.tmp-<pid>` files beside `path` whose process no longer runs on this machine
/// (temp files of a killed run of the same output). Quiet: a file that cannot be removed stays.
void remove_stale_temps(const std::string& path);

}  // namespace ffp8::io
