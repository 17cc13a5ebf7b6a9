// Bad input to the model reader: each is a typed error whose message names the file and the
// attribute, node, op, JSON path or shapes at fault.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "core/infer/model.hpp"
#include "core/io/h5.hpp"
#include "tests/core/infer/test_util.hpp"

namespace ffp8::infer {
namespace {

using nlohmann::json;
using test::expect_error;

// A graph of one linear node over an input of 4 features, with the node JSON patched by `edit`.
std::string graph_text(const std::function<void(json&)>& edit = {}) {
  json node = {{"name", "fc"}, {"op", "linear"}, {"inputs", {"x"}}, {"outputs", {"fc"}}, {"shape", {3}},
               {"module", "fc"}, {"params", {{"weight", "/params/fc/weight"}}}, {"attrs", json::object()}};
  if (edit) edit(node);
  return json{{"inputs", {"x"}}, {"outputs", {"fc"}}, {"nodes", {node}}}.dump();
}

Model empty_model() {
  Model m;
  m.input_shape = {4};
  return m;
}

TEST(InferErrors, UnknownOpNamesFileNodeAndOp) {
  Model m = empty_model();
  expect_error<ModelError>([&] { parse_graph(graph_text([](json& n) { n["op"] = "sine"; }), m, "m.h5"); },
                           {"'m.h5' node 'fc': /graph/nodes/0/op: unknown op 'sine'"});
  // An op of layout 2 in a file that says layout 1.
  m.layout = 1;
  expect_error<ModelError>(
      [&] { parse_graph(graph_text([](json& n) { n["op"] = "sigmoid"; n["params"] = json::object(); }), m, "m.h5"); },
      {"'m.h5' node 'fc': /graph/nodes/0/op: op 'sigmoid' needs layout 2, the file is layout 1"});
}

TEST(InferErrors, UnknownAttributeAndMissingParamAndBadTopology) {
  Model m = empty_model();
  expect_error<ModelError>([&] { parse_graph(graph_text([](json& n) { n["attrs"]["alpha"] = 1; }), m, "m.h5"); },
                           {"'m.h5' node 'fc': /graph/nodes/0/attrs/alpha: unknown key \"alpha\""});
  expect_error<ModelError>([&] { parse_graph(graph_text([](json& n) { n["params"] = json::object(); }), m, "m.h5"); },
                           {"'fc'", "/graph/nodes/0/params: missing key \"weight\""});
  expect_error<ModelError>([&] { parse_graph(graph_text([](json& n) { n["inputs"] = {"y"}; }), m, "m.h5"); },
                           {"'fc'", "/graph/nodes/0/inputs/0", "\"y\"", "earlier"});
  expect_error<ModelError>([&] { parse_graph("{not json", m, "m.h5"); }, {"m.h5", "JSON"});
  EXPECT_NO_THROW(parse_graph(graph_text(), m, "m.h5"));
  EXPECT_EQ(m.nodes.size(), 1u);
}

// Integer attributes are range-checked: a value beyond int is an error, never wrapped (a stride
// of 2^32 + 2 must not be read as 2).
TEST(InferErrors, IntegerAttributesAreRangeChecked) {
  Model m = empty_model();
  const auto conv = [](const json& attrs) {
    return [attrs](json& n) {
      n["op"] = "conv2d";
      n["attrs"] = attrs;
    };
  };
  const json ok = {{"stride", {1, 1}}, {"padding", {0, 0}}, {"dilation", {1, 1}}, {"groups", 1}};
  json wide = ok;
  wide["stride"] = {4294967298LL, 1};
  expect_error<ModelError>([&] { parse_graph(graph_text(conv(wide)), m, "m.h5"); },
                           {"/graph/nodes/0/attrs/stride/0: 4294967298 is out of range [1, 2147483647]"});
  json groups = ok;
  groups["groups"] = 0;
  expect_error<ModelError>([&] { parse_graph(graph_text(conv(groups)), m, "m.h5"); },
                           {"/graph/nodes/0/attrs/groups: 0 is out of range"});
  json pad = ok;
  pad["padding"] = {1};
  expect_error<ModelError>([&] { parse_graph(graph_text(conv(pad)), m, "m.h5"); },
                           {"/graph/nodes/0/attrs/padding: expected a list of 2 integers"});
  json huge = ok;
  huge["groups"] = 18446744073709551615ULL;
  expect_error<ModelError>([&] { parse_graph(graph_text(conv(huge)), m, "m.h5"); }, {"/graph/nodes/0/attrs/groups", "out of range"});
  json missing = ok;
  missing.erase("dilation");
  expect_error<ModelError>([&] { parse_graph(graph_text(conv(missing)), m, "m.h5"); },
                           {"/graph/nodes/0/attrs: missing key \"dilation\""});
}

// Shape inference of the layout-2 ops refuses what PyTorch would refuse, naming the node.
TEST(InferErrors, LayoutTwoShapeRules) {
  auto node = [](Op op, const std::function<void(Node&)>& set) {
    Node n;
    n.name = "n";
    n.op = op;
    set(n);
    return n;
  };
  const Shape x{3, 4, 5};
  EXPECT_EQ(infer_shape(node(Op::Permute, [](Node& n) { n.dims = {0, 3, 1, 2}; }), {x}, "m.h5"), (Shape{5, 3, 4}));
  expect_error<ModelError>([&] { infer_shape(node(Op::Permute, [](Node& n) { n.dims = {1, 0, 2, 3}; }), {x}, "m.h5"); },
                           {"m.h5", "'n'", "batch"});
  EXPECT_EQ(infer_shape(node(Op::Slice, [](Node& n) { n.dims = {2}; n.starts = {1}; n.ends = {4}; n.steps = {2}; }), {x}, "m.h5"),
            (Shape{3, 2, 5}));
  expect_error<ModelError>(
      [&] { infer_shape(node(Op::Slice, [](Node& n) { n.dims = {2}; n.starts = {1}; n.ends = {9}; n.steps = {1}; }), {x}, "m.h5"); },
      {"'n'", "size 4"});
  expect_error<ModelError>([&] { infer_shape(node(Op::Reshape, [](Node& n) { n.target = {7}; }), {x}, "m.h5"); },
                           {"'n'", "60"});
  EXPECT_EQ(infer_shape(node(Op::Mul, [](Node&) {}), {x, Shape{4, 1}}, "m.h5"), x);
  expect_error<ModelError>([&] { infer_shape(node(Op::Add, [](Node&) {}), {x, Shape{3, 1}}, "m.h5"); },
                           {"'n'", "do not broadcast"});
  EXPECT_EQ(infer_shape(node(Op::MatMul, [](Node&) {}), {Shape{2, 4, 5}, Shape{1, 5, 7}}, "m.h5"), (Shape{2, 4, 7}));
  expect_error<ModelError>([&] { infer_shape(node(Op::MatMul, [](Node&) {}), {Shape{4, 5}, Shape{4, 5}}, "m.h5"); },
                           {"'n'", "not matrices"});
  EXPECT_EQ(infer_shape(node(Op::Mean, [](Node& n) { n.dims = {1, 3}; }), {x}, "m.h5"), (Shape{4}));
  EXPECT_EQ(infer_shape(node(Op::Mean, [](Node& n) { n.dims = {2}; n.keepdim = true; }), {x}, "m.h5"), (Shape{3, 1, 5}));
  EXPECT_EQ(infer_shape(node(Op::Pad, [](Node& n) { n.before = {0, 1, 2}; n.after = {0, 0, 3}; }), {x}, "m.h5"),
            (Shape{3, 5, 10}));
  expect_error<ModelError>([&] { infer_shape(node(Op::Softmax, [](Node& n) { n.dim = 0; }), {x}, "m.h5"); },
                           {"'n'", "dim 0", "batch"});
  expect_error<ModelError>([&] { infer_shape(node(Op::LayerNorm, [](Node& n) { n.normalized_dims = 4; }), {x}, "m.h5"); },
                           {"'n'", "normalized_dims 4"});
}

TEST(InferErrors, OpTableIsClosedAndComplete) {
  for (const OpInfo& o : op_table()) {
    ASSERT_TRUE(parse_op(o.name).has_value()) << o.name;
    EXPECT_EQ(*parse_op(o.name), o.op);
    EXPECT_EQ(&op_info(o.op), &o);
  }
  EXPECT_FALSE(parse_op("sine").has_value());
  // Layout 1 is exactly the ops before Constant; every op of layout 2 comes after.
  for (const OpInfo& o : op_table()) EXPECT_EQ(o.since, o.op < Op::Constant ? 1 : 2) << o.name;
}

TEST(InferErrors, LayoutVersionMissingOrUnknown) {
  test::TempDir dir;
  const std::string path = (dir.path() / "v2.h5").string();
  {
    h5::File f = h5::File::create(path);
    f.set_attr("/", "model_name", "x");
  }
  expect_error<ModelError>([&] { (void)read_model(path); }, {path, "ffp8_layout", "missing"});
  {
    h5::File f = h5::File::open_rw(path);
    f.set_attr("/", "ffp8_layout", std::int64_t{3});
  }
  expect_error<ModelError>([&] { (void)read_model(path); }, {path, "ffp8_layout", "= 3", "layouts 1 to 2"});
  {
    h5::File f = h5::File::open_rw(path);
    f.set_attr("/", "ffp8_layout", "1");
  }
  expect_error<ModelError>([&] { (void)read_model(path); }, {path, "ffp8_layout", "integer"});
  expect_error<IoError>([&] { (void)read_model((dir.path() / "none.h5").string()); }, {"none.h5"});
}

}  // namespace
}  // namespace ffp8::infer
