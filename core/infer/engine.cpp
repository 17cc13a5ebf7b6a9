// Engine: buffers live from their producer to their last consumer (a pool reuses them, so peak
// memory follows the batch size and the widest part of the graph); quantizable layers quantize
// their input into a scratch buffer and multiply with weights quantized once.
#include "core/infer/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "core/errors.hpp"
#include "core/threads.hpp"
#include "core/infer/data.hpp"
#include "core/infer/int8.hpp"
#include "core/infer/ops.hpp"

#include <omp.h>

#include <exception>

namespace ffp8::infer {

// One worker's buffer pool (see the file comment) and its activation counts.
struct Engine::Worker {
  std::vector<std::vector<float>> pool;
  std::vector<QuantCounts> activation, other;  // per counts_ entry and operand, since the last merge

  std::vector<float> acquire(std::size_t size) {
    // Smallest free buffer that fits, else the largest one grown, else a new one.
    auto best = pool.end();
    for (auto it = pool.begin(); it != pool.end(); ++it)
      if (it->size() >= size && (best == pool.end() || it->size() < best->size())) best = it;
    if (best == pool.end() && !pool.empty())
      best = std::max_element(pool.begin(), pool.end(), [](const auto& a, const auto& b) { return a.size() < b.size(); });
    std::vector<float> buf;
    if (best != pool.end()) {
      buf = std::move(*best);
      pool.erase(best);
    }
    if (buf.size() < size) buf.resize(size);  // grows only: no per-batch zero fill; callers use their own sizes
    return buf;
  }
  void release(std::vector<float>&& buf) {
    if (!buf.empty()) pool.push_back(std::move(buf));
  }
};

struct Engine::Layer {
  std::vector<float> weight;          // quantized weights (empty: the model's float32 weights)
  // Per quantized input (a matmul has two): its quantizer, the same with one thread (used inside
  // batch-parallel workers), or the "int8" quantizer instead.
  struct Input {
    std::optional<Quantizer> q, serial;
    std::optional<Int8Quantizer> int8;
  };
  std::array<Input, 2> in;
  std::size_t counts = 0;             // index into counts_
};

namespace {

// Decorrelated stochastic streams per layer and role (results stay independent of batching).
std::uint64_t layer_seed(std::uint64_t seed, std::size_t node, int role) {
  return seed ^ (0x9E3779B97F4A7C15ull * (2 * static_cast<std::uint64_t>(node) + static_cast<std::uint64_t>(role) + 1));
}

void check_nan(const QuantCounts& c, const Format& f, const std::string& node, const char* what) {
  if (c.nan_inputs > 0 && !f.has_nan())
    throw DataError(fmt::format("node '{}': its {} has {} NaN value(s) and format '{}' has no NaN code", node, what,
                                c.nan_inputs, f.name()));
}

// INT8 has no NaN code.
void check_nan(const QuantCounts& c, const std::string& node, const char* what) {
  if (c.nan_inputs > 0)
    throw DataError(fmt::format("node '{}': its {} has {} NaN value(s) and \"int8\" has no NaN code", node, what,
                                c.nan_inputs));
}

}  // namespace

std::string operand_key(const std::string& node, int operand) { return operand == 0 ? node : node + ".other"; }

Engine::Engine(std::shared_ptr<const Model> model, QuantPlan plan, EngineOptions options)
    : model_(std::move(model)), plan_(std::move(plan)), options_(options) {
  const Model& m = *model_;
  layers_.resize(m.nodes.size());
  last_use_.assign(m.nodes.size() + 1, -1);
  for (std::size_t i = 0; i < m.nodes.size(); ++i)
    for (int id : m.nodes[i].inputs) last_use_[static_cast<std::size_t>(id)] = static_cast<int>(i);
  last_use_[static_cast<std::size_t>(m.output)] = static_cast<int>(m.nodes.size());  // kept to the end

  for (const LayerFormats& lf : plan_) {
    const int i = m.find(lf.node);
    if (i < 0 || !is_quantizable(m.nodes[static_cast<std::size_t>(i)].op))
      throw ConfigError(
          fmt::format("quantization plan names '{}', which is no conv2d, linear or matmul node of '{}'", lf.node, m.path));
  }
  for (std::size_t i = 0; i < m.nodes.size(); ++i) {
    const Node& n = m.nodes[i];
    if (!is_quantizable(n.op)) continue;
    auto layer = std::make_shared<Layer>();
    layer->counts = counts_.size();
    counts_.push_back({n.name, {}, {}, {}});
    const auto it = std::find_if(plan_.begin(), plan_.end(), [&](const LayerFormats& lf) { return lf.node == n.name; });
    if (it != plan_.end()) {
      QuantOptions qo = options_.quant;
      qo.threads = options_.threads;
      if (!it->weight.empty()) {
        const std::size_t groups = it->weight.size(), len = n.weight.data.size() / groups;
        if (groups != 1 && groups != static_cast<std::size_t>(n.weight.shape[0]))
          throw ConfigError(fmt::format("node '{}': {} weight formats for {} output channels", n.name, groups,
                                        n.weight.shape[0]));
        layer->weight.resize(n.weight.data.size());
        qo.seed = layer_seed(options_.quant.seed, i, 1);
        for (std::size_t g = 0; g < groups; ++g) {
          const Quantizer q(it->weight[g], qo);
          const QuantCounts c = q.quantize(std::span<const float>(n.weight.data).subspan(g * len, len),
                                           std::span<float>(layer->weight).subspan(g * len, len), g * len);
          check_nan(c, it->weight[g], n.name, "weight");
          counts_.back().weight += c;
        }
      }
      if (it->weight_int8) {
        layer->weight.resize(n.weight.data.size());
        counts_.back().weight += it->weight_int8->quantize(n.weight.data, layer->weight, options_.threads);
        check_nan(counts_.back().weight, n.name, "weight");
      }
      const std::array<const std::optional<Format>*, 2> fmts{&it->activation, &it->other};
      const std::array<const std::optional<Int8Quantizer>*, 2> ints{&it->activation_int8, &it->other_int8};
      for (int k = 0; k < 2; ++k) {
        Layer::Input& in = layer->in[static_cast<std::size_t>(k)];
        in.int8 = *ints[static_cast<std::size_t>(k)];
        if (const auto& f = *fmts[static_cast<std::size_t>(k)]) {
          // stream 0 for the first input (as before matmul existed), 2 for the second
          qo.seed = layer_seed(options_.quant.seed, i, 2 * k);
          qo.threads = options_.threads;
          in.q.emplace(*f, qo);
          qo.threads = 1;
          in.serial.emplace(*f, qo);
        }
      }
    }
    layers_[i] = std::move(layer);
  }
}

int Engine::add_tap(ActivationTap tap) {
  taps_.emplace_back(next_tap_, std::move(tap));
  return next_tap_++;
}

void Engine::remove_tap(int id) {
  std::erase_if(taps_, [id](const auto& t) { return t.first == id; });
}

std::span<const float> Engine::run(std::span<const float> input, std::int64_t n, std::uint64_t first_image) {
  const Model& m = *model_;
  const std::int64_t per_image = numel(m.input_shape);
  if (n < 0 || static_cast<std::int64_t>(input.size()) != n * per_image)
    throw DataError(fmt::format("'{}': expected {} images of shape {} ({} values), got {} values", m.path, n,
                                shape_text(m.input_shape), n * per_image, input.size()));
  logits_.resize(static_cast<std::size_t>(n * m.num_classes));
  const int nt = static_cast<int>(std::min<std::int64_t>(thread_count(options_.threads),
                                                         std::max<std::int64_t>(n, 1)));
  const bool split = taps_.empty() && nt > 1;
  while (workers_.size() < static_cast<std::size_t>(split ? nt : 1)) {
    workers_.push_back(std::make_shared<Worker>());
    workers_.back()->activation.resize(counts_.size());
    workers_.back()->other.resize(counts_.size());
  }
  if (!split) {
    forward(input.data(), n, first_image, options_.threads, *workers_[0], logits_.data());
  } else {
    std::exception_ptr error;
#pragma omp parallel num_threads(nt)
    {
      const std::int64_t t = omp_get_thread_num(), tn = omp_get_num_threads();
      const std::int64_t lo = n * t / tn, hi = n * (t + 1) / tn;
      try {
        if (hi > lo)
          forward(input.data() + lo * per_image, hi - lo, first_image + static_cast<std::uint64_t>(lo), 1,
                  *workers_[static_cast<std::size_t>(t)], logits_.data() + lo * m.num_classes);
      } catch (...) {
#pragma omp critical(ffp8_infer_error)
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
  }
  for (auto& w : workers_) {
    for (std::size_t c = 0; c < counts_.size(); ++c) {
      counts_[c].activation += w->activation[c];
      counts_[c].other += w->other[c];
      w->activation[c] = w->other[c] = {};
    }
  }
  for (std::size_t c = 0; c < counts_.size(); ++c) {
    const Layer& L = *layers_[static_cast<std::size_t>(m.find(counts_[c].node))];
    for (int k = 0; k < 2; ++k) {
      const Layer::Input& in = L.in[static_cast<std::size_t>(k)];
      const QuantCounts& qc = k == 0 ? counts_[c].activation : counts_[c].other;
      const char* what = k == 0 ? "input activation" : "second operand";
      if (in.q) check_nan(qc, in.q->format(), counts_[c].node, what);
      if (in.int8) check_nan(qc, counts_[c].node, what);
    }
  }
  return logits_;
}

void Engine::forward(const float* input, std::int64_t n, std::uint64_t first_image, int threads, Worker& wk,
                     float* logits) {
  const Model& m = *model_;
  std::vector<std::vector<float>> vals(m.nodes.size() + 1);
  auto ptr = [&](int id) -> const float* { return id == 0 ? input : vals[static_cast<std::size_t>(id)].data(); };
  // An input read for the last time by node i may be reused as its output (in-place ops).
  auto reusable = [&](int id, std::size_t i) { return id != 0 && last_use_[static_cast<std::size_t>(id)] == static_cast<int>(i); };

  for (std::size_t i = 0; i < m.nodes.size(); ++i) {
    const Node& nd = m.nodes[i];
    const int in0 = nd.inputs.empty() ? 0 : nd.inputs[0];  // a constant has no input
    const Shape& ishape = m.tensor_shape(in0);
    const auto out_size = static_cast<std::size_t>(n * numel(nd.shape));
    std::vector<float> out;
    switch (nd.op) {
      case Op::Conv2d:
      case Op::Linear:
      case Op::MatMul: {
        const Layer& L = *layers_[i];
        // Each quantized input: tapped as read, then quantized into a scratch buffer.
        std::array<const float*, 2> xs{ptr(in0), nd.inputs.size() > 1 ? ptr(nd.inputs[1]) : nullptr};
        std::array<std::vector<float>, 2> q;
        for (int k = 0; k < quantized_inputs(nd.op); ++k) {
          const auto ku = static_cast<std::size_t>(k);
          const Shape& s = m.tensor_shape(nd.inputs[ku]);
          const auto size = static_cast<std::size_t>(n * numel(s));
          for (const auto& [id, tap] : taps_)
            tap(TapEvent{nd.name, static_cast<int>(i), k, std::span<const float>(xs[ku], size), s, n, first_image});
          const Layer::Input& li = L.in[ku];
          QuantCounts& counts = k == 0 ? wk.activation[L.counts] : wk.other[L.counts];
          if (li.q) {
            q[ku] = wk.acquire(size);
            const Quantizer& aq = threads == 1 ? *li.serial : *li.q;
            counts += aq.quantize(std::span<const float>(xs[ku], size), std::span<float>(q[ku].data(), size),
                                  first_image * static_cast<std::uint64_t>(numel(s)));
            xs[ku] = q[ku].data();
          } else if (li.int8) {
            q[ku] = wk.acquire(size);
            counts += li.int8->quantize(std::span<const float>(xs[ku], size), std::span<float>(q[ku].data(), size),
                                        threads);
            xs[ku] = q[ku].data();
          }
        }
        out = wk.acquire(out_size);
        const float* w = L.weight.empty() ? nd.weight.data.data() : L.weight.data();
        const float* b = nd.bias.empty() ? nullptr : nd.bias.data.data();
        if (nd.op == Op::Conv2d)
          ops::conv2d(nd, ishape, w, b, xs[0], out.data(), n, threads);
        else if (nd.op == Op::Linear)
          ops::linear(nd, ishape, w, b, xs[0], out.data(), n, threads);
        else
          ops::matmul(ishape, xs[0], m.tensor_shape(nd.inputs[1]), xs[1], nd.shape, out.data(), n, threads);
        for (auto& buf : q) wk.release(std::move(buf));
        break;
      }
      case Op::BatchNorm2d:
      case Op::Flatten:
      case Op::Reshape:
      case Op::Softmax:
      case Op::LayerNorm:
      default: {
        // The op table's elementwise ops and the row-by-row ones above: in place when this node
        // reads its input for the last time.
        const float* x = ptr(in0);
        if (reusable(in0, i)) {
          out = std::move(vals[static_cast<std::size_t>(in0)]);  // same data pointer
        } else {
          out = wk.acquire(out_size);
        }
        const auto count = static_cast<std::int64_t>(out_size);
        switch (nd.op) {
          case Op::BatchNorm2d: ops::batchnorm2d(nd, ishape, x, out.data(), n, threads); break;
          case Op::Relu: ops::relu(x, out.data(), count, std::numeric_limits<float>::infinity(), threads); break;
          case Op::Relu6: ops::relu(x, out.data(), count, 6.0f, threads); break;
          case Op::Sigmoid: ops::unary(ops::Unary::Sigmoid, x, out.data(), count, threads); break;
          case Op::Tanh: ops::unary(ops::Unary::Tanh, x, out.data(), count, threads); break;
          case Op::Silu: ops::unary(ops::Unary::Silu, x, out.data(), count, threads); break;
          case Op::Hardsigmoid: ops::unary(ops::Unary::Hardsigmoid, x, out.data(), count, threads); break;
          case Op::Hardswish: ops::unary(ops::Unary::Hardswish, x, out.data(), count, threads); break;
          case Op::Gelu:
            ops::unary(nd.gelu_tanh ? ops::Unary::GeluTanh : ops::Unary::GeluErf, x, out.data(), count, threads);
            break;
          case Op::Softmax: ops::softmax(ishape, nd.dim - 1, x, out.data(), n, threads); break;
          case Op::LayerNorm: ops::layernorm(nd, ishape, x, out.data(), n, threads); break;
          case Op::Flatten:
          case Op::Reshape:  // the same values
            if (x != out.data()) std::memcpy(out.data(), x, out_size * sizeof(float));
            break;
          default: throw ModelError(fmt::format("node '{}': op {} has no kernel", nd.name, op_info(nd.op).name));
        }
        break;
      }
      case Op::Constant:
        out = wk.acquire(out_size);
        ops::broadcast_batch(nd.value.data.data(), numel(nd.shape), out.data(), n);
        break;
      case Op::Sub:
      case Op::Mul:
      case Op::Div: {
        static constexpr ops::Binary kind[] = {ops::Binary::Sub, ops::Binary::Mul, ops::Binary::Div};
        out = wk.acquire(out_size);
        ops::binary(kind[static_cast<int>(nd.op) - static_cast<int>(Op::Sub)], ishape, ptr(in0),
                    m.tensor_shape(nd.inputs[1]), ptr(nd.inputs[1]), nd.shape, out.data(), n, threads);
        break;
      }
      case Op::Mean:
        out = wk.acquire(out_size);
        ops::mean(nd, ishape, ptr(in0), out.data(), n, threads);
        break;
      case Op::Permute:
        out = wk.acquire(out_size);
        ops::permute(nd, ishape, ptr(in0), out.data(), n, threads);
        break;
      case Op::Slice:
        out = wk.acquire(out_size);
        ops::slice(nd, ishape, ptr(in0), out.data(), n, threads);
        break;
      case Op::Pad:
        out = wk.acquire(out_size);
        ops::pad(nd, ishape, ptr(in0), out.data(), n, threads);
        break;
      case Op::Roll:
        out = wk.acquire(out_size);
        ops::roll(nd, ishape, ptr(in0), out.data(), n, threads);
        break;
      case Op::MaxPool2d:
        out = wk.acquire(out_size);
        ops::maxpool2d(nd, ishape, ptr(in0), out.data(), n, threads);
        break;
      case Op::AvgPool2d:
        out = wk.acquire(out_size);
        ops::avgpool2d(nd, ishape, ptr(in0), out.data(), n, threads);
        break;
      case Op::AdaptiveAvgPool2d:
        out = wk.acquire(out_size);
        ops::adaptive_avgpool2d(nd, ishape, ptr(in0), out.data(), n, threads);
        break;
      case Op::Add:
        out = wk.acquire(out_size);
        if (ishape == m.tensor_shape(nd.inputs[1]))
          ops::add(ptr(in0), ptr(nd.inputs[1]), out.data(), static_cast<std::int64_t>(out_size), threads);
        else
          ops::binary(ops::Binary::Add, ishape, ptr(in0), m.tensor_shape(nd.inputs[1]), ptr(nd.inputs[1]), nd.shape,
                      out.data(), n, threads);
        break;
      case Op::Cat: {
        out = wk.acquire(out_size);
        std::vector<Shape> shapes;
        std::vector<const float*> xs;
        for (int id : nd.inputs) {
          shapes.push_back(m.tensor_shape(id));
          xs.push_back(ptr(id));
        }
        ops::cat(nd, shapes, xs, out.data(), n);
        break;
      }
    }
    vals[i + 1] = std::move(out);
    for (int id : nd.inputs)
      if (reusable(id, i) && !vals[static_cast<std::size_t>(id)].empty()) wk.release(std::move(vals[static_cast<std::size_t>(id)]));
  }
  const std::vector<float>& res = vals[static_cast<std::size_t>(m.output)];
  std::copy(res.begin(), res.begin() + n * m.num_classes, logits);
  for (auto& v : vals) wk.release(std::move(v));
}

void run_images(Engine& engine, const DataFile& data, std::int64_t first, std::int64_t end, std::int64_t batch,
                const std::function<void(std::int64_t done)>& after) {
  const std::int64_t per = numel(engine.model().input_shape);
  std::vector<float> buf(static_cast<std::size_t>(std::min(batch, std::max<std::int64_t>(end - first, 0)) * per));
  for (std::int64_t b = first; b < end; b += batch) {
    const std::int64_t n = std::min(batch, end - b);
    const std::span<float> in(buf.data(), static_cast<std::size_t>(n * per));
    data.read(b, n, in);
    engine.run(in, n, static_cast<std::uint64_t>(b));
    if (after) after(b + n);
  }
}

}  // namespace ffp8::infer
