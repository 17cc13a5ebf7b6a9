#pragma once
// A model file (docs/hdf5-layout.md, layouts 1 and 2) in memory: the graph as typed nodes with
// their parameters, validated against the closed op list, with every output shape re-inferred
// and checked against the one the exporter stored.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ffp8::infer {

/// The closed op list (layout 1: conv2d .. flatten; layout 2 adds the rest).
enum class Op : std::uint8_t {
  Conv2d, Linear, BatchNorm2d, Relu, Relu6, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Add, Cat, Flatten,
  Constant, Sub, Mul, Div, Sigmoid, Tanh, Silu, Hardsigmoid, Hardswish, Gelu, Softmax, LayerNorm, Mean, Reshape,
  Permute, Slice, Pad, Roll, MatMul
};

/// One row of the op table: name, attribute keys (exactly these), allowed and required params,
/// number of inputs (-1 = one or more), the layout version that added it, the inputs FFP8
/// quantizes (operand indices; an op with a `weight` param among them quantizes it too) and one
/// line of semantics (the docs' op list is generated from this table); elementwise ops are marked.
struct OpInfo {
  Op op;
  std::string_view name;
  std::vector<std::string_view> attrs;
  std::vector<std::string_view> params;
  std::vector<std::string_view> required;
  int inputs;
  int since;
  std::vector<int> quantized;
  std::string_view semantics;
  /// A function of each value alone (relu, sigmoid, gelu, ...): the output has the input's shape,
  /// and the engine computes it in place when the input is not read again.
  bool elementwise = false;
};
/// The op table (one entry per Op, in enum order); tests iterate it.
const std::vector<OpInfo>& op_table();
/// Table entry of an op.
const OpInfo& op_info(Op op);
/// Op of a name, nullopt when unknown.
std::optional<Op> parse_op(std::string_view name);
/// True for the ops FFP8 quantizes (conv2d, linear, matmul): their inputs, and weights where they have one.
inline bool is_quantizable(Op op) { return !op_info(op).quantized.empty(); }
/// True for the quantizable ops with a weight (conv2d, linear).
inline bool has_weight(Op op) { return op == Op::Conv2d || op == Op::Linear; }
/// Number of inputs of `op` the engine quantizes (0, 1, or 2 for matmul).
inline int quantized_inputs(Op op) { return static_cast<int>(op_info(op).quantized.size()); }
/// The docs' op list: a markdown table (op, inputs, params, attrs, layout, quantized, semantics).
std::string op_table_markdown();

/// Shape without the batch dimension, e.g. [C, H, W] or [F].
using Shape = std::vector<std::int64_t>;
/// Number of elements of a shape.
std::int64_t numel(const Shape& s);
/// "[64, 8, 8]".
std::string shape_text(const Shape& s);

/// A float32 parameter tensor with its dataset path.
struct Tensor {
  std::string path;
  Shape shape;
  std::vector<float> data;
  bool empty() const { return data.empty(); }
};

/// One graph node. Tensor ids: 0 is the graph input, i + 1 the output of node i.
struct Node {
  std::string name;
  Op op = Op::Relu;
  std::vector<int> inputs;  ///< tensor ids
  Shape shape;              ///< output shape (batch excluded), inferred and checked

  // attributes (only those of `op` are meaningful); dims count the batch as dimension 0
  std::array<int, 2> kernel{1, 1}, stride{1, 1}, padding{0, 0}, dilation{1, 1}, output_size{1, 1};
  int groups = 1;
  double eps = 1e-5;
  bool ceil_mode = false, count_include_pad = true;
  std::optional<int> divisor_override;
  int dim = 1, start_dim = 1, end_dim = -1;
  bool gelu_tanh = false;                            ///< gelu: approximate = "tanh"
  int normalized_dims = 1;                           ///< layernorm: over the last k dimensions
  bool keepdim = false;                              ///< mean
  std::vector<int> dims;                             ///< mean, permute, slice, roll
  Shape target;                                      ///< reshape: the per-image shape
  std::vector<std::int64_t> starts, ends, steps;     ///< slice (per entry of dims)
  std::vector<std::int64_t> before, after, shifts;   ///< pad (per image dimension), roll (per entry of dims)
  double pad_value = 0.0;

  // parameters: conv2d/linear use weight and bias, layernorm too (both optional), batchnorm2d all
  // four, constant its value
  Tensor weight, bias, mean, var, value;
};

/// A model: graph in topological order, parameters loaded.
struct Model {
  std::string path;
  std::string name;          ///< model_name attribute
  Shape input_shape;         ///< [C, H, W]
  std::int64_t num_classes = 0;
  bool bn_folded = false;
  std::int64_t layout = 2;   ///< ffp8_layout of the file (1 or 2; the versions are in core/io/layout.hpp)
  std::string input_name;    ///< graph input tensor name
  std::vector<Node> nodes;
  int output = 0;            ///< tensor id of the logits

  /// Shape of tensor `id` (batch excluded).
  const Shape& tensor_shape(int id) const { return id == 0 ? input_shape : nodes[id - 1].shape; }
  /// Index of the node called `name`, or -1.
  int find(std::string_view name) const;
};

/// Reads and validates a model file. Throws IoError when it cannot be read, ModelError naming
/// the file and the attribute, dataset, node or JSON path at fault otherwise: missing/unknown
/// `ffp8_layout`, unknown op or attr key (or an op newer than the file's layout), an
/// out-of-range attribute, bad topology, parameter shape or stored output shape that differs
/// from the inferred one.
Model read_model(const std::string& path);

/// Parses and validates the /graph JSON text of `model` (input_shape and layout set, params not loaded:
/// parameter paths are recorded in each Tensor and shapes checked later). `where` names the file
/// in messages. Throws ModelError ("'m.h5' node 'fc': /graph/nodes/0/attrs/alpha: unknown key ...").
void parse_graph(const std::string& json_text, Model& model, const std::string& where);

/// Output shape of `node` from its input shapes (PyTorch's rules); throws ModelError naming the node.
Shape infer_shape(const Node& node, const std::vector<Shape>& inputs, const std::string& where);

/// Folds every batchnorm2d whose input is a conv2d read by nobody else into that conv, as
/// tools/export.py --fold-bn does (float64 arithmetic, float32 result). Returns the new model.
Model fold_batchnorm(const Model& model);

}  // namespace ffp8::infer
