// Format choices, the fit-bias rule and their resolution into a per-layer plan.
#include "core/infer/assignment.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "core/errors.hpp"
#include "core/format/fit.hpp"
#include "core/quant/quantize.hpp"

namespace ffp8::infer {

FormatChoice FormatChoice::parse(std::string_view text) {
  FormatChoice c;
  if (text == "float32") return c;
  if (text == "int8") {
    c.kind = Kind::Int8;
    return c;
  }
  if (text.substr(0, 9) == "fit:auto:") {
    // "fit:auto:eE": the signed 8-bit template s1eEm(7-E); its unsigned twin must be valid too.
    const std::string e(text.substr(9));
    const bool digits = e.size() >= 2 && e[0] == 'e' && e.find_first_not_of("0123456789", 1) == std::string::npos;
    const int exp = digits && e.size() <= 3 ? std::stoi(e.substr(1)) : 0;
    c.kind = Kind::Fit;
    c.auto_sign = true;
    try {
      if (exp < 1 || exp > 7) throw FormatError("bad exponent width");
      c.format = Format::parse(fmt::format("s1e{}m{}b0", exp, 7 - exp));
      c.template_for(false).validate();
    } catch (const FormatError&) {
      throw FormatError(fmt::format("'{}' is not a format choice: 'fit:auto:' takes an exponent width of an 8-bit "
                                    "format, 'e1'..'e7' (e.g. 'fit:auto:e4': s0e4m4 or s1e4m3 per layer)", text));
    }
    return c;
  }
  if (text.substr(0, 4) == "fit:") {
    const std::string tmpl(text.substr(4));
    c.kind = Kind::Fit;
    // "s1e4m3" or "s1e4m3-fn": give it a placeholder bias so the format parser checks the rest.
    const auto dash = tmpl.find('-');
    const std::string head = tmpl.substr(0, dash), tail = dash == std::string::npos ? "" : tmpl.substr(dash);
    if (head.find('b') != std::string::npos)
      throw FormatError(fmt::format("'{}': a fit template has no bias (the fit rule chooses it per layer), e.g. 'fit:{}'",
                                    text, head.substr(0, head.find('b')) + tail));
    try {
      c.format = Format::parse(head + "b0" + tail);
    } catch (const FormatError&) {
      try {
        c.format = Format::parse(tmpl);  // a preset alias: its template, bias chosen by fit
      } catch (const FormatError&) {
        throw FormatError(fmt::format("'{}' is not a format choice: after 'fit:' give a template such as 's1e4m3' or "
                                      "'s0e4m4-nosub' (sign, exp, man, optional suffixes)", text));
      }
    }
    return c;
  }
  c.kind = Kind::Fixed;
  try {
    c.format = Format::parse(text);
  } catch (const FormatError& e) {
    throw FormatError(fmt::format("{} (a format choice is 'float32', 'int8', a format name or preset, or 'fit:TEMPLATE')",
                                  e.what()));
  }
  return c;
}

std::string FormatChoice::text() const {
  switch (kind) {
    case Kind::Float32: return "float32";
    case Kind::Int8: return "int8";
    case Kind::Fixed: return format.name();
    case Kind::Fit: {
      if (auto_sign) return fmt::format("fit:auto:e{}", format.exp);
      // The canonical name without its "b<bias>" part.
      std::string n = format.name();
      const auto b = n.find('b');
      auto end = n.find('-', b + 2);  // a negative bias has its '-' right after 'b'
      return "fit:" + n.substr(0, b) + (end == std::string::npos ? "" : n.substr(end));
    }
  }
  return "float32";
}

Format FormatChoice::template_for(bool has_negative) const {
  if (!auto_sign || has_negative) return format;
  Format f = format;  // the unsigned twin: the sign bit becomes a mantissa bit
  f.sign = 0;
  f.man += 1;
  return f;
}

LayerChoice Assignment::for_node(const std::string& name) const {
  const auto it = overrides.find(name);
  return it != overrides.end() ? it->second : LayerChoice{weight, activation};
}

void RangeStats::add(const float* x, std::size_t n) {
  float ma = 0.0f, mp = 0.0f, mn = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (!std::isfinite(v)) continue;
    ma = std::max(ma, std::abs(v));
    mp = std::max(mp, v);
    mn = std::min(mn, v);
  }
  max_abs = std::max(max_abs, double(ma));
  max_positive = std::max(max_positive, double(mp));
  min = std::min(min, double(mn));
  count += n;
}

std::string LayerFormats::weight_text() const {
  if (weight_int8) return "int8";
  if (weight.empty()) return "float32";
  return weight.size() == 1 ? weight[0].name() : fmt::format("{} per-channel formats", weight.size());
}

