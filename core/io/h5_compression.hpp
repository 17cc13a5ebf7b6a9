#pragma once
// Whether File::create_dataset compresses. By default large datasets are chunked and deflated
// (small files for models and data sets); a writer that streams big outputs and is timed, such
// as `ffp8 quantize`, turns it off: contiguous, uncompressed datasets write and read several
// times faster.

namespace ffp8::h5 {

/// While alive, File::create_dataset on this thread compresses large datasets when `compress`
/// (the default behaviour) and writes them contiguous and uncompressed otherwise.
class CompressionScope {
 public:
  explicit CompressionScope(bool compress);
  ~CompressionScope();
  CompressionScope(const CompressionScope&) = delete;
  CompressionScope& operator=(const CompressionScope&) = delete;

 private:
  bool saved_;
};

}  // namespace ffp8::h5
