// Scoring a format from bucket statistics. Each bucket splits into its edge value c (n0 values,
// exactly representable, rounded on its own) and its open interior (c, c + w), which rounds as
// one block to q = q(c + w/2). Squared errors of the interior come from the exact integer sums:
// with D = q - c = K*u, sum (L*u - D)^2 = u^2 (S2 - 2 K S1 + n K^2), evaluated in 128-bit
// integers when K is a small integer (where the double form would cancel catastrophically).
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "explore/metrics/score.hpp"

namespace ffp8::explore {

__extension__ typedef __int128 i128;

namespace {

constexpr double kTwo31 = 2147483648.0;

bool small_integer(double k) { return std::isfinite(k) && std::fabs(k) <= kTwo31 && k == std::floor(k); }

/// NaN and ±Inf are not numbers to score: every sum is over the finite values.
bool is_nonfinite_bucket(const Bucket& b) { return b.exponent_field() == 255; }

/// sum over the interior of (q - x)^2 with q = c + D.
double interior_sse(const Bucket& b, double d, double u) {
  const std::uint64_t n1 = b.n - b.n0;
  if (!std::isfinite(d)) return std::isnan(d) ? d : std::numeric_limits<double>::infinity();
  const double k = d / u;
  if (small_integer(k)) {
    const auto ki = static_cast<i128>(k);
    const i128 v = static_cast<i128>(b.s2) - 2 * ki * static_cast<i128>(b.s1) + static_cast<i128>(n1) * ki * ki;
    return static_cast<double>(v) * (u * u);
  }
  // |K| is large (or not an integer, which needs |K| > 2^22): no cancellation to fear.
  return static_cast<double>(n1) * d * d - 2.0 * d * u * static_cast<double>(b.s1) +
         u * u * static_cast<double>(b.s2);
}

/// Expected squared error of stochastic rounding over the interior, x in (lo, hi):
/// sum (x - lo)(hi - x) = u^2 sum (A + L)(B - L) with A = (c - lo)/u, B = (hi - c)/u.
double interior_sr_sse(const Bucket& b, double c, double lo, double hi, double u) {
  const std::uint64_t n1 = b.n - b.n0;
  const double a = (c - lo) / u, bb = (hi - c) / u;
  if (small_integer(a) && small_integer(bb)) {
    const auto ai = static_cast<i128>(a), bi = static_cast<i128>(bb);
    const i128 v = static_cast<i128>(n1) * ai * bi + (bi - ai) * static_cast<i128>(b.s1) - static_cast<i128>(b.s2);
    return static_cast<double>(v) * (u * u);
  }
  return static_cast<double>(n1) * (c - lo) * (hi - c) + ((hi - c) - (c - lo)) * u * static_cast<double>(b.s1) -
         u * u * static_cast<double>(b.s2);
}

/// The next value of the format above lo (0 <= lo < max(V)).
double next_up(const Format& f, double lo) {
  if (lo == 0.0) return f.min_positive();
  const int emin = 1 - f.bias;
  const int ex = std::ilogb(lo);
  const int q = ex >= emin ? ex - f.man : emin - f.man;
  return lo + std::ldexp(1.0, q);
}

}  // namespace

PreparedStats::PreparedStats(const BucketStats& stats) : stats_(&stats) {
  const auto& bs = stats.buckets();
  edges_.resize(bs.size());
  mids_.resize(bs.size());
  for (std::size_t i = 0; i < bs.size(); ++i) {
    edges_[i] = std::bit_cast<float>(bs[i].magnitude_bits(0));
    mids_[i] = std::bit_cast<float>(bs[i].magnitude_bits(1u << (kLowBits - 1)));
  }
  max_abs_ = stats.max_abs();

  RunData& R = runs_;
  R.pn = {0};
  R.p1 = {0};
  R.p2 = {0};
  R.kl_p.assign(kKlBins, 0.0);
  bool neg_started = false;
  std::uint32_t last_seg_key = 0xffffffffu;
  // One item: n values at magnitude key mk with sums of y = t*2^15 + L (y1, y2).
  auto push = [&](const Bucket& b, bool edge, std::uint64_t n, u128 y1, u128 y2, float probe, double lo, double hi) {
    if (b.negative() && !neg_started) {
      R.first_negative = R.mk.size();
      neg_started = true;
    }
    const std::uint32_t seg_key = b.key >> 8;  // sign and exponent field
    if (seg_key != last_seg_key) {
      if (!R.seg_base.empty()) R.seg_end.push_back(static_cast<std::uint32_t>(R.mk.size()));
      const int e = static_cast<int>(b.exponent_field());
      R.seg_base.push_back(e == 0 ? 0.0 : std::ldexp(1.0, e - 127));
      R.seg_ulp.push_back(b.ulp());
      last_seg_key = seg_key;
    }
    R.mk.push_back(b.key & 0xffffu);
    R.probe.push_back(probe);
    R.is_edge.push_back(edge ? 1 : 0);
    R.seg.push_back(static_cast<std::uint32_t>(R.seg_base.size() - 1));
    R.pn.push_back(R.pn.back() + n);
    R.p1.push_back(R.p1.back() + y1);
    R.p2.push_back(R.p2.back() + y2);
    R.xlo.push_back(lo);
    R.xhi.push_back(hi);
  };
  for (std::size_t i = 0; i < bs.size(); ++i) {
    const Bucket& b = bs[i];
    if (is_nonfinite_bucket(b)) continue;
    const double c = edges_[i], u = b.ulp();
    const std::uint64_t n1i = b.n - b.n0;
    const auto n0 = static_cast<double>(b.n0), n1 = static_cast<double>(n1i);
    R.count += static_cast<double>(b.n);
    const double x2_int = n1 * c * c + 2.0 * c * u * static_cast<double>(b.s1) + u * u * static_cast<double>(b.s2);
    const double x2 = n0 * c * c + (n1i ? x2_int : 0.0);
    R.total_x2 += x2;
    if (b.exponent_field() == 0 && n1i > 0) R.subnormal_buckets.push_back(static_cast<std::uint32_t>(i));
    if (b.negative()) {
      R.neg_x2 += x2;
      R.neg_n += static_cast<double>(b.n);
      R.neg_nonzero += static_cast<double>(c == 0 ? n1i : b.n);
    }
    const u128 t = static_cast<u128>(b.key & 0xffu) << kLowBits;  // y = t*2^15 + L
    if (b.n0 > 0) {
      R.kl_p[static_cast<std::size_t>(kl_bin(c, max_abs_))] += n0;
      if (c == 0) R.zeros[b.negative() ? 1 : 0] += b.n0;
      if (b.negative()) R.neg_max = std::max(R.neg_max, c);
      push(b, true, b.n0, b.n0 * t, b.n0 * t * t, edges_[i], c, c);
    }
    if (n1i == 0) continue;
    R.kl_p[static_cast<std::size_t>(kl_bin(mids_[i], max_abs_))] += n1;
    const double xhi = c + b.lmax * u;
    if (b.negative()) R.neg_max = std::max(R.neg_max, xhi);
    push(b, false, n1i, n1i * t + b.s1, n1i * t * t + 2 * t * b.s1 + b.s2, mids_[i], c + b.lmin * u, xhi);
  }
  if (!neg_started) R.first_negative = R.mk.size();
  if (!R.seg_base.empty()) R.seg_end.push_back(static_cast<std::uint32_t>(R.mk.size()));
}

namespace {

/// Sums of one format over the run items [a, b) that all round to magnitude q.
struct RunScorer {
  const RunData& R;
  const ScoreNeeds& needs;
  ErrorSums& s;
  std::vector<double>& hq;
  double range;

