#pragma once
// Synthesis runner: Yosys with ABC mapping to a liberty file, then `stat -liberty` for cell
// area and counts. Library code: failures are IoError with the log's last lines, never exits.
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "hwcost/rtl/verilog.hpp"

namespace ffp8::hwcost {

/// Where the tools are and where to work.
struct SynthOptions {
  std::string yosys = "/usr/bin/yosys";
  std::string liberty = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";
  std::filesystem::path work_dir;  ///< empty: a fresh temporary directory, removed afterwards
};

/// Mapped netlist statistics of the top module.
struct SynthResult {
  double area_um2 = 0;                 ///< "Chip area" reported by stat -liberty
  long cell_count = 0;                 ///< "Number of cells"
  std::map<std::string, long> cells;   ///< cell type -> count
  std::string script;                  ///< the Yosys script that was run
};

/// Synthesizes `rtl` (flatten, dfflibmap, abc, stat against the liberty file).
/// Throws IoError if Yosys cannot run or fails, DataError if its report cannot be parsed.
SynthResult synthesize(const Rtl& rtl, const SynthOptions& options = {});

/// Parses the report of `stat -liberty` for module `top` from a Yosys log.
/// Throws DataError when the area or the cell count is missing.
SynthResult parse_stat(std::string_view log, std::string_view top);

}  // namespace ffp8::hwcost
