// The batch quantizer. The float32 kernels use pure 32-bit integer arithmetic on the input's bits,
// branch-free so GCC vectorizes them (AVX2/AVX-512 variable shifts); every choice mirrors
// Quantizer::round() (quantizer.cpp), against which tests check them bit for bit. Formats and
// inputs the kernels do not cover take round() per value, in the same parallel blocks.
#include <bit>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <omp.h>
#include <span>

#include "core/errors.hpp"
#include "core/threads.hpp"
#include "core/quant/quantize.hpp"
#include "core/quant/rng.hpp"

namespace ffp8 {

namespace {

/// Per-format constants of the kernel, all as 32-bit integers.
struct Params {
  std::int32_t m, emin, qmin;
  std::uint32_t max_bits;        // |x| bits above this overflow
  std::uint32_t thresh_bits;     // non-saturating rne/rna: |x| bits >= this become ovf_*
  std::uint32_t max_code, ovf_code, nan_code, sign_shift;
  float max_value, ovf_value;    // ovf_value: max, +Inf or NaN
  bool nonsat;                   // the threshold rule applies
  bool fnuz;
  bool has_nan;                  // without a NaN code, NaN inputs get code 0 (and are counted)
  bool split_ok;                 // values_kernel_split's float constants are all normal floats
};

constexpr std::uint32_t kAbs = 0x7fffffffu;
constexpr std::uint32_t kInfBits = 0x7f800000u;

/// Bits of the float32 n * 2^qexp (n < 2^17, exact: the format fits float32), built with
/// integer operations only (leading-zero count gives n's binade).
inline std::uint32_t value_bits(std::uint32_t n, std::int32_t qexp) {
  const std::int32_t lead = 31 - std::countl_zero(n | 1u);  // n in [2^lead, 2^(lead+1))
  const std::uint32_t normal = (static_cast<std::uint32_t>(qexp + lead + 127) << 23) |
                               ((n << ((23 - lead) & 31)) & 0x7fffffu);
  const std::uint32_t sub = n << ((qexp + 149) & 31);  // result below 2^-126: float32 subnormal
  const std::uint32_t bits = qexp + lead >= -126 ? normal : sub;
  return n == 0 ? 0u : bits;
}

/// Rounds |x| (bits a) to n * 2^qexp; returns n and qexp. Identical to Quantizer::round().
template <Rounding R, bool Sub>
inline void round_mag(std::uint32_t a, const Params& p, std::uint32_t rnd, std::uint32_t& n,
                      std::int32_t& qexp, bool& gap) {
  const std::uint32_t fe = a >> 23;
  const std::uint32_t frac = a & 0x7fffffu;
  const std::uint32_t sig = fe ? (frac | 0x800000u) : frac;
  const std::int32_t e2 = fe ? static_cast<std::int32_t>(fe) : 1;  // a = sig * 2^(e2 - 150)
  const std::int32_t ex = e2 - 127;
  gap = !Sub && ex < p.emin;
  qexp = ex >= p.emin ? ex - p.m : (Sub ? p.qmin : p.emin);
  const std::int32_t sh = qexp - (e2 - 150);  // >= 23 - m >= 8
  const std::int32_t shc = sh < 31 ? sh : 31;  // sig < 2^24: beyond 25 the result is the same
  const std::uint32_t kept = sig >> shc;
  const std::uint32_t rem = sig & ((1u << shc) - 1u);
  const std::uint32_t half = 1u << (shc - 1);
  std::uint32_t up = 0;
  if constexpr (R == Rounding::Rna) {
    up = rem >= half;
  } else if constexpr (R == Rounding::Rne) {
    const std::uint32_t lo_parity =
        (gap ? kept : kept + static_cast<std::uint32_t>(p.m == 0 ? qexp - p.qmin : 0)) & 1u;
    up = (rem > half) | ((rem == half) & lo_parity);
  } else if constexpr (R == Rounding::Stochastic) {
    const std::int32_t drop = sh - 32;
    const std::uint32_t d_small = rem << ((32 - sh) & 31);            // sh < 32
    const std::uint32_t d_large = drop < 31 ? sig >> (drop & 31) : 0u;  // sh >= 32
    const std::uint32_t d32 = sh < 32 ? d_small : d_large;
    up = rnd < d32;
  }
  n = kept + up;
}

/// Sign handling of a float32 result: signed formats put the input's sign back (except on the
/// zero of fnuz, whose -0 code is its NaN); unsigned formats turn negatives and -0 into +0.
/// NaN inputs pass through. Mask arithmetic throughout: a select here blocks vectorizing.
template <bool Signed>
inline std::uint32_t signed_value_bits(std::uint32_t mag, std::uint32_t u, std::uint32_t s, bool is_nan,
                                       std::uint32_t not_fnuz) {
  std::uint32_t bits = mag;
  if constexpr (Signed) {
    bits |= s & (0u - (static_cast<std::uint32_t>(bits != 0) | not_fnuz));
  } else {
    bits &= (s >> 31) - 1u;
  }
  const std::uint32_t nan_mask = 0u - static_cast<std::uint32_t>(is_nan);
  return (bits & ~nan_mask) | (u & nan_mask);
}

/// One input as every kernel sees it: its bits, |x|'s bits, the random bits of stochastic
/// rounding and the outcomes that do not depend on the rounding.
struct Element {
  std::uint32_t u, a, rnd;
  bool is_nan, over, clipped;
};

/// The loop all three kernels share: per element, the Element and the outcome counts;
/// `step(i, e)` stores out[i] and returns true when the rounded magnitude is zero (an underflow
/// for a non-zero input). Blocks hold < 2^32 values, so the counts are 32-bit lanes.
template <Rounding R, bool Signed, typename Step>
[[gnu::always_inline]] inline QuantCounts kernel_loop(const float* __restrict in, std::size_t len, const Params& p,
                                                      std::uint32_t key, std::uint32_t idx0, Step step) {
  std::uint32_t nan_c = 0, ovf_c = 0, unf_c = 0, neg_c = 0;
  const std::uint32_t max_bits = p.max_bits;
#pragma omp simd reduction(+ : nan_c, ovf_c, unf_c, neg_c)
  for (std::size_t i = 0; i < len; ++i) {
    Element e;
    e.u = std::bit_cast<std::uint32_t>(in[i]);
    e.a = e.u & kAbs;
    const bool neg = (e.u >> 31) != 0;
    e.rnd = R == Rounding::Stochastic ? detail::stochastic_bits32(key, idx0 + static_cast<std::uint32_t>(i)) : 0u;
    e.is_nan = e.a > kInfBits;
    e.over = (e.a <= kInfBits) & (Signed | !neg) & (e.a > max_bits);  // unsigned negatives only clip
    e.clipped = !Signed & neg & !e.is_nan & (e.a != 0);
    const bool zero = step(i, e);
    nan_c += e.is_nan;
    ovf_c += e.over;
    neg_c += e.clipped;
    unf_c += !e.is_nan & !e.over & !e.clipped & (e.a != 0) & zero;
  }
  return QuantCounts{len, nan_c, ovf_c, unf_c, neg_c};
}

/// The general values kernel: round_mag() per element, any rounding.
template <Rounding R, bool Sub, bool Signed>
__attribute__((noinline, noclone)) QuantCounts values_kernel(const float* __restrict in, float* __restrict out, std::size_t len,
                          const Params p, std::uint32_t key, std::uint32_t idx0) {
  const std::uint32_t ovf_bits = std::bit_cast<std::uint32_t>(p.ovf_value);
  const bool nonsat = p.nonsat;
  const std::uint32_t not_fnuz = p.fnuz ? 0u : 1u;
  return kernel_loop<R, Signed>(in, len, p, key, idx0, [&](std::size_t i, const Element& e) __attribute__((always_inline)) {
    std::uint32_t n;
    std::int32_t qexp;
    bool gap;
    round_mag<R, Sub>(e.a, p, e.rnd, n, qexp, gap);
    // Selects on integer bits only: float selects under && defeat GCC's if-conversion.
    const std::uint32_t ovf = (nonsat & (e.a >= p.thresh_bits)) ? ovf_bits : p.max_bits;
    out[i] = std::bit_cast<float>(
        signed_value_bits<Signed>(e.over ? ovf : value_bits(n, qexp), e.u, e.u & ~kAbs, e.is_nan, not_fnuz));
    return n == 0;
  });
}

/// Lean kernel for rne and stochastic (the common cases). In the target's normal range the
/// quantum is a fixed 2^(23-m) input ulps, so rounding is an integer add and mask (carries
/// into the exponent are right by construction); below it (subnormals, or the gap without
/// them) the quantum is one fixed power of two and float arithmetic rounds exactly.
/// Same results as round_mag() bit for bit (the oracle test compares them).
template <Rounding R, bool Sub, bool Signed>
__attribute__((noinline, noclone)) QuantCounts values_kernel_split(const float* __restrict in,
                                                                   float* __restrict out, std::size_t len,
                                                                   const Params p, std::uint32_t key,
                                                                   std::uint32_t idx0) {
  static_assert(R == Rounding::Rne || R == Rounding::Stochastic);
  const std::uint32_t sh = static_cast<std::uint32_t>(23 - p.m);
  const std::uint32_t keep = ~((1u << sh) - 1u);
  const std::uint32_t half_m1 = (1u << (sh - 1)) - 1u;
  // m = 0: the code's lowest bit is the exponent's, E = e_x + b, so parity shifts with the bias.
  const std::uint32_t parity_adj = p.m == 0 ? static_cast<std::uint32_t>(p.emin + 126) & 1u : 0u;
  const std::uint32_t min_normal_bits = static_cast<std::uint32_t>(p.emin + 127) << 23;
  const std::int32_t low_e = Sub ? p.qmin : p.emin;  // quantum below the normal range
  const float low_q = std::ldexp(1.0f, low_e);
  const float magic = std::ldexp(1.0f, low_e + 23);
  const float inv_low_q = std::ldexp(1.0f, -low_e);
  const std::uint32_t ovf_bits = std::bit_cast<std::uint32_t>(p.ovf_value);
  const bool nonsat = p.nonsat;
  const std::uint32_t not_fnuz = p.fnuz ? 0u : 1u;
  return kernel_loop<R, Signed>(in, len, p, key, idx0, [&](std::size_t i, const Element& e) __attribute__((always_inline)) {
    const std::uint32_t a = e.a;
    const float af = std::bit_cast<float>(a);
    std::uint32_t normal, low;
    if constexpr (R == Rounding::Rne) {
      const std::uint32_t lsb = ((a >> sh) + parity_adj) & 1u;
      normal = (a + half_m1 + lsb) & keep;
      low = std::bit_cast<std::uint32_t>((af + magic) - magic);
    } else {
      // Round up iff (top sh random bits) < dropped bits: add their complement and truncate.
      normal = (a + (~e.rnd >> (32u - sh))) & keep;
      const float y = af * inv_low_q;  // < 2^m, exact
      const auto k = static_cast<std::uint32_t>(static_cast<std::int32_t>(y));
      const float frac = y - static_cast<float>(static_cast<std::int32_t>(k));
      const auto d32 = static_cast<std::uint32_t>(frac * 4294967296.0f);
      const std::uint32_t n = k + static_cast<std::uint32_t>(e.rnd < d32);
      low = std::bit_cast<std::uint32_t>(static_cast<float>(static_cast<std::int32_t>(n)) * low_q);
    }
    // Mask blend, not a select: GCC would sink each side into a branch and give up vectorizing.
    const std::uint32_t is_normal = 0u - static_cast<std::uint32_t>(a >= min_normal_bits);
    const std::uint32_t mag = low ^ ((low ^ normal) & is_normal);
    const std::uint32_t ovf = (nonsat & (a >= p.thresh_bits)) ? ovf_bits : p.max_bits;
    out[i] = std::bit_cast<float>(signed_value_bits<Signed>(e.over ? ovf : mag, e.u, e.u & ~kAbs, e.is_nan, not_fnuz));
    return mag == 0;
  });
}

template <Rounding R, bool Sub, bool Signed>
__attribute__((noinline, noclone)) QuantCounts codes_kernel(const float* __restrict in, std::uint16_t* __restrict out, std::size_t len,
                         const Params p, std::uint32_t key, std::uint32_t idx0) {
  const bool nonsat = p.nonsat;
  const std::uint32_t not_fnuz = p.fnuz ? 0u : 1u;
  // NaN code for a negative NaN input: fnuz and NaN-less formats have one NaN code (or 0).
  const std::uint32_t neg_nan_code = p.fnuz || !p.has_nan ? p.nan_code : p.nan_code | (1u << p.sign_shift);
  return kernel_loop<R, Signed>(in, len, p, key, idx0, [&](std::size_t i, const Element& e) __attribute__((always_inline)) {
    const std::uint32_t s = e.u >> 31;
    std::uint32_t n;
    std::int32_t qexp;
    bool gap;
    round_mag<R, Sub>(e.a, p, e.rnd, n, qexp, gap);
    std::uint32_t code = gap ? (n << p.m) : ((static_cast<std::uint32_t>(qexp - p.qmin) << p.m) + n);
    const std::uint32_t ovf_code = (nonsat & (e.a >= p.thresh_bits)) ? p.ovf_code : p.max_code;
    code = e.over ? ovf_code : code;
    // Mask arithmetic as in signed_value_bits(): selects here block vectorizing.
    std::uint32_t nan_code = p.nan_code;
    if constexpr (Signed) {
      code |= (s << p.sign_shift) & (0u - (static_cast<std::uint32_t>(code != 0) | not_fnuz));
      nan_code = s ? neg_nan_code : p.nan_code;
    } else {
      code &= (s & 1u) - 1u;  // negatives (and -0) become 0
    }
    const std::uint32_t nan_mask = 0u - static_cast<std::uint32_t>(e.is_nan);
    code = (code & ~nan_mask) | (nan_code & nan_mask);
    out[i] = static_cast<std::uint16_t>(code);
    return n == 0;
  });
}

/// Splits [0, len) into blocks that never cross a 2^32 boundary of the global index (so the
/// stochastic key is constant per block) and runs `body(offset, count, key, idx0)` over them,
/// in parallel when asked. Results are independent of the split.
template <typename Body>
QuantCounts run_blocks(std::size_t len, std::uint64_t first_index, const QuantOptions& o, Body body) {
  constexpr std::size_t kBlock = 1u << 16;
  const std::size_t blocks = (len + kBlock - 1) / kBlock;
  const int threads = thread_count(o.threads);
  std::uint64_t nan_c = 0, ovf_c = 0, unf_c = 0, neg_c = 0;
#pragma omp parallel for schedule(static) num_threads(threads) if (blocks > 1 && threads > 1) \
    reduction(+ : nan_c, ovf_c, unf_c, neg_c)
  for (std::size_t b = 0; b < blocks; ++b) {
    std::size_t off = b * kBlock;
    const std::size_t end = std::min(len, off + kBlock);
    while (off < end) {
      const std::uint64_t g = first_index + off;
      const std::uint64_t to_boundary = (std::uint64_t{1} << 32) - (g & 0xffffffffu);
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(end - off, to_boundary));
      const QuantCounts c = body(off, n, detail::stream_key(o.seed, g >> 32), static_cast<std::uint32_t>(g));
      nan_c += c.nan_inputs;
      ovf_c += c.overflow;
      unf_c += c.underflow;
      neg_c += c.neg_clipped;
      off += n;
    }
  }
  return QuantCounts{len, nan_c, ovf_c, unf_c, neg_c};
}

Params make_params(const Format& f, const QuantOptions& o, const SpecialCodes& codes, double max,
                   double thresh) {
  Params p{};
  p.m = f.man;
  p.emin = 1 - f.bias;
  p.qmin = p.emin - f.man;
  p.max_value = static_cast<float>(max);
  p.max_bits = std::bit_cast<std::uint32_t>(p.max_value);
  // Non-saturating overflow (rule 5): |x| bits >= thresh_bits become Inf/NaN. rne: beyond
  // max + ulp/2, and exactly at it only when max(V)'s code is odd (the virtual next code is
  // max_code + 1 and the tie goes to the even one); rna: from max + ulp/2 on; rtz and stochastic
  // saturate finite x. ±Inf inputs overflow in every mode (their bits are kInfBits).
  const std::uint32_t t = std::bit_cast<std::uint32_t>(static_cast<float>(thresh));  // exact: fast_ checks it
  switch (o.rounding) {
    case Rounding::Rne: p.thresh_bits = (codes.max_code & 1u) ? t : t + 1; break;
    case Rounding::Rna: p.thresh_bits = t; break;
    case Rounding::Rtz:
    case Rounding::Stochastic: p.thresh_bits = kInfBits; break;
  }
  p.nonsat = !o.saturate && (f.has_inf() || f.has_nan());
  p.ovf_value = f.has_inf() ? INFINITY : (f.has_nan() ? NAN : p.max_value);
  p.max_code = codes.max_code;
  p.ovf_code = f.has_inf() ? codes.inf_code : (f.has_nan() ? codes.nan_code : codes.max_code);
  p.nan_code = f.has_nan() ? codes.nan_code : 0u;
  p.sign_shift = static_cast<std::uint32_t>(f.exp + f.man);
  p.fnuz = f.specials == Specials::Fnuz;
  p.has_nan = f.has_nan();
  // The split kernel needs 2^low_e, 2^(low_e+23) and 2^-low_e as normal float32 values.
  const int low_e = f.subnormals ? p.qmin : p.emin;
  p.split_ok = low_e >= -126 && low_e + 23 <= 127 && -low_e <= 127;
  return p;
}

/// Dispatches the (rounding, subnormals, sign) template once per call.
template <template <Rounding, bool, bool> class K, typename... Args>
QuantCounts dispatch(const Format& f, Rounding r, Args&&... args) {
  auto by_sign = [&]<Rounding R, bool Sub>() {
    return f.sign ? K<R, Sub, true>::run(args...) : K<R, Sub, false>::run(args...);
  };
  auto by_sub = [&]<Rounding R>() {
    return f.subnormals ? by_sign.template operator()<R, true>() : by_sign.template operator()<R, false>();
  };
  switch (r) {
    case Rounding::Rne: return by_sub.template operator()<Rounding::Rne>();
    case Rounding::Rna: return by_sub.template operator()<Rounding::Rna>();
    case Rounding::Rtz: return by_sub.template operator()<Rounding::Rtz>();
    case Rounding::Stochastic: return by_sub.template operator()<Rounding::Stochastic>();
  }
  return {};
}

template <Rounding R, bool Sub, bool Signed>
struct ValuesK {
  static QuantCounts run(const float* in, float* out, std::size_t len, const Params& p,
                         std::uint64_t first, const QuantOptions& o) {
    return run_blocks(len, first, o, [&](std::size_t off, std::size_t n, std::uint32_t key, std::uint32_t i0) {
      if constexpr (R == Rounding::Rne || R == Rounding::Stochastic) {
        if (p.split_ok) return values_kernel_split<R, Sub, Signed>(in + off, out + off, n, p, key, i0);
      }
      return values_kernel<R, Sub, Signed>(in + off, out + off, n, p, key, i0);
    });
  }
};

template <Rounding R, bool Sub, bool Signed>
struct CodesK {
  static QuantCounts run(const float* in, std::uint16_t* out, std::size_t len, const Params& p,
                         std::uint64_t first, const QuantOptions& o) {
    return run_blocks(len, first, o, [&](std::size_t off, std::size_t n, std::uint32_t key, std::uint32_t i0) {
      return codes_kernel<R, Sub, Signed>(in + off, out + off, n, p, key, i0);
    });
  }
};


/// The exact scalar path over a batch (double inputs, integers, -nz formats, and float members
/// outside the fast kernels' range): round() per value, in parallel blocks like the kernels.
template <typename In, typename Out, typename Store>
QuantCounts exact_batch(const Quantizer& q, std::span<const In> in, std::span<Out> out, std::uint64_t first,
                        Store store) {
  return run_blocks(in.size(), first, q.options(), [&](std::size_t off, std::size_t n, std::uint32_t, std::uint32_t) {
    QuantCounts c;
    for (std::size_t i = off; i < off + n; ++i) {
      const Rounded r = q.round(in[i], first + i);
      out[i] = store(r);
      c.add(r.outcome);
    }
    return c;
  });
}

/// The batch calls' size check: `what` is the call's name.
void check_sizes(const char* what, std::size_t in, std::size_t out) {
  if (in != out) throw DataError(fmt::format("{}: input has {} values but output has {}", what, in, out));
}

float float_value(const Rounded& r) { return static_cast<float>(r.value); }
double double_value(const Rounded& r) { return r.value; }
std::uint16_t code_of(const Rounded& r) { return static_cast<std::uint16_t>(r.code); }

}  // namespace

