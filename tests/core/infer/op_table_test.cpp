// The op table is one closed list: every op parses to itself, and docs/ops.md carries exactly the
// table the code generates (regenerate with `build/bin/ffp8 ops --markdown`).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "core/infer/model.hpp"
#include "tests/core/infer/test_util.hpp"

namespace ffp8::infer {
namespace {

TEST(OpTable, DocsListEveryOp) {
  std::ifstream in(test::repo_root() / "docs" / "ops.md");
  ASSERT_TRUE(in) << "docs/ops.md is missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str(), begin = "<!-- op table: ffp8 ops --markdown -->\n", end = "<!-- end of op table -->";
  const auto a = doc.find(begin), b = doc.find(end);
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_EQ(doc.substr(a + begin.size(), b - a - begin.size()), op_table_markdown())
      << "docs/ops.md's op table is stale: replace it by the output of `build/bin/ffp8 ops --markdown`";
}

TEST(OpTable, QuantizedOpsAndTheirOperands) {
  for (const OpInfo& o : op_table()) {
    const bool q = o.op == Op::Conv2d || o.op == Op::Linear || o.op == Op::MatMul;
    EXPECT_EQ(is_quantizable(o.op), q) << o.name;
    EXPECT_EQ(quantized_inputs(o.op), o.op == Op::MatMul ? 2 : q ? 1 : 0) << o.name;
    EXPECT_EQ(has_weight(o.op), q && o.op != Op::MatMul) << o.name;
    EXPECT_FALSE(o.semantics.empty()) << o.name;
  }
}

// The elementwise mark (shape inference returns the input's shape, the engine may run in place)
// is on exactly the one-input functions of a value, none of which has params or attributes other
// than gelu's choice of formula.
TEST(OpTable, ElementwiseOps) {
  const std::vector<Op> expected{Op::Relu, Op::Relu6, Op::Sigmoid, Op::Tanh,
                                 Op::Silu, Op::Hardsigmoid, Op::Hardswish, Op::Gelu};
  std::vector<Op> marked;
  for (const OpInfo& o : op_table()) {
    if (!o.elementwise) continue;
    marked.push_back(o.op);
    EXPECT_EQ(o.inputs, 1) << o.name;
    EXPECT_TRUE(o.params.empty()) << o.name;
    EXPECT_TRUE(o.attrs.empty() || o.op == Op::Gelu) << o.name;
  }
  EXPECT_EQ(marked, expected);
}

}  // namespace
}  // namespace ffp8::infer
