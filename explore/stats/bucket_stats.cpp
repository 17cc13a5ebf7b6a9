// The one-pass statistics: a branch-light hot loop into per-thread dense tables, compacted into
// sorted occupied buckets. Everything stays integer until scoring, so merging is exact.
#include "explore/stats/bucket_stats.hpp"
#include "core/threads.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <omp.h>
#if defined(__AVX512VL__) && defined(__AVX512BW__) && defined(__AVX512F__)
#include <immintrin.h>
#define FFP8_STATS_AVX512 1
#endif

namespace ffp8::explore {

double Bucket::edge() const { return static_cast<double>(std::bit_cast<float>(magnitude_bits(0))); }

double Bucket::ulp() const {
  const int e = static_cast<int>(exponent_field());
  return std::ldexp(1.0, (e == 0 ? 1 : e) - 150);
}

int recip_scale(std::uint32_t key) {
  // With g = floor(log2 c), a term is below 2^15 u / c^2 <= 2^(15 + log2 u - 2g): 2^(119 - e)
  // for a normal exponent field e; 2^(134 - 2j) for a float32-subnormal bucket with top
  // mantissa bits m (c = m 2^-134, j = floor(log2 m)); 1/|x| = 2^149 / L <= 2^149 when c == 0.
  // Scaling to at most 2^62 leaves n < 2^64 terms below 2^126 in the 128-bit sum.
  const int e = static_cast<int>((key >> 8) & 0xffu);
  const std::uint32_t m = key & 0xffu;
  if (e != 0) return e - 57;
  if (m == 0) return -87;
  return 2 * std::bit_width(m) - 74;  // 2 * floor(log2 m) - 72
}

int Bucket::recip_scale() const { return explore::recip_scale(key); }

double Bucket::reciprocal_sum() const { return std::ldexp(static_cast<double>(r), -recip_scale()); }

Bucket& Bucket::operator+=(const Bucket& o) {
  lmin = std::min(lmin, o.lmin);
  lmax = std::max(lmax, o.lmax);
  n += o.n;
  n0 += o.n0;
  s1 += o.s1;
  s2 += o.s2;
  r += o.r;
  return *this;
}

std::uint64_t BucketStats::nan_count() const {
  std::uint64_t nans = 0;
  for (const Bucket& b : buckets_)
    if (b.exponent_field() == 255) nans += (b.key & 0xffu) == 0 ? b.n - b.n0 : b.n;
  return nans;
}

std::uint64_t BucketStats::inf_count() const {
  std::uint64_t infs = 0;
  for (const Bucket& b : buckets_)
    if (b.exponent_field() == 255 && (b.key & 0xffu) == 0) infs += b.n0;
  return infs;
}

BucketStats BucketStats::finite() const {
  BucketStats out;
  out.reciprocals_ = reciprocals_;
  for (const Bucket& b : buckets_)
    if (b.exponent_field() != 255) {
      out.buckets_.push_back(b);
      out.count_ += b.n;
    }
  return out;
}

namespace {
/// Largest magnitude in a bucket (its edge when only edge values are present).
double bucket_max(const Bucket& b) {
  const std::uint32_t low = b.lmax;
  return static_cast<double>(std::bit_cast<float>(b.magnitude_bits(low)));
}
/// NaN or ±Inf values (the float32 exponent field 255): no fact counts them.
bool is_nonfinite_bucket(const Bucket& b) { return b.exponent_field() == 255; }
}  // namespace

double BucketStats::max_abs() const {
  double a = 0.0;
  for (const Bucket& b : buckets_)
    if (!is_nonfinite_bucket(b)) a = std::max(a, bucket_max(b));
  return a;
}

double BucketStats::max_positive() const {
  double a = 0.0;
  for (const Bucket& b : buckets_)
    if (!b.negative() && !is_nonfinite_bucket(b)) a = std::max(a, bucket_max(b));
  return a;
}

double BucketStats::min() const {
  double m = 0.0;
  bool any = false;
  for (const Bucket& b : buckets_) {
    if (is_nonfinite_bucket(b)) continue;
    const double v = b.negative() ? -bucket_max(b) : (b.n0 ? b.edge() : b.edge() + b.lmin * b.ulp());
    m = any ? std::min(m, v) : v;
    any = true;
  }
  return m;
}

double BucketStats::abs_percentile(double p, bool positive_only) const {
  // Order buckets by magnitude (key without the sign), skipping NaN and ±Inf (and negatives if asked).
  std::vector<const Bucket*> order;
  std::uint64_t total = 0;
  for (const Bucket& b : buckets_) {
    if (is_nonfinite_bucket(b) || (positive_only && b.negative())) continue;
    order.push_back(&b);
    total += b.n;
  }
  if (total == 0) return 0.0;
  std::stable_sort(order.begin(), order.end(),
                   [](const Bucket* a, const Bucket* b) { return (a->key & 0xffffu) < (b->key & 0xffffu); });
  const double want = std::ceil(p / 100.0 * static_cast<double>(total));
  const std::uint64_t rank = static_cast<std::uint64_t>(std::clamp(want, 1.0, static_cast<double>(total)));
  std::uint64_t seen = 0;
  // Edge values (L == 0) of all buckets with one magnitude key come before the interior ones.
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    std::uint64_t edge_n = 0, all_n = 0;
    double top = 0.0;
    while (j < order.size() && (order[j]->key & 0xffffu) == (order[i]->key & 0xffffu)) {
      edge_n += order[j]->n0;
      all_n += order[j]->n;
      top = std::max(top, bucket_max(*order[j]));
      ++j;
    }
    if (seen + edge_n >= rank) return order[i]->edge();
    if (seen + all_n >= rank) return top;
    seen += all_n;
    i = j;
  }
  return max_abs();
}

