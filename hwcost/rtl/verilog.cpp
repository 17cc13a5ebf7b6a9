#include "hwcost/rtl/verilog.hpp"

#include <algorithm>
#include <map>
#include <string>

#include "core/errors.hpp"
#include "hwcost/geometry.hpp"
#include "hwcost/model.hpp"

namespace ffp8::hwcost {

namespace {

using Vars = std::map<std::string, std::string>;

// Replaces ${NAME} by vars[NAME]: Verilog is full of braces, so fmt-style templates would not do.
std::string subst(std::string_view tpl, const Vars& vars) {
  std::string out;
  for (std::size_t i = 0; i < tpl.size();) {
    if (tpl[i] == '$' && i + 1 < tpl.size() && tpl[i + 1] == '{') {
      const std::size_t end = tpl.find('}', i);
      const std::string key(tpl.substr(i + 2, end - i - 2));
      const auto it = vars.find(key);
      if (it == vars.end()) throw ConfigError("internal: template variable " + key + " is not set");
      out += it->second;
      i = end + 1;
    } else {
      out += tpl[i++];
    }
  }
  return out;
}

std::string s(long long x) { return std::to_string(x); }

// Fixed-format decoder: sign, effective exponent max(E, 1) and significand {E != 0, M}.
std::string fixed_decoder(const std::string& name, const Format& f) {
  Vars v{{"NAME", name}, {"N", s(f.width())}, {"E", s(f.exp)}, {"F", s(f.man)}, {"FMT", f.name()}};
  v["SIGN"] = f.sign ? "c[" + s(f.width() - 1) + "]" : "1'b0";
  v["SIG"] = f.man > 0 ? "{nz, c[" + s(f.man - 1) + ":0]}" : "nz";
  return subst(R"(
// Decoder for ${FMT}: the bias is a constant folded into the accumulator scale.
module ${NAME}(input [${N}-1:0] c, output s, output [${E}-1:0] e, output [${F}:0] sig);
  wire [${E}-1:0] ef = c[${F}+${E}-1:${F}];
  wire nz = |ef;
  assign s = ${SIGN};
  assign e = nz ? ef : 1;
  assign sig = ${SIG};
endmodule
)", v);
}

// Run-time configurable decoder: sign presence, exponent width (field split); the fraction is
// returned left-aligned in the widest mantissa the element supports.
std::string flex_decoder(const std::string& name, const FlexRange& r, int eb) {
  Vars v{{"NAME", name}, {"N", s(r.width)}, {"EMAX", s(r.exp_max)}, {"FMAX", s(r.man_max())}, {"EB", s(eb)},
         {"SB", s(clog2(r.width + 1) + 1)}};
  return subst(R"(
// Flexible decoder: ${N}-bit codes, exponent width 'ew' (set at run time), optional sign bit.
module ${NAME}(input [${N}-1:0] c, input sign_en, input [${EB}-1:0] ew,
               output s, output [${EMAX}-1:0] e, output [${FMAX}:0] sig);
  wire [${N}-1:0] body = sign_en ? {c[${N}-2:0], 1'b0} : c;  // fields left-aligned
  wire [${SB}-1:0] rsh = ${N} - ew;
  wire [${N}-1:0] eshift = body >> rsh;
  wire [${N}-1:0] mshift = body << ew;
  wire [${EMAX}-1:0] ef = eshift[${EMAX}-1:0];
  wire nz = |ef;
  assign s = sign_en & c[${N}-1];
  assign e = nz ? ef : 1;
  assign sig = {nz, mshift[${N}-1:${N}-${FMAX}]};
endmodule
)", v);
}

// Kulisch accumulation: the product at its own width, shifted into a W-bit two's complement sum.
std::string kulisch_datapath(const PeGeometry& g) {
  Vars v{{"W", s(g.kulisch_bits)}, {"PW", s(g.product_bits)}, {"SB", s(g.shift_bits + 1)},
         {"EW", s(g.w.exp_bits)}, {"EA", s(g.a.exp_bits)}};
  return subst(R"(
  wire [${SB}-1:0] sh = {{(${SB}-${EW}){1'b0}}, e_w} + {{(${SB}-${EA}){1'b0}}, e_a} - 2;
  wire [${W}-1:0] mag = {{(${W}-${PW}){1'b0}}, p} << sh;
  wire ps = s_w ^ s_a;
  wire [${W}-1:0] term = ps ? -mag : mag;
  wire [${W}-1:0] base = clr_r ? {${W}{1'b0}} : acc;
  wire [${W}-1:0] acc_next = base + term;
)", v);
}

// Float accumulation: acc + product with one rounding (nearest even), subnormals kept,
// saturating at the largest finite value. The product enters unrounded (PW-bit significand).
std::string float_datapath(const PeSpec& spec, const PeGeometry& g) {
  const int pw = g.product_bits, xw = g.exp_path_bits, e = g.acc_exp_bits, m = g.acc_man_bits;
  const int ff = g.frame_frac_bits, n = g.frame_bits;
  const long long acc_bias = (1LL << (e - 1)) - 1;
  const long long k = -(g.w.frac_bits + g.a.frac_bits) + (pw - 1) + acc_bias;
  Vars v{{"PW", s(pw)}, {"XW", s(xw)}, {"E", s(e)}, {"M", s(m)}, {"FF", s(ff)}, {"N", s(n)},
         {"EW", s(g.w.exp_bits)}, {"EA", s(g.a.exp_bits)}, {"LZP", s(clog2(pw + 1))},
         {"LZN", s(clog2(n + 1))}, {"SENT", s(-(1LL << (xw - 2)))}, {"FFM", s(ff - m)},
         {"FFP", s(ff - (pw - 1))}};
  if (spec.flexible) {
    const int bb = spec.flex.bias_bits;
    v["BIAS"] = subst("- {{(${XW}-${BB}){w_bias[${BB}-1]}}, w_bias} - {{(${XW}-${BB}){a_bias[${BB}-1]}}, a_bias} + " + s(k),
                      {{"XW", s(xw)}, {"BB", s(bb)}});
  } else {
    v["BIAS"] = "+ " + s(k - spec.weight.bias - spec.activation.bias);
  }
  return subst(R"(
  // Product normalisation: pn has its leading one at bit PW-1 (unless p == 0).
  function [${LZP}-1:0] lzc_p(input [${PW}-1:0] x);
    integer i;
    begin
      lzc_p = ${PW};
      for (i = 0; i < ${PW}; i = i + 1) if (x[i]) lzc_p = ${PW} - 1 - i;
    end
  endfunction
  function [${LZN}-1:0] lzc_n(input [${N}-2:0] x);
    integer i;
    begin
      lzc_n = ${N} - 1;
      for (i = 0; i < ${N} - 1; i = i + 1) if (x[i]) lzc_n = ${N} - 2 - i;
    end
  endfunction
  wire [${LZP}-1:0] plz = lzc_p(p);
  wire [${PW}-1:0] pn = p << plz;
  wire pz = ~|p;
  wire signed [${XW}-1:0] ep_raw = $signed({{(${XW}-${EW}){1'b0}}, e_w}) + $signed({{(${XW}-${EA}){1'b0}}, e_a})
                                  - $signed({{(${XW}-${LZP}){1'b0}}, plz}) ${BIAS};
  wire signed [${XW}-1:0] ep = pz ? ${SENT} : ep_raw;
  wire ps = s_w ^ s_a;
  // Accumulator operand (cleared to +0 at the start of a sum).
  wire [${E}+${M}:0] av = clr_r ? {(${E}+${M}+1){1'b0}} : acc;
  wire as = av[${E}+${M}];
  wire [${E}-1:0] aef = av[${E}+${M}-1:${M}];
  wire anz = |aef;
  wire signed [${XW}-1:0] ae = anz ? $signed({{(${XW}-${E}){1'b0}}, aef}) : 1;
  // Both significands on one frame: 1 integer bit, FF fraction bits.
  wire [${FF}:0] af = {anz, av[${M}-1:0]} << ${FFM};
  wire [${FF}:0] pf = pn << ${FFP};
  wire a_big = ae >= ep;
  wire signed [${XW}-1:0] eb = a_big ? ae : ep;
  wire [${XW}-1:0] d = a_big ? ae - ep : ep - ae;
  wire [${FF}:0] opb = a_big ? af : pf;
  wire [${FF}:0] ops = a_big ? pf : af;
  wire sb = a_big ? as : ps;
  wire ss = a_big ? ps : as;
  // Align the smaller operand; bits shifted out collapse into a sticky bit.
  wire [${FF}+3:0] sext = {ops, 3'b000};
  wire far = d >= ${FF} + 4;
  wire [${FF}+3:0] sshift = far ? {(${FF}+4){1'b0}} : sext >> d;
  wire [${FF}+3:0] lost = far ? sext : (sext & ~({(${FF}+4){1'b1}} << d));
  wire [${FF}+3:0] sal = {sshift[${FF}+3:1], sshift[0] | (|lost)};
  wire [${FF}+3:0] bext = {opb, 3'b000};
  wire sub = sb ^ ss;
  wire [${N}:0] raw = sub ? {2'b00, bext} - {2'b00, sal} : {2'b00, bext} + {2'b00, sal};
  wire neg = raw[${N}];
  wire [${N}-1:0] mag = neg ? -raw[${N}-1:0] : raw[${N}-1:0];
  wire rs = (mag == 0) ? (as & ps) : (neg ? ~sb : sb);
  // Normalise: one right shift on carry-out, else left by the leading zeros but not below
  // exponent 1 (subnormal results).
  wire [${LZN}-1:0] lz = lzc_n(mag[${N}-2:0]);
  wire [${XW}-1:0] lim = eb - 1;
  wire [${XW}-1:0] sl = ({{(${XW}-${LZN}){1'b0}}, lz} < lim) ? {{(${XW}-${LZN}){1'b0}}, lz} : lim;
  wire [${N}-1:0] mr = {1'b0, mag[${N}-1:2], mag[1] | mag[0]};
  wire [${N}-1:0] ml = mag << sl;
  wire [${N}-1:0] m1 = mag[${N}-1] ? mr : ml;
  wire [${XW}-1:0] e1 = mag[${N}-1] ? eb + 1 : eb - sl;
  // Round to nearest even on the M fraction bits below the integer bit.
  wire guard = m1[${N}-3-${M}];
  wire sticky = |m1[${N}-4-${M}:0];
  wire inc = guard & (sticky | m1[${N}-2-${M}]);
  wire [${XW}-1:0] ef = m1[${N}-2] ? e1 : {${XW}{1'b0}};
  wire [${XW}+${M}-1:0] packed = {ef, m1[${N}-3:${N}-2-${M}]} + inc;
  wire ovf = packed >= {{(${XW}-${E}){1'b0}}, {${E}{1'b1}}, {${M}{1'b0}}};
  wire [${E}+${M}-1:0] mag_out = ovf ? {{(${E}-1){1'b1}}, 1'b0, {${M}{1'b1}}} : packed[${E}+${M}-1:0];
  wire [${E}+${M}:0] acc_next = {rs, mag_out};
)", v);
}

std::string int8_pe(std::string_view top) {
  return subst(R"(
// INT8 reference MAC: signed 8 x 8 product at its own width, 32-bit accumulator.
module ${TOP}(input clk, input clr, input [7:0] w, input [7:0] a, output reg [31:0] acc);
  reg [7:0] w_r, a_r;
  reg clr_r;
  always @(posedge clk) begin w_r <= w; a_r <= a; clr_r <= clr; end
  wire signed [15:0] p = $signed(w_r) * $signed(a_r);
  wire [31:0] base = clr_r ? 32'd0 : acc;
  always @(posedge clk) acc <= base + {{16{p[15]}}, p};
endmodule
)", {{"TOP", std::string(top)}});
}

}  // namespace

Rtl generate_verilog(const PeSpec& spec, std::string_view top_name) {
  const std::string why = infeasibility(spec);
  if (!why.empty()) throw ConfigError("cannot generate RTL: " + why);
  Rtl rtl;
  rtl.top = std::string(top_name);
  const std::string top = rtl.top;
  if (spec.kind == PeKind::Int8) {
    rtl.verilog = "// Generated by ffp8 hwcost (Verilog-2005).\n" + int8_pe(top);
    return rtl;
  }
  const PeGeometry g = geometry(spec);
  std::string src = "// Generated by ffp8 hwcost (Verilog-2005): " + spec.label() + "\n";
  const int eb = clog2(spec.flex.exp_max + 1);
  if (spec.flexible) {
    rtl.exp_cfg_bits = eb;
    src += flex_decoder(top + "_dec", spec.flex, eb);
  } else {
    src += fixed_decoder(top + "_dec_w", spec.weight);
    src += fixed_decoder(top + "_dec_a", spec.activation);
  }
  const bool bias_ports = spec.flexible && spec.accumulator != Accumulator::Kulisch;
  Vars v{{"TOP", top}, {"NW", s(g.w.code_bits)}, {"NA", s(g.a.code_bits)}, {"ACC", s(g.acc_bits)},
         {"EW", s(g.w.exp_bits)}, {"EA", s(g.a.exp_bits)}, {"FW", s(g.w.frac_bits)},
         {"FA", s(g.a.frac_bits)}, {"PW", s(g.product_bits)}, {"EB", s(eb)}, {"BB", s(spec.flex.bias_bits)}};
  std::string ports = "input clk, input clr, input [${NW}-1:0] w, input [${NA}-1:0] a";
  if (spec.flexible) {
    ports += ",\n    input w_sign, input [${EB}-1:0] w_exp, input a_sign, input [${EB}-1:0] a_exp";
    if (bias_ports) ports += ",\n    input [${BB}-1:0] w_bias, input [${BB}-1:0] a_bias";
  }
  ports += ",\n    output reg [${ACC}-1:0] acc";
  src += subst("\nmodule ${TOP}(" + ports + ");\n", v);
  src += subst(R"(  reg [${NW}-1:0] w_r;
  reg [${NA}-1:0] a_r;
  reg clr_r;
  always @(posedge clk) begin w_r <= w; a_r <= a; clr_r <= clr; end
  wire s_w, s_a;
  wire [${EW}-1:0] e_w;
  wire [${EA}-1:0] e_a;
  wire [${FW}:0] sig_w;
  wire [${FA}:0] sig_a;
)", v);
  if (spec.flexible) {
    // Configuration ports are static per layer and shared by a PE array: not registered here.
    src += subst("  ${TOP}_dec dw(.c(w_r), .sign_en(w_sign), .ew(w_exp), .s(s_w), .e(e_w), .sig(sig_w));\n", v);
    src += subst("  ${TOP}_dec da(.c(a_r), .sign_en(a_sign), .ew(a_exp), .s(s_a), .e(e_a), .sig(sig_a));\n", v);
  } else {
    src += subst("  ${TOP}_dec_w dw(.c(w_r), .s(s_w), .e(e_w), .sig(sig_w));\n", v);
    src += subst("  ${TOP}_dec_a da(.c(a_r), .s(s_a), .e(e_a), .sig(sig_a));\n", v);
  }
  src += subst("  // Significand product at its own width (not widened to the accumulator).\n"
               "  wire [${PW}-1:0] p = sig_w * sig_a;\n", v);
  src += spec.accumulator == Accumulator::Kulisch ? kulisch_datapath(g) : float_datapath(spec, g);
  src += "  always @(posedge clk) acc <= acc_next;\nendmodule\n";
  rtl.verilog = std::move(src);
  return rtl;
}

}  // namespace ffp8::hwcost
