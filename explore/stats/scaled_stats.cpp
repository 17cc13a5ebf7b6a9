// Keying groups by the exponent of their largest magnitude: a group costs one read to find a,
// one to divide by 2^F (exact) into its slot's buffer; the buffers feed the ordinary one-pass
// Collector in large batches, so every sum stays the exact integer of the unscaled statistics.
#include "explore/stats/scaled_stats.hpp"

#include <algorithm>
#include <cmath>

namespace ffp8::explore {

namespace {
constexpr int kMinF = -149;              // exponent of the smallest float32 subnormal
constexpr int kFCount = 127 - kMinF + 1; // every floor(log2 a) of a finite float32
constexpr std::size_t kFlushAt = std::size_t{1} << 22;
}  // namespace

ScaledCollector::ScaledCollector(std::vector<double> thresholds, bool positive_only, int threads, bool reciprocals)
    : collector_(threads, reciprocals), reciprocals_(reciprocals) {
  std::sort(thresholds.begin(), thresholds.end());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  out_.thresholds = std::move(thresholds);
  out_.positive_only = positive_only;
  index_.assign(static_cast<std::size_t>(kFCount) * (out_.thresholds.size() + 1), -1);
}

std::size_t ScaledCollector::slot_of(int f, int j) {
  const std::size_t k = static_cast<std::size_t>(f - kMinF) * (out_.thresholds.size() + 1) + static_cast<std::size_t>(j);
  if (index_[k] < 0) {
    index_[k] = static_cast<std::int32_t>(out_.slots.size());
    out_.slots.push_back(ScaledSlot{f, j, {}});
    out_.slots.back().stats.set_reciprocals(reciprocals_);
    buf_.emplace_back();
  }
  return static_cast<std::size_t>(index_[k]);
}

void ScaledCollector::add_group(std::span<const float> values) {
  out_.count += values.size();
  ++out_.groups;
  float a = 0.0f;
  bool nonzero = false, special = false;
  for (float x : values) {
    if (std::isnan(x)) continue;
    if (std::isinf(x)) special = true;
    const float m = out_.positive_only ? x : std::fabs(x);
    a = std::max(a, m);
    nonzero |= x != 0.0f;
  }
  if (special) {
    ++out_.irregular_groups;
    return;
  }
  if (a == 0.0f) {
    // Every value becomes 0 whatever the format: exact for all-zero groups; the clipped
    // negatives of an unsigned group (or NaNs beside zeros) are left to the direct path.
    const bool all_zero = std::all_of(values.begin(), values.end(), [](float x) { return x == 0.0f; });
    if (all_zero && !nonzero) out_.zero_values += values.size();
    else keep(values);
    return;
  }
  const int f = std::ilogb(a);
  const double sig = std::ldexp(static_cast<double>(a), -f);
  const auto& t = out_.thresholds;
  const int j = static_cast<int>(std::lower_bound(t.begin(), t.end(), sig) - t.begin());
  const std::size_t s = slot_of(f, j);
  std::vector<float>& b = buf_[s];
  const std::size_t start = b.size();
  for (float x : values) {
    if (std::isnan(x)) {
      b.push_back(x);
      continue;
    }
    const double y = std::ldexp(static_cast<double>(x), -f);
    const auto yf = static_cast<float>(y);
    if (static_cast<double>(yf) != y) {  // beyond float32 (rounded or overflowed): not keyable
      b.resize(start);
      keep(values);
      return;
    }
    b.push_back(yf);
  }
  pending_ += values.size();
  if (pending_ >= kFlushAt) flush();
}

void ScaledCollector::keep(std::span<const float> values) {
  if (out_.kept.size() + values.size() > kMaxKept) {
    ++out_.irregular_groups;
    return;
  }
  out_.kept.insert(out_.kept.end(), values.begin(), values.end());
  out_.kept_ends.push_back(out_.kept.size());
}

void ScaledCollector::flush() {
  for (std::size_t s = 0; s < buf_.size(); ++s) {
    if (buf_[s].empty()) continue;
    collector_.add(buf_[s]);
    out_.slots[s].stats.merge(collector_.finish());
    buf_[s].clear();
  }
  pending_ = 0;
}

ScaledStats ScaledCollector::finish() {
  flush();
  ScaledStats r = std::move(out_);
  std::sort(r.slots.begin(), r.slots.end(),
            [](const ScaledSlot& x, const ScaledSlot& y) { return x.f != y.f ? x.f < y.f : x.j < y.j; });
  out_ = ScaledStats{};
  out_.thresholds = r.thresholds;
  out_.positive_only = r.positive_only;
  std::fill(index_.begin(), index_.end(), -1);
  buf_.clear();
  return r;
}

}  // namespace ffp8::explore
