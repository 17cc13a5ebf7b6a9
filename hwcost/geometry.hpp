#pragma once
// Bit widths of every datapath of a PE, derived once from its spec. The analytic model and the
// Verilog generator both read these, so that a model term and the RTL it stands for cannot
// drift apart (e.g. the Kulisch register width).
#include "hwcost/spec.hpp"

namespace ffp8::hwcost {

/// One operand's decoder output: sign, significand (hidden bit + fraction) and the effective
/// exponent field max(E, 1), for the widest format the decoder can be set to.
struct OperandGeometry {
  int code_bits = 8;   ///< input code width
  int exp_bits = 4;    ///< exponent field width (flexible: the widest supported)
  int frac_bits = 3;   ///< fraction bits of the significand (flexible: the widest supported)
  bool has_sign = true;  ///< sign can be present (flexible: always, as an option)
  int sig_bits() const { return frac_bits + 1; }
  /// Largest effective exponent field value 2^exp_bits - 1.
  int exp_field_max() const { return (1 << exp_bits) - 1; }
};

/// Widths of the whole PE.
struct PeGeometry {
  OperandGeometry w, a;
  int product_bits = 8;     ///< unsigned significand product width w.sig_bits + a.sig_bits
  int shift_max = 0;        ///< largest product shift (Ew-1)+(Ea-1) into a Kulisch register
  int shift_bits = 1;       ///< bits of the shift amount
  int kulisch_bits = 0;     ///< Kulisch register width W (two's complement), 0 for float acc
  int acc_exp_bits = 0;     ///< float accumulator exponent field (8 for fp32, 5 for fp16)
  int acc_man_bits = 0;     ///< float accumulator fraction field (23 for fp32, 10 for fp16)
  int frame_frac_bits = 0;  ///< float adder fraction bits max(acc_man, product_bits - 1)
  int frame_bits = 0;       ///< float adder frame: carry + integer + fraction + guard/round/sticky
  int exp_path_bits = 0;    ///< signed width of the float exponent datapath
  int acc_bits = 0;         ///< accumulator register width (output width)
  int input_reg_bits = 0;   ///< operand and control flops
};

/// ceil(log2(x)) for x >= 1.
int clog2(long long x);

/// Derives all widths; throws ConfigError for a spec that is malformed (not merely infeasible).
PeGeometry geometry(const PeSpec& spec);

}  // namespace ffp8::hwcost

namespace ffp8::hwcost {
/// Exponent of a Kulisch register's least significant bit for the formats the PE is running:
/// the accumulated value is (signed register) * 2^kulisch_lsb_exponent(). For the flexible PE
/// the run-time biases are folded into this output scale rather than into the datapath.
int kulisch_lsb_exponent(const PeGeometry& g, const Format& weight, const Format& activation);
}  // namespace ffp8::hwcost
