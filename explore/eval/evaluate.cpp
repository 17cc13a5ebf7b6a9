// evaluate(): calibration pass, then one streamed pass through both engines.
#include "explore/eval/evaluate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <map>

#include "core/errors.hpp"
#include "core/infer/data.hpp"

namespace ffp8::explore {

using infer::DataFile;
using infer::Engine;
using infer::EngineOptions;
using infer::LayerCounts;
using infer::LayerFormats;
using infer::Model;
using infer::QuantPlan;
using infer::TapEvent;
using infer::numel;
using infer::read_model;
using infer::shape_text;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
// CPU seconds of the whole process (every thread).
double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Rank of the label's logit: how many classes score strictly higher (ties favour the label,
// as a stable top-k does for the first index). Logits with a NaN or an infinity rank nothing:
// top1 is -1 (never a hit, never equal to another network's class) and the label is not in
// the top 5, so a broken network can never score by the order NaN compares in.
struct Ranked {
  int top1;
  bool in_top5;
  bool finite = true;
};
Ranked rank(const float* l, std::int64_t classes, std::int64_t label) {
  for (std::int64_t c = 0; c < classes; ++c)
    if (!std::isfinite(l[c])) return {-1, false, false};
  int best = 0;
  for (std::int64_t c = 1; c < classes; ++c)
    if (l[c] > l[best]) best = static_cast<int>(c);
  bool top5 = false;
  if (label >= 0 && label < classes) {
    std::int64_t higher = 0;
    for (std::int64_t c = 0; c < classes; ++c)
      if (l[c] > l[label] || (l[c] == l[label] && c < label)) ++higher;
    top5 = higher < 5;
  }
  return {best, top5};
}

bool quantizes_anything(const QuantPlan& plan) {
  return std::any_of(plan.begin(), plan.end(), [](const LayerFormats& l) { return l.quantizes(); });
}

}  // namespace

