// DataFile: validation of the data file layout and batched reads (uint8 images normalised here).
#include "core/infer/data.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "core/errors.hpp"
#include "core/io/h5.hpp"
#include "core/io/layout.hpp"

namespace ffp8::infer {

struct DataFile::Impl {
  Impl(std::string p, h5::File f) : path(std::move(p)), file(std::move(f)) {}
  std::string path;
  h5::File file;
  bool u8 = false, hwc = false;
  Shape chw;
  std::int64_t n = 0;
  std::vector<float> mean, std;  // per channel (uint8 only)
  std::vector<std::int64_t> labels;
  mutable std::vector<std::uint8_t> raw;
};

namespace {

// Sane limits before anything is allocated or read: an image dimension beyond 2^20, an image
// beyond 2^30 values or more than 2^40 images is a broken declaration, not a data set.
void check_limits(const std::string& w, const std::vector<std::uint64_t>& s, const Shape& chw) {
  const std::string shape = fmt::format("[{}]", fmt::join(s, ", "));
  for (std::int64_t v : chw)
    if (v < 1 || v > (std::int64_t{1} << 20))
      throw DataError(fmt::format("{}: /images has shape {}, an image dimension outside [1, 2^20]", w, shape));
  if (numel(chw) > (std::int64_t{1} << 30))
    throw DataError(fmt::format("{}: /images has shape {}, more than 2^30 values per image", w, shape));
  if (s[0] > (std::uint64_t{1} << 40))
    throw DataError(fmt::format("{}: /images has shape {}, more than 2^40 images", w, shape));
}

}  // namespace

DataFile::DataFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DataFile::DataFile(DataFile&&) noexcept = default;
DataFile& DataFile::operator=(DataFile&&) noexcept = default;
DataFile::~DataFile() = default;

DataFile DataFile::open(const std::string& path) {
  auto d = std::unique_ptr<Impl>(new Impl(path, h5::File::open(path)));
  const std::string w = fmt::format("'{}'", path);
  // A file without the attribute counts as version 1 (hand-made data files stay usable).
  (void)h5::layout_version(d->file, h5::FileLayout::Data);
  if (!d->file.exists("/images")) throw DataError(fmt::format("{}: dataset /images is missing", w));
  if (!d->file.exists("/labels")) throw DataError(fmt::format("{}: dataset /labels is missing", w));
  const h5::DatasetInfo img = d->file.info("/images");
  const auto& s = img.shape;
  if (img.dtype == h5::DType::Float32) {
    if (s.size() != 4)
      throw DataError(fmt::format("{}: float32 /images must be [N, C, H, W], found rank {}", w, s.size()));
    d->chw = {std::int64_t(s[1]), std::int64_t(s[2]), std::int64_t(s[3])};
  } else if (img.dtype == h5::DType::UInt && img.elem_bytes == 1) {
    d->u8 = true;
    if (s.size() == 3) {
      d->chw = {1, std::int64_t(s[1]), std::int64_t(s[2])};
    } else if (s.size() == 4) {
      d->hwc = true;
      d->chw = {std::int64_t(s[3]), std::int64_t(s[1]), std::int64_t(s[2])};
    } else {
      throw DataError(fmt::format("{}: uint8 /images must be [N, H, W] or [N, H, W, C], found rank {}", w, s.size()));
    }
    check_limits(w, s, d->chw);
    for (const char* k : {"mean", "std"}) {
      const auto v = d->file.get_double_array_attr("/images", k);
      if (!v || (v->size() != 1 && static_cast<std::int64_t>(v->size()) != d->chw[0]))
        throw DataError(fmt::format("{}: uint8 /images needs an attribute '{}' with 1 or {} values", w, k, d->chw[0]));
      auto& dst = std::string(k) == "mean" ? d->mean : d->std;
      for (std::int64_t c = 0; c < d->chw[0]; ++c)
        dst.push_back(static_cast<float>((*v)[v->size() == 1 ? 0 : static_cast<std::size_t>(c)]));
    }
    for (float v : d->std)
      if (!(v > 0)) throw DataError(fmt::format("{}: /images attribute 'std' must be positive", w));
  } else {
    throw DataError(fmt::format("{}: /images must be float32 or uint8, found {}", w, h5::dtype_name(img.dtype, img.elem_bytes)));
  }
  check_limits(w, s, d->chw);
  d->n = static_cast<std::int64_t>(s[0]);
  const h5::DatasetInfo lab = d->file.info("/labels");
  if ((lab.dtype != h5::DType::Int && lab.dtype != h5::DType::UInt) || lab.shape != std::vector<std::uint64_t>{s[0]})
    throw DataError(fmt::format("{}: /labels must be integers of shape [{}], found {} of rank {}", w, d->n,
                              h5::dtype_name(lab.dtype, lab.elem_bytes), lab.shape.size()));
  d->labels = d->file.read_ints("/labels");
  return DataFile(std::move(d));
}

const std::string& DataFile::path() const { return impl_->path; }
std::int64_t DataFile::size() const { return impl_->n; }
const Shape& DataFile::image_shape() const { return impl_->chw; }

void DataFile::check_labels(std::int64_t classes, std::int64_t count) const {
  const auto& l = impl_->labels;
  const auto n = static_cast<std::size_t>(std::clamp<std::int64_t>(count, 0, impl_->n));
  for (std::size_t i = 0; i < n; ++i)
    if (l[i] < 0 || l[i] >= classes)
      throw DataError(fmt::format("'{}': /labels[{}] is {}, not a class index in [0, {})", impl_->path, i, l[i], classes));
}

std::span<const std::int64_t> DataFile::labels(std::int64_t first, std::int64_t count) const {
  if (first < 0 || count < 0 || first + count > impl_->n)
    throw DataError(fmt::format("'{}': labels [{}, {}) are out of range (N = {})", impl_->path, first, first + count, impl_->n));
  return std::span<const std::int64_t>(impl_->labels).subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(count));
}

void DataFile::read(std::int64_t first, std::int64_t count, std::span<float> out) const {
  const Impl& d = *impl_;
  const std::int64_t per = numel(d.chw);
  if (first < 0 || count < 0 || first + count > d.n || static_cast<std::int64_t>(out.size()) != count * per)
    throw DataError(fmt::format("'{}': cannot read images [{}, {}) into {} values (N = {}, {} values per image)", d.path,
                                first, first + count, out.size(), d.n, per));
  const auto off = static_cast<std::uint64_t>(first * per);
  if (!d.u8) {
    d.file.read("/images", off, out);
    return;
  }
  d.raw.resize(out.size());
  d.file.read("/images", off, std::span<std::uint8_t>(d.raw));
  const std::int64_t c = d.chw[0], hw = d.chw[1] * d.chw[2];
  // Same float32 operations as tools/ffp8_h5.py: (u / 255 - mean) / std.
  for (std::int64_t b = 0; b < count; ++b) {
    for (std::int64_t ch = 0; ch < c; ++ch) {
      const float m = d.mean[static_cast<std::size_t>(ch)], s = d.std[static_cast<std::size_t>(ch)];
      float* dst = out.data() + (b * c + ch) * hw;
      const std::uint8_t* src = d.raw.data() + b * per;
      for (std::int64_t i = 0; i < hw; ++i) {
        const float u = static_cast<float>(d.hwc ? src[i * c + ch] : src[i]);
        dst[i] = (u / 255.0f - m) / s;
      }
    }
  }
}

}  // namespace ffp8::infer
