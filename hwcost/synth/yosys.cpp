#include "hwcost/synth/yosys.hpp"

#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "core/errors.hpp"

namespace ffp8::hwcost {

namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tail(const std::string& text, int lines) {
  std::size_t pos = text.size();
  for (int i = 0; i < lines && pos > 0; ++i) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return text.substr(pos + 1);
}

// Single-quotes a path for /bin/sh; paths with a quote are refused rather than escaped.
std::string quote(const std::string& s) {
  if (s.find('\'') != std::string::npos) throw IoError(fmt::format("refusing a path with a quote: {}", s));
  return "'" + s + "'";
}

struct TempDir {
  std::filesystem::path path;
  bool owned = false;
  ~TempDir() {
    if (owned) {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  }
};

}  // namespace

SynthResult parse_stat(std::string_view log, std::string_view top) {
  // Use the last report of the top module: stat prints one block per module.
  const std::string header = fmt::format("=== {} ===", top);
  const std::size_t at = log.rfind(header);
  if (at == std::string_view::npos) throw DataError(fmt::format("yosys log has no statistics for module '{}'", top));
  std::istringstream in{std::string(log.substr(at))};
  SynthResult r;
  std::string line;
  bool in_cells = false, have_area = false, have_cells = false;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    if (line.find("Number of cells:") != std::string::npos) {
      r.cell_count = std::stol(line.substr(line.find(':') + 1));
      have_cells = in_cells = true;
      continue;
    }
    if (line.find("Chip area for module") != std::string::npos) {
      r.area_um2 = std::stod(line.substr(line.rfind(':') + 1));
      have_area = true;
      break;
    }
    if (in_cells) {
      std::string name;
      long count = 0;
      if (ls >> name >> count) r.cells[name] = count;
      else in_cells = false;
    }
  }
  if (!have_area || !have_cells)
    throw DataError(fmt::format("yosys statistics for '{}' lack the {}", top, have_area ? "cell count" : "chip area"));
  return r;
}

SynthResult synthesize(const Rtl& rtl, const SynthOptions& opt) {
  if (!std::filesystem::exists(opt.liberty)) throw IoError(fmt::format("liberty file '{}' not found", opt.liberty));
  if (!std::filesystem::exists(opt.yosys)) throw IoError(fmt::format("yosys not found at '{}'", opt.yosys));
  TempDir dir;
  if (opt.work_dir.empty()) {
    std::string tpl = (std::filesystem::temp_directory_path() / "ffp8-synth-XXXXXX").string();
    if (::mkdtemp(tpl.data()) == nullptr) throw IoError("cannot create a temporary directory for synthesis");
    dir.path = tpl;
    dir.owned = true;
  } else {
    dir.path = opt.work_dir;
    std::filesystem::create_directories(dir.path);
  }
  const auto v = dir.path / (rtl.top + ".v");
  const auto ys = dir.path / (rtl.top + ".ys");
  const auto log = dir.path / (rtl.top + ".log");
  {
    std::ofstream(v) << rtl.verilog;
  }
  const std::string lib = opt.liberty;
  SynthResult r;
  r.script = fmt::format(
      "read_verilog {v}\nsynth -flatten -top {t}\ndfflibmap -liberty {l}\nabc -liberty {l}\nopt_clean\n"
      "stat -liberty {l}\n",
      fmt::arg("v", v.string()), fmt::arg("t", rtl.top), fmt::arg("l", lib));
  {
    std::ofstream(ys) << r.script;
  }
  const std::string cmd = fmt::format("{} -q -l {} -s {} >/dev/null 2>&1", quote(opt.yosys), quote(log.string()),
                                      quote(ys.string()));
  const int rc = std::system(cmd.c_str());
  const std::string text = read_all(log);
  if (rc != 0)
    throw IoError(fmt::format("yosys failed on {} (status {}): {}", rtl.top, rc, tail(text, 5)));
  SynthResult parsed = parse_stat(text, rtl.top);
  parsed.script = r.script;
  return parsed;
}

}  // namespace ffp8::hwcost
