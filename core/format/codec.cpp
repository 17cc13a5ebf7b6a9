#include "core/format/codec.hpp"

#include <cmath>
#include <limits>

namespace ffp8 {

CodeValue decode(const Format& f, std::uint32_t code) {
  const std::uint32_t m_mask = (1u << f.man) - 1;
  const std::uint32_t e_all = (1u << f.exp) - 1;
  const std::uint32_t s = f.sign ? (code >> (f.exp + f.man)) & 1u : 0u;
  const std::uint32_t e = (code >> f.man) & e_all;
  const std::uint32_t mant = code & m_mask;
  const double sgn = s ? -1.0 : 1.0;
  switch (f.specials) {
    case Specials::Ieee:
      if (e == e_all) {
        if (mant == 0) return {CodeKind::Inf, sgn * std::numeric_limits<double>::infinity()};
        return {CodeKind::Nan, std::numeric_limits<double>::quiet_NaN()};
      }
      break;
    case Specials::Fn:
      if (e == e_all && mant == m_mask) return {CodeKind::Nan, std::numeric_limits<double>::quiet_NaN()};
      break;
    case Specials::Fnuz:
      if (s == 1 && e == 0 && mant == 0) return {CodeKind::Nan, std::numeric_limits<double>::quiet_NaN()};
      break;
    case Specials::None: break;
  }
  if (e == 0) {
    if (!f.subnormals && mant != 0) return {CodeKind::Unused, 0.0};
    return {CodeKind::Finite, sgn * std::ldexp(static_cast<double>(mant), 1 - f.bias - f.man)};
  }
  const double sig = static_cast<double>((1u << f.man) + mant);
  return {CodeKind::Finite, sgn * std::ldexp(sig, static_cast<int>(e) - f.bias - f.man)};
}

SpecialCodes special_codes(const Format& f) {
  const std::uint32_t m_all = (1u << f.man) - 1;
  const std::uint32_t e_all = (1u << f.exp) - 1;
  SpecialCodes c{};
  c.sign_bit = f.sign ? 1u << (f.exp + f.man) : 0u;
  c.max_code = (static_cast<std::uint32_t>(f.top_exponent_field()) << f.man) | f.top_mantissa();
  c.inf_code = e_all << f.man;
  switch (f.specials) {
    case Specials::Ieee: c.nan_code = (e_all << f.man) | m_all; break;
    case Specials::Fn: c.nan_code = (e_all << f.man) | m_all; break;
    case Specials::Fnuz: c.nan_code = c.sign_bit; break;
    case Specials::None: c.nan_code = 0; break;
  }
  return c;
}

}  // namespace ffp8
