// Layout-2 kernels that move values (permute, slice, pad, roll, the constant's batch copy) or
// combine them with broadcasting (add, sub, mul, div) or reduce them (mean). All are strided
// walks over the whole batch: the output's shape with the batch first, and for each operand the
// step (in floats) that each output dimension moves it by; dimensions that can be merged are
// merged first, so the inner loop is as long (and as often contiguous) as possible.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include "core/infer/ops.hpp"

namespace ffp8::infer::ops {

namespace {

using Dims = std::vector<std::int64_t>;

// Row-major strides of a shape.
Dims strides_of(const Dims& shape) {
  Dims s(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
  return s;
}

Dims with_batch(std::int64_t n, const Shape& s) {
  Dims d{n};
  d.insert(d.end(), s.begin(), s.end());
  return d;
}

// A walk over `size` (C order) with per-operand strides; dims of size 1 dropped and neighbours
// merged where every operand steps through them as one.
struct Walk {
  Dims size;
  std::vector<Dims> strides;  // per operand

  Walk(const Dims& sz, std::vector<Dims> st) {
    for (std::size_t d = 0; d < sz.size(); ++d) {
      if (sz[d] == 1) continue;
      bool merge = !size.empty();
      for (std::size_t k = 0; merge && k < st.size(); ++k) merge = strides[k].back() == st[k][d] * sz[d];
      if (merge) {
        size.back() *= sz[d];
        for (std::size_t k = 0; k < st.size(); ++k) strides[k].back() = st[k][d];
      } else {
        if (strides.empty()) strides.resize(st.size());
        size.push_back(sz[d]);
        for (std::size_t k = 0; k < st.size(); ++k) strides[k].push_back(st[k][d]);
      }
    }
    if (strides.empty()) strides.resize(st.size());
    if (size.empty()) {  // a single element
      size.push_back(1);
      for (auto& s : strides) s.push_back(0);
    }
  }

  std::int64_t inner() const { return size.back(); }
  std::int64_t outer() const {
    return std::accumulate(size.begin(), size.end() - 1, std::int64_t{1}, std::multiplies<>());
  }
  // Offsets of operand k at the start of inner row `row` (row < outer()).
  std::int64_t offset(std::size_t k, std::int64_t row) const {
    std::int64_t off = 0;
    for (std::size_t d = size.size() - 1; d-- > 0;) {
      off += (row % size[d]) * strides[k][d];
      row /= size[d];
    }
    return off;
  }
};

// Calls fn(row, offsets...) for every inner row, rows split over threads.
template <class Fn>
void rows(const Walk& w, std::int64_t work, int threads, const Fn& fn) {
  const std::int64_t outer = w.outer();
  const int nt = work > 65536 && outer > 1 ? thread_count(threads) : 1;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
  for (std::int64_t r = 0; r < outer; ++r) fn(r);
}

// y (strides sy) = x (strides sx) over `size`.
void copy_strided(const Dims& size, const float* x, const Dims& sx, float* y, const Dims& sy, int threads) {
  const Walk w(size, {sx, sy});
  const std::int64_t len = w.inner(), ix = w.strides[0].back(), iy = w.strides[1].back();
  rows(w, len * w.outer(), threads, [&](std::int64_t r) {
    const float* src = x + w.offset(0, r);
    float* dst = y + w.offset(1, r);
    if (ix == 1 && iy == 1) {
      std::memcpy(dst, src, static_cast<std::size_t>(len) * sizeof(float));
    } else {
      for (std::int64_t i = 0; i < len; ++i) dst[i * iy] = src[i * ix];
    }
  });
}

template <class F>
void binary_loop(const Walk& w, const float* a, const float* b, float* y, int threads, F f) {
  const std::int64_t len = w.inner(), ia = w.strides[0].back(), ib = w.strides[1].back();
  rows(w, len * w.outer(), threads, [&](std::int64_t r) {
    const float* pa = a + w.offset(0, r);
    const float* pb = b + w.offset(1, r);
    float* py = y + w.offset(2, r);
    if (ia == 1 && ib == 1) {
      for (std::int64_t i = 0; i < len; ++i) py[i] = f(pa[i], pb[i]);
    } else if (ia == 1 && ib == 0) {
      const float v = *pb;
      for (std::int64_t i = 0; i < len; ++i) py[i] = f(pa[i], v);
    } else if (ia == 0 && ib == 1) {
      const float v = *pa;
      for (std::int64_t i = 0; i < len; ++i) py[i] = f(v, pb[i]);
    } else {
      for (std::int64_t i = 0; i < len; ++i) py[i] = f(pa[i * ia], pb[i * ib]);
    }
  });
}

// Strides of an operand of per-image shape `s` broadcast to per-image shape `so` (batch first).
Dims broadcast_strides(std::int64_t n, const Shape& s, const Shape& so) {
  Dims aligned(so.size() - s.size(), 1);
  aligned.insert(aligned.end(), s.begin(), s.end());
  Dims st = strides_of(with_batch(n, aligned));
  for (std::size_t d = 0; d < aligned.size(); ++d)
    if (aligned[d] == 1 && so[d] != 1) st[d + 1] = 0;
  return st;
}

}  // namespace

void binary(Binary f, const Shape& sa, const float* a, const Shape& sb, const float* b, const Shape& so, float* y,
            std::int64_t n, int threads) {
  const Dims size = with_batch(n, so);
  const Walk w(size, {broadcast_strides(n, sa, so), broadcast_strides(n, sb, so), strides_of(size)});
  switch (f) {
    case Binary::Add: binary_loop(w, a, b, y, threads, [](float u, float v) { return u + v; }); break;
    case Binary::Sub: binary_loop(w, a, b, y, threads, [](float u, float v) { return u - v; }); break;
    case Binary::Mul: binary_loop(w, a, b, y, threads, [](float u, float v) { return u * v; }); break;
    case Binary::Div: binary_loop(w, a, b, y, threads, [](float u, float v) { return u / v; }); break;
  }
}

void permute(const Node& nd, const Shape& in, const float* x, float* y, std::int64_t n, int threads) {
  const Dims sx = strides_of(with_batch(n, in));
  const Dims size = with_batch(n, nd.shape);
  Dims st;
  for (int d : nd.dims) st.push_back(sx[static_cast<std::size_t>(d)]);
  copy_strided(size, x, st, y, strides_of(size), threads);
}

void slice(const Node& nd, const Shape& in, const float* x, float* y, std::int64_t n, int threads) {
  Dims sx = strides_of(with_batch(n, in));
  const Dims size = with_batch(n, nd.shape);
  std::int64_t off = 0;
  for (std::size_t i = 0; i < nd.dims.size(); ++i) {
    const auto d = static_cast<std::size_t>(nd.dims[i]);
    off += nd.starts[i] * sx[d];
    sx[d] *= nd.steps[i];
  }
  copy_strided(size, x + off, sx, y, strides_of(size), threads);
}

void pad(const Node& nd, const Shape& in, const float* x, float* y, std::int64_t n, int threads) {
  const Dims size = with_batch(n, nd.shape);
  const Dims sy = strides_of(size);
  std::fill(y, y + n * numel(nd.shape), static_cast<float>(nd.pad_value));
  std::int64_t off = 0;
  for (std::size_t d = 0; d < in.size(); ++d) off += nd.before[d] * sy[d + 1];
  copy_strided(with_batch(n, in), x, strides_of(with_batch(n, in)), y + off, sy, threads);
}

void roll(const Node& nd, const Shape& in, const float* x, float* y, std::int64_t n, int threads) {
  // Each rolled dimension splits into two blocks (output [s, size) <- input [0, size - s), output
  // [0, s) <- input [size - s, size)); every combination of blocks is one strided copy.
  const Dims full = with_batch(n, in), st = strides_of(full);
  const std::size_t k = nd.dims.size();
  std::vector<std::int64_t> shift(full.size(), 0);
  for (std::size_t i = 0; i < k; ++i) {
    const auto d = static_cast<std::size_t>(nd.dims[i]);
    shift[d] = ((shift[d] + nd.shifts[i]) % full[d] + full[d]) % full[d];
  }
  for (std::uint64_t mask = 0; mask < (std::uint64_t{1} << full.size()); ++mask) {
    Dims size = full;
    std::int64_t ox = 0, oy = 0;
    bool empty = false;
    for (std::size_t d = 0; d < full.size(); ++d) {
      const std::int64_t s = shift[d];
      const bool second = (mask >> d) & 1;
      if (s == 0) {
        if (second) empty = true;
        continue;
      }
      size[d] = second ? s : full[d] - s;
      if (second) ox += (full[d] - s) * st[d];   // output [0, s) <- input [size - s, size)
      else oy += s * st[d];                      // output [s, size) <- input [0, size - s)
    }
    if (!empty) copy_strided(size, x + ox, st, y + oy, st, threads);
  }
}

void mean(const Node& nd, const Shape& in, const float* x, float* y, std::int64_t n, int threads) {
  // Kept dimensions first, reduced ones last (a strided copy when they are not trailing already),
  // then the mean of each contiguous row.
  const Dims full = with_batch(n, in), st = strides_of(full);
  Dims order{0};
  Dims reduced_dims;
  for (std::size_t d = 1; d < full.size(); ++d) {
    if (std::find(nd.dims.begin(), nd.dims.end(), static_cast<int>(d)) != nd.dims.end()) reduced_dims.push_back(static_cast<std::int64_t>(d));
    else order.push_back(static_cast<std::int64_t>(d));
  }
  std::int64_t len = 1;
  for (auto d : reduced_dims) len *= full[static_cast<std::size_t>(d)];
  order.insert(order.end(), reduced_dims.begin(), reduced_dims.end());
  bool trailing = true;
  for (std::size_t i = 0; i < order.size(); ++i) trailing = trailing && order[i] == static_cast<std::int64_t>(i);
  std::vector<float> tmp;
  const float* src = x;
  if (!trailing) {
    Dims size, sx;
    for (auto d : order) {
      size.push_back(full[static_cast<std::size_t>(d)]);
      sx.push_back(st[static_cast<std::size_t>(d)]);
    }
    tmp.resize(static_cast<std::size_t>(n * numel(in)));
    copy_strided(size, x, sx, tmp.data(), strides_of(size), threads);
    src = tmp.data();
  }
  const std::int64_t rows_n = n * numel(in) / len;
#pragma omp parallel for schedule(static) num_threads(thread_count(threads)) if (rows_n * len > 65536)
  for (std::int64_t r = 0; r < rows_n; ++r) {
    const float* p = src + r * len;
    double s = 0.0;
    for (std::int64_t i = 0; i < len; ++i) s += p[i];
    y[r] = static_cast<float>(s / static_cast<double>(len));
  }
}

void broadcast_batch(const float* value, std::int64_t count, float* y, std::int64_t n) {
  for (std::int64_t b = 0; b < n; ++b) std::memcpy(y + b * count, value, static_cast<std::size_t>(count) * sizeof(float));
}

}  // namespace ffp8::infer::ops