EvalResult evaluate(const EvalConfig& cfg, const EvalHooks& hooks, EvalReference* shared) {
  auto base = std::make_shared<Model>(read_model(cfg.model));
  std::shared_ptr<const Model> model = base;
  if (cfg.fold_bn && !base->bn_folded) model = std::make_shared<Model>(fold_batchnorm(*base));
  const DataFile data = DataFile::open(cfg.data);
  if (data.image_shape() != model->input_shape)
    throw DataError(fmt::format("data file '{}' holds images of shape {}, but model '{}' expects inputs of shape {}",
                                cfg.data, shape_text(data.image_shape()), cfg.model, shape_text(model->input_shape)));
  if (data.size() == 0) throw DataError(fmt::format("data file '{}' holds no images (/images has N = 0)", cfg.data));
  const std::int64_t count = cfg.limit > 0 ? std::min(cfg.limit, data.size()) : data.size();
  const std::int64_t per = numel(model->input_shape), classes = model->num_classes;
  data.check_labels(classes, count);
  EngineOptions eo;
  eo.quant = cfg.quant;
  eo.threads = cfg.threads;
  Engine fp32(model, {}, eo);

  EvalResult r;
  r.count = count;
  r.num_classes = classes;
  for (const infer::Node& node : model->nodes)
    for (const infer::Tensor* t : {&node.weight, &node.bias, &node.mean, &node.var, &node.value})
      for (float v : t->data) r.nonfinite_weights += !std::isfinite(v);
  std::vector<float> x;
  // Calibration: the float32 network's conv/linear inputs over the first `calib` images.
  EvalReference local;
  EvalReference& ref = shared ? *shared : local;
  if (needs_calibration(cfg.formats) && cfg.calib > 0 && !ref.calibrated) {
    const auto t0 = Clock::now();
    const int tap = fp32.add_tap([&](const TapEvent& e) { ref.stats[e.key()].add(e.values.data(), e.values.size()); });
    ref.calib_images = std::min(cfg.calib, data.size());
    for (std::int64_t first = 0; first < ref.calib_images; first += cfg.batch) {
      const std::int64_t n = std::min(cfg.batch, ref.calib_images - first);
      x.resize(static_cast<std::size_t>(n * per));
      data.read(first, n, x);
      fp32.run(x, n, static_cast<std::uint64_t>(first));
    }
    fp32.remove_tap(tap);
    ref.calib_seconds = since(t0);
    ref.calibrated = true;
  }
  if (needs_calibration(cfg.formats) && ref.calibrated) {
    r.calib_images = ref.calib_images;
    r.calib_seconds = ref.calib_seconds;
  }
  r.plan = resolve_plan(*model, cfg.formats, r.calib_images > 0 ? &ref.stats : nullptr, cfg.per_channel);
  Engine quant(model, r.plan, eo);
  r.all_float32 = !quantizes_anything(r.plan);
  if (hooks.on_engine) hooks.on_engine(quant);
  if (hooks.start) hooks.start(count, classes);

  // The float32 ranks of a shared reference are reused; otherwise the float32 engine runs
  // beside the quantized one (unless nothing is quantized) and, when shared, records them.
  const bool reuse = ref.ranked && static_cast<std::int64_t>(ref.top1.size()) == count;
  if (!reuse) {
    ref.top1.assign(static_cast<std::size_t>(count), 0);
    ref.in_top5.assign(static_cast<std::size_t>(count), 0);
  }
  std::int64_t hit1 = 0, hit5 = 0, hit1f = 0, hit5f = 0, agree = 0;
  const auto t0 = Clock::now();
  for (std::int64_t first = 0; first < count; first += cfg.batch) {
    const std::int64_t n = std::min(cfg.batch, count - first);
    auto t = Clock::now();
    x.resize(static_cast<std::size_t>(n * per));
    data.read(first, n, x);
    for (std::int64_t i = 0; i < n; ++i) {
      const auto img = std::span<const float>(x).subspan(static_cast<std::size_t>(i * per), static_cast<std::size_t>(per));
      const auto bad = std::count_if(img.begin(), img.end(), [](float v) { return !std::isfinite(v); });
      r.nonfinite_pixels += static_cast<std::uint64_t>(bad);
      r.nonfinite_images += bad > 0;
    }
    const auto labels = data.labels(first, n);
    r.read_seconds += since(t);
    t = Clock::now();
    double c0 = cpu_now();
    const std::span<const float> lq = quant.run(x, n, static_cast<std::uint64_t>(first));
    r.quantized_seconds += since(t);
    r.quantized_cpu_seconds += cpu_now() - c0;
    t = Clock::now();
    c0 = cpu_now();
    const bool run_fp32 = !reuse && !r.all_float32;
    const std::span<const float> lf = run_fp32 ? fp32.run(x, n, static_cast<std::uint64_t>(first)) : lq;
    if (run_fp32) {
      r.fp32_seconds += since(t);
      r.fp32_cpu_seconds += cpu_now() - c0;
    }
    for (std::int64_t i = 0; i < n; ++i) {
      const auto label = labels[static_cast<std::size_t>(i)];
      const auto at = static_cast<std::size_t>(first + i);
      const Ranked q = rank(lq.data() + i * classes, classes, label);
      if (!reuse) {
        const Ranked f = rank(lf.data() + i * classes, classes, label);
        ref.top1[at] = f.top1;
        ref.in_top5[at] = f.in_top5;
      }
      r.nonfinite_logits += !q.finite;
      r.nonfinite_logits_fp32 += ref.top1[at] < 0;
      hit1 += q.top1 == label;
      hit5 += q.in_top5;
      hit1f += ref.top1[at] == label;
      hit5f += ref.in_top5[at];
      agree += q.top1 >= 0 && q.top1 == ref.top1[at];
    }
    if (hooks.logits) hooks.logits(first, n, lq);
    if (hooks.progress) hooks.progress(first + n, count);
  }
  r.seconds = since(t0);
  if (reuse) {  // the float32 pass that made the shared ranks
    r.fp32_seconds = ref.fp32_seconds;
    r.fp32_cpu_seconds = ref.fp32_cpu_seconds;
  } else if (r.all_float32) {
    r.fp32_seconds = r.quantized_seconds;
    r.fp32_cpu_seconds = r.quantized_cpu_seconds;
  }
  if (!reuse) {
    ref.fp32_seconds = r.fp32_seconds;
    ref.fp32_cpu_seconds = r.fp32_cpu_seconds;
    ref.ranked = true;
  }
  const double c = count > 0 ? double(count) : 1.0;
  r.top1 = double(hit1) / c;
  r.top5 = double(hit5) / c;
  r.top1_fp32 = double(hit1f) / c;
  r.top5_fp32 = double(hit5f) / c;
  r.agreement_fp32 = count > 0 ? double(agree) / c : 0.0;
  r.counts = quant.counts();
  return r;
}

