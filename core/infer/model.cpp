// Model reader (layouts 1 and 2): root attributes, /graph JSON against the op table (op_table.cpp),
// parameters, and a shape-inference pass (shape.cpp) that must reproduce every stored shape.
#include "core/infer/model.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "core/errors.hpp"
#include "core/io/h5.hpp"
#include "core/io/json_reader.hpp"
#include "core/io/layout.hpp"

namespace ffp8::infer {

using nlohmann::json;

std::int64_t numel(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

std::string shape_text(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

int Model::find(std::string_view n) const {
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name == n) return static_cast<int>(i);
  return -1;
}

namespace {

std::string op_names() {
  std::string s;
  for (const auto& o : op_table()) s += (s.empty() ? "" : ", ") + std::string(o.name);
  return s;
}

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw ModelError(fmt::format("{}: {}", where, what));
}

constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();

int int_attr(const JsonNode& a, const char* key, std::int64_t lo = -kIntMax) {
  return static_cast<int>(a.at(key).as_int(lo, kIntMax));
}

std::array<int, 2> pair_attr(const JsonNode& a, const char* key, std::int64_t lo) {
  const auto v = a.at(key).as_int_array(2, lo, kIntMax);
  return {static_cast<int>(v[0]), static_cast<int>(v[1])};
}

// Reads the op's attributes (their presence and the absence of others were checked before),
// every integer range-checked: a value beyond int is an error, never wrapped.
// A list of integers >= lo (and within int range).
template <class T>
std::vector<T> int_list(const JsonNode& a, const char* key, std::int64_t lo) {
  const JsonNode v = a.at(key);
  if (!v.is_array()) v.fail(fmt::format("expected a list of integers, got {}", describe(v.json())));
  std::vector<T> out;
  for (std::size_t i = 0; i < v.size(); ++i) out.push_back(static_cast<T>(v.at(i).as_int(lo, kIntMax)));
  return out;
}

void read_attrs(Node& n, const JsonNode& a) {
  switch (n.op) {
    case Op::Conv2d:
      n.stride = pair_attr(a, "stride", 1);
      n.padding = pair_attr(a, "padding", 0);
      n.dilation = pair_attr(a, "dilation", 1);
      n.groups = int_attr(a, "groups", 1);
      break;
    case Op::BatchNorm2d: n.eps = a.at("eps").as_double(0); break;
    case Op::MaxPool2d:
      n.kernel = pair_attr(a, "kernel_size", 1);
      n.stride = pair_attr(a, "stride", 1);
      n.padding = pair_attr(a, "padding", 0);
      n.dilation = pair_attr(a, "dilation", 1);
      n.ceil_mode = a.at("ceil_mode").as_bool();
      break;
    case Op::AvgPool2d:
      n.kernel = pair_attr(a, "kernel_size", 1);
      n.stride = pair_attr(a, "stride", 1);
      n.padding = pair_attr(a, "padding", 0);
      n.ceil_mode = a.at("ceil_mode").as_bool();
      n.count_include_pad = a.at("count_include_pad").as_bool();
      if (!a.at("divisor_override").is_null()) {
        n.divisor_override = int_attr(a, "divisor_override");
        if (*n.divisor_override == 0) a.at("divisor_override").fail("expected a non-zero integer or null, got 0");
      }
      break;
    case Op::AdaptiveAvgPool2d: n.output_size = pair_attr(a, "output_size", 1); break;
    case Op::Cat:
    case Op::Softmax: n.dim = int_attr(a, "dim"); break;
    case Op::Flatten:
      n.start_dim = int_attr(a, "start_dim");
      n.end_dim = int_attr(a, "end_dim");
      break;
    case Op::Gelu: n.gelu_tanh = a.at("approximate").as_choice({"none", "tanh"}) == "tanh"; break;
    case Op::LayerNorm:
      n.normalized_dims = int_attr(a, "normalized_dims", 1);
      n.eps = a.at("eps").as_double(0);
      break;
    case Op::Mean:
      n.dims = int_list<int>(a, "dims", 1);
      n.keepdim = a.at("keepdim").as_bool();
      break;
    case Op::Reshape: n.target = int_list<std::int64_t>(a, "shape", 1); break;
    case Op::Permute: n.dims = int_list<int>(a, "dims", 0); break;
    case Op::Slice:
      n.dims = int_list<int>(a, "dims", 1);
      n.starts = int_list<std::int64_t>(a, "starts", 0);
      n.ends = int_list<std::int64_t>(a, "ends", 0);
      n.steps = int_list<std::int64_t>(a, "steps", 1);
      break;
    case Op::Pad:
      n.before = int_list<std::int64_t>(a, "before", 0);
      n.after = int_list<std::int64_t>(a, "after", 0);
      n.pad_value = a.at("value").as_double();
      break;
    case Op::Roll:
      n.shifts = int_list<std::int64_t>(a, "shifts", -kIntMax);
      n.dims = int_list<int>(a, "dims", 1);
      break;
    default: break;
  }
}

}  // namespace

namespace {

// One node of /graph (keys of docs/hdf5-layout.md; other keys are ignored, as the layout allows).
Node read_node(const JsonNode& j, const std::map<std::string, int>& ids, const std::string& file, std::int64_t layout) {
  static const std::regex name_re("[A-Za-z_][A-Za-z0-9_]*");
  for (const char* k : {"name", "op", "inputs", "outputs", "params", "attrs", "shape"}) j.require(k);
  Node n;
  n.name = j.at("name").as_string();
  if (!std::regex_match(n.name, name_re))
    j.at("name").fail(fmt::format("node name \"{}\" does not match [A-Za-z_][A-Za-z0-9_]*", n.name));
  // From here on, messages name the node too.
  const JsonNode node(j.json(), j.path(), fmt::format("'{}' node '{}'", file, n.name));
  const std::string opname = node.at("op").as_string();
  const auto op = parse_op(opname);
  if (!op) node.at("op").fail(fmt::format("unknown op '{}' (layout {} knows {})", opname, h5::kModelLayout, op_names()));
  n.op = *op;
  const OpInfo& info = op_info(n.op);
  if (info.since > layout)
    node.at("op").fail(fmt::format("op '{}' needs layout {}, the file is layout {}", info.name, info.since, layout));
  if (node.at("outputs").json() != json::array({n.name})) node.at("outputs").fail(fmt::format("expected [\"{}\"]", n.name));
  if (ids.count(n.name)) node.at("name").fail(fmt::format("tensor name \"{}\" is defined twice", n.name));
  const JsonNode inputs = node.at("inputs");
  if (!inputs.is_array() || (info.inputs < 0 && inputs.size() == 0) ||
      (info.inputs >= 0 && inputs.size() != static_cast<std::size_t>(info.inputs)))
    inputs.fail(fmt::format("op '{}' takes {} input(s), got {}", info.name,
                            info.inputs >= 0 ? std::to_string(info.inputs) : "one or more", describe(inputs.json())));
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const std::string t = inputs.at(k).as_string();
    if (!ids.count(t)) inputs.at(k).fail(fmt::format("input \"{}\" is not a graph input or an earlier node's output", t));
    n.inputs.push_back(ids.at(t));
  }
  const JsonNode attrs = node.at("attrs");
  attrs.expect_object(info.attrs);  // an unknown attribute can change semantics: refused
  for (auto k : info.attrs) attrs.require(k);
  read_attrs(n, attrs);
  const JsonNode params = node.at("params");
  params.expect_object(info.params);
  for (auto k : info.required) params.require(k);
  auto path_of = [&](const char* k) { return params.has(k) ? params.at(k).as_string() : std::string(); };
  n.weight.path = path_of("weight");
  n.bias.path = path_of("bias");
  n.mean.path = path_of("mean");
  n.var.path = path_of("var");
  n.value.path = path_of("value");
  const JsonNode shape = node.at("shape");
  if (!shape.is_array()) shape.fail(fmt::format("expected a list of positive integers, got {}", describe(shape.json())));
  for (std::size_t k = 0; k < shape.size(); ++k) n.shape.push_back(shape.at(k).as_int(1));
  return n;
}

}  // namespace

