// Shape inference: the output shape of every op from its input shapes and attributes
// (PyTorch's rules, docs/hdf5-layout.md), checked again against the shape the exporter stored.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "core/errors.hpp"
#include "core/infer/model.hpp"
#include "core/infer/shape.hpp"

namespace ffp8::infer {

namespace {

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw ModelError(fmt::format("{}: {}", where, what));
}

// PyTorch's pooling_output_shape.
std::int64_t pool_out(std::int64_t in, int k, int s, int p, int d, bool ceil) {
  const std::int64_t num = in + 2 * p - std::int64_t{d} * (k - 1) - 1 + (ceil ? s - 1 : 0);
  std::int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
  if (ceil && (out - 1) * s >= in + p) --out;
  return out;
}

}  // namespace

std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  Shape o(std::max(a.size(), b.size()), 1);
  for (std::size_t i = 0; i < o.size(); ++i) {
    const std::int64_t x = i < a.size() ? a[a.size() - 1 - i] : 1, y = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (x != y && x != 1 && y != 1) return std::nullopt;
    o[o.size() - 1 - i] = std::max(x, y);
  }
  return o;
}

Shape infer_shape(const Node& n, const std::vector<Shape>& in, const std::string& file) {
  const std::string where = fmt::format("'{}': node '{}' ({})", file, n.name, op_info(n.op).name);
  auto need_rank = [&](const Shape& s, std::size_t r) {
    if (s.size() != r)
      bad(where, fmt::format("expects an input of rank {} (batch excluded), found {}", r, shape_text(s)));
  };
  // A dimension attribute counting the batch as 0 must name a per-image dimension 1..rank.
  auto need_dim = [&](int d, const Shape& s, const char* what) {
    if (d < 1 || static_cast<std::size_t>(d) > s.size())
      bad(where, fmt::format("{} {} is out of range for input {} (dimension 0 is the batch)", what, d, shape_text(s)));
  };
  if (in.empty()) {
    if (n.op != Op::Constant) bad(where, "has no input");
    return n.value.shape;
  }
  const Shape& x = in[0];
  if (op_info(n.op).elementwise) return x;
  switch (n.op) {
    case Op::Conv2d: {
      need_rank(x, 3);
      const Shape& w = n.weight.shape;
      if (w.size() != 4 || w[1] * n.groups != x[0] || w[0] % n.groups != 0)
        bad(where, fmt::format("weight {} has shape {}, expected [Co, {}/{} groups, kH, kW] with Co divisible by "
                               "the groups", n.weight.path, shape_text(w), x[0], n.groups));
      if (!n.bias.empty() && n.bias.shape != Shape{w[0]})
        bad(where, fmt::format("bias {} has shape {}, expected [{}]", n.bias.path, shape_text(n.bias.shape), w[0]));
      Shape o{w[0], 0, 0};
      for (int i = 0; i < 2; ++i) {
        const std::int64_t span = x[1 + i] + 2 * n.padding[i] - std::int64_t{n.dilation[i]} * (w[2 + i] - 1) - 1;
        if (span < 0) bad(where, fmt::format("the kernel does not fit the input {}", shape_text(x)));
        o[1 + i] = span / n.stride[i] + 1;
      }
      return o;
    }
    case Op::Linear: {
      if (x.empty()) bad(where, "expects an input with a feature dimension, found a scalar per image");
      const Shape& w = n.weight.shape;
      if (w.size() != 2 || w[1] != x.back())
        bad(where, fmt::format("weight {} has shape {}, expected [O, {}]", n.weight.path, shape_text(w), x.back()));
      if (!n.bias.empty() && n.bias.shape != Shape{w[0]})
        bad(where, fmt::format("bias {} has shape {}, expected [{}]", n.bias.path, shape_text(n.bias.shape), w[0]));
      Shape o = x;
      o.back() = w[0];
      return o;
    }
    case Op::BatchNorm2d:
      need_rank(x, 3);
      for (const Tensor* t : {&n.mean, &n.var, &n.weight, &n.bias})
        if (t->shape != Shape{x[0]})
          bad(where, fmt::format("{} has shape {}, expected [{}]", t->path, shape_text(t->shape), x[0]));
      return x;
    case Op::Constant: return x;
    case Op::MaxPool2d:
    case Op::AvgPool2d: {
      need_rank(x, 3);
      Shape o{x[0], 0, 0};
      for (int i = 0; i < 2; ++i) {
        if (n.padding[i] * 2 > n.kernel[i])
          bad(where, "padding must be at most half of the kernel size (as PyTorch requires)");
        const int d = n.op == Op::MaxPool2d ? n.dilation[i] : 1;
        o[1 + i] = pool_out(x[1 + i], n.kernel[i], n.stride[i], n.padding[i], d, n.ceil_mode);
        if (o[1 + i] < 1) bad(where, fmt::format("output would be empty for input {}", shape_text(x)));
      }
      return o;
    }
    case Op::AdaptiveAvgPool2d:
      need_rank(x, 3);
      return {x[0], n.output_size[0], n.output_size[1]};
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div: {
      const auto o = broadcast_shapes(in[0], in[1]);
      if (!o) bad(where, fmt::format("inputs of shapes {} and {} do not broadcast", shape_text(in[0]), shape_text(in[1])));
      return *o;
    }
    case Op::Cat: {
      need_dim(n.dim, x, "dim");
      const auto d = static_cast<std::size_t>(n.dim);
      Shape o = x;
      o[d - 1] = 0;
      for (const Shape& s : in) {
        Shape a = s, b = x;
        if (a.size() != b.size()) bad(where, "inputs have different ranks");
        a[d - 1] = b[d - 1] = 0;
        if (a != b) bad(where, fmt::format("inputs {} and {} differ outside dim {}", shape_text(x), shape_text(s), n.dim));
        o[d - 1] += s[d - 1];
      }
      return o;
    }
    case Op::Flatten: {
      const int rank = static_cast<int>(x.size()) + 1;
      const int end = n.end_dim < 0 ? n.end_dim + rank : n.end_dim;
      if (n.start_dim < 1 || end >= rank || end < n.start_dim)
        bad(where, fmt::format("start_dim {} / end_dim {} do not fit an input of rank {}", n.start_dim, n.end_dim, rank));
      Shape o(x.begin(), x.begin() + (n.start_dim - 1));
      std::int64_t m = 1;
      for (int i = n.start_dim; i <= end; ++i) m *= x[static_cast<std::size_t>(i - 1)];
      o.push_back(m);
      o.insert(o.end(), x.begin() + end, x.end());
      return o;
    }
    case Op::Softmax: need_dim(n.dim, x, "dim"); return x;
    case Op::LayerNorm: {
      if (n.normalized_dims < 1 || static_cast<std::size_t>(n.normalized_dims) > x.size())
        bad(where, fmt::format("normalized_dims {} does not fit an input {}", n.normalized_dims, shape_text(x)));
      const Shape tail(x.end() - n.normalized_dims, x.end());
      for (const Tensor* t : {&n.weight, &n.bias})
        if (!t->empty() && t->shape != tail)
          bad(where, fmt::format("{} has shape {}, expected {}", t->path, shape_text(t->shape), shape_text(tail)));
      return x;
    }
    case Op::Mean: {
      if (n.dims.empty() || !std::is_sorted(n.dims.begin(), n.dims.end()) ||
          std::adjacent_find(n.dims.begin(), n.dims.end()) != n.dims.end())
        bad(where, "attribute 'dims' must list increasing dimensions");
      for (int d : n.dims) need_dim(d, x, "dims entry");
      Shape o;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const bool reduced = std::find(n.dims.begin(), n.dims.end(), static_cast<int>(i + 1)) != n.dims.end();
        if (!reduced) o.push_back(x[i]);
        else if (n.keepdim) o.push_back(1);
      }
      return o;
    }
    case Op::Reshape:
      if (numel(n.target) != numel(x))
        bad(where, fmt::format("shape {} has {} values, the input {} has {}", shape_text(n.target), numel(n.target),
                               shape_text(x), numel(x)));
      return n.target;
    case Op::Permute: {
      std::vector<int> sorted = n.dims;
      std::sort(sorted.begin(), sorted.end());
      bool ok = n.dims.size() == x.size() + 1 && !n.dims.empty() && n.dims[0] == 0;
      for (std::size_t i = 0; ok && i < sorted.size(); ++i) ok = sorted[i] == static_cast<int>(i);
      if (!ok)
        bad(where, fmt::format("dims must be a permutation of 0..{} that keeps 0 (the batch) first, found [{}]",
                               x.size(), fmt::join(n.dims, ", ")));
      Shape o;
      for (std::size_t i = 1; i < n.dims.size(); ++i) o.push_back(x[static_cast<std::size_t>(n.dims[i] - 1)]);
      return o;
    }
    case Op::Slice: {
      const std::size_t k = n.dims.size();
      if (k == 0 || n.starts.size() != k || n.ends.size() != k || n.steps.size() != k)
        bad(where, "attributes 'dims', 'starts', 'ends' and 'steps' must have the same, non-zero length");
      Shape o = x;
      std::set<int> seen;
      for (std::size_t i = 0; i < k; ++i) {
        need_dim(n.dims[i], x, "dims entry");
        if (!seen.insert(n.dims[i]).second) bad(where, fmt::format("dimension {} is sliced twice", n.dims[i]));
        const std::int64_t size = x[static_cast<std::size_t>(n.dims[i] - 1)];
        if (n.steps[i] < 1 || n.starts[i] < 0 || n.starts[i] >= n.ends[i] || n.ends[i] > size)
          bad(where, fmt::format("slice {}:{}:{} of dimension {} (size {}) needs 0 <= start < end <= size and step >= 1",
                                 n.starts[i], n.ends[i], n.steps[i], n.dims[i], size));
        o[static_cast<std::size_t>(n.dims[i] - 1)] = (n.ends[i] - n.starts[i] + n.steps[i] - 1) / n.steps[i];
      }
      return o;
    }
    case Op::Pad: {
      if (n.before.size() != x.size() || n.after.size() != x.size())
        bad(where, fmt::format("attributes 'before' and 'after' need one entry per dimension of {}", shape_text(x)));
      Shape o = x;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (n.before[i] < 0 || n.after[i] < 0) bad(where, "padding must not be negative");
        o[i] += n.before[i] + n.after[i];
      }
      return o;
    }
    case Op::Roll:
      if (n.dims.empty() || n.shifts.size() != n.dims.size())
        bad(where, "attributes 'shifts' and 'dims' must have the same, non-zero length");
      for (int d : n.dims) need_dim(d, x, "dims entry");
      return x;
    case Op::MatMul: {
      const Shape& a = in[0];
      const Shape& b = in[1];
      if (a.size() < 2 || b.size() < 2 || a[a.size() - 1] != b[b.size() - 2])
        bad(where, fmt::format("inputs {} and {} are not matrices [..., M, K] and [..., K, N]", shape_text(a),
                               shape_text(b)));
      const auto lead = broadcast_shapes(Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2));
      if (!lead) bad(where, fmt::format("the leading dimensions of {} and {} do not broadcast", shape_text(a), shape_text(b)));
      Shape o = *lead;
      o.push_back(a[a.size() - 2]);
      o.push_back(b[b.size() - 1]);
      return o;
    }
    default: break;  // the elementwise ops, handled above
  }
  bad(where, "unknown op");
}

}  // namespace ffp8::infer
