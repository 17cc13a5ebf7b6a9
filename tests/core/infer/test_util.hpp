#pragma once
// Helpers of the inference tests: the repository root, a temp folder, running tools/export.py
// with Debian's /usr/bin/python3 (the interpreter that has torch), and reading reference tensors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/io/h5.hpp"

namespace ffp8::infer::test {

/// The repository root (FFP8_SOURCE_DIR, set by tests/CMakeLists.txt).
inline std::filesystem::path repo_root() { return FFP8_SOURCE_DIR; }

/// A fresh temp folder removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ffp8-infer-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Runs a shell command; returns its exit status (output kept in `log`).
inline int run(const std::string& cmd, const std::filesystem::path& log) {
  const int rc = std::system((cmd + " > '" + log.string() + "' 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/// Text of a file.
inline std::string slurp(const std::filesystem::path& p) {
  std::string s;
  if (FILE* f = std::fopen(p.c_str(), "r")) {
    char buf[4096];
    std::size_t k;
    while ((k = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, k);
    std::fclose(f);
  }
  return s;
}

/// Exports `model` with tools/export.py into `out` with extra arguments (through
/// tests/core/infer/export_calibrated.py when `calibrated_bn`: BatchNorm statistics from data, so that
/// untrained models have input-dependent logits); fails the test (fatal) when it fails.
inline void export_model(const std::string& model, const std::filesystem::path& out, const std::string& args,
                         bool calibrated_bn = true) {
  const auto log = out.string() + ".log";
  const std::string tool = calibrated_bn ? "tests/core/infer/export_calibrated.py" : "tools/export.py";
  const std::string cmd = "cd '" + repo_root().string() + "' && OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE " +
                          "/usr/bin/python3 " + tool + " '" + model + "' --out '" + out.string() + "' " + args;
  ASSERT_EQ(run(cmd, log), 0) << cmd << "\n" << slurp(log);
}

/// Expects `fn` to throw E with every one of `parts` in its message.
template <class E, class F>
void expect_error(F&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << " / " << p;
  }
}

/// A whole float dataset.
inline std::vector<float> read_all(const h5::File& f, const std::string& ds) {
  std::vector<float> v(f.info(ds).size());
  f.read(ds, 0, std::span<float>(v));
  return v;
}

}  // namespace ffp8::infer::test
