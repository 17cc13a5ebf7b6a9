#include "hwcost/model.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "core/errors.hpp"

namespace ffp8::hwcost {

namespace {

struct Term {
  const char* component;
  Coef coef;
  double feature;
};

// Every term of the model, in datapath order. Each mirrors a block of the generated RTL.
std::vector<Term> terms(const PeSpec& s, const PeGeometry& g) {
  std::vector<Term> t;
  t.push_back({"control", Coef::Intercept, 1.0});
  if (s.kind == PeKind::Int8) {
    t.push_back({"multiplier", Coef::MultCell, 64.0});
    t.push_back({"accumulator", Coef::AdderBit, 32.0});
    t.push_back({"registers", Coef::RegisterBit, static_cast<double>(g.input_reg_bits + g.acc_bits)});
    return t;
  }
  const auto decoder = [&](const char* name, const OperandGeometry& o) {
    t.push_back({name, Coef::DecoderBit, static_cast<double>(o.exp_bits + 1)});
    if (s.flexible) t.push_back({name, Coef::FlexDecoder, static_cast<double>(o.code_bits * clog2(o.code_bits))});
  };
  decoder("decoder_w", g.w);
  decoder("decoder_a", g.a);
  t.push_back({"multiplier", Coef::MultCell, static_cast<double>(g.w.sig_bits() * g.a.sig_bits())});
  const double regs = g.input_reg_bits + g.acc_bits;
  if (s.accumulator == Accumulator::Kulisch) {
    t.push_back({"exponent", Coef::AdderBit, static_cast<double>(g.shift_bits)});
    t.push_back({"align", Coef::ShiftCell, static_cast<double>((g.product_bits + g.shift_max) * g.shift_bits)});
    t.push_back({"accumulator", Coef::KulischBit, static_cast<double>(g.kulisch_bits)});
    // Two unsigned operands give non-negative products: synthesis drops the negation.
    if (g.w.has_sign || g.a.has_sign)
      t.push_back({"align", Coef::AdderBit, static_cast<double>(g.kulisch_bits)});
  } else {
    const double xw = g.exp_path_bits;
    const double fb = g.frame_bits;
    const double stages = clog2(g.frame_bits);
    // Product exponent (plus the run-time bias sum when flexible), exponent difference.
    t.push_back({"exponent", Coef::AdderBit, (s.flexible ? 4.0 : 2.0) * xw});
    t.push_back({"exponent", Coef::AdderBit, 3.0 * (g.w.exp_bits + g.a.exp_bits)});
    // Product normalisation (leading-zero shift) and alignment of the smaller operand.
    t.push_back({"align", Coef::ShiftCell,
                 static_cast<double>(g.product_bits * clog2(g.product_bits)) + fb * stages});
    // Signed significand add and the absolute value of the result.
    t.push_back({"accumulator", Coef::AdderBit, 2.0 * fb});
    t.push_back({"accumulator", Coef::FrameBit, fb});
    t.push_back({"normalize", Coef::ShiftCell, fb * stages});
    t.push_back({"normalize", Coef::AdderBit, static_cast<double>(g.acc_bits) + xw});
  }
  t.push_back({"registers", Coef::RegisterBit, regs});
  return t;
}

// Logic levels on the critical path, a rough estimate per block (see docs/hwcost.md).
double levels(const PeSpec& s, const PeGeometry& g) {
  if (s.kind == PeKind::Int8) return 4.0 * clog2(16) + 2.0 * clog2(32) + 2;
  double l = 2 + (s.flexible ? clog2(g.w.code_bits) + 1 : 0);
  l += 4.0 * clog2(g.product_bits);
  if (s.accumulator == Accumulator::Kulisch) return l + g.shift_bits + 2.0 * clog2(g.kulisch_bits) + 2;
  const double f = clog2(g.frame_bits);
  return l + 2.0 * clog2(g.product_bits) + f + (2 * f + 2) + 2 * f + (2.0 * clog2(g.acc_man_bits + 1) + 2);
}

void check_spec(const PeSpec& s) {
  if (s.kind == PeKind::Int8) return;
  s.weight.validate();
  s.activation.validate();
  if (s.kulisch_terms < 1) throw ConfigError("kulisch_terms (K) must be at least 1");
  if (s.flexible) {
    const auto& f = s.flex;
    if (f.width < 2 || f.width > 16) throw ConfigError(fmt::format("flex width {} is outside 2..16", f.width));
    if (f.exp_min < 1 || f.exp_max < f.exp_min || f.exp_max > 8 || f.exp_min >= f.width)
      throw ConfigError(fmt::format("flex exponent range {}..{} is invalid for width {}", f.exp_min, f.exp_max,
                                    f.width));
    if (f.bias_bits < 2 || f.bias_bits > 12)
      throw ConfigError(fmt::format("flex bias_bits {} is outside 2..12", f.bias_bits));
  }
}

}  // namespace

/// Why the PE model and RTL generator cannot build an element of `f` yet ("" when they can).
static std::string unbuildable(const Format& f, const char* role) {
  if (f.is_int())
    return fmt::format("{} format {} is an integer element; the floating-point PE does not build integer elements "
                       "(the INT8 reference PE, kind int8, is the two's-complement 8-bit one)",
                       role, f.name());
  if (f.no_zero) return fmt::format("{} format {} has no zero (-nz); the PE's decoder needs a zero code", role, f.name());
  if (f.inf)
    return fmt::format("{} format {} uses the -inf modifier; the PE's decoder knows only none, ieee, fn and fnuz codes",
                       role, f.name());
  if (f.exp == 0)
    return fmt::format("{} format {} has no exponent field (exp 0); the PE's decoder needs one", role, f.name());
  return "";
}

std::string infeasibility(const PeSpec& s) {
  check_spec(s);
  if (s.kind == PeKind::Int8) return "";
  if (auto r = unbuildable(s.weight, "weight"); !r.empty()) return r;
  if (auto r = unbuildable(s.activation, "activation"); !r.empty()) return r;
  if (s.flexible) {
    if (auto r = s.flex.reject(s.weight)) return "weight format " + *r;
    if (auto r = s.flex.reject(s.activation)) return "activation format " + *r;
  }
  if (s.accumulator == Accumulator::Kulisch) {
    const PeGeometry g = geometry(s);
    if (g.kulisch_bits > s.max_kulisch_bits)
      return fmt::format("an exact (Kulisch) accumulator for these formats needs {} bits (limit {})",
                         g.kulisch_bits, s.max_kulisch_bits);
  }
  return "";
}

std::array<double, kCoefCount> features(const PeSpec& spec) {
  std::array<double, kCoefCount> f{};
  for (const Term& t : terms(spec, geometry(spec))) f[static_cast<int>(t.coef)] += t.feature;
  return f;
}

Cost evaluate(const PeSpec& spec, const Tech& tech) {
  Cost c;
  c.label = spec.label();
  c.tech = tech.name;
  c.reason = infeasibility(spec);
  if (!c.reason.empty()) {
    c.feasible = false;
    return c;
  }
  c.geometry = geometry(spec);
  double comb_ge = 0, reg_ge = 0;
  for (const Term& t : terms(spec, c.geometry)) {
    const double ge = tech[t.coef] * t.feature;
    (t.coef == Coef::RegisterBit ? reg_ge : comb_ge) += ge;
    auto it = std::find_if(c.components.begin(), c.components.end(),
                           [&](const Component& x) { return x.name == t.component; });
    if (it == c.components.end()) it = c.components.insert(c.components.end(), Component{t.component, 0, 0});
    it->area_ge += ge;
    it->area_um2 += ge * tech.ge_um2;
  }
  c.area_ge = comb_ge + reg_ge;
  c.area_um2 = c.area_ge * tech.ge_um2;
  c.energy_pj_per_mac = (comb_ge * tech.activity + reg_ge * tech.register_activity) * tech.energy_fj_per_ge * 1e-3;
  c.delay_ns = levels(spec, c.geometry) * tech.gate_delay_ns;
  return c;
}

Cost pe_cost(const Format& weight, const Format& activation, Accumulator acc, bool flexible, const Tech& tech) {
  PeSpec s;
  s.weight = weight;
  s.activation = activation;
  s.accumulator = acc;
  s.flexible = flexible;
  return evaluate(s, tech);
}

Cost int8_cost(const Tech& tech) { return evaluate(PeSpec::int8(), tech); }

}  // namespace ffp8::hwcost