  void add(std::size_t a, std::size_t b, double q) const {
    const std::uint64_t n = R.pn[b] - R.pn[a];
    const u128 a1 = R.p1[b] - R.p1[a], a2 = R.p2[b] - R.p2[a];
    const std::uint32_t sg = R.seg[a];
    const double base = R.seg_base[sg], u = R.seg_ulp[sg];
    const double d = q - base;
    double sse;
    if (!std::isfinite(d)) {
      sse = std::isnan(d) ? d : std::numeric_limits<double>::infinity();
    } else if (const double kk = d / u; std::fabs(kk) <= 1099511627776.0 && kk == std::floor(kk)) {
      const auto ki = static_cast<i128>(kk);
      const i128 v = static_cast<i128>(a2) - 2 * ki * static_cast<i128>(a1) + static_cast<i128>(n) * ki * ki;
      sse = static_cast<double>(v) * (u * u);
    } else {
      // q far below the binade (K < 0, not an integer) or |K| > 2^40 >> y: no cancellation.
      sse = static_cast<double>(n) * d * d - 2.0 * d * u * static_cast<double>(a1) + u * u * static_cast<double>(a2);
    }
    s.sse += sse;
    s.max_abs = std::max({s.max_abs, std::fabs(q - R.xlo[a]), std::fabs(q - R.xhi[b - 1])});
    const auto nd = static_cast<double>(n);
    s.sum_xq += q * (nd * base + u * static_cast<double>(a1));
    s.sum_q2 += nd * q * q;
    if (q == 0) {  // ±0 inputs (the first item of a sign part) are not underflow
      const bool zero_item = R.is_edge[a] && R.mk[a] == 0;
      s.underflow += nd - (zero_item ? static_cast<double>(R.pn[a + 1] - R.pn[a]) : 0.0);
    }
    if (needs.kl) hq[static_cast<std::size_t>(kl_bin(std::fabs(q), range))] += nd;
  }

