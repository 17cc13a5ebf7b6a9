// The closed op table: one row per Op, in enum order. The reader checks graphs against it, the
// engine dispatches on it, tests iterate it and docs/ops.md is generated from it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "core/infer/model.hpp"

namespace ffp8::infer {

const std::vector<OpInfo>& op_table() {
  static const std::vector<OpInfo> table = {
      {Op::Conv2d, "conv2d", {"stride", "padding", "dilation", "groups"}, {"weight", "bias"}, {"weight"}, 1, 1, {0},
       "2-D cross-correlation of [N,Ci,H,W] with weight [Co,Ci/groups,kH,kW], zero padding"},
      {Op::Linear, "linear", {}, {"weight", "bias"}, {"weight"}, 1, 1, {0},
       "y = x W^T + b over the last dimension of x [N,...,F], weight [O,F]"},
      {Op::BatchNorm2d, "batchnorm2d", {"eps"}, {"mean", "var", "weight", "bias"}, {"mean", "var", "weight", "bias"},
       1, 1, {}, "(x - mean) / sqrt(var + eps) * weight + bias per channel of [N,C,H,W]"},
      {Op::Relu, "relu", {}, {}, {}, 1, 1, {}, "max(x, 0)", true},
      {Op::Relu6, "relu6", {}, {}, {}, 1, 1, {}, "min(max(x, 0), 6)", true},
      {Op::MaxPool2d, "maxpool2d", {"kernel_size", "stride", "padding", "dilation", "ceil_mode"}, {}, {}, 1, 1, {},
       "max over windows of [N,C,H,W], -inf padding"},
      {Op::AvgPool2d, "avgpool2d",
       {"kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"}, {}, {}, 1, 1, {},
       "mean over windows of [N,C,H,W]"},
      {Op::AdaptiveAvgPool2d, "adaptive_avgpool2d", {"output_size"}, {}, {}, 1, 1, {},
       "mean over output_size cells of [N,C,H,W] ([1,1]: global average pool)"},
      {Op::Add, "add", {}, {}, {}, 2, 1, {}, "a + b, per-image shapes broadcast (numpy rules; layout 1: equal shapes)"},
      {Op::Cat, "cat", {"dim"}, {}, {}, -1, 1, {}, "concatenation along dim (>= 1)"},
      {Op::Flatten, "flatten", {"start_dim", "end_dim"}, {}, {}, 1, 1, {}, "dimensions start_dim..end_dim merged"},
      {Op::Constant, "constant", {}, {"value"}, {"value"}, 0, 2, {},
       "the tensor `value` (its dataset shape is the per-image shape), the same for every image"},
      {Op::Sub, "sub", {}, {}, {}, 2, 2, {}, "a - b, broadcast as add"},
      {Op::Mul, "mul", {}, {}, {}, 2, 2, {}, "a * b, broadcast as add"},
      {Op::Div, "div", {}, {}, {}, 2, 2, {}, "a / b, broadcast as add"},
      {Op::Sigmoid, "sigmoid", {}, {}, {}, 1, 2, {}, "1 / (1 + exp(-x))", true},
      {Op::Tanh, "tanh", {}, {}, {}, 1, 2, {}, "tanh(x)", true},
      {Op::Silu, "silu", {}, {}, {}, 1, 2, {}, "x * sigmoid(x)", true},
      {Op::Hardsigmoid, "hardsigmoid", {}, {}, {}, 1, 2, {}, "min(max(x + 3, 0), 6) / 6", true},
      {Op::Hardswish, "hardswish", {}, {}, {}, 1, 2, {}, "x * min(max(x + 3, 0), 6) / 6", true},
      {Op::Gelu, "gelu", {"approximate"}, {}, {}, 1, 2, {},
       "\"none\": x/2 (1 + erf(x / sqrt 2)); \"tanh\": x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))", true},
      {Op::Softmax, "softmax", {"dim"}, {}, {}, 1, 2, {}, "exp(x) / sum exp(x) along dim (>= 1)"},
      {Op::LayerNorm, "layernorm", {"normalized_dims", "eps"}, {"weight", "bias"}, {}, 1, 2, {},
       "(x - mean) / sqrt(var + eps) * weight + bias over the last normalized_dims dimensions"},
      {Op::Mean, "mean", {"dims", "keepdim"}, {}, {}, 1, 2, {}, "mean over dims (each >= 1)"},
      {Op::Reshape, "reshape", {"shape"}, {}, {}, 1, 2, {}, "the same values (C order) as per-image shape `shape`"},
      {Op::Permute, "permute", {"dims"}, {}, {}, 1, 2, {}, "dimensions reordered, dims[0] = 0 (the batch stays)"},
      {Op::Slice, "slice", {"dims", "starts", "ends", "steps"}, {}, {}, 1, 2, {},
       "x[..., start:end:step, ...] along each of dims"},
      {Op::Pad, "pad", {"before", "after", "value"}, {}, {}, 1, 2, {},
       "`before`/`after` entries of `value` around each per-image dimension"},
      {Op::Roll, "roll", {"shifts", "dims"}, {}, {}, 1, 2, {}, "torch.roll: cyclic shift by shifts along dims"},
      {Op::MatMul, "matmul", {}, {}, {}, 2, 2, {0, 1},
       "a [..., M, K] @ b [..., K, N], leading per-image dims broadcast (torch.matmul)"},
  };
  return table;
}

const OpInfo& op_info(Op op) { return op_table()[static_cast<std::size_t>(op)]; }

std::optional<Op> parse_op(std::string_view name) {
  for (const auto& o : op_table())
    if (o.name == name) return o.op;
  return std::nullopt;
}

std::string op_table_markdown() {
  auto quoted = [](const std::vector<std::string_view>& v, const std::vector<std::string_view>& required) {
    std::vector<std::string> q;
    for (auto s : v) {
      const bool opt = std::find(required.begin(), required.end(), s) == required.end();
      q.push_back(fmt::format("`{}`{}", s, opt ? " (optional)" : ""));
    }
    return q.empty() ? std::string("none") : fmt::format("{}", fmt::join(q, ", "));
  };
  std::string s = "| op | inputs | params | attrs | layout | quantized | semantics |\n"
                  "| --- | --- | --- | --- | --- | --- | --- |\n";
  for (const OpInfo& o : op_table()) {
    const std::string inputs = o.inputs < 0 ? "1 or more" : std::to_string(o.inputs);
    std::string quant = "no";
    if (!o.quantized.empty())
      quant = o.quantized.size() == 2 ? "both inputs" : std::find(o.params.begin(), o.params.end(), "weight") !=
                                                                o.params.end()
                                                            ? "input, weight"
                                                            : "input";
    s += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} |\n", o.name, inputs, quoted(o.params, o.required),
                     quoted(o.attrs, o.attrs), o.since, quant, o.semantics);
  }
  return s;
}

}  // namespace ffp8::infer