void BucketStats::merge(const std::vector<Bucket>& sorted) {
  std::vector<Bucket> out;
  out.reserve(buckets_.size() + sorted.size());
  auto a = buckets_.begin();
  auto b = sorted.begin();
  while (a != buckets_.end() || b != sorted.end()) {
    if (b == sorted.end() || (a != buckets_.end() && a->key < b->key)) {
      out.push_back(*a++);
    } else if (a == buckets_.end() || b->key < a->key) {
      out.push_back(*b++);
    } else {
      Bucket m = *a++;
      m += *b++;
      out.push_back(m);
    }
  }
  for (const Bucket& x : sorted) count_ += x.n;
  buckets_ = std::move(out);
}

void BucketStats::merge(const BucketStats& o) {
  merge(o.buckets_);
  reciprocals_ = reciprocals_ && o.reciprocals_;
}

// ---- Collector ----

namespace {
/// Dense per-thread entry, 32 bytes (one AVX register): sum of L, sum of L^2, the count and the
/// edge count packed as n | n0 << 32, and the L extremes. With AVX-512 one masked add and one
/// masked max update the whole entry (one read-modify-write per value).
struct alignas(32) Entry {
  std::uint64_t s1;
  std::uint64_t s2;
  std::uint64_t nn0;   // n | n0 << 32 (an entry is empty when n == 0)
  std::uint16_t lmax;   // 16-bit lane 12 of the register
  std::uint16_t lmin_c; // lane 13: 0xffff - lmin, so both extremes update by one unsigned max
  std::uint32_t pad;
};
static_assert(sizeof(Entry) == 32);
constexpr std::uint64_t kN0 = std::uint64_t{1} << 32;  // one edge value in nn0
constexpr Entry kEmpty{0, 0, 0, 0, 0, 0};
// Flushing before 2^32 values keeps n, n0 < 2^32 inside nn0 (and s2 < 2^62).
constexpr std::uint64_t kFlushEvery = (std::uint64_t{1} << 32) - 1;
constexpr std::size_t kSmall = 1 << 16;                        // below: one thread, touched list
}  // namespace

struct Collector::Table {
  std::vector<Entry> e;
  std::vector<u128> r;                // reciprocal sums, only with reciprocals
  std::vector<std::uint32_t> touched; // keys first hit in small adds
  bool scan_all = false;              // a large add happened: flush scans every key
  Table(bool recip) : e(kKeyCount), r(recip ? kKeyCount : 0) {
    for (Entry& x : e) x = kEmpty;
  }
};

Collector::Collector(int threads, bool reciprocals)
    : threads_(thread_count(threads)), reciprocals_(reciprocals) {
  stats_.set_reciprocals(reciprocals_);
}

Collector::~Collector() {
  for (Table* t : tables_) delete t;
}

