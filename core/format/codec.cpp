#include "core/format/codec.hpp"

#include <cmath>
#include <limits>

namespace ffp8 {

namespace {

CodeValue decode_int(const Format& f, std::uint32_t code) {
  const int n = f.width();
  std::int64_t k = code;
  if (f.sign && (code >> (n - 1)) & 1u) k -= std::int64_t{1} << n;  // two's complement
  if (f.sym && k == -(std::int64_t{1} << (n - 1))) return {CodeKind::Unused, 0.0};
  return {CodeKind::Finite, std::ldexp(static_cast<double>(k), -f.bias)};
}

}  // namespace

CodeValue decode(const Format& f, std::uint32_t code) {
  if (f.is_int()) return decode_int(f, code);
  const std::uint32_t m_mask = (1u << f.man) - 1;
  const std::uint32_t e_all = (1u << f.exp) - 1;
  const std::uint32_t s = f.sign ? (code >> (f.exp + f.man)) & 1u : 0u;
  const std::uint32_t mag = code & ((1u << (f.exp + f.man)) - 1);
  const std::uint32_t e = mag >> f.man;
  const std::uint32_t mant = mag & m_mask;
  const double sgn = s ? -1.0 : 1.0;
  constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  switch (f.specials) {
    case Specials::Ieee:
      if (e == e_all) {
        if (mant == 0) return {CodeKind::Inf, sgn * kInf};
        return {CodeKind::Nan, kNan};
      }
      break;
    case Specials::Fn:
      if (e == e_all && mant == m_mask) return {CodeKind::Nan, kNan};
      break;
    case Specials::Fnuz:
      if (s == 1 && mag == 0) return {CodeKind::Nan, kNan};
      break;
    case Specials::None: break;
  }
  // -inf: the code just above max(V) (the former largest finite magnitude) is Inf.
  if (f.inf && mag == f.max_code() + 1) return {CodeKind::Inf, sgn * kInf};
  if (e == 0 && !f.no_zero) {
    if (!f.subnormals && mant != 0) return {CodeKind::Unused, 0.0};
    return {CodeKind::Finite, sgn * std::ldexp(static_cast<double>(mant), 1 - f.bias - f.man)};
  }
  const double sig = static_cast<double>((1u << f.man) + mant);
  return {CodeKind::Finite, sgn * std::ldexp(sig, static_cast<int>(e) - f.bias - f.man)};
}

SpecialCodes special_codes(const Format& f) {
  SpecialCodes c{};
  c.max_code = f.max_code();
  if (f.is_int()) {
    c.inf_code = c.nan_code = c.sign_bit = 0;
    return c;
  }
  const std::uint32_t m_all = (1u << f.man) - 1;
  const std::uint32_t e_all = (1u << f.exp) - 1;
  c.sign_bit = f.sign ? 1u << (f.exp + f.man) : 0u;
  c.inf_code = f.inf ? c.max_code + 1 : e_all << f.man;
  switch (f.specials) {
    case Specials::Ieee: c.nan_code = (e_all << f.man) | m_all; break;
    case Specials::Fn: c.nan_code = (e_all << f.man) | m_all; break;
    case Specials::Fnuz: c.nan_code = c.sign_bit; break;
    case Specials::None: c.nan_code = 0; break;
  }
  return c;
}

}  // namespace ffp8