  /// Items [a, b) of one segment with their rounded magnitudes qi[a..b): runs of equal q.
  template <class Q>
  void add_scanned(std::size_t a, std::size_t b, const Q& qi) const {
    while (a < b) {
      const double q = qi(a);
      std::size_t k = a + 1;
      while (k < b && qi(k) == q) ++k;
      add(a, k, q);
      a = k;
    }
  }
};

/// Candidate rounding boundaries of `f` (magnitudes, ascending): midpoints of neighbouring
/// values (rtz: the upper value), plus overflow and flush candidates. A wrong or missing
/// candidate costs only speed: every run is checked with the quantizer at both ends.
void boundaries(const Format& f, Rounding r, std::vector<double>& out) {
  out.clear();
  const int emin = 1 - f.bias;
  const double steps = std::ldexp(1.0, f.man);
  double prev = 0.0;
  auto value = [&](double v) {
    out.push_back(r == Rounding::Rtz ? v : prev + (v - prev) / 2);
    prev = v;
  };
  if (f.subnormals) {
    for (int k = 1; k < static_cast<int>(steps); ++k) value(std::ldexp(k, emin - f.man));
  } else {
    out.push_back(std::ldexp(0.5, emin));
  }
  const double maxv = f.max_value();
  for (int e = emin; e <= f.top_exponent(); ++e)
    for (int j = 0; j < static_cast<int>(steps); ++j) {
      const double v = std::ldexp(steps + j, e - f.man);
      if (v > maxv) break;
      value(v);
    }
  const double top_ulp = std::ldexp(1.0, f.top_exponent() - f.man);
  out.push_back(maxv + top_ulp / 2);
  out.push_back(maxv + top_ulp);
  std::sort(out.begin(), out.end());
}

/// First item in [pos, end) with mk >= key (galloping: boundaries are visited in order).
std::size_t seek(const std::vector<std::uint32_t>& mk, std::size_t pos, std::size_t end, std::uint32_t key) {
  if (pos >= end || mk[pos] >= key) return pos;
  std::size_t step = 1;
  while (pos + step < end && mk[pos + step] < key) step *= 2;
  return static_cast<std::size_t>(
      std::lower_bound(mk.begin() + static_cast<std::ptrdiff_t>(pos + step / 2),
                       mk.begin() + static_cast<std::ptrdiff_t>(std::min(pos + step, end)), key) -
      mk.begin());
}

/// Deterministic rounding without reciprocal sums, by runs of items (see RunSearch).
ErrorSums score_runs(const PreparedStats& p, const Format& f, const QuantOptions& o, const ScoreNeeds& needs,
                     RunSearch search) {
  const RunData& R = p.runs();
  QuantOptions qo = o;
  qo.threads = 1;
  const Quantizer qz(f, qo);
  const bool fast = qz.fast_path();
  const double maxv = f.max_value();
  const bool signed_fmt = f.sign == 1;
  thread_local std::vector<double> hq;
  if (needs.kl) hq.assign(kKlBins, 0.0);
  ErrorSums s;
  s.count = R.count;
  s.sum_x2 = R.total_x2;
  const RunScorer run{R, needs, s, hq, p.max_abs()};
  const std::size_t n_items = R.mk.size();
  const std::size_t end = signed_fmt ? n_items : R.first_negative;
  auto round_one = [&](std::size_t i) { return qz.round(R.probe[i]).value; };

  if (search == RunSearch::Scan) {
    thread_local std::vector<float> qf;
    if (fast) {
      qf.resize(end);
      qz.quantize(std::span<const float>(R.probe).first(end), qf);
    }
    auto qi = [&](std::size_t i) { return fast ? static_cast<double>(qf[i]) : round_one(i); };
    for (std::size_t a = 0; a < end;) {
      const std::size_t b = R.seg_end[R.seg[a]];
      run.add_scanned(a, b, qi);
      a = b;
    }
  } else {
    // Pieces: items between consecutive boundaries, cut at segments; an edge item exactly on
    // a boundary (a tie) is a piece of its own.
    thread_local std::vector<double> bounds;
    thread_local std::vector<std::uint32_t> piece;  // begin, end pairs
    boundaries(f, o.rounding, bounds);
    piece.clear();
    auto emit = [&](std::size_t a, std::size_t b) {
      while (a < b) {
        const std::size_t e = std::min<std::size_t>(b, R.seg_end[R.seg[a]]);
        piece.push_back(static_cast<std::uint32_t>(a));
        piece.push_back(static_cast<std::uint32_t>(e));
        a = e;
      }
    };
    for (const auto& [lo, hi] : {std::pair{std::size_t{0}, R.first_negative}, std::pair{R.first_negative, end}}) {
      std::size_t pos = lo;
      for (const double t : bounds) {
        if (pos >= hi) break;
        if (!(t < 0x1p128)) break;
        // Smallest float32 >= t, then the first magnitude key whose edge is >= t.
        std::uint32_t bits = std::bit_cast<std::uint32_t>(static_cast<float>(t));
        if (static_cast<double>(std::bit_cast<float>(bits)) < t) ++bits;
        const bool edge_bits = (bits & ((1u << kLowBits) - 1u)) == 0;
        const bool tie = edge_bits && static_cast<double>(std::bit_cast<float>(bits)) == t;
        const std::uint32_t key = (bits >> kLowBits) + (edge_bits ? 0u : 1u);
        const std::size_t e = seek(R.mk, pos, hi, key);
        emit(pos, e);
        pos = e;
        if (tie && pos < hi && R.mk[pos] == key && R.is_edge[pos]) {
          emit(pos, pos + 1);
          ++pos;
        }
      }
      emit(pos, hi);
    }
    // Both ends of every piece through the quantizer at once.
    thread_local std::vector<float> ends, qends;
    const std::size_t np = piece.size() / 2;
    ends.resize(piece.size());
    qends.resize(piece.size());
    for (std::size_t k = 0; k < np; ++k) {
      ends[2 * k] = R.probe[piece[2 * k]];
      ends[2 * k + 1] = R.probe[piece[2 * k + 1] - 1];
    }
    if (fast) {
      qz.quantize(ends, qends);
    }
    for (std::size_t k = 0; k < np; ++k) {
      const std::size_t a = piece[2 * k], b = piece[2 * k + 1];
      const double qa = fast ? static_cast<double>(qends[2 * k]) : round_one(a);
      const double qb = fast ? static_cast<double>(qends[2 * k + 1]) : round_one(b - 1);
      // Rounding is monotone in |x|: equal ends mean the whole piece rounds to qa.
      if (qa == qb) run.add(a, b, qa);
      else run.add_scanned(a, b, round_one);
    }
  }

  // Overflow: items whose values exceed max(V); probes ascend within each sign part.
  auto overflowing = [&](std::size_t lo, std::size_t hi) {
    const auto it = std::upper_bound(R.probe.begin() + static_cast<std::ptrdiff_t>(lo),
                                     R.probe.begin() + static_cast<std::ptrdiff_t>(hi), maxv,
                                     [](double m, float x) { return m < static_cast<double>(x); });
    return static_cast<double>(R.pn[hi] - R.pn[static_cast<std::size_t>(it - R.probe.begin())]);
  };
  s.overflow += overflowing(0, R.first_negative);
  if (signed_fmt) {
    s.overflow += overflowing(R.first_negative, n_items);
  } else {
    s.neg_clipped += R.neg_nonzero;
    s.sse += R.neg_x2;
    s.max_abs = std::max(s.max_abs, R.neg_max);
    if (needs.kl) hq[0] += R.neg_n;
  }
  if (needs.kl) s.kl = kl_from_histograms(R.kl_p, hq);
  return s;
}

}  // namespace

bool stats_exact(const BucketStats& stats, const Format& f) {
  // Integers, -nz and exponent width 0 have no statistics-path boundaries: the direct path.
  if (f.man > 7 || f.needs_exact_path() || f.exp == 0) return false;
  const int emin = 1 - f.bias;
  const int qmin = emin - f.man;
  for (const Bucket& b : stats.buckets()) {
    // Only float32-subnormal buckets can hold a rounding boundary; negatives into an unsigned
    // format all become 0 whatever their value.
    if (b.exponent_field() != 0 || b.n == b.n0 || (b.negative() && f.sign == 0)) continue;
    const std::uint32_t t = b.key & 0xffu;
    const int ex = t > 0 ? std::bit_width(t) - 1 - 134
                         : std::bit_width(static_cast<std::uint32_t>(b.lmin)) - 1 - 149;
    const int qexp = ex >= emin ? ex - f.man : (f.subnormals ? qmin : emin);
    if (qexp - 1 < -134) return false;  // a midpoint would fall inside the bucket
  }
  return true;
}

bool stats_exact(const PreparedStats& p, const Format& f) {
  if (f.man > 7 || f.needs_exact_path() || f.exp == 0) return false;
  if (p.runs().subnormal_buckets.empty()) return true;  // the usual case: no float32 subnormals
  return stats_exact(p.stats(), f);
}

int kl_bin(double a, double range) {
  if (!(range > 0) || !std::isfinite(range)) return 0;
  const double t = a / range * kKlBins;
  if (!(t < kKlBins)) return kKlBins - 1;
  return t < 0 ? 0 : static_cast<int>(t);
}

double kl_from_histograms(std::span<const double> p, std::span<const double> q) {
  double tp = 0, tq = 0;
  for (double v : p) tp += v;
  for (double v : q) tq += v;
  if (tp <= 0 || tq <= 0) return 0.0;
  double kl = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] <= 0) continue;
    const double pi = p[i] / tp;
    const double qi = std::max(q[i] / tq, 1e-12);
    kl += pi * std::log(pi / qi);
  }
  return kl;
}