namespace {

/// One reciprocal term of a value with float32 bits `u` (L > 0, finite) in fixed point: the
/// double (|x| - c) / (c |x|) is correctly rounded (|x| - c and c |x| are exact in double),
/// a pure function of the value, then truncated at the key's scale; so sums of these integers
/// are exact and the same in any order. Centred at 1/c so that qm*H - n does not cancel (see
/// score_stats.cpp); the lowest float32-subnormal bucket (c == 0) keeps 1/|x|.
inline std::uint64_t reciprocal_term(std::uint32_t u) {
  const std::uint32_t mag = u & 0x7fffffffu;
  const double a = static_cast<double>(std::bit_cast<float>(mag));
  const double c = static_cast<double>(std::bit_cast<float>(mag & ~((1u << kLowBits) - 1u)));
  const double t = c == 0.0 ? 1.0 / a : (a - c) / (c * a);
  const int k = recip_scale(u >> kLowBits);
  return static_cast<std::uint64_t>(t * std::bit_cast<double>(static_cast<std::uint64_t>(1023 + k) << 52));
}

template <bool Recip, bool Track>
void accumulate_scalar(const float* v, std::size_t len, Entry* e, u128* r, std::vector<std::uint32_t>* touched) {
  for (std::size_t i = 0; i < len; ++i) {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(v[i]);
    const std::uint32_t k = u >> kLowBits;
    const std::uint32_t low = u & ((1u << kLowBits) - 1u);
    Entry& x = e[k];
    if constexpr (Track) {
      if (x.nn0 == 0) touched->push_back(k);
    }
    x.s1 += low;
    x.s2 += static_cast<std::uint64_t>(low) * low;
    x.nn0 += low == 0 ? 1 + kN0 : 1;
    if (low > x.lmax) [[unlikely]] x.lmax = static_cast<std::uint16_t>(low);
    if (low != 0 && 0xffffu - low > x.lmin_c) [[unlikely]] x.lmin_c = static_cast<std::uint16_t>(0xffffu - low);
    if constexpr (Recip) {
      const std::uint32_t ef = (u >> 23) & 0xffu;
      if (low != 0 && ef != 255) r[k] += reciprocal_term(u);
    }
  }
}

#ifdef FFP8_STATS_AVX512
// GCC 12 warns inside its own AVX-512 headers (-Wmaybe-uninitialized, GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
/// Eight values `v[0..8)`: their 32-byte increments (L, L^2, 1 + [L == 0] << 32, lmax and
/// lmin_c candidates) are computed in vector registers, then each entry takes one masked add
/// (64-bit lanes 0..2) and one masked unsigned max (16-bit lanes 12, 13). Same results as the
/// scalar loop, bit for bit. The keys come from scalar loads of the input (integer pipes;
/// extracting them from a vector register was slower), and the max reads the add's result
/// (lanes 12, 13 are untouched by the add), so the compiler loads the entry once, not twice.
template <bool Track>
inline void update8(const float* v, Entry* e, std::vector<std::uint32_t>* touched) {
  const __m512i one = _mm512_set1_epi64(1);
  const __m512i edge = _mm512_set1_epi64(static_cast<std::int64_t>(1 + kN0));
  const __m512i ones16 = _mm512_set1_epi64(0xffff);
  const __m512i even = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
  const __m512i odd = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
  const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v));
  const __m512i l64 = _mm512_cvtepu32_epi64(_mm256_and_si256(u, _mm256_set1_epi32((1 << kLowBits) - 1)));
  const __m512i b = _mm512_mul_epu32(l64, l64);
  const __mmask8 z = _mm512_cmpeq_epi64_mask(l64, _mm512_setzero_si512());
  const __m512i c = _mm512_mask_blend_epi64(z, one, edge);
  const __m512i d = _mm512_or_si512(l64, _mm512_slli_epi64(_mm512_maskz_sub_epi64(static_cast<__mmask8>(~z), ones16, l64), 16));
  const __m512i ab_lo = _mm512_unpacklo_epi64(l64, b), ab_hi = _mm512_unpackhi_epi64(l64, b);
  const __m512i cd_lo = _mm512_unpacklo_epi64(c, d), cd_hi = _mm512_unpackhi_epi64(c, d);
  const __m512i p02 = _mm512_permutex2var_epi64(ab_lo, even, cd_lo);  // values 0, 2
  const __m512i p13 = _mm512_permutex2var_epi64(ab_hi, even, cd_hi);  // 1, 3
  const __m512i p46 = _mm512_permutex2var_epi64(ab_lo, odd, cd_lo);   // 4, 6
  const __m512i p57 = _mm512_permutex2var_epi64(ab_hi, odd, cd_hi);   // 5, 7
  const __m256i inc[8] = {_mm512_castsi512_si256(p02), _mm512_castsi512_si256(p13),
                          _mm512_extracti64x4_epi64(p02, 1), _mm512_extracti64x4_epi64(p13, 1),
                          _mm512_castsi512_si256(p46), _mm512_castsi512_si256(p57),
                          _mm512_extracti64x4_epi64(p46, 1), _mm512_extracti64x4_epi64(p57, 1)};
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) {
    const std::uint32_t key = std::bit_cast<std::uint32_t>(v[j]) >> kLowBits;
    Entry& x = e[key];
    if constexpr (Track) {
      if (x.nn0 == 0) touched->push_back(key);
    }
    auto* p = reinterpret_cast<__m256i*>(&x);
    const __m256i old = _mm256_load_si256(p);
    const __m256i s = _mm256_mask_add_epi64(old, 0x7, old, inc[j]);
    _mm256_store_si256(p, _mm256_mask_max_epu16(s, 3u << 12, s, inc[j]));
  }
}