void parse_graph(const std::string& text, Model& m, const std::string& file) {
  json g;
  try {
    g = json::parse(text);
  } catch (const json::exception& e) {  // parse errors, and numbers no double holds (1e309)
    bad(fmt::format("'{}'", file), fmt::format("/graph is not valid JSON ({})", e.what()));
  }
  try {  // the JSON reader's errors are ModelErrors here: the graph is part of the model file
    const JsonNode top(g, "/graph", fmt::format("'{}'", file));
    top.expect_any_object();
    for (const char* k : {"inputs", "outputs", "nodes"})
      if (!top.at(k).is_array()) top.at(k).fail(fmt::format("expected a list, got {}", describe(top.at(k).json())));
    if (top.at("inputs").size() != 1 || top.at("outputs").size() != 1)
      top.fail("must have exactly one input and one output");
    m.input_name = top.at("inputs").at(std::size_t{0}).as_string();
    std::map<std::string, int> ids{{m.input_name, 0}};
    m.nodes.clear();
    const JsonNode nodes = top.at("nodes");
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      Node n = read_node(nodes.at(i), ids, file, m.layout);
      ids[n.name] = static_cast<int>(m.nodes.size()) + 1;
      m.nodes.push_back(std::move(n));
    }
    const JsonNode outputs = top.at("outputs");
    const std::string out = outputs.at(std::size_t{0}).as_string();
    if (!ids.count(out) || ids.at(out) == 0) outputs.at(std::size_t{0}).fail(fmt::format("output '{}' is not a node's output", out));
    m.output = ids.at(out);
  } catch (const ConfigError& e) {
    throw ModelError(e.what());
  }
}