nlohmann::json eval_json(const EvalResult& r) {
  using nlohmann::json;
  auto frac = [](std::uint64_t k, std::uint64_t n) { return n ? double(k) / double(n) : 0.0; };
  json layers = json::array();
  for (std::size_t i = 0; i < r.plan.size(); ++i) {
    const LayerFormats& l = r.plan[i];
    json j;
    j["node"] = l.node;
    j["op"] = std::string(op_info(l.op).name);
    j["weight_choice"] = l.choice.weight.text();
    j["activation_choice"] = l.choice.activation.text();
    if (l.weight.size() > 1) {
      json names = json::array();
      for (const Format& f : l.weight) names.push_back(f.name());
      j["weight"] = names;  // per output channel
    } else {
      j["weight"] = l.weight_text();
    }
    j["activation"] = l.activation_text();
    if (l.weight_int8) j["weight_scale"] = l.weight_int8->scale;
    if (l.activation_int8) j["activation_scale"] = l.activation_int8->scale;
    j["weight_max_abs"] = l.weight_max_abs;
    if (l.activation_range) {
      j["activation_max_abs"] = l.activation_range->max_abs;
      j["activation_max_positive"] = l.activation_range->max_positive;
      j["activation_min"] = l.activation_range->min;
    }
    if (quantized_inputs(l.op) == 2) {  // a matmul's second operand, as "activation" describes the first
      j["other"] = l.other_int8 ? "int8" : l.other ? l.other->name() : "float32";
      if (l.other_int8) j["other_scale"] = l.other_int8->scale;
      if (l.other_range) {
        j["other_max_abs"] = l.other_range->max_abs;
        j["other_max_positive"] = l.other_range->max_positive;
        j["other_min"] = l.other_range->min;
      }
    }
    const auto it = std::find_if(r.counts.begin(), r.counts.end(), [&](const LayerCounts& c) { return c.node == l.node; });
    if (it != r.counts.end()) {
      const QuantCounts& a = it->activation;
      j["activation_overflow_frac"] = frac(a.overflow, a.count);
      j["activation_underflow_frac"] = frac(a.underflow, a.count);
      j["activation_neg_clipped_frac"] = frac(a.neg_clipped, a.count);
      j["weight_overflow_frac"] = frac(it->weight.overflow, it->weight.count);
      j["weight_underflow_frac"] = frac(it->weight.underflow, it->weight.count);
      if (quantized_inputs(l.op) == 2) {
        j["other_overflow_frac"] = frac(it->other.overflow, it->other.count);
        j["other_underflow_frac"] = frac(it->other.underflow, it->other.count);
      }
    }
    layers.push_back(j);
  }
  auto ips = [&](double s) { return s > 0 ? double(r.count) / s : 0.0; };
  return json{{"top1", r.top1},
              {"top5", r.top5},
              {"count", r.count},
              {"agreement_fp32", r.agreement_fp32},
              {"top1_fp32", r.top1_fp32},
              {"top5_fp32", r.top5_fp32},
              {"num_classes", r.num_classes},
              {"calib_images", r.calib_images},
              {"nonfinite", {{"weights", r.nonfinite_weights},
                             {"pixels", r.nonfinite_pixels},
                             {"images", r.nonfinite_images},
                             {"logits", r.nonfinite_logits},
                             {"logits_fp32", r.nonfinite_logits_fp32}}},
              {"layers", layers},
              {"images_per_second", ips(r.seconds)},
              {"images_per_second_quantized", ips(r.quantized_seconds)},
              {"images_per_second_fp32", ips(r.fp32_seconds)},
              {"images_per_cpu_second_quantized", ips(r.quantized_cpu_seconds)},
              {"images_per_cpu_second_fp32", ips(r.fp32_cpu_seconds)},
              {"seconds", r.seconds},
              {"seconds_quantized", r.quantized_seconds},
              {"seconds_fp32", r.fp32_seconds},
              {"seconds_read", r.read_seconds},
              {"seconds_calibration", r.calib_seconds}};
}

}  // namespace ffp8::explore
