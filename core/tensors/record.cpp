#include "core/tensors/record.hpp"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fnmatch.h>
#include <memory>

#include "core/errors.hpp"
#include "core/infer/data.hpp"
#include "core/infer/engine.hpp"
#include "core/infer/model.hpp"
#include "core/io/h5.hpp"

namespace ffp8 {

namespace {

namespace fs = std::filesystem;

// True when `a` and `b` name the same existing file.
bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

std::string tensor_name(const infer::Model& m, int id) { return id == 0 ? m.input_name : m.nodes[id - 1].name; }

}  // namespace

RecordReport record_activations(const std::string& model_path, const std::string& data_path, const std::string& out,
                                const RecordOptions& o) {
  if (o.count < 1) throw ConfigError(fmt::format("count must be 1 or more, not {}", o.count));
  if (o.batch < 1) throw ConfigError(fmt::format("batch must be 1 or more, not {}", o.batch));
  if (o.threads < 0) throw ConfigError(fmt::format("threads must be 0 or more, not {}", o.threads));
  for (const std::string& in : {model_path, data_path})
    if (same_file(out, in))
      throw DataError(fmt::format("output '{}' is the input file '{}'; choose another output", out, in));

  auto model = std::make_shared<const infer::Model>(infer::read_model(model_path));
  const infer::DataFile data = infer::DataFile::open(data_path);
  if (data.image_shape() != model->input_shape)
    throw DataError(fmt::format("images of '{}' are {}, the model '{}' takes {}", data_path,
                                infer::shape_text(data.image_shape()), model_path, infer::shape_text(model->input_shape)));
  if (o.count > data.size())
    throw DataError(fmt::format("{} images asked, '{}' holds {}", o.count, data_path, data.size()));

  // The tensors to record, in node order, and for each (node, operand) its slot.
  RecordReport r{model_path, data_path, out, o.count, {}};
  std::vector<bool> used(o.tensors.size(), false);
  std::vector<std::vector<int>> slot(model->nodes.size());  // node -> operand -> index in r.tensors, -1: not kept
  for (std::size_t i = 0; i < model->nodes.size(); ++i) {
    const infer::Node& n = model->nodes[i];
    for (int k = 0; k < infer::quantized_inputs(n.op); ++k) {
      const std::string name = infer::operand_key(n.name, k);
      bool take = o.tensors.empty();
      for (std::size_t p = 0; p < o.tensors.size(); ++p)
        if (fnmatch(o.tensors[p].c_str(), name.c_str(), 0) == 0) take = used[p] = true;
      slot[i].push_back(take ? static_cast<int>(r.tensors.size()) : -1);
      if (!take) continue;
      const int id = n.inputs.at(static_cast<std::size_t>(k));
      std::vector<std::uint64_t> shape{static_cast<std::uint64_t>(o.count)};
      for (auto d : model->tensor_shape(id)) shape.push_back(static_cast<std::uint64_t>(d));
      r.tensors.push_back({name, n.name, tensor_name(*model, id), k, std::move(shape)});
    }
  }
  for (std::size_t p = 0; p < o.tensors.size(); ++p)
    if (!used[p])
      throw ConfigError(fmt::format("no conv2d/linear/matmul input of '{}' matches '{}'", model_path, o.tensors[p]));
  if (r.tensors.empty()) throw ModelError(fmt::format("'{}' has no conv2d/linear/matmul node", model_path));

  const fs::path folder = fs::path(out).parent_path();
  if (!folder.empty()) h5::create_output_folder(folder.string());
  h5::AtomicFile file(out);
  h5::File& f = file.file();
  for (const RecordedTensor& t : r.tensors) {
    const std::string ds = "/activations/" + t.name;
    f.create_dataset(ds, t.shape, h5::DType::Float32);
    f.set_attr(ds, "role", "activation");
    f.set_attr(ds, "node", t.node);
    f.set_attr(ds, "tensor", t.tensor);
    f.set_attr(ds, "operand", t.operand);
  }
  f.set_attr("/activations", "count", o.count);
  f.set_attr("/activations", "source", data_path);
  f.set_attr("/activations", "model", model_path);
  f.set_attr("/activations", "producer", "ffp8 record (float32 inference engine)");

  // Each tap event is one batch of one tensor: written where its images go, then dropped.
  infer::EngineOptions eo;
  eo.threads = o.threads;
  infer::Engine engine(model, {}, eo);
  engine.add_tap([&](const infer::TapEvent& ev) {
    const int s = slot[static_cast<std::size_t>(ev.node_index)][static_cast<std::size_t>(ev.operand)];
    if (s < 0) return;
    const auto per = static_cast<std::uint64_t>(infer::numel(ev.shape));
    f.write("/activations/" + r.tensors[static_cast<std::size_t>(s)].name, ev.first_image * per, ev.values);
  });
  infer::run_images(engine, data, 0, o.count, o.batch, [&](std::int64_t done) {
    if (o.progress) o.progress(done, o.count);
  });
  file.commit();
  return r;
}

nlohmann::json to_json(const RecordReport& r) {
  nlohmann::json tensors = nlohmann::json::array();
  for (const RecordedTensor& t : r.tensors)
    tensors.push_back({{"path", "/activations/" + t.name},
                       {"node", t.node},
                       {"tensor", t.tensor},
                       {"operand", t.operand},
                       {"shape", t.shape}});
  return {{"model", r.model}, {"data", r.data}, {"out", r.out}, {"count", r.count}, {"tensors", tensors}};
}

}  // namespace ffp8
