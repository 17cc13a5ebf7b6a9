#pragma once
// How a tensor splits into the groups of a scaled scheme (docs/formats.md "Scaled formats"):
// blocks of K consecutive values along the reduction axis (axis 1 of a weight [Co, Ci, ...] and of
// an activation [N, C, ...], axis 0 of a rank-1 tensor), never crossing into another index of the
// other axes; one group per index of axis 0 (channel); or the whole tensor.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/scheme/scheme.hpp"

namespace ffp8 {

/// Shape of a tensor (row-major) and its reduction axis.
struct GroupLayout {
  std::vector<std::int64_t> shape;
  int axis = 0;

  /// Axis 1 for rank >= 2, else 0; `axis` overrides (negative counts from the end). Throws
  /// DataError for an axis out of range or a negative extent. A rank-0 shape is one value.
  static GroupLayout for_shape(std::span<const std::int64_t> shape, std::optional<int> axis = {});
  /// A rank-1 layout of n values.
  static GroupLayout flat(std::int64_t n);
  /// Number of values (the product of the shape).
  std::int64_t size() const;
};

/// The groups of one scheme on one layout as a 3-level index: the tensor is [outer, length,
/// inner] (row-major); a group is `block` consecutive indices of `length` (the last one shorter)
/// at one (outer, inner) index. Group g = (o * blocks() + b) * inner + i holds the values
/// first(g) + k * inner, k < count(g).
struct GroupGeometry {
  std::int64_t outer = 1, length = 1, inner = 1, block = 1;

  std::int64_t blocks() const { return length == 0 ? 0 : (length + block - 1) / block; }
  std::int64_t groups() const { return outer * blocks() * inner; }
  std::int64_t size() const { return outer * length * inner; }
  /// Flat index of group g's first value.
  std::int64_t first(std::int64_t g) const;
  /// Number of values of group g (block, or the tail's length).
  std::int64_t count(std::int64_t g) const;
};

/// The geometry of `s` on `layout`: block K along layout.axis; channel: one group per index of axis
/// 0; tensor (and plain schemes): one group.
GroupGeometry group_geometry(const Scheme& s, const GroupLayout& layout);

/// Shape of the scale tensor (one scale per group): the layout's shape with the axis' extent
/// replaced by its number of blocks; [shape[0]] for channel; [1] for tensor.
std::vector<std::int64_t> scale_shape(const Scheme& s, const GroupLayout& layout);

/// Effective bits per value of `s` on a tensor: element width + (scale bits * groups + 32 for a
/// second level) / values.
double effective_bits(const Scheme& s, const GroupLayout& layout);

/// Throws DataError when a block is longer than the axis it runs along (bad input where a user
/// names the axis; the library itself quantizes such an axis as one short block).
void check_block_fits(const Scheme& s, const GroupLayout& layout);

/// Calls fn(g, first, count, stride) for every group g in order: its values are the flat indices
/// first + k * stride, k < count.
template <typename Fn>
void for_each_group(const GroupGeometry& geo, Fn&& fn) {
  const std::int64_t nb = geo.blocks();
  std::int64_t g = 0;
  for (std::int64_t o = 0; o < geo.outer; ++o)
    for (std::int64_t b = 0; b < nb; ++b) {
      const std::int64_t l0 = b * geo.block;
      const std::int64_t cnt = std::min(geo.block, geo.length - l0);
      const std::int64_t base = (o * geo.length + l0) * geo.inner;
      for (std::int64_t i = 0; i < geo.inner; ++i, ++g) fn(g, base + i, cnt, geo.inner);
    }
}

}  // namespace ffp8
