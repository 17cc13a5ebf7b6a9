#include "hwcost/spec.hpp"

#include <fmt/format.h>

#include "core/errors.hpp"

namespace ffp8::hwcost {

std::string_view to_string(Accumulator a) {
  switch (a) {
    case Accumulator::Fp32: return "fp32";
    case Accumulator::Fp16: return "fp16";
    case Accumulator::Kulisch: return "kulisch";
  }
  return "?";
}

Accumulator parse_accumulator(std::string_view text) {
  if (text == "fp32") return Accumulator::Fp32;
  if (text == "fp16") return Accumulator::Fp16;
  if (text == "kulisch") return Accumulator::Kulisch;
  throw ConfigError(fmt::format("unknown accumulator '{}' (allowed: fp32, fp16, kulisch)", text));
}

std::optional<std::string> FlexRange::reject(const Format& f) const {
  if (f.width() != width)
    return fmt::format("{} is {} bits wide but the flexible element decodes {}-bit codes", f.name(),
                       f.width(), width);
  if (f.exp < exp_min || f.exp > exp_max)
    return fmt::format("{} has a {}-bit exponent; the flexible element supports {}..{}", f.name(), f.exp,
                       exp_min, exp_max);
  const int lim = 1 << (bias_bits - 1);
  if (f.bias < -lim || f.bias >= lim)
    return fmt::format("{} has bias {}; the flexible element's {}-bit bias register holds {}..{}", f.name(),
                       f.bias, bias_bits, -lim, lim - 1);
  return std::nullopt;
}

std::string PeSpec::label() const {
  if (kind == PeKind::Int8) return "int8";
  return fmt::format("{} x {} {} {}", weight.name(), activation.name(), to_string(accumulator),
                     flexible ? "flexible" : "fixed");
}

PeSpec PeSpec::int8() {
  PeSpec s;
  s.kind = PeKind::Int8;
  return s;
}

PeSpec PeSpec::fixed(std::string_view weight, std::string_view activation, Accumulator accumulator) {
  PeSpec s;
  s.weight = Format::parse(weight);
  s.activation = Format::parse(activation);
  s.accumulator = accumulator;
  return s;
}

}  // namespace ffp8::hwcost
