// Format choices, the fit-bias rule and their resolution into a per-layer plan.
#include "core/infer/assignment.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/errors.hpp"
#include "core/format/fit.hpp"
#include "core/quant/quantize.hpp"

namespace ffp8::infer {

FormatChoice FormatChoice::parse(std::string_view text) {
  FormatChoice c;
  if (text == "float32") return c;
  if (text.substr(0, 4) == "fit:") {
    const std::string layout(text.substr(4));
    c.kind = Kind::Fit;
    // "s1e4m3" or "s1e4m3-fn": give it a placeholder bias so the format parser checks the rest.
    const auto dash = layout.find('-');
    const std::string head = layout.substr(0, dash), tail = dash == std::string::npos ? "" : layout.substr(dash);
    if (head.find('b') != std::string::npos)
      throw FormatError(fmt::format("'{}': a fit layout has no bias (the fit rule chooses it per layer), e.g. 'fit:{}'",
                                    text, head.substr(0, head.find('b')) + tail));
    try {
      c.format = Format::parse(head + "b0" + tail);
    } catch (const FormatError&) {
      try {
        c.format = Format::parse(layout);  // a preset alias: its layout, bias chosen by fit
      } catch (const FormatError&) {
        throw FormatError(fmt::format("'{}' is not a format choice: after 'fit:' give a layout such as 's1e4m3' or "
                                      "'s0e4m4-nosub' (sign, exp, man, optional suffixes)", text));
      }
    }
    return c;
  }
  c.kind = Kind::Fixed;
  try {
    c.format = Format::parse(text);
  } catch (const FormatError& e) {
    throw FormatError(fmt::format("{} (a format choice is 'float32', a format name or preset, or 'fit:LAYOUT')",
                                  e.what()));
  }
  return c;
}

std::string FormatChoice::text() const {
  switch (kind) {
    case Kind::Float32: return "float32";
    case Kind::Fixed: return format.name();
    case Kind::Fit: {
      // The canonical name without its "b<bias>" part.
      std::string n = format.name();
      const auto b = n.find('b');
      auto end = n.find('-', b + 2);  // a negative bias has its '-' right after 'b'
      return "fit:" + n.substr(0, b) + (end == std::string::npos ? "" : n.substr(end));
    }
  }
  return "float32";
}

LayerChoice Assignment::for_node(const std::string& name) const {
  const auto it = overrides.find(name);
  return it != overrides.end() ? it->second : LayerChoice{weight, activation};
}

void RangeStats::add(const float* x, std::size_t n) {
  float ma = 0.0f, mp = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (!std::isfinite(v)) continue;
    ma = std::max(ma, std::abs(v));
    mp = std::max(mp, v);
  }
  max_abs = std::max(max_abs, double(ma));
  max_positive = std::max(max_positive, double(mp));
  count += n;
}

bool needs_calibration(const Assignment& a) {
  if (a.activation.kind == FormatChoice::Kind::Fit) return true;
  return std::any_of(a.overrides.begin(), a.overrides.end(),
                     [](const auto& kv) { return kv.second.activation.kind == FormatChoice::Kind::Fit; });
}

namespace {

Format with_bias(const Format& layout, int b, const std::string& node, const char* role, double a) {
  Format f = layout;
  f.bias = b;
  try {
    f.validate();
  } catch (const FormatError& e) {
    throw FormatError(fmt::format("node '{}': the fit bias {} for its {} (max {:.6g}) gives an invalid format: {}",
                                  node, b, role, a, e.what()));
  }
  return f;
}

void require_fast(const Format& f, const std::string& node, const char* role) {
  if (!Quantizer(f).fast_path())
    throw FormatError(fmt::format("node '{}': {} format '{}' has values that are not float32 numbers (max {:.6g}, "
                                  "min positive {:.6g}); the inference engine emulates in float32",
                                  node, role, f.name(), f.max_value(), f.min_positive()));
}

}  // namespace

QuantPlan resolve_plan(const Model& model, const Assignment& assignment, const std::map<std::string, RangeStats>* calib,
                       bool per_channel) {
  for (const auto& [name, choice] : assignment.overrides) {
    const int i = model.find(name);
    if (i < 0 || !is_quantizable(model.nodes[static_cast<std::size_t>(i)].op)) {
      std::string known;
      for (const Node& n : model.nodes)
        if (is_quantizable(n.op)) known += (known.empty() ? "" : ", ") + n.name;
      throw ConfigError(fmt::format("/formats/overrides/{}: '{}' has no conv2d or linear node of that name (its "
                                    "quantizable nodes are: {})", name, model.path, known));
    }
  }
  QuantPlan plan;
  for (const Node& n : model.nodes) {
    if (!is_quantizable(n.op)) continue;
    LayerFormats lf;
    lf.node = n.name;
    lf.op = n.op;
    lf.choice = assignment.for_node(n.name);
    for (float w : n.weight.data) lf.weight_max_abs = std::max(lf.weight_max_abs, double(std::abs(w)));
    if (calib) {
      if (auto it = calib->find(n.name); it != calib->end()) lf.activation_range = it->second;
    }
    // weights
    const FormatChoice& wc = lf.choice.weight;
    if (wc.kind == FormatChoice::Kind::Fixed) {
      lf.weight = {wc.format};
    } else if (wc.kind == FormatChoice::Kind::Fit) {
      const std::int64_t co = n.weight.shape[0], per = numel(n.weight.shape) / co;
      const std::int64_t groups = per_channel ? co : 1;
      const std::int64_t len = numel(n.weight.shape) / groups;
      for (std::int64_t c = 0; c < groups; ++c) {
        RangeStats r;
        r.add(n.weight.data.data() + c * len, static_cast<std::size_t>(len));
        const double a = r.fit_a(wc.format.sign);
        lf.weight.push_back(with_bias(wc.format, fit_bias(wc.format, a), n.name, "weight", a));
      }
      (void)per;
    }
    // activations
    const FormatChoice& ac = lf.choice.activation;
    if (ac.kind == FormatChoice::Kind::Fixed) {
      lf.activation = ac.format;
    } else if (ac.kind == FormatChoice::Kind::Fit) {
      if (!lf.activation_range)
        throw ConfigError(fmt::format("node '{}': activation format '{}' needs calibration statistics of its input "
                                      "(set \"calib\" to a positive number of images)", n.name, ac.text()));
      const double a = lf.activation_range->fit_a(ac.format.sign);
      lf.activation = with_bias(ac.format, fit_bias(ac.format, a), n.name, "activation", a);
    }
    for (const Format& f : lf.weight) require_fast(f, n.name, "weight");
    if (lf.activation) require_fast(*lf.activation, n.name, "activation");
    plan.push_back(std::move(lf));
  }
  return plan;
}

}  // namespace ffp8::infer
