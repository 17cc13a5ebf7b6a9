#pragma once
// Sufficient statistics of a float32 tensor for scoring every format with man <= 7 exactly
// (docs/sweep.md, "How: one pass of sufficient statistics"). A value's bits split into a 17-bit key (sign, float32
// exponent, top 8 mantissa bits) and its 15 low mantissa bits L: x = ±(c + L*u) with c the
// bucket's lower edge and u the float32 ulp there. Sums of L and L^2 are integers, so the
// centred sums are exact; values with L == 0 sit exactly on the edge (where midpoints are).
// The reciprocal sums for mean_rel_err are fixed-point integers too (recip_scale()), so every
// sum is exact and independent of how values were split across threads, chunks or ranks.
#include <cstdint>
#include <span>
#include <vector>

namespace ffp8::explore {

__extension__ typedef unsigned __int128 u128;  // exact sums of L^2 over any tensor size

/// Number of low mantissa bits below the bucket key.
inline constexpr int kLowBits = 15;
/// Number of distinct keys (sign, exponent, top 8 mantissa bits).
inline constexpr std::uint32_t kKeyCount = 1u << 17;

/// Binary scale of the reciprocal sums of bucket `key`: each term (1/c - 1/|x|, or 1/|x| in the
/// bucket with c == 0) times 2^recip_scale(key) is at most 2^62 and, for L == 1, above 2^45.
int recip_scale(std::uint32_t key);

/// Statistics of the values in one bucket; all sums are exact integers.
struct Bucket {
  std::uint32_t key = 0;        ///< sign << 16 | exponent field << 8 | top 8 mantissa bits
  std::uint16_t lmin = 0xffff;  ///< smallest L > 0 (0xffff when every L is 0)
  std::uint16_t lmax = 0;       ///< largest L
  std::uint64_t n = 0;          ///< values in the bucket
  std::uint64_t n0 = 0;         ///< values with L == 0 (exactly the edge c)
  std::uint64_t s1 = 0;         ///< sum of L
  u128 s2 = 0;                  ///< sum of L^2
  u128 r = 0;                   ///< sum of (1/c - 1/|x|) over L > 0 in units of 2^-recip_scale()
                                ///< (1/|x| when c == 0); only with reciprocals

  /// Binary scale of `r` (a function of the key alone): one term is below 2^62 units.
  int recip_scale() const;
  /// The reciprocal sum `r` as a double (one rounding).
  double reciprocal_sum() const;

  bool negative() const { return (key >> 16) != 0; }
  std::uint32_t exponent_field() const { return (key >> 8) & 0xffu; }
  /// Magnitude of the lower edge c (a float32, exact in double; +inf for the Inf/NaN keys).
  double edge() const;
  /// The float32 ulp u at this bucket: x = ±(c + L*u).
  double ulp() const;
  /// Float32 bits of the magnitude c + L*u.
  std::uint32_t magnitude_bits(std::uint32_t low) const { return ((key & 0xffffu) << kLowBits) | low; }
  /// Merges another bucket with the same key.
  Bucket& operator+=(const Bucket& o);
};

/// The compact statistics of a tensor (or a group of tensors): occupied buckets sorted by key.
class BucketStats {
 public:
  const std::vector<Bucket>& buckets() const { return buckets_; }
  std::uint64_t count() const { return count_; }
  /// True when reciprocal sums (for mean_rel_err) were collected.
  bool has_reciprocals() const { return reciprocals_; }
  /// NaN inputs (exponent field 255 with a non-zero mantissa).
  std::uint64_t nan_count() const;
  /// ±Inf inputs.
  std::uint64_t inf_count() const;
  /// The same statistics without the NaN and ±Inf values (count() then counts finite values).
  BucketStats finite() const;
  // The facts below are over finite values: NaN and ±Inf are never numbers (inf_count()).
  /// Largest finite |x| (0 for an empty or all-zero tensor).
  double max_abs() const;
  /// Largest finite positive x (0 when none): the "a" of the fit rule for unsigned formats.
  double max_positive() const;
  /// Smallest finite x (0 if none); a tensor with min() >= 0 is "never negative".
  double min() const;
  /// Nearest-rank P-th percentile of finite |x| (P in (0, 100]), rounded up to the largest value of
  /// its bucket: exact for the fit rule of formats with man <= 7, whose max(V) is a bucket edge.
  double abs_percentile(double p, bool positive_only) const;

  /// Adds the compacted statistics of `sorted` (ascending keys, unique).
  void merge(const std::vector<Bucket>& sorted);
  void merge(const BucketStats& o);
  void set_reciprocals(bool on) { reciprocals_ = on; }

 private:
  std::vector<Bucket> buckets_;
  std::uint64_t count_ = 0;
  bool reciprocals_ = false;
};

/// Accumulates float32 values into BucketStats. One dense table per OpenMP thread (each
/// thread's hot loop touches only its own table), flushed into the compact stats on finish().
/// Memory: about 6 MB per thread, independent of the tensor size.
class Collector {
 public:
  /// `threads` = 0: OpenMP's default. `reciprocals`: also collect sums for mean_rel_err.
  explicit Collector(int threads = 0, bool reciprocals = false);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  /// Adds values (any length; large spans are split across threads).
  void add(std::span<const float> values);
  /// Returns the statistics of everything added since the last finish() and resets.
  BucketStats finish();

 private:
  struct Table;
  void flush();
  int threads_;
  bool reciprocals_;
  std::vector<Table*> tables_;
  BucketStats stats_;
  std::uint64_t pending_ = 0;  // values in the dense tables since the last flush
};

/// Convenience: the statistics of one in-memory tensor.
BucketStats collect(std::span<const float> values, int threads = 0, bool reciprocals = false);

}  // namespace ffp8::explore
