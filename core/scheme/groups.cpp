#include "core/scheme/groups.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.hpp"

namespace ffp8 {

GroupLayout GroupLayout::for_shape(std::span<const std::int64_t> shape, std::optional<int> axis) {
  GroupLayout l;
  l.shape.assign(shape.begin(), shape.end());
  for (const std::int64_t d : l.shape)
    if (d < 0) throw DataError(fmt::format("shape [{}] has a negative extent", fmt::join(l.shape, ", ")));
  const int rank = static_cast<int>(l.shape.size());
  if (!axis) {
    l.axis = rank >= 2 ? 1 : 0;
    return l;
  }
  const int r = std::max(rank, 1);  // a rank-0 tensor is one value along axis 0
  if (*axis < -r || *axis >= r)
    throw DataError(fmt::format("axis {} is out of range for a tensor of rank {} (shape [{}]): give 0..{}", *axis, rank,
                                fmt::join(l.shape, ", "), r - 1));
  l.axis = *axis < 0 ? *axis + r : *axis;
  return l;
}

GroupLayout GroupLayout::flat(std::int64_t n) {
  const std::int64_t s[1] = {n};
  return for_shape(s);
}

std::int64_t GroupLayout::size() const {
  std::int64_t n = 1;
  for (const std::int64_t d : shape) n *= d;
  return n;
}

std::int64_t GroupGeometry::first(std::int64_t g) const {
  const std::int64_t i = g % inner, ob = g / inner;
  const std::int64_t b = ob % blocks(), o = ob / blocks();
  return (o * length + b * block) * inner + i;
}

std::int64_t GroupGeometry::count(std::int64_t g) const {
  const std::int64_t b = (g / inner) % blocks();
  return std::min(block, length - b * block);
}

GroupGeometry group_geometry(const Scheme& s, const GroupLayout& layout) {
  GroupGeometry geo;
  const std::int64_t n = layout.size();
  switch (s.grouping) {
    case Grouping::None:
    case Grouping::Tensor:
      geo.length = n;
      geo.block = std::max<std::int64_t>(n, 1);
      break;
    case Grouping::Channel:
      geo.outer = layout.shape.empty() ? 1 : layout.shape[0];
      geo.length = geo.outer == 0 ? 0 : n / geo.outer;
      geo.block = std::max<std::int64_t>(geo.length, 1);
      break;
    case Grouping::Block: {
      const auto rank = static_cast<int>(layout.shape.size());
      for (int d = 0; d < rank; ++d) {
        if (d < layout.axis) geo.outer *= layout.shape[d];
        else if (d > layout.axis) geo.inner *= layout.shape[d];
      }
      geo.length = rank == 0 ? 1 : layout.shape[layout.axis];
      geo.block = s.block;
      break;
    }
  }
  return geo;
}

std::vector<std::int64_t> scale_shape(const Scheme& s, const GroupLayout& layout) {
  switch (s.grouping) {
    case Grouping::None:
    case Grouping::Tensor: return {1};
    case Grouping::Channel: return {layout.shape.empty() ? 1 : layout.shape[0]};
    case Grouping::Block: {
      if (layout.shape.empty()) return {1};
      std::vector<std::int64_t> out = layout.shape;
      out[layout.axis] = group_geometry(s, layout).blocks();
      return out;
    }
  }
  return {1};
}

double effective_bits(const Scheme& s, const GroupLayout& layout) {
  const double w = s.element.width();
  const std::int64_t n = layout.size();
  if (!s.scaled() || n == 0) return w;
  const double scale_bits = s.scale.bits() * static_cast<double>(group_geometry(s, layout).groups()) +
                            (s.second_level ? 32.0 : 0.0);
  return w + scale_bits / static_cast<double>(n);
}

void check_block_fits(const Scheme& s, const GroupLayout& layout) {
  if (s.grouping != Grouping::Block) return;
  const std::int64_t len = layout.shape.empty() ? 1 : layout.shape[layout.axis];
  if (s.block > len)
    throw DataError(fmt::format("block size {} of {} is beyond the axis: axis {} of shape [{}] has {} values", s.block,
                                s.name(), layout.axis, fmt::join(layout.shape, ", "), len));
}

}  // namespace ffp8