QuantCounts Quantizer::quantize(std::span<const float> in, std::span<float> out,
                                std::uint64_t first_index) const {
  check_sizes("quantize", in.size(), out.size());
  if (!float32_ok_)
    throw FormatError(fmt::format("format {} has values that are not float32 numbers (its values reach 2^{} and "
                                  "its spacing 2^{}; float32 holds 2^-149 .. below 2^128): quantize to float64 instead",
                                  format_.name(), format_.top_exponent(), format_.min_quantum_exponent()));
  if (!fast_) return exact_batch(*this, in, out, first_index, float_value);
  const Params p = make_params(format_, options_, codes_, max_, overflow_threshold_);
  return dispatch<ValuesK>(format_, options_.rounding, in.data(), out.data(), in.size(), p, first_index, options_);
}

QuantCounts Quantizer::encode(std::span<const float> in, std::span<std::uint16_t> codes,
                              std::uint64_t first_index) const {
  check_sizes("encode", in.size(), codes.size());
  if (!fast_)  // exact scalar path for formats the kernels do not cover
    return exact_batch(*this, in, codes, first_index, code_of);
  const Params p = make_params(format_, options_, codes_, max_, overflow_threshold_);
  return dispatch<CodesK>(format_, options_.rounding, in.data(), codes.data(), in.size(), p, first_index, options_);
}

QuantCounts Quantizer::quantize(std::span<const double> in, std::span<double> out,
                                std::uint64_t first_index) const {
  check_sizes("quantize", in.size(), out.size());
  return exact_batch(*this, in, out, first_index, double_value);
}

QuantCounts Quantizer::encode(std::span<const double> in, std::span<std::uint16_t> codes,
                              std::uint64_t first_index) const {
  check_sizes("encode", in.size(), codes.size());
  return exact_batch(*this, in, codes, first_index, code_of);
}

}  // namespace ffp8