std::string LayerFormats::activation_text() const {
  return activation_int8 ? "int8" : activation ? activation->name() : "float32";
}

namespace {

// True when `pred` holds for the role defaults or some override.
template <class Pred>
bool any_choice(const Assignment& a, Pred pred) {
  return pred(LayerChoice{a.weight, a.activation}) ||
         std::any_of(a.overrides.begin(), a.overrides.end(), [&](const auto& kv) { return pred(kv.second); });
}

}  // namespace

bool needs_calibration(const Assignment& a) {
  using K = FormatChoice::Kind;
  return any_choice(a, [](const LayerChoice& c) { return c.activation.kind == K::Fit || c.activation.kind == K::Int8; });
}

bool uses_int8(const Assignment& a) {
  using K = FormatChoice::Kind;
  return any_choice(a, [](const LayerChoice& c) { return c.weight.kind == K::Int8 || c.activation.kind == K::Int8; });
}

namespace {

Format with_bias(const Format& tmpl, int b, const std::string& node, const char* role, double a) {
  Format f = tmpl;
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
  if (!Quantizer(f).float32_output())
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
      throw ConfigError(fmt::format("/formats/overrides/{}: '{}' has no conv2d, linear or matmul node of that name "
                                    "(its quantizable nodes are: {})", name, model.path, known));
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
      if (auto it = calib->find(n.name + ".other"); it != calib->end()) lf.other_range = it->second;
    }
    // weights (a matmul has none: both its operands take the activation role)
    const FormatChoice wc = has_weight(n.op) ? lf.choice.weight : FormatChoice{};
    if (wc.kind == FormatChoice::Kind::Fixed) {
      lf.weight = {wc.format};
    } else if (wc.kind == FormatChoice::Kind::Int8) {
      lf.weight_int8 = Int8Quantizer::for_max_abs(lf.weight_max_abs);
    } else if (wc.kind == FormatChoice::Kind::Fit) {
      // One pass gives each group's range; the sign of an auto template is chosen per tensor (from
      // the smallest value of all groups), also with per-channel biases.
      const std::int64_t groups = per_channel ? n.weight.shape[0] : 1;
      const std::int64_t len = numel(n.weight.shape) / groups;
      std::vector<RangeStats> ranges(static_cast<std::size_t>(groups));
      double min = 0.0;
      for (std::int64_t c = 0; c < groups; ++c) {
        ranges[c].add(n.weight.data.data() + c * len, static_cast<std::size_t>(len));
        min = std::min(min, ranges[c].min);
      }
      const Format tmpl = wc.template_for(min < 0);
      for (const RangeStats& r : ranges) {
        const double a = r.fit_a(tmpl.sign);
        lf.weight.push_back(with_bias(tmpl, fit_bias(tmpl, a), n.name, "weight", a));
      }
    }
    // activations: the input, and a matmul's second operand, each fitted to its own range
    const FormatChoice& ac = lf.choice.activation;
    for (int k = 0; k < quantized_inputs(n.op); ++k) {
      const std::optional<RangeStats>& range = k == 0 ? lf.activation_range : lf.other_range;
      std::optional<Format>& chosen = k == 0 ? lf.activation : lf.other;
      std::optional<Int8Quantizer>& int8 = k == 0 ? lf.activation_int8 : lf.other_int8;
      const char* role = k == 0 ? "activation" : "second operand";
      if ((ac.kind == FormatChoice::Kind::Fit || ac.kind == FormatChoice::Kind::Int8) && !range)
        throw ConfigError(fmt::format("node '{}': activation format '{}' needs calibration statistics of its {} "
                                      "(set \"calib\" to a positive number of images)", n.name, ac.text(),
                                      k == 0 ? "input" : "second operand"));
      if (ac.kind == FormatChoice::Kind::Fixed) {
        chosen = ac.format;
      } else if (ac.kind == FormatChoice::Kind::Int8) {
        int8 = Int8Quantizer::for_max_abs(range->max_abs);
      } else if (ac.kind == FormatChoice::Kind::Fit) {
        const Format tmpl = ac.template_for(range->min < 0);
        const double a = range->fit_a(tmpl.sign);
        chosen = with_bias(tmpl, fit_bias(tmpl, a), n.name, role, a);
      }
      if (chosen) require_fast(*chosen, n.name, role);
    }
    for (const Format& f : lf.weight) require_fast(f, n.name, "weight");
    plan.push_back(std::move(lf));
  }
  return plan;
}

}  // namespace ffp8::infer