// Exact zeros all hit one entry, so their updates form one store-to-load chain (a mostly-zero
// tensor took 3x the time of normal data). Blocks whose first 64 values hold at least 8 zeros
// are compacted first: zeros are counted by mask popcount, the other values go through update8.
constexpr std::size_t kZeroBlock = 2048;
constexpr int kZeroSample = 64, kZeroSampleMin = 8;

inline bool zero_heavy(const float* v) {
  int zeros = 0;
  for (int k = 0; k < kZeroSample; k += 16) {
    const __m512i u = _mm512_loadu_si512(v + k);
    zeros += std::popcount(static_cast<unsigned>(_mm512_testn_epi32_mask(u, _mm512_set1_epi32(0x7fffffff))));
  }
  return zeros >= kZeroSampleMin;
}

/// Copies the values of `v[0..kZeroBlock)` other than +0 and -0 to `out` in order, adds the
/// zeros to `zeros[sign]`; returns the number of values copied.
inline std::size_t compact_nonzero(const float* v, float* out, std::uint64_t* zeros) {
  std::size_t m = 0;
  for (std::size_t k = 0; k < kZeroBlock; k += 8) {
    const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + k));
    const __mmask8 pos = _mm256_cmpeq_epi32_mask(u, _mm256_setzero_si256());
    const __mmask8 neg = _mm256_cmpeq_epi32_mask(u, _mm256_set1_epi32(static_cast<int>(0x80000000u)));
    zeros[0] += static_cast<unsigned>(std::popcount(static_cast<unsigned>(pos)));
    zeros[1] += static_cast<unsigned>(std::popcount(static_cast<unsigned>(neg)));
    const __mmask8 keep = static_cast<__mmask8>(~(pos | neg));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + m), _mm256_maskz_compress_epi32(keep, u));
    m += static_cast<unsigned>(std::popcount(static_cast<unsigned>(keep)));
  }
  return m;
}

template <bool Track>
void accumulate_avx512(const float* v, std::size_t len, Entry* e, std::vector<std::uint32_t>* touched) {
  alignas(64) float kept[kZeroBlock + 8];
  std::uint64_t zeros[2] = {0, 0};  // +0 (key 0) and -0 (key 1 << 16)
  std::size_t i = 0;
  for (; i + kZeroBlock <= len; i += kZeroBlock) {
    if (zero_heavy(v + i)) {
      const std::size_t m = compact_nonzero(v + i, kept, zeros);
      std::size_t k = 0;
      for (; k + 8 <= m; k += 8) update8<Track>(kept + k, e, touched);
      accumulate_scalar<false, Track>(kept + k, m - k, e, nullptr, touched);
    } else {
      for (std::size_t k = 0; k < kZeroBlock; k += 8) update8<Track>(v + i + k, e, touched);
    }
  }
  for (; i + 8 <= len; i += 8) update8<Track>(v + i, e, touched);
  accumulate_scalar<false, Track>(v + i, len - i, e, nullptr, touched);
  // A zero adds 1 + kN0 to nn0 and nothing else (L = 0 leaves S1, S2 and both extremes alone).
  for (std::uint32_t sign = 0; sign < 2; ++sign) {
    if (zeros[sign] == 0) continue;
    const std::uint32_t key = sign << 16;
    if constexpr (Track) {
      if (e[key].nn0 == 0) touched->push_back(key);
    }
    e[key].nn0 += zeros[sign] * (1 + kN0);
  }
}
#pragma GCC diagnostic pop
#endif

