#include "explore/sweep/model_source.hpp"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fnmatch.h>

#include "core/errors.hpp"
#include "core/infer/data.hpp"
#include "core/infer/engine.hpp"
#include "core/infer/model.hpp"

namespace ffp8::explore {

namespace {

std::vector<std::uint64_t> to_u64(const infer::Shape& s, std::int64_t lead = -1) {
  std::vector<std::uint64_t> out;
  if (lead >= 0) out.push_back(static_cast<std::uint64_t>(lead));
  for (auto d : s) out.push_back(static_cast<std::uint64_t>(d));
  return out;
}

/// Every tapped input of a model input's nodes, recorded in one float32 run over images.
class ModelPass : public TapPass {
 public:
  ModelPass(std::shared_ptr<const infer::Model> model, std::shared_ptr<const infer::DataFile> data, std::int64_t calib,
            std::int64_t batch, int threads)
      : model_(std::move(model)), data_(std::move(data)), calib_(calib), batch_(batch), threads_(threads),
        slot_of_(model_->nodes.size() * 2, -1) {}
  /// Adds operand `operand` of node `node` as the next slot; returns the slot.
  std::size_t add(int node, int operand) {
    const infer::Node& n = model_->nodes[static_cast<std::size_t>(node)];
    per_.push_back(static_cast<std::uint64_t>(infer::numel(model_->tensor_shape(n.inputs.at(static_cast<std::size_t>(operand))))));
    slot_of_[static_cast<std::size_t>(node) * 2 + static_cast<std::size_t>(operand)] = static_cast<int>(per_.size() - 1);
    return per_.size() - 1;
  }
  std::uint64_t images() const override { return static_cast<std::uint64_t>(calib_); }
  std::uint64_t batch() const override { return static_cast<std::uint64_t>(batch_); }
  std::size_t slots() const override { return per_.size(); }
  std::uint64_t values_per_image(std::size_t slot) const override { return per_.at(slot); }
  void run(std::uint64_t first, std::uint64_t last, const SlotChunkFn& fn) const override {
    infer::EngineOptions opts;
    opts.threads = threads_;
    infer::Engine engine(model_, {}, opts);
    engine.add_tap([&](const infer::TapEvent& ev) {
      const int slot = slot_of_[static_cast<std::size_t>(ev.node_index) * 2 + static_cast<std::size_t>(ev.operand)];
      if (slot < 0) return;
      fn(static_cast<std::size_t>(slot), ev.values, ev.first_image * per_[static_cast<std::size_t>(slot)]);
    });
    infer::run_images(engine, *data_, static_cast<std::int64_t>(first),
                      std::min<std::int64_t>(calib_, static_cast<std::int64_t>(last)), batch_);
  }

 private:
  std::shared_ptr<const infer::Model> model_;
  std::shared_ptr<const infer::DataFile> data_;
  std::int64_t calib_, batch_;
  int threads_;
  std::vector<int> slot_of_;          // node * 2 + operand -> slot (-1: not recorded)
  std::vector<std::uint64_t> per_;    // values per image of each slot
};

/// One quantized input of a node (`operand` 0: its input, 1: a matmul's second operand) over the
/// calibration images, shape [calib, ...input shape]; every
/// read runs a fresh float32 Engine over whole batches aligned to multiples of `batch` from image
/// 0, so repeated reads see bit-identical values.
class ActivationSource : public TensorSource {
 public:
  ActivationSource(std::shared_ptr<const infer::Model> model, std::shared_ptr<const infer::DataFile> data,
                   int node, int operand, std::int64_t calib, std::int64_t batch, int threads,
                   std::shared_ptr<ModelPass> pass)
      : model_(std::move(model)), data_(std::move(data)), node_(node), operand_(operand), calib_(calib),
        batch_(batch), threads_(threads), pass_(std::move(pass)) {
    slot_ = pass_->add(node_, operand_);
    const infer::Node& n = model_->nodes[static_cast<std::size_t>(node_)];
    const infer::Shape& s = model_->tensor_shape(n.inputs.at(static_cast<std::size_t>(operand_)));
    name_ = n.name + (operand_ == 0 ? ".input" : ".other");
    per_ = static_cast<std::uint64_t>(infer::numel(s));
    shape_ = to_u64(s, calib_);
  }
  const std::string& name() const override { return name_; }
  const std::string& role() const override { return role_; }
  const std::vector<std::uint64_t>& shape() const override { return shape_; }
  std::string origin() const override {
    return fmt::format("{}: {} of node {}", std::filesystem::path(model_->path).filename().string(),
                       operand_ == 0 ? "input" : "second operand", model_->nodes[static_cast<std::size_t>(node_)].name);
  }
  std::string note() const override {
    return fmt::format("recorded through the engine tap over images 0..{} of {} (float32 inference)", calib_ - 1,
                       std::filesystem::path(data_->path()).filename().string());
  }

  const TapPass* tap_pass() const override { return pass_.get(); }
  std::size_t tap_slot() const override { return slot_; }