namespace {

const char* param_role(Op op, const Tensor& t, const Node& n) {
  if (op == Op::Constant) return "constant";
  if (op == Op::LayerNorm) return &t == &n.weight ? "ln_weight" : "ln_bias";
  if (op != Op::BatchNorm2d) return &t == &n.weight ? "weight" : "bias";
  if (&t == &n.mean) return "bn_mean";
  if (&t == &n.var) return "bn_var";
  return &t == &n.weight ? "bn_weight" : "bn_bias";
}

void load_param(const h5::File& f, const Node& n, Tensor& t) {
  if (t.path.empty()) return;
  const std::string where = fmt::format("'{}': dataset {} (param of node '{}')", f.path(), t.path, n.name);
  if (!f.exists(t.path)) bad(where, "is missing");
  const h5::DatasetInfo info = f.info(t.path);
  if (info.dtype != h5::DType::Float32)
    bad(where, fmt::format("must be float32, found {}", h5::dtype_name(info.dtype, info.elem_bytes)));
  const auto role = f.get_string_attr(t.path, "role");
  const char* want = param_role(n.op, t, n);
  if (role && *role != want) bad(where, fmt::format("has role '{}', expected '{}'", *role, want));
  if (info.size() > h5::kMaxWholeReadElements)
    bad(where, fmt::format("has {} elements, more than the {} a parameter may have", info.size(), h5::kMaxWholeReadElements));
  if (info.unwritten) bad(where, "was never written in full (part of its storage is not allocated)");
  t.shape.assign(info.shape.begin(), info.shape.end());
  t.data.resize(info.size());
  f.read(t.path, 0, std::span<float>(t.data));
}

}  // namespace

