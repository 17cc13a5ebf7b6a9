// INT8 per-tensor symmetric quantizer: float32 arithmetic, so a PyTorch float32 emulation
// (torch.round is half-to-even) gives bit-identical values.
#include "core/infer/int8.hpp"
#include "core/threads.hpp"

#include <cmath>
#include <cstdint>

#include <omp.h>

namespace ffp8::infer {

Int8Quantizer Int8Quantizer::for_max_abs(double max_abs) { return {static_cast<float>(max_abs) / 127.0f}; }

QuantCounts Int8Quantizer::quantize(std::span<const float> in, std::span<float> out, int threads) const {
  const auto n = static_cast<std::int64_t>(in.size());
  const float s = scale;
  std::uint64_t nan = 0, over = 0, under = 0;
#pragma omp parallel for num_threads(thread_count(threads)) reduction(+ : nan, over, under) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    const float x = in[static_cast<std::size_t>(i)];
    float y;
    if (std::isnan(x)) {
      y = x;
      ++nan;
    } else if (s == 0.0f) {  // x / 0 would be NaN or Inf: the only value is 0
      y = 0.0f;
      over += x != 0.0f;
    } else {
      const float t = x / s;
      // nearbyint rounds half to even in the default floating-point environment.
      const float k = std::fmin(std::fmax(std::nearbyint(t), -127.0f), 127.0f);
      over += std::fabs(t) > 127.0f;
      under += k == 0.0f && x != 0.0f;
      y = k * s;
    }
    out[static_cast<std::size_t>(i)] = y;
  }
  QuantCounts c;
  c.count = in.size();
  c.nan_inputs = nan;
  c.overflow = over;
  c.underflow = under;
  return c;
}

}  // namespace ffp8::infer
