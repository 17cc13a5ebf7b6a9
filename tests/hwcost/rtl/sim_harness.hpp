#pragma once
// Test support: runs a generated PE under Icarus Verilog (iverilog + vvp) with a stream of
// (clr, w, a) vectors and returns the accumulator after each one as a hex string.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "core/format/codec.hpp"
#include "hwcost/geometry.hpp"
#include "hwcost/rtl/verilog.hpp"

namespace ffp8::hwcost::test {

/// One input vector: clr starts a new sum (acc = 0 + w*a).
struct Vec {
  std::uint32_t w = 0, a = 0;
  bool clr = true;
};

/// Run-time configuration of a flexible PE (ignored for fixed PEs).
struct FlexConfig {
  Format w, a;
};

inline FlexConfig flex_config(const Format& w, const Format& a) { return FlexConfig{w, a}; }

/// A compiled simulation of one generated PE in its own temporary directory.
class Sim {
 public:
  explicit Sim(const PeSpec& spec) : spec_(spec), geo_(hwcost::geometry(spec)), rtl_(generate_verilog(spec, "pe")) {
    std::string tpl = (std::filesystem::temp_directory_path() / "ffp8-sim-XXXXXX").string();
    if (::mkdtemp(tpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tpl;
    std::ofstream(dir_ / "pe.v") << rtl_.verilog;
    std::ofstream(dir_ / "tb.v") << testbench();
    const std::string cmd = fmt::format("cd '{}' && iverilog -g2005 -o sim.vvp pe.v tb.v > build.log 2>&1", dir_.string());
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("iverilog failed, see " + (dir_ / "build.log").string());
  }
  ~Sim() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Sim(const Sim&) = delete;
  Sim& operator=(const Sim&) = delete;

  const PeGeometry& geometry() const { return geo_; }

  /// Feeds `vecs`; returns the accumulator (hex, full width) after each vector.
  std::vector<std::string> run(const std::vector<Vec>& vecs, const FlexConfig& cfg = {}) {
    {
      std::ofstream v(dir_ / "vectors.hex");
      const int nw = geo_.w.code_bits, na = geo_.a.code_bits;
      for (const Vec& x : vecs) {
        const unsigned long long word = (static_cast<unsigned long long>(x.clr) << (nw + na)) |
                                        (static_cast<unsigned long long>(x.w) << na) | x.a;
        v << fmt::format("{:x}\n", word);
      }
    }
    std::string args = fmt::format("+count={}", vecs.size());
    if (spec_.flexible) {
      const int mask = (1 << spec_.flex.bias_bits) - 1;
      args += fmt::format(" +wsign={} +wexp={} +wbias={} +asign={} +aexp={} +abias={}", cfg.w.sign, cfg.w.exp,
                          cfg.w.bias & mask, cfg.a.sign, cfg.a.exp, cfg.a.bias & mask);
    }
    const std::string cmd =
        fmt::format("cd '{}' && vvp -n sim.vvp {} > run.log 2>&1", dir_.string(), args);
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("vvp failed, see " + (dir_ / "run.log").string());
    std::ifstream in(dir_ / "out.txt");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.push_back(line);
    return out;
  }

 private:
  std::string testbench() const {
    const int nw = geo_.w.code_bits, na = geo_.a.code_bits, acc = geo_.acc_bits;
    const bool flex = spec_.flexible;
    const bool bias = flex && spec_.accumulator != Accumulator::Kulisch;
    const int eb = rtl_.exp_cfg_bits, bb = spec_.flex.bias_bits;
    std::ostringstream s;
    s << "`timescale 1ns/1ps\nmodule tb;\n  reg clk = 0; reg clr = 1;\n";
    s << fmt::format("  reg [{}:0] w = 0; reg [{}:0] a = 0; wire [{}:0] acc;\n", nw - 1, na - 1, acc - 1);
    s << fmt::format("  reg [{}:0] vec [0:(1<<20)-1];\n", nw + na);
    s << "  integer i, fd, count, t;\n";
    if (flex) {
      s << fmt::format("  reg w_sign, a_sign; reg [{0}:0] w_exp, a_exp;\n", eb - 1);
      if (bias) s << fmt::format("  reg [{0}:0] w_bias, a_bias;\n", bb - 1);
    }
    s << "  pe dut(.clk(clk), .clr(clr), .w(w), .a(a), .acc(acc)";
    if (flex) s << ", .w_sign(w_sign), .w_exp(w_exp), .a_sign(a_sign), .a_exp(a_exp)";
    if (bias) s << ", .w_bias(w_bias), .a_bias(a_bias)";
    s << ");\n  initial begin\n";
    s << "    if (!$value$plusargs(\"count=%d\", count)) $finish;\n";
    if (flex) {
      s << "    if ($value$plusargs(\"wsign=%d\", t)) w_sign = t; if ($value$plusargs(\"asign=%d\", t)) a_sign = t;\n";
      s << "    if ($value$plusargs(\"wexp=%d\", t)) w_exp = t; if ($value$plusargs(\"aexp=%d\", t)) a_exp = t;\n";
      if (bias)
        s << "    if ($value$plusargs(\"wbias=%d\", t)) w_bias = t; if ($value$plusargs(\"abias=%d\", t)) a_bias = t;\n";
    }
    s << "    $readmemh(\"vectors.hex\", vec, 0, count - 1);\n    fd = $fopen(\"out.txt\", \"w\");\n";
    s << "    for (i = 0; i <= count; i = i + 1) begin\n";
    s << "      if (i < count) {clr, w, a} = vec[i]; else begin clr = 1; w = 0; a = 0; end\n";
    s << "      #5 clk = 1; #1;\n      if (i > 0) $fdisplay(fd, \"%h\", acc);\n      #4 clk = 0;\n    end\n";
    s << "    $fclose(fd);\n    $finish;\n  end\nendmodule\n";
    return s.str();
  }

  PeSpec spec_;
  PeGeometry geo_;
  Rtl rtl_;
  std::filesystem::path dir_;
};

/// Exact integers for Kulisch sums (up to ~90 bits here); a GCC extension.
__extension__ typedef __int128 int128;
__extension__ typedef unsigned __int128 uint128;

/// `v` as a `bits`-wide two's complement hex string, as Verilog's %h prints it.
inline std::string hex_bits(int128 v, int bits) {
  const int digits = (bits + 3) / 4;
  uint128 u = static_cast<uint128>(v);
  if (bits < 128) u &= (static_cast<uint128>(1) << bits) - 1;
  std::string s(digits, '0');
  for (int i = digits - 1; i >= 0; --i, u >>= 4) s[i] = "0123456789abcdef"[static_cast<int>(u & 15)];
  return s;
}

/// Whether a code decodes to a finite number (the PEs do not implement NaN/Inf).
inline bool finite_code(const Format& f, std::uint32_t c) { return decode(f, c).kind == CodeKind::Finite; }

}  // namespace ffp8::hwcost::test