template <bool Recip, bool Track>
void accumulate(const float* v, std::size_t len, Entry* e, u128* r, std::vector<std::uint32_t>* touched) {
#ifdef FFP8_STATS_AVX512
  if constexpr (!Recip) {
    accumulate_avx512<Track>(v, len, e, touched);
    return;
  }
#endif
  accumulate_scalar<Recip, Track>(v, len, e, r, touched);
}

}  // namespace

void Collector::add(std::span<const float> values) {
  if (values.empty()) return;
  if (values.size() > kFlushEvery) {  // the packed counters need a flush every 2^32 values
    for (std::size_t at = 0; at < values.size(); at += kFlushEvery)
      add(values.subspan(at, std::min<std::size_t>(kFlushEvery, values.size() - at)));
    return;
  }
  if (tables_.empty()) {
    tables_.resize(static_cast<std::size_t>(threads_), nullptr);
  }
  if (pending_ + values.size() > kFlushEvery) flush();
  pending_ += values.size();
  const bool small = values.size() < kSmall || threads_ == 1;
  if (small) {
    if (!tables_[0]) tables_[0] = new Table(reciprocals_);
    Table& t = *tables_[0];
    const bool track = !t.scan_all && values.size() < kSmall;
    if (!track) t.scan_all = true;
    if (track) {
      if (reciprocals_) accumulate<true, true>(values.data(), values.size(), t.e.data(), t.r.data(), &t.touched);
      else accumulate<false, true>(values.data(), values.size(), t.e.data(), nullptr, &t.touched);
    } else {
      if (reciprocals_) accumulate<true, false>(values.data(), values.size(), t.e.data(), t.r.data(), nullptr);
      else accumulate<false, false>(values.data(), values.size(), t.e.data(), nullptr, nullptr);
    }
    return;
  }
  const std::size_t len = values.size();
#pragma omp parallel num_threads(threads_)
  {
    const int id = omp_get_thread_num();
    const int nt = omp_get_num_threads();
    if (!tables_[static_cast<std::size_t>(id)]) {
      Table* fresh = new Table(reciprocals_);
      tables_[static_cast<std::size_t>(id)] = fresh;
    }
    Table& t = *tables_[static_cast<std::size_t>(id)];
    t.scan_all = true;
    const std::size_t lo = len * static_cast<std::size_t>(id) / static_cast<std::size_t>(nt);
    const std::size_t hi = len * static_cast<std::size_t>(id + 1) / static_cast<std::size_t>(nt);
    if (reciprocals_) accumulate<true, false>(values.data() + lo, hi - lo, t.e.data(), t.r.data(), nullptr);
    else accumulate<false, false>(values.data() + lo, hi - lo, t.e.data(), nullptr, nullptr);
  }
}

void Collector::flush() {
  for (Table* t : tables_) {
    if (!t) continue;
    std::vector<Bucket> sorted;
    auto take = [&](std::uint32_t k) {
      Entry& x = t->e[k];
      if (x.nn0 == 0) return;
      Bucket b;
      b.key = k;
      b.n = x.nn0 & (kN0 - 1);
      b.n0 = x.nn0 >> 32;
      b.s1 = x.s1;
      b.s2 = x.s2;
      b.lmin = static_cast<std::uint16_t>(0xffffu - x.lmin_c);
      b.lmax = x.lmax;
      if (!t->r.empty()) {
        b.r = t->r[k];
        t->r[k] = 0;
      }
      sorted.push_back(b);
      x = kEmpty;
    };
    if (t->scan_all) {
      for (std::uint32_t k = 0; k < kKeyCount; ++k) take(k);
    } else {
      std::sort(t->touched.begin(), t->touched.end());
      for (std::uint32_t k : t->touched) take(k);
    }
    t->touched.clear();
    t->scan_all = false;
    stats_.merge(sorted);
  }
  pending_ = 0;
}

BucketStats Collector::finish() {
  flush();
  BucketStats out = std::move(stats_);
  stats_ = BucketStats{};
  stats_.set_reciprocals(reciprocals_);
  return out;
}

BucketStats collect(std::span<const float> values, int threads, bool reciprocals) {
  Collector c(threads, reciprocals);
  c.add(values);
  return c.finish();
}

}  // namespace ffp8::explore