  // Reads this tensor alone (the direct path): one engine run over the covering batches.
  void read(std::uint64_t offset, std::uint64_t count, std::size_t chunk, const ChunkFn& fn) const override {
    if (count == 0) return;
    const std::uint64_t end = offset + count;
    const auto img0 = static_cast<std::int64_t>(offset / per_);
    const auto img1 = static_cast<std::int64_t>((end - 1) / per_ + 1);
    infer::EngineOptions opts;
    opts.threads = threads_;
    infer::Engine engine(model_, {}, opts);
    engine.add_tap([&](const infer::TapEvent& ev) {
      if (ev.node_index != node_ || ev.operand != operand_) return;
      const std::uint64_t lo = std::max<std::uint64_t>(offset, ev.first_image * per_);
      const std::uint64_t hi = std::min<std::uint64_t>(end, (ev.first_image + static_cast<std::uint64_t>(ev.batch)) * per_);
      for (std::uint64_t at = lo; at < hi; at += chunk) {
        const std::uint64_t len = std::min<std::uint64_t>(chunk, hi - at);
        fn(ev.values.subspan(at - ev.first_image * per_, len), at);
      }
    });
    // Whole batches aligned to multiples of batch_ from image 0 (the same batches as a whole pass).
    infer::run_images(engine, *data_, img0 / batch_ * batch_, std::min(calib_, (img1 + batch_ - 1) / batch_ * batch_),
                      batch_);
  }

 private:
  std::shared_ptr<const infer::Model> model_;
  std::shared_ptr<const infer::DataFile> data_;
  int node_, operand_;
  std::int64_t calib_, batch_;
  int threads_;
  std::shared_ptr<ModelPass> pass_;
  std::size_t slot_ = 0;
  std::uint64_t per_ = 1;
  std::string name_, role_ = "activation";
  std::vector<std::uint64_t> shape_;
};

}  // namespace

std::vector<std::unique_ptr<TensorSource>> open_model_input(const SweepConfig& config, std::size_t index) {
  const InputConfig& in = config.inputs.at(index);
  const std::string where = fmt::format("{}/inputs/{}", config.source.empty() ? "" : config.source + ": ", index);
  if (!std::filesystem::exists(in.model))
    throw ConfigError(fmt::format("{}/model: file \"{}\" does not exist", where, in.model.string()));
  std::shared_ptr<const infer::Model> model;
  try {
    model = std::make_shared<const infer::Model>(infer::read_model(in.model.string()));
  } catch (const Error& e) {
    throw ConfigError(fmt::format("{}/model: {}", where, e.what()));
  }
  std::shared_ptr<const infer::DataFile> data;
  if (in.activations) {
    if (!std::filesystem::exists(in.data))
      throw ConfigError(fmt::format("{}/data: file \"{}\" does not exist", where, in.data.string()));
    try {
      data = std::make_shared<const infer::DataFile>(infer::DataFile::open(in.data.string()));
    } catch (const Error& e) {
      throw ConfigError(fmt::format("{}/data: {}", where, e.what()));
    }
    if (data->image_shape() != model->input_shape)
      throw ConfigError(fmt::format("{}/data: images of \"{}\" are {}, the model takes {}", where, in.data.string(),
                                    infer::shape_text(data->image_shape()), infer::shape_text(model->input_shape)));
    if (in.calib > data->size())
      throw ConfigError(fmt::format("{}/calib: {} calibration images asked, \"{}\" holds {}", where, in.calib,
                                    in.data.string(), data->size()));
  }
  std::vector<int> nodes;
  std::vector<bool> used(in.nodes.size(), false);
  for (std::size_t i = 0; i < model->nodes.size(); ++i) {
    const infer::Node& n = model->nodes[i];
    if (!infer::is_quantizable(n.op)) continue;
    bool take = in.nodes.empty();
    for (std::size_t k = 0; k < in.nodes.size(); ++k)
      if (fnmatch(in.nodes[k].c_str(), n.name.c_str(), 0) == 0) take = used[k] = true;
    if (take) nodes.push_back(static_cast<int>(i));
  }
  for (std::size_t k = 0; k < in.nodes.size(); ++k)
    if (!used[k])
      throw ConfigError(fmt::format("{}/nodes/{}: no conv2d/linear/matmul node of \"{}\" matches \"{}\"", where, k,
                                    in.model.string(), in.nodes[k]));
  if (nodes.empty()) throw ConfigError(fmt::format("{}/model: \"{}\" has no conv2d/linear/matmul node", where, in.model.string()));
  std::vector<std::unique_ptr<TensorSource>> out;
  if (in.weights)
    for (int i : nodes) {
      const infer::Node& n = model->nodes[static_cast<std::size_t>(i)];
      if (infer::has_weight(n.op))
        out.push_back(std::make_unique<MemorySource>(n.name + ".weight", "weight", n.weight.data, to_u64(n.weight.shape)));
    }
  if (in.activations) {
    auto pass = std::make_shared<ModelPass>(model, data, in.calib, in.batch, config.threads);
    for (int i : nodes)
      for (int k = 0; k < infer::quantized_inputs(model->nodes[static_cast<std::size_t>(i)].op); ++k)
        out.push_back(std::make_unique<ActivationSource>(model, data, i, k, in.calib, in.batch, config.threads, pass));
  }
  return out;
}

}  // namespace ffp8::explore
