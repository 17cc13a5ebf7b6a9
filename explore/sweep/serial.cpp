// Field-by-field little binary encoding (no struct padding on the wire), versioned by a leading
// tag so an old journal is rejected instead of misread.
#include "explore/sweep/serial.hpp"

#include <cstring>
#include <fmt/format.h>
#include <map>
#include <type_traits>

#include "core/errors.hpp"

namespace ffp8::explore {

namespace {

constexpr std::uint32_t kResultTag = 0x35525546;  // "FUR5" (4: groups carry their NaN and Inf counts; 5: points their scaling)
constexpr std::uint32_t kGroupTag = 0x33475546;   // "FUG3" (3: NaN and Inf counts)

class Writer {
 public:
  template <class T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void put_str(std::string_view s) {
    put<std::uint64_t>(s.size());
    out_.append(s);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <class T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T));
    T v;
    std::memcpy(&v, in_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  std::string get_str() {
    const auto n = get<std::uint64_t>();
    need(n);
    std::string s(in_.substr(at_, n));
    at_ += n;
    return s;
  }
  std::size_t count() {  // a length that must fit in what is left (guards against garbage)
    const auto n = get<std::uint64_t>();
    if (n > in_.size()) throw DataError("malformed unit record (a length exceeds the record)");
    return n;
  }
  void end() const {
    if (at_ != in_.size()) throw DataError("malformed unit record (trailing bytes)");
  }

 private:
  void need(std::size_t n) const {
    if (in_.size() - at_ < n) throw DataError("malformed unit record (truncated)");
  }
  std::string_view in_;
  std::size_t at_ = 0;
};

std::map<const TensorSource*, std::uint64_t> source_index(const std::vector<std::unique_ptr<TensorSource>>& sources) {
  std::map<const TensorSource*, std::uint64_t> m;
  for (std::size_t i = 0; i < sources.size(); ++i) m[sources[i].get()] = i;
  return m;
}

void put_group(Writer& w, const Group& g, const std::map<const TensorSource*, std::uint64_t>& index) {
  w.put_str(g.tensor);
  w.put_str(g.role);
  w.put<std::uint8_t>(static_cast<std::uint8_t>(g.granularity));
  w.put<std::int64_t>(g.channel);
  w.put<std::uint64_t>(g.pieces.size());
  for (const Piece& p : g.pieces) {
    w.put<std::uint64_t>(index.at(p.source));
    w.put<std::uint64_t>(p.offset);
    w.put<std::uint64_t>(p.count);
  }
  w.put<std::uint64_t>(g.count);
  w.put<std::uint64_t>(g.nan);
  w.put<std::uint64_t>(g.inf);
  w.put<double>(g.min);
  w.put<double>(g.max_abs);
  w.put<double>(g.max_positive);
  w.put<std::uint8_t>(g.emitted);
  w.put<std::uint8_t>(g.stats != nullptr);
  if (!g.stats) return;
  w.put<std::uint8_t>(g.stats->has_reciprocals());
  w.put<std::uint64_t>(g.stats->buckets().size());
  for (const Bucket& b : g.stats->buckets()) {
    w.put(b.key);
    w.put(b.lmin);
    w.put(b.lmax);
    w.put(b.n);
    w.put(b.n0);
    w.put(b.s1);
    w.put<std::uint64_t>(static_cast<std::uint64_t>(b.s2));
    w.put<std::uint64_t>(static_cast<std::uint64_t>(b.s2 >> 64));
    w.put<std::uint64_t>(static_cast<std::uint64_t>(b.r));
    w.put<std::uint64_t>(static_cast<std::uint64_t>(b.r >> 64));
  }
}

Group get_group(Reader& in, const std::vector<std::unique_ptr<TensorSource>>& sources) {
  Group g;
  g.tensor = in.get_str();
  g.role = in.get_str();
  const auto gran = in.get<std::uint8_t>();
  if (gran > static_cast<std::uint8_t>(Granularity::Role)) throw DataError("malformed unit record (granularity)");
  g.granularity = static_cast<Granularity>(gran);
  g.channel = in.get<std::int64_t>();
  for (std::size_t i = 0, n = in.count(); i < n; ++i) {
    const auto s = in.get<std::uint64_t>();
    if (s >= sources.size())
      throw DataError(fmt::format("unit record names input tensor {} but the config has {}", s, sources.size()));
    Piece p;
    p.source = sources[s].get();
    p.offset = in.get<std::uint64_t>();
    p.count = in.get<std::uint64_t>();
    g.pieces.push_back(p);
  }
  g.count = in.get<std::uint64_t>();
  g.nan = in.get<std::uint64_t>();
  g.inf = in.get<std::uint64_t>();
  g.min = in.get<double>();
  g.max_abs = in.get<double>();
  g.max_positive = in.get<double>();
  g.emitted = in.get<std::uint8_t>() != 0;
  if (in.get<std::uint8_t>() == 0) return g;
  auto stats = std::make_shared<BucketStats>();
  stats->set_reciprocals(in.get<std::uint8_t>() != 0);
  std::vector<Bucket> buckets(in.count());
  for (Bucket& b : buckets) {
    b.key = in.get<std::uint32_t>();
    b.lmin = in.get<std::uint16_t>();
    b.lmax = in.get<std::uint16_t>();
    b.n = in.get<std::uint64_t>();
    b.n0 = in.get<std::uint64_t>();
    b.s1 = in.get<std::uint64_t>();
    const auto lo = in.get<std::uint64_t>();
    const auto hi = in.get<std::uint64_t>();
    b.s2 = (static_cast<u128>(hi) << 64) | lo;
    const auto rlo = in.get<std::uint64_t>();
    const auto rhi = in.get<std::uint64_t>();
    b.r = (static_cast<u128>(rhi) << 64) | rlo;
  }
  stats->merge(buckets);  // into empty statistics: the same buckets and count
  g.stats = std::move(stats);
  return g;
}

void expect_tag(Reader& in, std::uint32_t tag) {
  if (in.get<std::uint32_t>() != tag) throw DataError("unit record of another version or kind");
}

}  // namespace

std::string encode_result(const UnitResult& u, const std::vector<std::unique_ptr<TensorSource>>& sources) {
  static_assert(std::is_trivially_copyable_v<ErrorSums> && sizeof(ErrorSums) == 12 * sizeof(double));
  const auto index = source_index(sources);
  Writer w;
  w.put(kResultTag);
  w.put<std::uint64_t>(u.groups.size());
  for (const Group& g : u.groups) put_group(w, g, index);
  w.put<std::uint64_t>(u.points.size());
  for (const Point& p : u.points) {
    w.put<std::uint64_t>(p.group);
    w.put<std::int32_t>(p.format.sign);
    w.put<std::int32_t>(p.format.exp);
    w.put<std::int32_t>(p.format.man);
    w.put<std::int32_t>(p.format.bias);
    w.put<std::uint8_t>(static_cast<std::uint8_t>(p.format.specials));
    w.put<std::uint8_t>(p.format.subnormals);
    w.put<std::uint8_t>(p.format.inf);
    w.put<std::uint8_t>(p.format.no_zero);
    w.put<std::uint8_t>(static_cast<std::uint8_t>(p.format.kind));
    w.put<std::uint8_t>(p.format.sym);
    w.put<std::uint8_t>(static_cast<std::uint8_t>(p.rounding));
    w.put_str(p.bias_rule);
    w.put_str(p.scaling);
    w.put<double>(p.effective_bits);
    w.put<double>(p.group_size);
    w.put(p.sums);
    w.put<std::uint8_t>(static_cast<std::uint8_t>(p.by_stats | (p.pending << 1)));
    w.put<std::int64_t>(p.argmin_set);
  }
  w.put<std::uint64_t>(u.skipped.size());
  for (const SkipKey& k : u.skipped) {
    w.put_str(k.key);
    w.put(k.invalid);
    w.put(k.excluded);
  }
  return w.take();
}

UnitResult decode_result(std::string_view bytes, const std::vector<std::unique_ptr<TensorSource>>& sources) {
  Reader in(bytes);
  expect_tag(in, kResultTag);
  UnitResult u;
  for (std::size_t i = 0, n = in.count(); i < n; ++i) u.groups.push_back(get_group(in, sources));
  for (std::size_t i = 0, n = in.count(); i < n; ++i) {
    Point p;
    p.group = in.get<std::uint64_t>();
    if (p.group >= u.groups.size()) throw DataError("malformed unit record (point of no group)");
    p.format.sign = in.get<std::int32_t>();
    p.format.exp = in.get<std::int32_t>();
    p.format.man = in.get<std::int32_t>();
    p.format.bias = in.get<std::int32_t>();
    p.format.specials = static_cast<Specials>(in.get<std::uint8_t>());
    p.format.subnormals = in.get<std::uint8_t>() != 0;
    p.format.inf = in.get<std::uint8_t>() != 0;
    p.format.no_zero = in.get<std::uint8_t>() != 0;
    p.format.kind = static_cast<Kind>(in.get<std::uint8_t>());
    p.format.sym = in.get<std::uint8_t>() != 0;
    p.rounding = static_cast<Rounding>(in.get<std::uint8_t>());
    p.bias_rule = in.get_str();
    p.scaling = in.get_str();
    p.effective_bits = in.get<double>();
    p.group_size = in.get<double>();
    p.sums = in.get<ErrorSums>();
    const auto path = in.get<std::uint8_t>();
    p.by_stats = (path & 1) != 0;
    p.pending = (path & 2) != 0;
    p.argmin_set = in.get<std::int64_t>();
    u.points.push_back(std::move(p));
  }
  for (std::size_t i = 0, n = in.count(); i < n; ++i) {
    SkipKey k;
    k.key = in.get_str();
    k.invalid = in.get<std::uint64_t>();
    k.excluded = in.get<std::uint64_t>();
    u.skipped.push_back(std::move(k));
  }
  in.end();
  return u;
}

std::string encode_group(const Group& g, const std::vector<std::unique_ptr<TensorSource>>& sources) {
  Writer w;
  w.put(kGroupTag);
  put_group(w, g, source_index(sources));
  return w.take();
}

Group decode_group(std::string_view bytes, const std::vector<std::unique_ptr<TensorSource>>& sources) {
  Reader in(bytes);
  expect_tag(in, kGroupTag);
  Group g = get_group(in, sources);
  in.end();
  return g;
}

}  // namespace ffp8::explore
