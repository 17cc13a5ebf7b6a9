// Scaled quantization: group scales by the rule, then S * q_elem(x / S) per value. Two paths give
// identical results: the exact one (apply(): the element's scalar Quantizer::round on x / S) for
// every scheme, and for power-of-two scales with a vectorized element a chunked one (x * 2^-e is
// exact in float32, then the element's batch kernel, then * 2^e), which hands a chunk to the exact
// path when a scaled value would leave float32's normal range.
#include "core/scheme/scheme_quantizer.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <omp.h>

#include "core/errors.hpp"
#include "core/format/codec.hpp"
#include "core/threads.hpp"

namespace ffp8 {

namespace {

constexpr double kFltMax = static_cast<double>(std::numeric_limits<float>::max());
constexpr double kFltTrue = 0x1p-149;  // smallest positive float32
constexpr std::int64_t kChunk = 1 << 14;  // values per chunk of the fast path (fits L1/L2)

QuantOptions one_thread(QuantOptions o) {
  o.threads = 1;
  return o;
}

double to_f32(double v) { return static_cast<double>(static_cast<float>(v)); }

/// Largest counted magnitude of each group: NaN ignored, and for an unsigned element negatives.
template <typename T>
std::vector<double> group_amax(const T* in, const GroupGeometry& geo, bool is_signed, int threads) {
  std::vector<double> a(static_cast<std::size_t>(geo.groups()), 0.0);
  const std::int64_t nb = geo.blocks(), slabs = geo.outer * nb, inner = geo.inner;
#pragma omp parallel num_threads(thread_count(threads)) if (slabs > 1)
  {
    std::vector<std::uint32_t> mbits;
    std::vector<double> md;
#pragma omp for schedule(static)
    for (std::int64_t s = 0; s < slabs; ++s) {
      const std::int64_t o = s / nb, b = s % nb, l0 = b * geo.block;
      const std::int64_t rows = std::min(geo.block, geo.length - l0);
      const T* base = in + (o * geo.length + l0) * inner;
      double* dst = a.data() + s * inner;
      if constexpr (std::is_same_v<T, float>) {
        // On the bits: |x| as an integer orders like the value; NaN (and, unsigned, any negative,
        // whose sign bit is set) exceeds +Inf's bits and counts as 0.
        const std::uint32_t mask = is_signed ? 0x7fffffffu : 0xffffffffu;
        mbits.assign(static_cast<std::size_t>(inner), 0u);
        for (std::int64_t r = 0; r < rows; ++r) {
          const float* row = base + r * inner;
          for (std::int64_t i = 0; i < inner; ++i) {
            std::uint32_t v = std::bit_cast<std::uint32_t>(row[i]) & mask;
            v = v <= 0x7f800000u ? v : 0u;
            mbits[static_cast<std::size_t>(i)] = std::max(mbits[static_cast<std::size_t>(i)], v);
          }
        }
        for (std::int64_t i = 0; i < inner; ++i)
          dst[i] = static_cast<double>(std::bit_cast<float>(mbits[static_cast<std::size_t>(i)]));
      } else {
        md.assign(static_cast<std::size_t>(inner), 0.0);
        for (std::int64_t r = 0; r < rows; ++r) {
          const T* row = base + r * inner;
          for (std::int64_t i = 0; i < inner; ++i) {
            const double x = static_cast<double>(row[i]);
            const double v = is_signed ? std::fabs(x) : x;
            if (v > md[static_cast<std::size_t>(i)]) md[static_cast<std::size_t>(i)] = v;  // NaN: false
          }
        }
        std::copy(md.begin(), md.end(), dst);
      }
    }
  }
  return a;
}

}  // namespace

SchemeQuantizer::SchemeQuantizer(const Scheme& s, const QuantOptions& o)
    : scheme_(s),
      options_(o),
      elem_(s.element, o),
      elem1_(s.element, one_thread(o)),
      scale_q_(s.scaled() && !s.scale.is_f32 ? s.scale.format : Format::parse("e8m0"), QuantOptions{}) {
  scheme_.validate();
  elem_max_ = s.element.max_value();
  elem_emax_ = std::ilogb(elem_max_);
  if (!s.scaled()) return;
  scale_min_pos_ = s.scale.is_f32 ? kFltTrue : s.scale.format.min_positive();
  fast_ = s.power_of_two_scale() && elem_.fast_path() && scale_min_pos_ >= 0x1p-127 &&
          s.scale.max_value() <= 0x1p127;
}

double SchemeQuantizer::group_scale(double a, double tensor_scale) const {
  const ScaleFormat& sf = scheme_.scale;
  if (!(a > 0)) return sf.min_value();
  if (std::isinf(a)) return sf.max_value();
  double s = 0.0;
  if (scheme_.rule != ScaleRule::Amax) {
    int e = std::ilogb(a) - elem_emax_;  // floor: 2^(floor(log2 a) - E_max)
    if (scheme_.rule == ScaleRule::Fit && std::ldexp(elem_max_, e) < a) ++e;  // smallest S with S * max >= a
    s = std::ldexp(1.0, std::clamp(e, -2000, 2000));
  } else if (sf.is_f32) {
    s = to_f32(a / elem_max_);
  } else {
    const double q = a / (elem_max_ * tensor_scale);
    s = std::isinf(q) ? sf.max_value() : scale_q_.round(q).value;
  }
  return std::clamp(s, scale_min_pos_, sf.max_value());
}

double SchemeQuantizer::tensor_scale(double a) const {
  if (!scheme_.second_level) return 1.0;
  if (!(a > 0)) return 0.0;
  if (std::isinf(a)) return kFltMax;
  return std::clamp(to_f32(a / (elem_max_ * scheme_.scale.max_value())), kFltTrue, kFltMax);
}

double SchemeQuantizer::total_scale(double group_scale, double tensor_scale) const {
  return scheme_.second_level ? std::min(to_f32(group_scale * tensor_scale), kFltMax) : group_scale;
}

Rounded SchemeQuantizer::apply(double x, double s, std::uint64_t index) const {
  if (std::isnan(x)) return elem_.round(x, index);
  if (s == 0.0) {
    // A zero scale: every element is 0; a non-zero x is beyond the range (max(V) * 0).
    // The zero keeps x's sign where the element has a -0 (the element's own rounding of ±0).
    const Rounded z = elem_.round(x < 0 && scheme_.element.sign == 0 ? x : std::copysign(0.0, x), index);
    const Outcome o = z.outcome == Outcome::NegClipped ? z.outcome : (x != 0 ? Outcome::Overflow : Outcome::Exact);
    return {std::signbit(z.value) ? -0.0 : 0.0, z.code, o};
  }
  const bool f32 = scheme_.float32_arithmetic();
  double t = x / s;  // exact for power-of-two scales
  if (f32) t = to_f32(t);
  Rounded r = elem_.round(t, index);
  if (r.outcome == Outcome::Exact && r.value == 0.0 && x != 0.0) r.outcome = Outcome::Underflow;
  r.value = f32 ? to_f32(r.value * s) : r.value * s;
  return r;
}

template <typename T>
SchemeQuantizer::Scales SchemeQuantizer::scales_of(const T* in, const GroupGeometry& geo) const {
  Scales sc;
  const std::vector<double> a = group_amax(in, geo, scheme_.element.sign == 1, options_.threads);
  if (scheme_.second_level) sc.tensor = tensor_scale(a.empty() ? 0.0 : *std::max_element(a.begin(), a.end()));
  sc.group.resize(a.size());
  sc.total.resize(a.size());
  for (std::size_t g = 0; g < a.size(); ++g) {
    sc.group[g] = group_scale(a[g], sc.tensor);
    sc.total[g] = total_scale(sc.group[g], sc.tensor);
  }
  return sc;
}

template <typename T>
QuantCounts SchemeQuantizer::run(const T* in, T* out, std::uint16_t* codes, const GroupGeometry& geo,
                                 const std::vector<double>& scales, std::uint64_t first) const {
  if constexpr (std::is_same_v<T, float>) {
    if (fast_) return run_fast(in, out, codes, geo, scales, first);
  }
  const std::int64_t rows = geo.outer * geo.length, nb = geo.blocks(), inner = geo.inner;
  const std::int64_t rows_per_chunk = std::max<std::int64_t>(1, kChunk / std::max<std::int64_t>(inner, 1));
  const std::int64_t chunks = (rows + rows_per_chunk - 1) / rows_per_chunk;
  std::uint64_t nan = 0, ovf = 0, unf = 0, neg = 0;
#pragma omp parallel for schedule(static) num_threads(thread_count(options_.threads)) if (chunks > 1) \
    reduction(+ : nan, ovf, unf, neg)
  for (std::int64_t c = 0; c < chunks; ++c) {
    QuantCounts k;
    for (std::int64_t r = c * rows_per_chunk; r < std::min(rows, (c + 1) * rows_per_chunk); ++r) {
      const std::int64_t o = r / geo.length, l = r % geo.length;
      const double* sg = scales.data() + (o * nb + l / geo.block) * inner;
      for (std::int64_t i = 0; i < inner; ++i) {
        const std::int64_t j = r * inner + i;
        const Rounded q = apply(static_cast<double>(in[j]), sg[i], first + static_cast<std::uint64_t>(j));
        if (out) out[j] = static_cast<T>(q.value);
        if (codes) codes[j] = static_cast<std::uint16_t>(q.code);
        k.add(q.outcome);
      }
    }
    nan += k.nan_inputs;
    ovf += k.overflow;
    unf += k.underflow;
    neg += k.neg_clipped;
  }
  return QuantCounts{static_cast<std::uint64_t>(geo.size()), nan, ovf, unf, neg};
}

QuantCounts SchemeQuantizer::run_fast(const float* in, float* out, std::uint16_t* codes, const GroupGeometry& geo,
                                      const std::vector<double>& scales, std::uint64_t first) const {
  // Every scale is 2^e with |e| <= 127, so 2^e and 2^-e are float32 numbers and x * 2^-e is exact
  // unless it falls below 2^-126 (then the chunk takes the exact path).
  std::vector<float> s(scales.size()), inv(scales.size());
  bool zero_scale = false;
  for (std::size_t g = 0; g < scales.size(); ++g) {
    s[g] = static_cast<float>(scales[g]);
    zero_scale |= scales[g] == 0.0;
    inv[g] = scales[g] == 0.0 ? 0.0f : static_cast<float>(1.0 / scales[g]);
  }
  const std::int64_t rows = geo.outer * geo.length, nb = geo.blocks(), inner = geo.inner;
  const std::int64_t rows_per_chunk = std::max<std::int64_t>(1, kChunk / std::max<std::int64_t>(inner, 1));
  const std::int64_t chunks = (rows + rows_per_chunk - 1) / rows_per_chunk;
  std::uint64_t nan = 0, ovf = 0, unf = 0, neg = 0;
#pragma omp parallel num_threads(thread_count(options_.threads)) if (chunks > 1) reduction(+ : nan, ovf, unf, neg)
  {
    std::vector<float> tmp(static_cast<std::size_t>(rows_per_chunk * inner));
#pragma omp for schedule(static)
    for (std::int64_t c = 0; c < chunks; ++c) {
      const std::int64_t r0 = c * rows_per_chunk, r1 = std::min(rows, r0 + rows_per_chunk);
      const std::int64_t j0 = r0 * inner, len = (r1 - r0) * inner;
      // Runs of rows inside one block share their groups g0 .. g0 + inner - 1.
      auto for_runs = [&](auto&& body) {
        for (std::int64_t r = r0; r < r1;) {
          const std::int64_t o = r / geo.length, l = r % geo.length, b = l / geo.block;
          const std::int64_t end = std::min(r1, o * geo.length + std::min(geo.length, (b + 1) * geo.block));
          body(r * inner, (end - r) * inner, (o * nb + b) * inner);
          r = end;
        }
      };
      std::uint32_t bad = 0;  // a scaled value below 2^-126 (or 0) from a non-zero x
      for_runs([&](std::int64_t j, std::int64_t n, std::int64_t g0) {
        const float* x = in + j;
        float* t = tmp.data() + (j - j0);
        if (inner == 1) {
          const float iv = inv[static_cast<std::size_t>(g0)];
          for (std::int64_t k = 0; k < n; ++k) {
            t[k] = x[k] * iv;
            const std::uint32_t xb = std::bit_cast<std::uint32_t>(x[k]) & 0x7fffffffu;
            const std::uint32_t tb = std::bit_cast<std::uint32_t>(t[k]) & 0x7fffffffu;
            bad |= static_cast<std::uint32_t>(tb < 0x00800000u) & static_cast<std::uint32_t>(xb != 0);
          }
        } else {
          const float* iv = inv.data() + g0;
          for (std::int64_t k = 0; k < n; ++k) {
            t[k] = x[k] * iv[k % inner];
            const std::uint32_t xb = std::bit_cast<std::uint32_t>(x[k]) & 0x7fffffffu;
            const std::uint32_t tb = std::bit_cast<std::uint32_t>(t[k]) & 0x7fffffffu;
            bad |= static_cast<std::uint32_t>(tb < 0x00800000u) & static_cast<std::uint32_t>(xb != 0);
          }
        }
      });
      QuantCounts k;
      if (bad || zero_scale) {
        for_runs([&](std::int64_t j, std::int64_t n, std::int64_t g0) {
          for (std::int64_t q = 0; q < n; ++q) {
            const Rounded r = apply(static_cast<double>(in[j + q]), scales[static_cast<std::size_t>(g0 + q % inner)],
                                    first + static_cast<std::uint64_t>(j + q));
            if (out) out[j + q] = static_cast<float>(r.value);
            if (codes) codes[j + q] = static_cast<std::uint16_t>(r.code);
            k.add(r.outcome);
          }
        });
      } else if (codes) {
        k = elem1_.encode(std::span<const float>(tmp.data(), static_cast<std::size_t>(len)),
                          std::span<std::uint16_t>(codes + j0, static_cast<std::size_t>(len)),
                          first + static_cast<std::uint64_t>(j0));
      } else {
        k = elem1_.quantize(std::span<const float>(tmp.data(), static_cast<std::size_t>(len)),
                            std::span<float>(out + j0, static_cast<std::size_t>(len)),
                            first + static_cast<std::uint64_t>(j0));
        for_runs([&](std::int64_t j, std::int64_t n, std::int64_t g0) {
          float* y = out + j;
          if (inner == 1) {
            const float sc = s[static_cast<std::size_t>(g0)];
            for (std::int64_t q = 0; q < n; ++q) y[q] *= sc;
          } else {
            const float* sc = s.data() + g0;
            for (std::int64_t q = 0; q < n; ++q) y[q] *= sc[q % inner];
          }
        });
      }
      nan += k.nan_inputs;
      ovf += k.overflow;
      unf += k.underflow;
      neg += k.neg_clipped;
    }
  }
  return QuantCounts{static_cast<std::uint64_t>(geo.size()), nan, ovf, unf, neg};
}

namespace {

void check_sizes(std::size_t in, std::size_t out, const GroupLayout& layout, std::string_view what) {
  if (static_cast<std::int64_t>(in) != layout.size())
    throw DataError(fmt::format("{}: input has {} values but its shape holds {}", what, in, layout.size()));
  if (in != out) throw DataError(fmt::format("{}: input has {} values but output has {}", what, in, out));
}

}  // namespace

QuantCounts SchemeQuantizer::quantize(std::span<const float> in, std::span<float> out, const GroupLayout& layout,
                                      std::uint64_t first_index) const {
  check_sizes(in.size(), out.size(), layout, "quantize");
  if (!scheme_.scaled()) return elem_.quantize(in, out, first_index);
  if (!elem_.float32_output())
    throw FormatError(fmt::format("the element format {} of {} has values that are not float32 numbers: quantize to "
                                  "float64 instead",
                                  scheme_.element.name(), scheme_.name()));
  const GroupGeometry geo = group_geometry(scheme_, layout);
  const Scales sc = scales_of(in.data(), geo);
  return run(in.data(), out.data(), nullptr, geo, sc.total, first_index);
}

QuantCounts SchemeQuantizer::quantize(std::span<const double> in, std::span<double> out, const GroupLayout& layout,
                                      std::uint64_t first_index) const {
  check_sizes(in.size(), out.size(), layout, "quantize");
  if (!scheme_.scaled()) return elem_.quantize(in, out, first_index);
  const GroupGeometry geo = group_geometry(scheme_, layout);
  const Scales sc = scales_of(in.data(), geo);
  return run(in.data(), out.data(), nullptr, geo, sc.total, first_index);
}

QuantCounts SchemeQuantizer::quantize_with_scales(std::span<const float> in, std::span<float> out,
                                                  const GroupLayout& layout, std::span<const double> scales) const {
  check_sizes(in.size(), out.size(), layout, "quantize");
  if (!scheme_.scaled()) return elem_.quantize(in, out);
  const GroupGeometry geo = group_geometry(scheme_, layout);
  if (static_cast<std::int64_t>(scales.size()) != geo.groups())
    throw DataError(fmt::format("quantize: {} scales given for {} groups of {}", scales.size(), geo.groups(),
                                scheme_.name()));
  const std::vector<double> s(scales.begin(), scales.end());
  return run(in.data(), out.data(), nullptr, geo, s, 0);
}

QuantCounts SchemeQuantizer::encode(std::span<const float> in, const GroupLayout& layout,
                                    std::span<std::uint16_t> element_codes,
                                    std::vector<std::uint32_t>& scale_codes) const {
  check_sizes(in.size(), element_codes.size(), layout, "encode");
  scale_codes.clear();
  if (!scheme_.scaled()) return elem_.encode(in, element_codes);
  const GroupGeometry geo = group_geometry(scheme_, layout);
  const Scales sc = scales_of(in.data(), geo);
  scale_codes.reserve(sc.group.size() + 1);
  for (const double g : sc.group)
    scale_codes.push_back(scheme_.scale.is_f32 ? std::bit_cast<std::uint32_t>(static_cast<float>(g))
                                               : scale_q_.round(g).code);
  if (scheme_.second_level) scale_codes.push_back(std::bit_cast<std::uint32_t>(static_cast<float>(sc.tensor)));
  return run(in.data(), static_cast<float*>(nullptr), element_codes.data(), geo, sc.total, 0);
}

void SchemeQuantizer::decode(std::span<const std::uint16_t> element_codes, std::span<const std::uint32_t> scale_codes,
                             const GroupLayout& layout, std::span<double> out) const {
  check_sizes(element_codes.size(), out.size(), layout, "decode");
  const Format& ef = scheme_.element;
  auto value = [&](std::uint16_t code) {
    if (code >= ef.code_count())
      throw DataError(fmt::format("decode: code {} is beyond the {} codes of {}", code, ef.code_count(), ef.name()));
    const CodeValue v = ::ffp8::decode(ef, code);
    return v.kind == CodeKind::Unused ? std::numeric_limits<double>::quiet_NaN() : v.value;
  };
  if (!scheme_.scaled()) {
    for (std::size_t j = 0; j < out.size(); ++j) out[j] = value(element_codes[j]);
    return;
  }
  const GroupGeometry geo = group_geometry(scheme_, layout);
  const auto groups = static_cast<std::size_t>(geo.groups());
  if (scale_codes.size() != groups + (scheme_.second_level ? 1 : 0))
    throw DataError(fmt::format("decode: {} scale codes given; {} on this shape needs {}", scale_codes.size(),
                                scheme_.name(), groups + (scheme_.second_level ? 1 : 0)));
  const double ts = scheme_.second_level ? static_cast<double>(std::bit_cast<float>(scale_codes.back())) : 1.0;
  const bool f32 = scheme_.float32_arithmetic();
  for_each_group(geo, [&](std::int64_t g, std::int64_t first, std::int64_t cnt, std::int64_t stride) {
    const std::uint32_t sc = scale_codes[static_cast<std::size_t>(g)];
    double gs = 0.0;
    if (scheme_.scale.is_f32) {
      gs = static_cast<double>(std::bit_cast<float>(sc));
    } else {
      if (sc >= scheme_.scale.format.code_count())
        throw DataError(fmt::format("decode: scale code {} is beyond the {} codes of {}", sc,
                                    scheme_.scale.format.code_count(), scheme_.scale.name()));
      gs = ::ffp8::decode(scheme_.scale.format, sc).value;
    }
    const double s = total_scale(gs, ts);
    for (std::int64_t k = 0; k < cnt; ++k) {
      const auto j = static_cast<std::size_t>(first + k * stride);
      const double v = value(element_codes[j]) * s;
      out[j] = f32 ? to_f32(v) : v;
    }
  });
}

std::vector<double> SchemeQuantizer::scales(std::span<const float> in, const GroupLayout& layout) const {
  check_sizes(in.size(), in.size(), layout, "scales");
  if (!scheme_.scaled()) return {1.0};
  return scales_of(in.data(), group_geometry(scheme_, layout)).total;
}

std::vector<double> SchemeQuantizer::scales(std::span<const double> in, const GroupLayout& layout) const {
  check_sizes(in.size(), in.size(), layout, "scales");
  if (!scheme_.scaled()) return {1.0};
  return scales_of(in.data(), group_geometry(scheme_, layout)).total;
}

}  // namespace ffp8
