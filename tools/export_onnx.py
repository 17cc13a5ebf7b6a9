"""ONNX front end of tools/export.py: an ONNX model -> layout graph (docs/hdf5-layout.md).

Reads the file with the `onnx` package (Debian's python3-onnx), checks it, and walks its nodes
in order. Tensors that do not depend on the model input (initializers, Constant nodes, shape
arithmetic on static shapes) are computed here with numpy; every node that depends on the input
becomes layout ops, and exact GELU (which ONNX spells as Div, Erf, Add, Mul, Mul) is fused back
into one `gelu`. The batch must stay the first dimension of every tensor (a Reshape or Transpose
that moves or merges it is refused), as must the model's one input [N, C, H, W] and output
[N, classes]. Unsupported ops are errors naming the node and its op type.
"""
import math
import os
import tempfile
import warnings

import numpy as np

from export_graph import ExportError, GraphBuilder, einsum_matmul, sanitize

OPSETS = range(11, 18)   # default-domain opsets this front end reads (torch.onnx.export writes 17)


def _onnx():
    try:
        import onnx
        import onnx.numpy_helper  # noqa: F401
    except ImportError:
        raise ExportError("the ONNX front end needs the Python package onnx (Debian: python3-onnx)") from None
    return onnx


def load(path):
    """The checked ModelProto of `path`; one-sentence ExportErrors for every way a file can be bad."""
    onnx = _onnx()
    if not os.path.isfile(path):
        raise ExportError(f"'{path}': no such ONNX file")
    try:
        model = onnx.load(path)
    except Exception as e:
        raise ExportError(f"'{path}' is not an ONNX model (protobuf decoding failed: "
                          f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    if "ai.onnx" not in opsets:
        raise ExportError(f"'{path}' declares no opset of the default ONNX domain")
    if opsets["ai.onnx"] not in OPSETS:
        raise ExportError(f"'{path}' uses ONNX opset {opsets['ai.onnx']}; this front end reads opsets "
                          f"{OPSETS.start} to {OPSETS.stop - 1}")
    try:
        onnx.checker.check_model(model)
    except Exception as e:
        raise ExportError(f"'{path}' is not a valid ONNX model: {str(e).strip().splitlines()[0]}") from None
    return model


def translate_file(path, shape=None, name=None):
    """(graph, params, input shape (C, H, W)) of the ONNX model in `path` (called `name` in
    messages). `shape` gives C, H, W where the file leaves them symbolic (it must agree with the
    file where it does not)."""
    model = load(path)
    return Translator(model, name or path, shape).run()


def translate_torch(model, shape):
    """(graph, params) of a PyTorch module through torch.onnx.export (batch 1, opset 17) and this
    front end. A trace fixes control flow to the branch its input takes, so the result is checked
    on another input; when it differs and the trace converted a tensor to a Python value, the
    error says that the control flow depends on tensor values."""
    import torch
    import ffp8_h5
    x = torch.zeros((1,) + tuple(shape))
    with tempfile.TemporaryDirectory() as tmp:
        f = os.path.join(tmp, "model.onnx")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                torch.onnx.export(model, x, f, opset_version=OPSETS.stop - 1, input_names=["x"],
                                  output_names=["logits"], do_constant_folding=True)
            except Exception as e:
                raise ExportError(f"torch.onnx.export fails: {type(e).__name__}: "
                                  f"{str(e).strip().splitlines()[0] if str(e).strip() else ''}") from None
        traced = [str(w.message).splitlines()[0] for w in caught
                  if issubclass(w.category, torch.jit.TracerWarning) and "Python" in str(w.message)]
        graph, params, _ = translate_file(f, shape, "the graph of torch.onnx.export")
    probe = torch.randn((3,) + tuple(shape), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = model(probe)
    try:
        got = ffp8_h5.run_graph(graph, params, probe.numpy())
        err = float((got - want).abs().max()) / max(1e-6, float(want.abs().max()))
    except (ffp8_h5.LayoutError, RuntimeError) as e:
        got, err = None, str(e)
    if got is None or not err < 1e-4:
        if traced:
            raise ExportError(f"the traced graph does not generalise to other inputs: the model's control flow "
                              f"depends on tensor values (torch.onnx.export: {traced[0]})")
        raise ExportError(f"internal error: the ONNX translation differs from PyTorch ({err})")
    return graph, params


def _attrs(node):
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class Translator:
    def __init__(self, model, path, shape):
        import onnx.numpy_helper as nh
        self.model, self.path, self.g = model, path, model.graph
        self.opset = {o.domain or "ai.onnx": o.version for o in model.opset_import}["ai.onnx"]
        self.const = {i.name: nh.to_array(i) for i in self.g.initializer}
        self.dyn = {}            # ONNX tensor name -> layout tensor name
        self.skip = {}           # ONNX node index -> fused into a later node
        self.fused = {}          # ONNX node index -> (op, input ONNX name) computed there instead
        inputs = [i for i in self.g.input if i.name not in self.const]
        if len(inputs) != 1:
            raise ExportError(f"'{path}' has {len(inputs)} inputs; a layout graph has exactly one image input")
        inp = inputs[0]
        dims = [d.dim_value if d.HasField("dim_value") else None for d in inp.type.tensor_type.shape.dim]
        if len(dims) != 4:
            raise ExportError(f"'{path}': input '{inp.name}' has rank {len(dims)}, expected [N, C, H, W]")
        if inp.type.tensor_type.elem_type != 1:
            raise ExportError(f"'{path}': input '{inp.name}' is not float32")
        chw = list(dims[1:])
        if shape is not None:
            for i, (have, want) in enumerate(zip(chw, shape)):
                if have is not None and have != want:
                    raise ExportError(f"'{path}': input '{inp.name}' has {'CHW'[i]} = {have}, --input-shape says {want}")
            chw = list(shape)
        if None in chw:
            raise ExportError(f"'{path}': input '{inp.name}' has symbolic C, H or W; give --input-shape C,H,W")
        self.shape = tuple(int(v) for v in chw)
        self.batch = dims[0] if dims[0] else 1
        import torch
        probe = torch.randn((self.batch,) + self.shape, generator=torch.Generator().manual_seed(0))
        self.b = GraphBuilder(inp.name, probe)
        self.dyn[inp.name] = self.b.input
        self.users = {}
        for n in self.g.node:
            for t in n.input:
                self.users[t] = self.users.get(t, 0) + 1
        for o in self.g.output:
            self.users[o.name] = self.users.get(o.name, 0) + 1

    # ---------------------------------------------------------------- helpers
    def fail(self, node, why):
        raise ExportError(f"'{self.path}': unsupported node '{node.name or node.output[0]}' (op {node.op_type}): {why}")

    def is_const(self, name):
        return name == "" or name in self.const

    def c(self, node, name, what="input"):
        if name not in self.const:
            self.fail(node, f"its {what} '{name}' must be a constant (it depends on the model input)")
        return self.const[name]

    def value(self, name):
        return self.b.values[self.dyn[name]]

    def operand(self, node, name, rank):
        """Layout name of an operand of a broadcasting op whose output has full rank `rank`."""
        if name in self.dyn:
            got = self.value(name).dim()
            if got != rank:
                self.fail(node, f"broadcasts a tensor of rank {got} against rank {rank}, which would mix the batch "
                                f"dimension with another")
            return self.dyn[name]
        v = self.c(node, name)
        try:
            return self.b.constant(np.asarray(v, np.float32), f"{self.base(node)}_const", context_rank=rank)
        except ExportError as e:
            self.fail(node, str(e))

    def base(self, node):
        return sanitize(node.name or f"{node.op_type}_{node.output[0]}")

    def emit(self, node, op, inputs, attrs=None, params=None, base=None):
        return self.b.add(base or self.base(node), op, inputs, attrs, params, module=node.op_type)

    def axis(self, node, a, rank, what="axis"):
        a = int(a) + rank if int(a) < 0 else int(a)
        if a < 1:
            self.fail(node, f"{what} {a} is the batch dimension")
        return a

    # ---------------------------------------------------------------- driver
    def run(self):
        self.find_gelu()
        for i, node in enumerate(self.g.node):
            if i in self.skip:
                continue
            if node.domain not in ("", "ai.onnx"):
                self.fail(node, f"operator domain '{node.domain}' (only the default ONNX domain)")
            if i in self.fused:
                op, x = self.fused[i]
                self.dyn[node.output[0]] = self.emit(node, op, [self.dyn[x]], {"approximate": "none"})
                continue
            if all(self.is_const(t) for t in node.input) and node.op_type != "Shape":
                self.fold(node)
                continue
            if node.op_type == "Shape":
                t = node.input[0]
                shape = self.value(t).shape if t in self.dyn else self.const[t].shape
                self.const[node.output[0]] = np.array(shape, np.int64)
                continue
            handler = getattr(self, f"op_{node.op_type}", None)
            if handler is None:
                self.fail(node, "no layout op for this ONNX op")
            out = handler(node, _attrs(node))
            outs = out if isinstance(out, list) else [out]
            for name, got in zip(node.output, outs):
                if got is not None:
                    self.dyn[name] = got
        outs = list(self.g.output)
        if len(outs) != 1 or outs[0].name not in self.dyn:
            raise ExportError(f"'{self.path}' must have one output that depends on its input")
        return self.b.graph(self.dyn[outs[0].name]), self.b.params, self.shape

    def find_gelu(self):
        """Marks exact GELU spelled x * 0.5 * (1 + erf(x / sqrt 2)) (torch.onnx's form) for fusion."""
        producer = {o: i for i, n in enumerate(self.g.node) for o in n.output}
        consumers = {}
        for i, n in enumerate(self.g.node):
            for t in n.input:
                consumers.setdefault(t, []).append(i)

        def only(t):
            c = consumers.get(t, [])
            return c[0] if len(c) == 1 and self.users.get(t, 0) == 1 else None

        def scalar(name, want):
            v = self.const.get(name)
            if v is None and name in producer and self.g.node[producer[name]].op_type == "Constant":
                v = _onnx().numpy_helper.to_array(_attrs(self.g.node[producer[name]])["value"])
            return v is not None and v.size == 1 and abs(float(v.reshape(())) - want) < 1e-6 * max(1.0, abs(want))

        for i, n in enumerate(self.g.node):
            if n.op_type != "Erf" or n.input[0] not in producer:
                continue
            d = producer[n.input[0]]
            dn = self.g.node[d]
            if not ((dn.op_type == "Div" and scalar(dn.input[1], math.sqrt(2))) or
                    (dn.op_type == "Mul" and scalar(dn.input[1], 1 / math.sqrt(2)))):
                continue
            x = dn.input[0]
            a = only(n.output[0])
            if a is None or self.g.node[a].op_type != "Add":
                continue
            an = self.g.node[a]
            if not scalar([t for t in an.input if t != n.output[0]][0], 1.0):
                continue
            m1 = only(an.output[0])
            if m1 is None or self.g.node[m1].op_type != "Mul" or x not in self.g.node[m1].input:
                continue
            m2 = only(self.g.node[m1].output[0])
            if m2 is None or self.g.node[m2].op_type != "Mul":
                continue
            other = [t for t in self.g.node[m2].input if t != self.g.node[m1].output[0]]
            if len(other) != 1 or not scalar(other[0], 0.5) or only(dn.output[0]) != i:
                continue
            for k in (d, i, a, m1):
                self.skip[k] = True
            self.fused[m2] = ("gelu", x)

    # ---------------------------------------------------------------- constant folding
    def fold(self, node):
        """Computes a node whose inputs are all constants."""
        onnx = _onnx()
        a = _attrs(node)
        ins = [self.const.get(t) if t else None for t in node.input]
        op = node.op_type
        try:
            if op == "Constant":
                if "value" not in a:
                    self.fail(node, "a Constant without a tensor 'value'")
                out = [onnx.numpy_helper.to_array(a["value"])]
            elif op in ("Identity", "Dropout"):
                out = [ins[0]]
            elif op == "Cast":
                out = [ins[0].astype(onnx.helper.tensor_dtype_to_np_dtype(a["to"]))]
            elif op in ("Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "Greater"):
                f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Pow": np.power, "Equal": np.equal,
                     "Less": np.less, "Greater": np.greater}.get(op)
                if op == "Div":
                    f = np.floor_divide if np.issubdtype(ins[0].dtype, np.integer) else np.divide
                out = [np.asarray(f(ins[0], ins[1])).astype(ins[0].dtype if op not in ("Equal", "Less", "Greater")
                                                            else bool)]
            elif op in ("Sqrt", "Neg", "Floor", "Ceil", "Abs", "Exp", "Erf", "Not", "Sigmoid", "Tanh", "Relu"):
                import torch
                f = {"Sqrt": np.sqrt, "Neg": np.negative, "Floor": np.floor, "Ceil": np.ceil, "Abs": np.abs,
                     "Exp": np.exp, "Not": np.logical_not, "Tanh": np.tanh, "Relu": lambda v: np.maximum(v, 0),
                     "Erf": lambda v: torch.erf(torch.as_tensor(v)).numpy(),
                     "Sigmoid": lambda v: torch.sigmoid(torch.as_tensor(v)).numpy()}[op]
                out = [np.asarray(f(ins[0])).astype(ins[0].dtype)]
            elif op == "Where":
                out = [np.where(ins[0], ins[1], ins[2])]
            elif op == "Gather":
                out = [np.take(ins[0], ins[1], axis=a.get("axis", 0))]
            elif op in ("Unsqueeze", "Squeeze"):
                axes = a.get("axes", list(ins[1]) if len(ins) > 1 and ins[1] is not None else None)
                if op == "Unsqueeze":
                    r = ins[0].ndim + len(axes)
                    out = [np.expand_dims(ins[0], tuple(int(x) % r for x in axes))]
                else:
                    out = [np.squeeze(ins[0], tuple(int(x) for x in axes) if axes is not None else None)]
            elif op == "Concat":
                out = [np.concatenate([np.atleast_1d(v) if v.ndim == 0 else v for v in ins], a["axis"])]
            elif op == "ConstantOfShape":
                v = onnx.numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
                out = [np.full(tuple(int(s) for s in ins[0]), v.reshape(-1)[0], v.dtype)]
            elif op == "Range":
                out = [np.arange(ins[0], ins[1], ins[2]).astype(ins[0].dtype)]
            elif op == "Reshape":
                out = [ins[0].reshape(self.resolve_shape(node, ins[0].shape, ins[1]))]
            elif op == "Transpose":
                out = [np.transpose(ins[0], a.get("perm"))]
            elif op == "Expand":
                out = [ins[0] * np.ones(tuple(int(s) for s in ins[1]), ins[0].dtype)]
            elif op == "Slice":
                starts, ends = ins[1], ins[2]
                axes = ins[3] if len(ins) > 3 and ins[3] is not None else range(len(starts))
                steps = ins[4] if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
                idx = [slice(None)] * ins[0].ndim
                for ax, s, e, st in zip(axes, starts, ends, steps):
                    idx[int(ax)] = slice(int(s), int(e), int(st))
                out = [ins[0][tuple(idx)]]
            elif op == "MatMul":
                out = [np.matmul(ins[0], ins[1])]
            elif op == "ReduceProd":
                out = [np.prod(ins[0], axis=tuple(a["axes"]) if "axes" in a else None, keepdims=bool(a.get("keepdims", 1)))]
            else:
                self.fail(node, "no constant folding for this op (its inputs do not depend on the model input)")
        except ExportError:
            raise
        except Exception as e:
            self.fail(node, f"cannot compute it from its constant inputs ({type(e).__name__}: {e})")
        for name, v in zip(node.output, out):
            self.const[name] = np.asarray(v)

    def resolve_shape(self, node, have, target):
        """ONNX Reshape's target with 0 (copy the input's dim) and -1 (inferred) resolved."""
        out = [int(have[i]) if int(t) == 0 else int(t) for i, t in enumerate(target)]
        if out.count(-1) > 1:
            self.fail(node, f"reshape target {list(target)} has more than one -1")
        if -1 in out:
            rest = int(np.prod([d for d in out if d != -1]))
            out[out.index(-1)] = int(np.prod(have)) // max(rest, 1)
        return out

    # ---------------------------------------------------------------- layout ops
    def x(self, node, i=0):
        if node.input[i] not in self.dyn:
            self.fail(node, f"input '{node.input[i]}' is not computed from the model input")
        return self.dyn[node.input[i]]

    def op_Conv(self, node, a):
        w = self.c(node, node.input[1], "weight")
        if w.ndim != 4:
            self.fail(node, f"a {w.ndim - 2}-D convolution (only 2-D)")
        bias = self.c(node, node.input[2], "bias") if len(node.input) > 2 and node.input[2] else None
        k = list(a.get("kernel_shape", w.shape[2:]))
        d = list(a.get("dilations", [1, 1]))
        s = list(a.get("strides", [1, 1]))
        pads = list(a.get("pads", [0, 0, 0, 0]))
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        x = self.x(node)
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            pads = [0] * 4
            for i in range(2):
                size = self.value(node.input[0]).shape[2 + i]
                total = max(0, (math.ceil(size / s[i]) - 1) * s[i] + d[i] * (k[i] - 1) + 1 - size)
                lo = total // 2 if auto == "SAME_UPPER" else total - total // 2
                pads[i], pads[2 + i] = lo, total - lo
        elif auto == "VALID":
            pads = [0] * 4
        if pads[0] != pads[2] or pads[1] != pads[3]:
            x = self.emit(node, "pad", [x], {"before": [0, pads[0], pads[1]], "after": [0, pads[2], pads[3]],
                                             "value": 0.0}, base=f"{self.base(node)}_pad")
            pads = [0, 0, 0, 0]
        return self.emit(node, "conv2d", [x], {"stride": s, "padding": pads[:2], "dilation": d,
                                               "groups": int(a.get("group", 1))}, {"weight": w, "bias": bias})

    def op_Gemm(self, node, a):
        if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
            self.fail(node, "Gemm with transA, alpha or beta (only x * B (+ C))")
        w = self.c(node, node.input[1], "weight B")
        w = w if a.get("transB", 0) else w.T
        bias = self.c(node, node.input[2], "bias C") if len(node.input) > 2 and node.input[2] else None
        if bias is not None and bias.size == w.shape[0]:
            bias = bias.reshape(-1)
        elif bias is not None:
            self.fail(node, f"Gemm bias C of shape {list(bias.shape)}")
        return self.emit(node, "linear", [self.x(node)], {}, {"weight": w, "bias": bias})

    def op_MatMul(self, node, a):
        ia, ib = node.input
        if ia in self.dyn and ib not in self.dyn:
            w = self.c(node, ib)
            if w.ndim == 2:
                return self.emit(node, "linear", [self.x(node)], {}, {"weight": w.T})
        if ia in self.dyn and ib in self.dyn:
            ra, rb = self.value(ia).dim(), self.value(ib).dim()
            if ra != rb or ra < 3:
                self.fail(node, f"matmul of ranks {ra} and {rb} (the batch would not stay a dimension of its own)")
        rank = max(self.value(t).dim() for t in node.input if t in self.dyn)
        return self.emit(node, "matmul", [self.operand(node, t, rank) if t in self.dyn else
                                          self.b.constant(self.c(node, t), f"{self.base(node)}_const")
                                          for t in node.input])

    def binary(self, node, op):
        rank = max(self.value(t).dim() for t in node.input if t in self.dyn)
        if op == "add":   # MatMul + bias: the linear layer's bias
            for t, other in ((node.input[0], node.input[1]), (node.input[1], node.input[0])):
                if t in self.dyn and other not in self.dyn and self.users.get(t) == 1:
                    lin = next((n for n in self.b.nodes if n["name"] == self.dyn[t]), None)
                    bias = self.const[other]
                    if lin is not None and lin["op"] == "linear" and "bias" not in lin["params"] and \
                            bias.size == lin["shape"][-1] and bias.ndim <= 1:
                        dpath = f"/params/{lin['name']}/bias"
                        lin["params"]["bias"] = dpath
                        self.b.params[dpath] = np.array(bias, np.float32).reshape(-1)
                        import torch
                        self.b.values[lin["name"]] = self.b.values[lin["name"]] + torch.from_numpy(
                            self.b.params[dpath])
                        return lin["name"]
        return self.emit(node, op, [self.operand(node, t, rank) for t in node.input])

    def op_Add(self, node, a):
        return self.binary(node, "add")

    def op_Sub(self, node, a):
        return self.binary(node, "sub")

    def op_Mul(self, node, a):
        return self.binary(node, "mul")

    def op_Div(self, node, a):
        return self.binary(node, "div")

    def unary(op):
        return lambda self, node, a: self.emit(node, op, [self.x(node)])

    op_Relu = unary("relu")
    op_Sigmoid = unary("sigmoid")
    op_Tanh = unary("tanh")
    op_HardSwish = unary("hardswish")

    def op_HardSigmoid(self, node, a):
        if abs(a.get("alpha", 0.2) - 1 / 6) > 1e-6 or abs(a.get("beta", 0.5) - 0.5) > 1e-6:
            self.fail(node, f"HardSigmoid alpha {a.get('alpha', 0.2)}, beta {a.get('beta', 0.5)} (only 1/6, 0.5)")
        return self.emit(node, "hardsigmoid", [self.x(node)])

    def op_Clip(self, node, a):
        lo = a.get("min") if self.opset < 11 else (float(self.c(node, node.input[1])) if len(node.input) > 1 and
                                                   node.input[1] else None)
        hi = a.get("max") if self.opset < 11 else (float(self.c(node, node.input[2])) if len(node.input) > 2 and
                                                   node.input[2] else None)
        if lo == 0.0 and hi == 6.0:
            return self.emit(node, "relu6", [self.x(node)])
        if lo == 0.0 and hi is None:
            return self.emit(node, "relu", [self.x(node)])
        self.fail(node, f"Clip to [{lo}, {hi}] (only [0, 6] and [0, inf))")

    def op_Softmax(self, node, a):
        rank = self.value(node.input[0]).dim()
        ax = self.axis(node, a.get("axis", -1 if self.opset >= 13 else 1), rank)
        if self.opset < 13 and ax != rank - 1:
            self.fail(node, "opset < 13 Softmax over several dimensions")
        return self.emit(node, "softmax", [self.x(node)], {"dim": ax})

    def op_LayerNormalization(self, node, a):
        rank = self.value(node.input[0]).dim()
        ax = self.axis(node, a.get("axis", -1), rank)
        w = self.c(node, node.input[1], "scale")
        bias = self.c(node, node.input[2], "bias") if len(node.input) > 2 and node.input[2] else None
        return self.emit(node, "layernorm", [self.x(node)], {"normalized_dims": rank - ax,
                                                             "eps": float(a.get("epsilon", 1e-5))},
                         {"weight": w, "bias": bias})

    def op_BatchNormalization(self, node, a):
        if self.value(node.input[0]).dim() != 4:
            self.fail(node, "BatchNormalization of a tensor that is not [N, C, H, W]")
        s, bias, mean, var = (self.c(node, t) for t in node.input[1:5])
        return self.emit(node, "batchnorm2d", [self.x(node)], {"eps": float(a.get("epsilon", 1e-5))},
                         {"mean": mean, "var": var, "weight": s, "bias": bias})

    def _pool_pads(self, node, a):
        pads = list(a.get("pads", [0, 0, 0, 0]))
        auto = a.get("auto_pad", b"NOTSET")
        if (auto.decode() if isinstance(auto, bytes) else auto) not in ("NOTSET", "VALID"):
            self.fail(node, "auto_pad SAME on a pooling op")
        if pads[0] != pads[2] or pads[1] != pads[3]:
            self.fail(node, f"asymmetric pooling pads {pads}")
        return pads[:2]

    def op_MaxPool(self, node, a):
        if len(node.output) > 1 and node.output[1]:
            self.fail(node, "MaxPool with indices")
        k = list(a["kernel_shape"])
        return self.emit(node, "maxpool2d", [self.x(node)], {
            "kernel_size": k, "stride": list(a.get("strides", [1, 1])), "padding": self._pool_pads(node, a),
            "dilation": list(a.get("dilations", [1, 1])), "ceil_mode": bool(a.get("ceil_mode", 0))})

    def op_AveragePool(self, node, a):
        k = list(a["kernel_shape"])
        return self.emit(node, "avgpool2d", [self.x(node)], {
            "kernel_size": k, "stride": list(a.get("strides", [1, 1])), "padding": self._pool_pads(node, a),
            "ceil_mode": bool(a.get("ceil_mode", 0)), "count_include_pad": bool(a.get("count_include_pad", 0)),
            "divisor_override": None})

    def op_GlobalAveragePool(self, node, a):
        return self.emit(node, "adaptive_avgpool2d", [self.x(node)], {"output_size": [1, 1]})

    def op_ReduceMean(self, node, a):
        rank = self.value(node.input[0]).dim()
        axes = a.get("axes", list(self.c(node, node.input[1])) if len(node.input) > 1 else None)
        if axes is None:
            self.fail(node, "mean over every dimension (the batch included)")
        dims = sorted({self.axis(node, d, rank) for d in axes})
        return self.emit(node, "mean", [self.x(node)], {"dims": dims, "keepdim": bool(a.get("keepdims", 1))})

    def op_Flatten(self, node, a):
        rank = self.value(node.input[0]).dim()
        ax = a.get("axis", 1)
        ax = ax + rank if ax < 0 else ax
        if ax != 1:
            self.fail(node, f"Flatten at axis {ax} (only 1: [N, ...] -> [N, features])")
        return self.emit(node, "flatten", [self.x(node)], {"start_dim": 1, "end_dim": -1}) if rank > 2 else self.x(node)

    def reshape_to(self, node, out_shape):
        have = list(self.value(node.input[0]).shape)
        if out_shape[0] != have[0]:
            self.fail(node, f"reshapes {have} to {out_shape}, which mixes the batch dimension with another")
        if out_shape == have:
            return self.x(node)
        return self.emit(node, "reshape", [self.x(node)], {"shape": [int(v) for v in out_shape[1:]]})

    def op_Reshape(self, node, a):
        have = list(self.value(node.input[0]).shape)
        return self.reshape_to(node, self.resolve_shape(node, have, self.c(node, node.input[1], "shape")))

    def _axes(self, node, a):
        if "axes" in a:
            return list(a["axes"])
        return list(self.c(node, node.input[1], "axes")) if len(node.input) > 1 and node.input[1] else None

    def op_Unsqueeze(self, node, a):
        have = list(self.value(node.input[0]).shape)
        axes = self._axes(node, a)
        r = len(have) + len(axes)
        out = have[:]
        for ax in sorted(int(x) % r for x in axes):
            out.insert(ax, 1)
        return self.reshape_to(node, out)

    def op_Squeeze(self, node, a):
        have = list(self.value(node.input[0]).shape)
        axes = self._axes(node, a)
        axes = [int(x) % len(have) for x in axes] if axes is not None else [i for i, d in enumerate(have) if d == 1]
        return self.reshape_to(node, [d for i, d in enumerate(have) if i not in axes])

    def op_Transpose(self, node, a):
        rank = self.value(node.input[0]).dim()
        perm = list(a.get("perm", reversed(range(rank))))
        if perm[0] != 0:
            self.fail(node, f"Transpose {perm} moves the batch dimension (a layout graph keeps it first)")
        if perm == list(range(rank)):
            return self.x(node)
        return self.emit(node, "permute", [self.x(node)], {"dims": perm})

    def op_Concat(self, node, a):
        rank = max(self.value(t).dim() for t in node.input if t in self.dyn)
        return self.emit(node, "cat", [self.operand(node, t, rank) for t in node.input],
                         {"dim": self.axis(node, a["axis"], rank)})

    def op_Split(self, node, a):
        v = self.value(node.input[0])
        ax = self.axis(node, a.get("axis", 0), v.dim())
        sizes = a.get("split", list(self.c(node, node.input[1])) if len(node.input) > 1 and node.input[1] else None)
        if sizes is None:
            n = len(node.output)
            sizes = [v.shape[ax] // n] * n
        at, outs = 0, []
        for i, s in enumerate(sizes):
            outs.append(self.emit(node, "slice", [self.x(node)], {"dims": [ax], "starts": [at], "ends": [at + int(s)],
                                                                  "steps": [1]}, base=f"{self.base(node)}_{i}"))
            at += int(s)
        return outs

    def op_Slice(self, node, a):
        v = self.value(node.input[0])
        if self.opset < 10:
            self.fail(node, "opset < 10 Slice")
        starts, ends = self.c(node, node.input[1]), self.c(node, node.input[2])
        axes = self.c(node, node.input[3]) if len(node.input) > 3 and node.input[3] else range(len(starts))
        steps = self.c(node, node.input[4]) if len(node.input) > 4 and node.input[4] else [1] * len(starts)
        dims, s0, e0, st0 = [], [], [], []
        for ax, s, e, st in zip(axes, starts, ends, steps):
            ax = int(ax) % v.dim()
            rng = range(v.shape[ax])[slice(int(s), int(e), int(st))]
            if int(st) < 1:
                self.fail(node, "a Slice with a negative step")
            if len(rng) == v.shape[ax] and rng.step == 1:
                continue
            if ax == 0:
                self.fail(node, "slices the batch dimension")
            if len(rng) == 0:
                self.fail(node, "an empty Slice")
            dims.append(ax)
            s0.append(rng.start)
            e0.append(rng.start + (len(rng) - 1) * rng.step + 1)
            st0.append(rng.step)
        if not dims:
            return self.x(node)
        return self.emit(node, "slice", [self.x(node)], {"dims": dims, "starts": s0, "ends": e0, "steps": st0})

    def op_Gather(self, node, a):
        v = self.value(node.input[0])
        ax = self.axis(node, a.get("axis", 0), v.dim())
        idx = np.asarray(self.c(node, node.input[1], "indices"))
        flat = [int(i) % v.shape[ax] for i in idx.reshape(-1)]
        if not flat or any(b - a_ != 1 for a_, b in zip(flat, flat[1:])) or idx.ndim > 1:
            self.fail(node, "Gather of non-consecutive indices")
        y = self.emit(node, "slice", [self.x(node)], {"dims": [ax], "starts": [flat[0]], "ends": [flat[-1] + 1],
                                                      "steps": [1]})
        if idx.ndim == 0:
            shape = [int(s) for i, s in enumerate(self.b.values[y].shape) if i != ax]
            y = self.emit(node, "reshape", [y], {"shape": shape[1:]}, base=f"{self.base(node)}_squeeze")
        return y

    def op_Identity(self, node, a):
        return self.x(node)

    def op_Dropout(self, node, a):
        return [self.x(node), None]

    def op_Cast(self, node, a):
        if a["to"] != 1:
            self.fail(node, "a Cast of an input-dependent tensor to a type other than float32")
        return self.x(node)

    def op_Pad(self, node, a):
        mode = a.get("mode", b"constant")
        if (mode.decode() if isinstance(mode, bytes) else mode) != "constant":
            self.fail(node, f"Pad mode {mode} (only constant)")
        rank = self.value(node.input[0]).dim()
        pads = [int(p) for p in (a["pads"] if "pads" in a else self.c(node, node.input[1], "pads"))]
        value = float(self.c(node, node.input[2]).reshape(())) if len(node.input) > 2 and node.input[2] else \
            float(a.get("value", 0.0))
        before, after = pads[:rank], pads[rank:]
        if before[0] or after[0]:
            self.fail(node, "pads the batch dimension")
        if min(pads) < 0:
            self.fail(node, "negative pads (cropping)")
        return self.emit(node, "pad", [self.x(node)], {"before": before[1:], "after": after[1:], "value": value})

    def op_Einsum(self, node, a):
        eq = a["equation"]
        eq = eq.decode() if isinstance(eq, bytes) else eq
        if len(node.input) != 2:
            self.fail(node, f"einsum '{eq}' with {len(node.input)} operands (only two)")
        names = [self.dyn[t] if t in self.dyn else self.b.constant(self.c(node, t), f"{self.base(node)}_const")
                 for t in node.input]
        try:
            return einsum_matmul(self.b, eq, names[0], names[1], self.base(node))
        except ExportError as e:
            self.fail(node, str(e))

    def op_Expand(self, node, a):
        want = [int(s) for s in self.c(node, node.input[1], "shape")]
        have = list(self.value(node.input[0]).shape)
        if list(np.broadcast_shapes(tuple(have), tuple(want))) != have:
            self.fail(node, f"Expand of an input-dependent tensor {have} to {want}")
        return self.x(node)
