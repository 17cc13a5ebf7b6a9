#include "explore/sweep/source.hpp"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <map>

#include "core/errors.hpp"
#include "core/io/h5.hpp"
#include "explore/sweep/model_source.hpp"

namespace ffp8::explore {

std::uint64_t TensorSource::size() const {
  std::uint64_t n = 1;
  for (auto d : shape()) n *= d;
  return n;
}

std::uint64_t TensorSource::channels() const {
  const auto& s = shape();
  return s.size() >= 2 ? s[0] : 1;
}

std::uint64_t TensorSource::channel_size() const {
  const std::uint64_t c = channels();
  return c == 0 ? 0 : size() / c;
}

void TensorSource::read_double(std::uint64_t offset, std::uint64_t count, std::size_t chunk, const ChunkFn64& fn) const {
  std::vector<double> wide;
  read(offset, count, chunk, [&](std::span<const float> v, std::uint64_t first) {
    wide.assign(v.begin(), v.end());
    fn(wide, first);
  });
}

MemorySource::MemorySource(std::string name, std::string role, std::vector<float> values,
                           std::vector<std::uint64_t> shape)
    : name_(std::move(name)), role_(std::move(role)), values_(std::move(values)), shape_(std::move(shape)) {
  if (shape_.empty()) shape_ = {values_.size()};
}

void MemorySource::read(std::uint64_t offset, std::uint64_t count, std::size_t chunk, const ChunkFn& fn) const {
  const std::span<const float> all(values_);
  for (std::uint64_t at = offset; at < offset + count; at += chunk) {
    const std::uint64_t len = std::min<std::uint64_t>(chunk, offset + count - at);
    fn(all.subspan(at, len), at);
  }
}

namespace {

/// A dataset of an HDF5 file; the file stays open (shared by the file's datasets).
class Hdf5Source : public TensorSource {
 public:
  Hdf5Source(std::shared_ptr<h5::File> file, h5::DatasetInfo info, std::string name, std::string role)
      : file_(std::move(file)), info_(std::move(info)), name_(std::move(name)), role_(std::move(role)) {
    if (info_.shape.empty()) info_.shape = {1};
  }
  const std::string& name() const override { return name_; }
  const std::string& role() const override { return role_; }
  const std::vector<std::uint64_t>& shape() const override { return info_.shape; }
  void read(std::uint64_t offset, std::uint64_t count, std::size_t chunk, const ChunkFn& fn) const override {
    stream<float>(offset, count, chunk, fn);
  }
  bool is_float64() const override { return info_.dtype == h5::DType::Float64; }
  std::string dtype() const override { return h5::to_string(info_.dtype); }
  void read_double(std::uint64_t offset, std::uint64_t count, std::size_t chunk, const ChunkFn64& fn) const override {
    stream<double>(offset, count, chunk, fn);
  }
  std::string origin() const override { return file_->path() + ":" + info_.path; }
  std::string note() const override {
    return is_float64() ? "float64 data: every point scored by the direct path in float64" : "";
  }

 private:
  /// Reads [offset, offset + count) in chunks as T (HDF5 converts; float64 to float32 rounds).
  template <class T, class Fn>
  void stream(std::uint64_t offset, std::uint64_t count, std::size_t chunk, const Fn& fn) const {
    std::vector<T> buf(static_cast<std::size_t>(std::min<std::uint64_t>(chunk, count)));
    for (std::uint64_t at = offset; at < offset + count; at += chunk) {
      const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, offset + count - at));
      std::span<T> out(buf.data(), len);
      file_->read(info_.path, at, out);
      fn(std::span<const T>(out), at);
    }
  }

  std::shared_ptr<h5::File> file_;
  h5::DatasetInfo info_;
  std::string name_, role_;
};

}  // namespace

std::vector<std::unique_ptr<TensorSource>> open_inputs(const SweepConfig& config) {
  const std::string prefix = config.source.empty() ? "" : config.source + ": ";
  struct Found {
    std::shared_ptr<h5::File> file;
    h5::DatasetInfo info;
    std::string file_name, role;
  };
  std::vector<Found> found;
  // Model inputs' tensors, each with the number of datasets found before it (keeps config order).
  std::vector<std::pair<std::size_t, std::unique_ptr<TensorSource>>> from_models;
  for (std::size_t i = 0; i < config.inputs.size(); ++i) {
    const InputConfig& in = config.inputs[i];
    if (!in.model.empty()) {
      for (auto& t : open_model_input(config, i)) from_models.emplace_back(found.size(), std::move(t));
      continue;
    }
    if (!std::filesystem::exists(in.file))
      throw ConfigError(fmt::format("{}/inputs/{}/file: file \"{}\" does not exist", prefix, i, in.file.string()));
    std::shared_ptr<h5::File> file;
    try {
      file = std::make_shared<h5::File>(h5::File::open(in.file.string()));
    } catch (const IoError& e) {
      throw ConfigError(fmt::format("{}/inputs/{}/file: {}", prefix, i, e.what()));
    }
    for (std::size_t k = 0; k < in.tensors.size(); ++k) {
      const std::string where = fmt::format("{}/inputs/{}/tensors/{}", prefix, i, k);
      std::vector<std::string> names;
      try {
        names = h5::glob(*file, in.tensors[k]);
      } catch (const IoError& e) {
        throw ConfigError(fmt::format("{}: no dataset \"{}\" in \"{}\" ({})", where, in.tensors[k], in.file.string(), e.what()));
      }
      if (names.empty())
        throw ConfigError(fmt::format("{}: no dataset in \"{}\" matches \"{}\"", where, in.file.string(), in.tensors[k]));
      for (const auto& n : names) {
        h5::DatasetInfo info = file->info(n);
        if (info.dtype != h5::DType::Float16 && info.dtype != h5::DType::Float32 && info.dtype != h5::DType::Float64)
          throw ConfigError(fmt::format("{}: dataset \"{}\" holds {} values, not floats", where, n, h5::to_string(info.dtype)));
        found.push_back({file, std::move(info), in.file.filename().string(), in.role});
      }
    }
  }
  // A dataset path seen in two files is shown as file:path to stay unambiguous.
  std::map<std::string, int> seen;
  for (const auto& f : found) ++seen[f.info.path];
  std::vector<std::unique_ptr<TensorSource>> out;
  std::map<std::string, int> used;
  auto next_model = from_models.begin();
  for (std::size_t k = 0; k <= found.size(); ++k) {
    for (; next_model != from_models.end() && next_model->first == k; ++next_model)
      out.push_back(std::move(next_model->second));
    if (k == found.size()) break;
    auto& f = found[k];
    std::string name = seen[f.info.path] > 1 ? f.file_name + ":" + f.info.path : f.info.path;
    if (used[name]++ > 0) continue;  // two patterns matching one dataset: read it once
    out.push_back(std::make_unique<Hdf5Source>(f.file, f.info, name, f.role));
  }
  return out;
}

}  // namespace ffp8::explore
