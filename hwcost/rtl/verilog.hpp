#pragma once
// Verilog-2005 generator for the PEs the model describes: fixed-format decoders (one per operand
// format), the run-time configurable decoder, the significand multiplier (product formed at its
// own width), and Kulisch, fp16 or fp32 accumulators; plus the INT8 reference MAC.
//
// Ports of the generated top module (all registered on the rising edge of clk):
//   clk, clr (start a new sum: acc <= 0 + w*a), w[nw-1:0], a[na-1:0], acc[acc_bits-1:0]
//   flexible only: w_sign, w_exp[EB-1:0] (field split), and for float accumulators
//   w_bias[bias_bits-1:0] (signed); the same for a_. Kulisch PEs fold the bias into the output
//   scale (kulisch_lsb_exponent), so they have no bias ports.
// Latency: inputs are registered, the accumulator updates one cycle later.
#include <string>
#include <string_view>

#include "hwcost/spec.hpp"

namespace ffp8::hwcost {

/// A generated design: its top module name and the complete source.
struct Rtl {
  std::string top;
  std::string verilog;
  int exp_cfg_bits = 0;  ///< width of the flexible decoders' w_exp / a_exp ports (0 when fixed)
};

/// Generates the PE described by `spec` with top module `top`. Throws ConfigError when the
/// spec is infeasible (the reason from infeasibility()).
Rtl generate_verilog(const PeSpec& spec, std::string_view top = "pe");

}  // namespace ffp8::hwcost
