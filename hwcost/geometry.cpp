#include "hwcost/geometry.hpp"

#include <algorithm>
#include <cstdlib>

namespace ffp8::hwcost {

int clog2(long long x) {
  int b = 0;
  while ((1LL << b) < x) ++b;
  return b;
}

namespace {

OperandGeometry operand(const Format& f, const PeSpec& spec) {
  OperandGeometry g;
  if (spec.flexible) {
    g.code_bits = spec.flex.width;
    g.exp_bits = spec.flex.exp_max;
    g.frac_bits = spec.flex.man_max();
    g.has_sign = true;
  } else {
    g.code_bits = f.width();
    g.exp_bits = f.exp;
    g.frac_bits = f.man;
    g.has_sign = f.sign == 1;
  }
  return g;
}

// Signed bits that hold every value in [lo, hi].
int signed_bits(long long lo, long long hi) {
  const long long m = std::max(std::llabs(lo), std::llabs(hi)) + 1;
  return clog2(m + 1) + 1;
}

}  // namespace

PeGeometry geometry(const PeSpec& spec) {
  PeGeometry g;
  if (spec.kind == PeKind::Int8) {
    g.w.code_bits = g.a.code_bits = 8;
    g.product_bits = 16;
    g.acc_bits = 32;
    g.input_reg_bits = 8 + 8 + 1;
    return g;
  }
  g.w = operand(spec.weight, spec);
  g.a = operand(spec.activation, spec);
  g.product_bits = g.w.sig_bits() + g.a.sig_bits();
  g.shift_max = (g.w.exp_field_max() - 1) + (g.a.exp_field_max() - 1);
  g.shift_bits = std::max(1, clog2(g.shift_max + 1));
  g.input_reg_bits = g.w.code_bits + g.a.code_bits + 1;  // + the clear flag
  switch (spec.accumulator) {
    case Accumulator::Kulisch:
      // Sign bit + magnitude of the largest shifted product + carries for K terms.
      g.kulisch_bits = g.product_bits + g.shift_max + clog2(static_cast<long long>(spec.kulisch_terms)) + 1;
      g.acc_bits = g.kulisch_bits;
      return g;
    case Accumulator::Fp32: g.acc_exp_bits = 8; g.acc_man_bits = 23; break;
    case Accumulator::Fp16: g.acc_exp_bits = 5; g.acc_man_bits = 10; break;
  }
  g.frame_frac_bits = std::max(g.acc_man_bits, g.product_bits - 1);
  g.frame_bits = g.frame_frac_bits + 5;
  g.acc_bits = 1 + g.acc_exp_bits + g.acc_man_bits;
  // Product exponent in the accumulator's biased scale, before normalisation:
  // (Ew + Ea) - (bw + ba) - (fw + fa) + (product_bits - 1) + acc_bias, Ew, Ea in [1, 2^e - 1].
  const long long acc_bias = (1LL << (g.acc_exp_bits - 1)) - 1;
  long long bias_lo = 0, bias_hi = 0;
  if (spec.flexible) {
    const long long lim = 1LL << (spec.flex.bias_bits - 1);
    bias_lo = -2 * lim;
    bias_hi = 2 * (lim - 1);
  } else {
    bias_lo = bias_hi = spec.weight.bias + spec.activation.bias;
  }
  const long long k = -(g.w.frac_bits + g.a.frac_bits) + (g.product_bits - 1) + acc_bias;
  const long long lo = 2 - bias_hi + k - g.product_bits - 2;  // - product_bits: normalisation shift
  const long long hi = g.w.exp_field_max() + g.a.exp_field_max() - bias_lo + k + 2;
  // The exponent path also holds the accumulator exponent and the zero-product sentinel.
  g.exp_path_bits = std::max(signed_bits(lo, hi), signed_bits(0, (1LL << g.acc_exp_bits) + 1)) + 1;
  return g;
}

}  // namespace ffp8::hwcost

namespace ffp8::hwcost {
int kulisch_lsb_exponent(const PeGeometry& g, const Format& weight, const Format& activation) {
  return 2 - weight.bias - activation.bias - g.w.frac_bits - g.a.frac_bits;
}
}  // namespace ffp8::hwcost
