#pragma once
// Counter-based random bits for stochastic rounding: a pure function of (seed, element index),
// so any split of the work across threads or MPI ranks gives identical results.
#include <cstdint>

namespace ffp8::detail {

/// A 32-bit integer hash with low bias ("lowbias32", Wellons); a bijection on uint32.
constexpr std::uint32_t mix32(std::uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

/// Key of the stream for `seed` and the upper 32 bits of the element index.
constexpr std::uint32_t stream_key(std::uint64_t seed, std::uint64_t index_hi) {
  std::uint32_t k = mix32(static_cast<std::uint32_t>(seed) ^ 0x9e3779b9U);
  k = mix32(k ^ static_cast<std::uint32_t>(seed >> 32));
  return mix32(k ^ static_cast<std::uint32_t>(index_hi) ^ 0x85ebca6bU);
}

/// Random bits of element `index_lo` in the stream `key`.
constexpr std::uint32_t stochastic_bits32(std::uint32_t key, std::uint32_t index_lo) {
  return mix32(mix32(index_lo ^ key) + key);
}

}  // namespace ffp8::detail
