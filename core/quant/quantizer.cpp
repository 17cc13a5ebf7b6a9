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

std::uint32_t stochastic_bits(std::uint64_t seed, std::uint64_t index) {
  return detail::stochastic_bits32(detail::stream_key(seed, index >> 32),
                                   static_cast<std::uint32_t>(index));
}

Quantizer::Quantizer(const Format& format, const QuantOptions& options)
    : format_(format), options_(options) {
  format_.validate();
  codes_ = special_codes(format_);
  max_ = format_.max_value();
  overflow_threshold_ = max_ + std::ldexp(0.5, format_.top_exponent() - format_.man);
  // The fast path also needs max(V) + ulp/2 (the overflow threshold) to be an exact float32.
  // The kernel reads a float32 subnormal input's binade as 2^-126, so the format's normals must
  // start at or above it (strictly above without subnormals, where the gap below differs).
  const int emin = 1 - format_.bias;
  fast_ = format_.fits_float32() && emin >= -126 && (format_.subnormals || emin > -126) &&
          format_.top_exponent() - format_.man - 1 >= -149 &&
          overflow_threshold_ < static_cast<double>(std::numeric_limits<float>::max());
}

Rounded Quantizer::round(double x, std::uint64_t index) const {
  const Format& f = format_;
  const bool signed_fmt = f.sign == 1;
  if (std::isnan(x)) {
    Rounded r{std::numeric_limits<double>::quiet_NaN(), f.has_nan() ? codes_.nan_code : 0u,
              Outcome::NanInput};
    if (f.has_nan() && signed_fmt && f.specials != Specials::Fnuz && std::signbit(x))
      r.code |= codes_.sign_bit;
    return r;
  }
  if (!signed_fmt && x < 0) return {0.0, 0u, Outcome::NegClipped};
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
    const Rounding rd = options_.rounding;
    const bool overflows = !options_.saturate && (rd == Rounding::Rne || rd == Rounding::Rna) &&
                           a >= overflow_threshold_;
    if (overflows && f.has_inf())
      return finish(std::numeric_limits<double>::infinity(), codes_.inf_code, Outcome::Overflow);
    if (overflows && f.has_nan()) {
      Rounded r = finish(0.0, codes_.nan_code, Outcome::Overflow);
      r.value = std::numeric_limits<double>::quiet_NaN();
      return r;
    }
    return finish(max_, codes_.max_code, Outcome::Overflow);
  }
  if (a == 0.0) return finish(0.0, 0u, Outcome::Exact);

  const int m = f.man;
  const int emin = 1 - f.bias;
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
  bool up = false;
  switch (options_.rounding) {
    case Rounding::Rtz: break;
    case Rounding::Rna: up = !below_half; break;
    case Rounding::Rne: {
      // Tie goes to the neighbour whose code has lowest bit 0 (for m = 0: even exponent).
      const std::uint64_t lo_code_parity = gap ? kept : kept + static_cast<std::uint64_t>(m == 0 ? qexp - qmin : 0);
      up = !below_half && (!at_half || (lo_code_parity & 1u));
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
  else code = (static_cast<std::uint32_t>(qexp - qmin) << m) + static_cast<std::uint32_t>(n);
  if (n == 0) return finish(0.0, 0u, Outcome::Underflow);
  return finish(mag, code, rem == 0 && !up ? Outcome::Exact : Outcome::Rounded);
}

QuantCounts Quantizer::quantize(std::span<const double> in, std::span<double> out,
                                std::uint64_t first_index) const {
  if (in.size() != out.size())
    throw DataError(fmt::format("quantize: input has {} values but output has {}", in.size(), out.size()));
  QuantCounts c;
  c.count = in.size();
  for (std::size_t i = 0; i < in.size(); ++i) {
    const Rounded r = round(in[i], first_index + i);
    out[i] = r.value;
    c.nan_inputs += r.outcome == Outcome::NanInput;
    c.overflow += r.outcome == Outcome::Overflow;
    c.underflow += r.outcome == Outcome::Underflow;
    c.neg_clipped += r.outcome == Outcome::NegClipped;
  }
  return c;
}

}  // namespace ffp8