Model read_model(const std::string& path) {
  const h5::File f = h5::File::open(path);
  Model m;
  m.path = path;
  const auto layout = h5::layout_version(f, h5::FileLayout::Model);
  if (!layout) bad(fmt::format("'{}'", path), "root attribute 'ffp8_layout' is missing (not an ffp8 model file?)");
  m.layout = *layout;
  const auto shape = f.get_int_array_attr("/", "input_shape");
  constexpr std::int64_t kDimMax = std::int64_t{1} << 20;  // sane limits, checked before any allocation
  if (!shape || shape->size() != 3 || *std::min_element(shape->begin(), shape->end()) < 1 ||
      *std::max_element(shape->begin(), shape->end()) > kDimMax || (*shape)[0] * (*shape)[1] * (*shape)[2] > (kDimMax << 10))
    bad(fmt::format("'{}'", path),
        "root attribute 'input_shape' must be three positive integers [C, H, W], each at most 2^20 and at most 2^30 "
        "values in all");
  m.input_shape.assign(shape->begin(), shape->end());
  const auto classes = f.get_int_array_attr("/", "num_classes");
  if (!classes || classes->size() != 1 || (*classes)[0] < 1 || (*classes)[0] > (std::int64_t{1} << 24))
    bad(fmt::format("'{}'", path), "root attribute 'num_classes' must be a positive integer of at most 2^24");
  m.num_classes = (*classes)[0];
  if (const auto folded = f.get_int_array_attr("/", "bn_folded"); folded && folded->size() == 1) m.bn_folded = (*folded)[0] != 0;
  m.name = f.get_string_attr("/", "model_name").value_or("");
  if (!f.exists("/graph")) bad(fmt::format("'{}'", path), "dataset /graph is missing");
  parse_graph(f.read_string("/graph"), m, path);

  std::vector<Shape> shapes{m.input_shape};
  for (Node& n : m.nodes) {
    for (Tensor* t : {&n.weight, &n.bias, &n.mean, &n.var, &n.value}) load_param(f, n, *t);
    std::vector<Shape> in;
    for (int id : n.inputs) in.push_back(shapes[static_cast<std::size_t>(id)]);
    const Shape got = infer_shape(n, in, path);
    if (got != n.shape)
      bad(fmt::format("'{}': /graph node '{}'", path, n.name),
          fmt::format("stored output shape {} differs from the inferred {} (input {})", shape_text(n.shape),
                      shape_text(got), in.empty() ? std::string("none") : shape_text(in[0])));
    shapes.push_back(got);
  }
  if (m.tensor_shape(m.output) != Shape{m.num_classes})
    bad(fmt::format("'{}'", path), fmt::format("graph output shape {} does not match num_classes {}",
                                               shape_text(m.tensor_shape(m.output)), m.num_classes));
  return m;
}

Model fold_batchnorm(const Model& src) {
  std::vector<int> users(src.nodes.size() + 1, 0);
  for (const Node& n : src.nodes)
    for (int id : n.inputs) ++users[static_cast<std::size_t>(id)];
  ++users[static_cast<std::size_t>(src.output)];
  Model m = src;
  m.nodes.clear();
  std::vector<int> remap(src.nodes.size() + 1, 0);  // old tensor id -> new tensor id
  for (std::size_t i = 0; i < src.nodes.size(); ++i) {
    Node n = src.nodes[i];
    for (int& id : n.inputs) id = remap[static_cast<std::size_t>(id)];
    const int in = n.inputs.empty() ? 0 : n.inputs[0];
    if (n.op == Op::BatchNorm2d && in > 0 && m.nodes[static_cast<std::size_t>(in - 1)].op == Op::Conv2d &&
        users[static_cast<std::size_t>(src.find(m.nodes[static_cast<std::size_t>(in - 1)].name) + 1)] == 1) {
      Node& c = m.nodes[static_cast<std::size_t>(in - 1)];
      const std::int64_t co = c.weight.shape[0], per = numel(c.weight.shape) / co;
      if (c.bias.empty()) {
        c.bias.path = fmt::format("/params/{}/bias", c.name);
        c.bias.shape = {co};
        c.bias.data.assign(static_cast<std::size_t>(co), 0.0f);
      }
      for (std::int64_t o = 0; o < co; ++o) {
        const auto u = static_cast<std::size_t>(o);
        const double g = double(n.weight.data[u]) / std::sqrt(double(n.var.data[u]) + n.eps);
        for (std::int64_t k = 0; k < per; ++k) {
          float& w = c.weight.data[static_cast<std::size_t>(o * per + k)];
          w = static_cast<float>(double(w) * g);
        }
        c.bias.data[u] = static_cast<float>((double(c.bias.data[u]) - double(n.mean.data[u])) * g + double(n.bias.data[u]));
      }
      remap[i + 1] = in;
      continue;
    }
    m.nodes.push_back(std::move(n));
    remap[i + 1] = static_cast<int>(m.nodes.size());
  }
  m.output = remap[static_cast<std::size_t>(src.output)];
  m.bn_folded = true;
  return m;
}

}  // namespace ffp8::infer