std::optional<ErrorSums> score_stats(const PreparedStats& p, const Format& f, const QuantOptions& o,
                                     const ScoreNeeds& needs, RunSearch search) {
  const BucketStats& st = p.stats();
  if (!stats_exact(p, f)) return std::nullopt;
  const bool sr = o.rounding == Rounding::Stochastic;
  if (!sr && !needs.relative) return score_runs(p, f, o, needs, search);
  QuantOptions qo = o;
  qo.threads = 1;
  if (sr) qo.rounding = Rounding::Rtz;  // gives lo; hi is the next value up
  const Quantizer qz(f, qo);
  const auto& bs = st.buckets();
  thread_local std::vector<float> q0, q1;
  q0.resize(bs.size());
  q1.resize(bs.size());
  // Formats whose values are not all float32 take the quantizer's exact scalar path.
  const bool wide = !qz.fast_path();
  thread_local std::vector<double> q0d, q1d;
  if (wide) {
    q0d.resize(bs.size());
    q1d.resize(bs.size());
    for (std::size_t i = 0; i < bs.size(); ++i) {
      q0d[i] = qz.round(p.edges()[i]).value;
      q1d[i] = qz.round(p.mids()[i]).value;
    }
  } else {
    qz.quantize(p.edges(), q0);
    qz.quantize(p.mids(), q1);
  }
  const double maxv = f.max_value();
  const bool signed_fmt = f.sign == 1;
  const double range = p.max_abs();
  thread_local std::vector<double> hp, hq;
  if (needs.kl) {
    hp.assign(kKlBins, 0.0);
    hq.assign(kKlBins, 0.0);
  }
  ErrorSums s;
  for (std::size_t i = 0; i < bs.size(); ++i) {
    const Bucket& b = bs[i];
    if (is_nonfinite_bucket(b)) continue;
    const double c = p.edges()[i];
    const double u = b.ulp();
    const bool clipped = b.negative() && !signed_fmt;
    s.count += static_cast<double>(b.n);
    if (b.n0 > 0) {
      const auto n0 = static_cast<double>(b.n0);
      double q = clipped ? 0.0 : (wide ? q0d[i] : static_cast<double>(q0[i]));
      s.sum_x2 += n0 * c * c;
      if (clipped) {
        if (c != 0) s.neg_clipped += n0;
      } else if (c > maxv) {
        s.overflow += n0;
      }
      if (sr && !clipped && !(c > maxv) && q != c) {
        const double lo = q, hi = next_up(f, lo);
        const double e2 = (c - lo) * (hi - c);
        s.sse += n0 * e2;
        s.max_abs = std::max({s.max_abs, c - lo, hi - c});
        s.sum_xq += n0 * c * c;
        s.sum_q2 += n0 * (c * c + e2);
        const double p_up = (c - lo) / (hi - lo);
        if (lo == 0) s.underflow += n0 * (1 - p_up);
        if (needs.relative) {
          s.rel_sum += n0 * 2 * e2 / ((hi - lo) * c);
          s.rel_count += n0;
        }
        if (needs.kl) {
          hp[static_cast<std::size_t>(kl_bin(c, range))] += n0;
          hq[static_cast<std::size_t>(kl_bin(lo, range))] += n0 * (1 - p_up);
          hq[static_cast<std::size_t>(kl_bin(hi, range))] += n0 * p_up;
        }
      } else {
        if (!clipped && c != 0 && q == 0) s.underflow += n0;
        const double err = q - c;
        s.sse += n0 * err * err;
        s.max_abs = std::max(s.max_abs, std::fabs(err));
        s.sum_xq += n0 * c * q;
        s.sum_q2 += n0 * q * q;
        if (needs.relative && c != 0) {
          s.rel_sum += n0 * std::fabs(err) / c;
          s.rel_count += n0;
        }
        if (needs.kl) {
          hp[static_cast<std::size_t>(kl_bin(c, range))] += n0;
          hq[static_cast<std::size_t>(kl_bin(std::fabs(q), range))] += n0;
        }
      }
    }
    const std::uint64_t n1i = b.n - b.n0;
    if (n1i == 0) continue;
    const auto n1 = static_cast<double>(n1i);
    const double mid = p.mids()[i];
    const double x2 = n1 * c * c + 2.0 * c * u * static_cast<double>(b.s1) + u * u * static_cast<double>(b.s2);
    const double sumx = n1 * c + u * static_cast<double>(b.s1);
    const double xlo = c + b.lmin * u, xhi = c + b.lmax * u;
    // H = sum 1/x over the interior, kept centred as r = sum (1/c - 1/x) (see bucket_stats.cpp).
    const double r = needs.relative ? b.reciprocal_sum() : 0.0;
    const double h_c = c == 0 ? r : 0.0;
    s.sum_x2 += x2;
    if (needs.relative) s.rel_count += n1;
    double q = clipped ? 0.0 : (wide ? q1d[i] : static_cast<double>(q1[i]));
    if (clipped) s.neg_clipped += n1;
    else if (mid > maxv) s.overflow += n1;
    if (sr && !clipped && !(mid > maxv)) {
      const double lo = q, hi = next_up(f, lo);
      const double e = interior_sr_sse(b, c, lo, hi, u);
      s.sse += e;
      s.max_abs = std::max({s.max_abs, xhi - lo, hi - xlo});
      s.sum_xq += x2;
      s.sum_q2 += x2 + e;
      const double down = (n1 * hi - sumx) / (hi - lo);  // expected count rounded to lo
      if (lo == 0) s.underflow += down;
      if (needs.relative) {
        const double h = c == 0 ? h_c : n1 / c - r;
        s.rel_sum += 2.0 / (hi - lo) * (-sumx + n1 * (lo + hi) - lo * hi * h);  // approximate
      }
      if (needs.kl) {
        hp[static_cast<std::size_t>(kl_bin(mid, range))] += n1;
        hq[static_cast<std::size_t>(kl_bin(lo, range))] += down;
        hq[static_cast<std::size_t>(kl_bin(hi, range))] += n1 - down;
      }
      continue;
    }
    const double d = q - c;
    s.sse += interior_sse(b, d, u);
    s.max_abs = std::max({s.max_abs, std::fabs(q - xlo), std::fabs(q - xhi)});
    if (!clipped && q == 0) s.underflow += n1;
    s.sum_xq += q * sumx;
    s.sum_q2 += n1 * q * q;
    if (needs.relative) {
      // sum |q - x| / x = |q H - n1|; with H = n1/c - r this is |n1 D / c - q r| (no cancellation).
      // An Inf (non-saturating overflow) gives Inf, a NaN NaN, as value by value (not Inf - Inf).
      if (!std::isfinite(q)) s.rel_sum += std::fabs(q);
      else s.rel_sum += c == 0 ? std::fabs(q * h_c - n1) : std::fabs(n1 * d / c - q * r);
    }
    if (needs.kl) {
      hp[static_cast<std::size_t>(kl_bin(mid, range))] += n1;
      hq[static_cast<std::size_t>(kl_bin(std::fabs(q), range))] += n1;
    }
  }
  if (needs.kl) s.kl = kl_from_histograms(hp, hq);
  return s;
}

}  // namespace ffp8::explore
