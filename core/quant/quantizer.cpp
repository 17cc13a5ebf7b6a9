// The exact scalar quantizer: integer rounding of the input's significand, valid for every
// format and every double input. The batch kernel (batch.cpp) is checked against it bit for bit.
#include <bit>
#include <cmath>
#include <fmt/format.h>
#include <limits>

#include "core/errors.hpp"
#include "core/quant/quantize.hpp"
#include "core/quant/rng.hpp"

namespace ffp8 {

std::string_view to_string(Rounding r) {
  switch (r) {
    case Rounding::Rne: return "rne";
    case Rounding::Rna: return "rna";
    case Rounding::Rtz: return "rtz";
    case Rounding::Stochastic: return "stochastic";
  }
  return "rne";
}

Rounding parse_rounding(std::string_view text) {
  for (Rounding r : {Rounding::Rne, Rounding::Rna, Rounding::Rtz, Rounding::Stochastic})
    if (text == to_string(r)) return r;
  throw FormatError(fmt::format("rounding '{}' is not one of rne, rna, rtz, stochastic", text));
}

QuantCounts& QuantCounts::operator+=(const QuantCounts& o) {
  count += o.count;
  nan_inputs += o.nan_inputs;
  overflow += o.overflow;
  underflow += o.underflow;
  neg_clipped += o.neg_clipped;
  return *this;
}

void QuantCounts::add(Outcome o) {
  ++count;
  nan_inputs += o == Outcome::NanInput;
  overflow += o == Outcome::Overflow;
  underflow += o == Outcome::Underflow;
  neg_clipped += o == Outcome::NegClipped;
}

std::array<std::pair<std::string_view, std::uint64_t>, 5> QuantCounts::named() const {
  return {{{"count", count}, {"nan_inputs", nan_inputs}, {"overflow", overflow}, {"underflow", underflow},
           {"neg_clipped", neg_clipped}}};
}

std::uint32_t stochastic_bits(std::uint64_t seed, std::uint64_t index) {
  return detail::stochastic_bits32(detail::stream_key(seed, index >> 32),
                                   static_cast<std::uint32_t>(index));
}

Quantizer::Quantizer(const Format& format, const QuantOptions& options)
    : format_(format), options_(options) {
  format_.validate();
  codes_ = special_codes(format_);
  max_ = format_.max_value();
  overflow_threshold_ = max_ + format_.max_ulp() / 2;
  max_code_even_ = (codes_.max_code & 1u) == 0;
  float32_ok_ = format_.fits_float32();
  // The fast path also needs max(V) + ulp/2 (the overflow threshold) to be an exact float32.
  // The kernel reads a float32 subnormal input's binade as 2^-126, so the format's normals must
  // start at or above it (strictly above without subnormals, where the gap below differs).
  const int emin = 1 - format_.bias;
  fast_ = !format_.needs_exact_path() && float32_ok_ && emin >= -126 && (format_.subnormals || emin > -126) &&
          format_.top_exponent() - format_.man - 1 >= -149 &&
          overflow_threshold_ < static_cast<double>(std::numeric_limits<float>::max());
}

bool Quantizer::overflows(double a) const {
  if (options_.saturate || !(format_.has_inf() || format_.has_nan())) return false;
  if (std::isinf(a)) return true;
  switch (options_.rounding) {
    // The virtual next value max + ulp has code max_code + 1: a tie goes to the even code.
    case Rounding::Rne: return a > overflow_threshold_ || (a == overflow_threshold_ && !max_code_even_);
    case Rounding::Rna: return a >= overflow_threshold_;
    case Rounding::Rtz:
    case Rounding::Stochastic: return false;
  }
  return false;
}

Rounded Quantizer::round_int(double x, std::uint64_t index) const {
  const Format& f = format_;
  if (std::isnan(x)) return {std::numeric_limits<double>::quiet_NaN(), 0u, Outcome::NanInput};
  if (f.sign == 0 && x < 0) return {0.0, 0u, Outcome::NegClipped};
  const bool neg = f.sign == 1 && x < 0;
  const double a = std::fabs(x);
  const int n_bits = f.width();
  const std::uint64_t k_max =
      neg ? (std::uint64_t{1} << (n_bits - 1)) - (f.sym ? 1u : 0u) : std::uint64_t{codes_.max_code};
  auto finish = [&](std::uint64_t k, Outcome o) {
    const double mag = std::ldexp(static_cast<double>(k), -f.bias);
    const std::uint32_t mask = (1u << n_bits) - 1;
    const std::uint32_t code = neg ? static_cast<std::uint32_t>((std::uint64_t{1} << n_bits) - k) & mask
                                   : static_cast<std::uint32_t>(k);
    return Rounded{neg && k != 0 ? -mag : mag, code, o};
  };
  // y = |x| * 2^bias exactly (a power-of-two scaling; a double-subnormal y rounds to 0 in every mode).
  const double y = std::ldexp(a, f.bias);
  if (y > static_cast<double>(k_max)) return finish(k_max, Outcome::Overflow);  // no specials: saturate
  if (a == 0.0) return finish(0, Outcome::Exact);
  const double fl = std::floor(y);
  const double frac = y - fl;  // exact
  const auto kept = static_cast<std::uint64_t>(fl);
  bool up = false;
  switch (options_.rounding) {
    case Rounding::Rtz: break;
    case Rounding::Rna: up = frac >= 0.5; break;
    case Rounding::Rne: up = frac > 0.5 || (frac == 0.5 && (kept & 1u)); break;
    case Rounding::Stochastic: {
      // P(up) = frac, resolved to 32 random bits as for the float members (floor(frac * 2^32)).
      const auto d32 = static_cast<std::uint64_t>(frac * 4294967296.0);
      up = stochastic_bits(options_.seed, index) < d32;
      break;
    }
  }
  const std::uint64_t k = kept + (up ? 1u : 0u);
  if (k == 0) return finish(0, Outcome::Underflow);
  return finish(k, frac == 0.0 ? Outcome::Exact : Outcome::Rounded);
}

Rounded Quantizer::round(double x, std::uint64_t index) const {
  const Format& f = format_;
  if (f.is_int()) return round_int(x, index);
  const bool signed_fmt = f.sign == 1;
  if (std::isnan(x)) {
    Rounded r{std::numeric_limits<double>::quiet_NaN(), f.has_nan() ? codes_.nan_code : 0u,
              Outcome::NanInput};
    if (f.has_nan() && signed_fmt && f.specials != Specials::Fnuz && std::signbit(x))
      r.code |= codes_.sign_bit;
    return r;
  }
  // -nz has no zero: zero and everything below the smallest value round to it (by sign).
  const double min_nz = f.no_zero ? f.min_positive() : 0.0;
  if (!signed_fmt && x < 0) return {min_nz, 0u, Outcome::NegClipped};
  const bool neg = signed_fmt && std::signbit(x);
  const double a = std::fabs(x);
  // Applies the sign to a magnitude result (fnuz has no negative zero: it is its NaN).
  auto finish = [&](double mag, std::uint32_t code, Outcome o) {
    if (neg && !(f.specials == Specials::Fnuz && code == 0)) {
      mag = -mag;
      code |= codes_.sign_bit;
    }
    return Rounded{mag, code, o};
  };
  if (a > max_) {
    const bool ovf = overflows(a);
    if (ovf && f.has_inf())
      return finish(std::numeric_limits<double>::infinity(), codes_.inf_code, Outcome::Overflow);
    if (ovf && f.has_nan()) {
      Rounded r = finish(0.0, codes_.nan_code, Outcome::Overflow);
      r.value = std::numeric_limits<double>::quiet_NaN();
      return r;
    }
    return finish(max_, codes_.max_code, Outcome::Overflow);
  }
  if (f.no_zero && a < min_nz) return finish(min_nz, 0u, Outcome::Underflow);
  if (a == 0.0) return finish(0.0, 0u, Outcome::Exact);

  const int m = f.man;
  // -nz: exponent code 0 is the normal binade 2^-b, so codes sit one binade (2^m) lower.
  const int emin = f.no_zero ? -f.bias : 1 - f.bias;
  const std::uint64_t code_offset = f.no_zero ? std::uint64_t{1} << m : 0u;
  const int qmin = emin - m;
  int k = 0;
  std::frexp(a, &k);
  const int ex = k - 1;  // a in [2^ex, 2^(ex+1))
  const bool gap = !f.subnormals && ex < emin;  // below min normal without subnormals
  const int qexp = ex >= emin ? ex - m : (f.subnormals ? qmin : emin);
  // a = sig * 2^(ex - 52), sig a 53-bit integer; the quantum is 2^qexp.
  const auto sig = static_cast<std::uint64_t>(std::ldexp(a, 52 - ex));
  const int sh = qexp - (ex - 52);  // >= 52 - m >= 37
  std::uint64_t kept = 0, rem = sig;
  bool below_half = true, at_half = false;  // rem compared with half a quantum
  if (sh < 64) {
    kept = sig >> sh;
    rem = sig & ((std::uint64_t{1} << sh) - 1);
    const std::uint64_t half = std::uint64_t{1} << (sh - 1);
    below_half = rem < half;
    at_half = rem == half;
  }
  const auto binade_code = static_cast<std::uint64_t>(qexp - qmin) << m;
  bool up = false;
  switch (options_.rounding) {
    case Rounding::Rtz: break;
    case Rounding::Rna: up = !below_half; break;
    case Rounding::Rne: {
      // Tie goes to the neighbour whose code has lowest bit 0 (for m = 0: even exponent); across
      // the no-subnormal gap both codes are even and the result is 0 (kept = 0).
      const std::uint64_t lo_code = gap ? kept : binade_code + kept - code_offset;
      up = !below_half && (!at_half || (lo_code & 1u));
      break;
    }
    case Rounding::Stochastic: {
      // P(up) = rem / 2^sh, resolved to 32 random bits (exact when sh <= 32, else floor).
      const int drop = sh - 32;
      const std::uint64_t d32 = drop >= 64 ? 0 : (rem >> drop);
      up = stochastic_bits(options_.seed, index) < d32;
      break;
    }
  }
  const std::uint64_t n = kept + (up ? 1u : 0u);
  const double mag = std::ldexp(static_cast<double>(n), qexp);
  std::uint32_t code = 0;
  if (gap) code = static_cast<std::uint32_t>(n) << m;
  else code = static_cast<std::uint32_t>(binade_code + n - code_offset);
  if (n == 0) return finish(0.0, 0u, Outcome::Underflow);
  return finish(mag, code, rem == 0 && !up ? Outcome::Exact : Outcome::Rounded);
}


}  // namespace ffp8
