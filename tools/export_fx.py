"""torch.fx front end of tools/export.py: a PyTorch module -> layout graph (docs/hdf5-layout.md).

The model is traced with a *concrete* fx tracer: every traced node is also computed on a probe
input, so shapes (`x.shape`, `x.size()`, `len(x)`, unpacking) are plain integers, as they are for
a model whose input shape is fixed. Control flow on tensor *data* is still an error. Modules the
translator knows are traced as leaves; others are traced through. Values that do not depend on
the input (parameters used in arithmetic, class tokens, position embeddings, relative position
biases) become `constant` nodes where an input-dependent op reads them.
"""
import contextlib
import inspect
import math
import operator

import numpy as np
import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn
from torch.fx._symbolic_trace import _orig_module_call, _orig_module_getattr
from torch.fx.node import map_aggregate

from export_graph import ExportError, GraphBuilder, check_close, einsum_matmul

# Attributes and methods of a tensor proxy answered with the probe's concrete value (static shapes).
CONCRETE_ATTRS = {"shape", "ndim", "dtype", "device", "is_cuda", "requires_grad", "layout"}
CONCRETE_METHODS = {"size", "dim", "numel", "ndimension", "is_floating_point", "is_contiguous"}


@contextlib.contextmanager
def _unpatched():
    """nn.Module's own __call__ and __getattr__ (tracing patches them to record calls and parameter
    reads), so that a node's concrete value is computed by plain PyTorch."""
    saved = nn.Module.__call__, nn.Module.__getattr__
    nn.Module.__call__, nn.Module.__getattr__ = _orig_module_call, _orig_module_getattr
    try:
        yield
    finally:
        nn.Module.__call__, nn.Module.__getattr__ = saved


class TraceFailure(Exception):
    """The model cannot be traced by torch.fx (the exporter then tries torch.onnx.export)."""


class _ConcreteProxy(fx.Proxy):
    def __getattr__(self, k):
        if k in CONCRETE_ATTRS:
            return getattr(self.tracer.value(self), k)
        return super().__getattr__(k)

    def __len__(self):
        return len(self.tracer.value(self))

    def __iter__(self):   # fx's own reads the caller's bytecode, which fails on Python 3.11
        return self.tracer.iter(self)


class ConcreteTracer(fx.Tracer):
    """fx.Tracer that also runs every node on `example`; `leaf(module)` picks the leaf modules."""

    def __init__(self, example, leaf):
        super().__init__(autowrap_modules=(math,))
        self.example, self.leaf, self._values = example, leaf, {}

    def value(self, proxy):
        return self._values[proxy.node]

    def proxy(self, node):
        return _ConcreteProxy(node, self)

    def is_leaf_module(self, m, qualname):
        return self.leaf(m)

    def _concrete(self, a):
        return map_aggregate(a, lambda x: self._values[x.node] if isinstance(x, fx.Proxy) else x)

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, proxy_factory_fn=None):
        with _unpatched():
            value = self._run(kind, target, args, kwargs)
        if (kind == "call_method" and target in CONCRETE_METHODS) or \
                (kind == "call_function" and target is getattr and args[1] in CONCRETE_ATTRS):
            return value
        p = super().create_proxy(kind, target, args, kwargs, name, type_expr, proxy_factory_fn)
        self._values[p.node] = value
        return p

    def _run(self, kind, target, args, kwargs):
        """The node's value on the example."""
        cargs, ckw = self._concrete(args), self._concrete(kwargs)
        value = None
        if kind == "placeholder":
            value = self.example
        elif kind == "get_attr":
            value = self.root
            for part in target.split("."):
                value = getattr(value, part)
        elif kind == "call_function":
            value = target(*cargs, **ckw)
        elif kind == "call_method":
            value = getattr(cargs[0], target)(*cargs[1:], **ckw)
        elif kind == "call_module":
            value = self.root.get_submodule(target)(*cargs, **ckw)
        return value

    def iter(self, obj):
        return iter([obj[i] for i in range(len(self._values[obj.node]))])

    def to_bool(self, obj):
        raise fx.proxy.TraceError("control flow that depends on tensor values (the branch taken would be "
                                  "fixed at export)")


# Module types traced as leaves (a subclass only when it keeps the base's forward).
LEAF_MODULES = (nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.ReLU, nn.Hardtanh, nn.MaxPool2d, nn.AvgPool2d,
                nn.AdaptiveAvgPool2d, nn.Flatten, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout,
                nn.Identity, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.Hardswish, nn.Hardsigmoid, nn.GELU, nn.Softmax,
                nn.LayerNorm, nn.MultiheadAttention)


def is_leaf(m):
    return any(isinstance(m, t) and type(m).forward is t.forward for t in LEAF_MODULES)


def trace(model, example):
    """(GraphModule, values): the traced model and every node's value on `example`."""
    tracer = ConcreteTracer(example, is_leaf)
    try:
        with torch.no_grad():
            graph = tracer.trace(model)
    except Exception as e:  # the user's model: any failure means fx cannot trace it
        raise TraceFailure(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
    gm = fx.GraphModule(tracer.root, graph)
    return gm, record_values(gm, example)


def record_values(gm, x):
    """Value of every fx node for input x; tensors are copied when computed, so in-place ops of
    later nodes (relu_, +=) do not change what an earlier node produced."""
    values = {}

    class Rec(fx.Interpreter):
        def run_node(self, n):
            v = super().run_node(n)
            values[n.name] = map_aggregate(v, lambda t: t.detach().clone() if isinstance(t, torch.Tensor) else t)
            return v

    try:
        with torch.no_grad():
            Rec(gm).run(x)
    except Exception as e:
        raise ExportError(f"the model fails on an input of shape {list(x.shape[1:])}: "
                          f"{type(e).__name__}: {str(e).splitlines()[0]}") from None
    return values


def _pair(v):
    if isinstance(v, (list, tuple)):
        return [int(v[0]), int(v[0])] if len(v) == 1 else [int(v[0]), int(v[1])]
    return [int(v), int(v)]


def _target_name(node):
    t = node.target
    if isinstance(t, str):
        return t
    mod = getattr(t, "__module__", None) or ""
    return f"{mod}.{getattr(t, '__name__', repr(t))}".lstrip(".")


def _bind(fn, args, kwargs, names=None, defaults=None):
    """Arguments of a call by parameter name (from the function's signature, else `names`)."""
    try:
        b = inspect.signature(fn).bind(*args, **kwargs)
        b.apply_defaults()
        return dict(b.arguments)
    except (TypeError, ValueError):
        out = dict(defaults or {})
        out.update(zip(names or (), args))
        out.update(kwargs)
        return out


def _lookup(table, key):
    try:
        return table.get(key)
    except TypeError:   # an unhashable target
        return None


def _dims(d, rank):
    return [int(x) + rank if int(x) < 0 else int(x) for x in (d if isinstance(d, (list, tuple)) else [d])]


class Translator:
    """Turns a traced GraphModule plus concrete values of every node into layout nodes."""

    def __init__(self, gm, values, probe):
        self.gm, self.values = gm, values
        self.modules = dict(gm.named_modules())
        self.b = None
        self.probe = probe
        self.name = {}      # fx node name -> layout tensor name (input-dependent tensors)
        self.tuples = {}    # fx node name -> list of layout names (or None) of a tuple-valued node
        self.dynamic = set()

    # ---------------------------------------------------------------- helpers
    def fail(self, node, why):
        raise ExportError(f"unsupported node '{node.name}' ({node.op} {_target_name(node)}): {why}")

    def is_dynamic(self, a):
        return isinstance(a, fx.Node) and a.name in self.dynamic

    def value(self, a):
        """The concrete value of an argument (fx node or plain Python value)."""
        return self.values[a.name] if isinstance(a, fx.Node) else a

    def t(self, node, a):
        """Layout name of an input-dependent tensor argument."""
        if not self.is_dynamic(a) or a.name not in self.name:
            self.fail(node, f"expected an input-dependent tensor, found {a!r}")
        return self.name[a.name]

    def operand(self, node, a, rank):
        """Layout name of a tensor argument of an op whose output has full rank `rank`: an
        input-dependent tensor, or a constant (a parameter, buffer or Python number)."""
        if self.is_dynamic(a):
            name = self.t(node, a)
            if self.b.values[name].dim() != rank:
                self.fail(node, f"broadcasts a tensor of shape {list(self.b.values[name].shape)} against one of rank "
                                f"{rank}, which would mix the batch dimension with another")
            return name
        v = self.value(a)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            v = torch.tensor(float(v))
        if not isinstance(v, torch.Tensor):
            self.fail(node, f"expected a tensor or a number, found {type(v).__name__}")
        try:
            return self.b.constant(v, f"{node.name}_const", context_rank=rank)
        except ExportError as e:
            self.fail(node, str(e))

    def out_rank(self, node):
        return self.values[node.name].dim()

    def emit(self, node, op, inputs, attrs=None, params=None, module=None, base=None):
        return self.b.add(base or node.name, op, inputs, attrs, params, module or _target_name(node))

    # ---------------------------------------------------------------- driver
    def run(self):
        output = None
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                if self.b is not None:
                    self.fail(node, "the model takes more than one input (a layout graph has one)")
                self.b = GraphBuilder(node.name, self.probe)
                self.name[node.name] = self.b.input
                self.dynamic.add(node.name)
                continue
            if node.op == "output":
                out = node.args[0]
                if isinstance(out, (list, tuple)) and len(out) == 1:
                    out = out[0]
                if not self.is_dynamic(out):
                    raise ExportError("the model's output does not depend on its input")
                output = self.t(node, out)
                continue
            if not any(self.is_dynamic(a) for a in node.all_input_nodes):
                continue        # a constant (parameters, buffers, shapes): folded into its users
            self.dynamic.add(node.name)
            v = self.values[node.name]
            if v is None and node.op == "call_function" and node.target is operator.getitem:
                continue        # an unused output (MultiheadAttention's weights with need_weights=False)
            if node.op == "call_module":
                r = self.module(node, self.modules[node.target])
            elif node.op == "call_function":
                r = self.function(node)
            elif node.op == "call_method":
                r = self.method(node)
            else:
                self.fail(node, "unknown fx node kind")
            if isinstance(v, torch.Tensor):
                if not isinstance(r, str):
                    self.fail(node, "produces a tensor the translator has no op for")
                self.name[node.name] = r
                check_close(node.name, self.b.values[r], v, "node")
            elif isinstance(v, (tuple, list)):
                self.tuples[node.name] = r
            else:
                self.fail(node, f"produces a {type(v).__name__} that depends on the input")
        if output is None:
            raise ExportError("the traced model has no output")
        return self.b.graph(output), self.b.params

    # ---------------------------------------------------------------- modules
    def module(self, node, m):
        if isinstance(m, nn.MultiheadAttention):
            return self.mha(node, m)
        if len(node.args) < 1:
            self.fail(node, "no input")
        if len(node.args) != 1 or node.kwargs:
            self.fail(node, "a module called with more than one argument")
        x = self.t(node, node.args[0])
        mod = node.target
        if isinstance(m, nn.Conv2d):
            if m.padding_mode != "zeros":
                self.fail(node, f"padding_mode '{m.padding_mode}' (only zeros)")
            pad = m.padding
            if isinstance(pad, str):
                pad = self._str_padding(node, pad, m.kernel_size, m.dilation)
            return self.emit(node, "conv2d", [x], {"stride": _pair(m.stride), "padding": _pair(pad),
                                                  "dilation": _pair(m.dilation), "groups": int(m.groups)},
                             {"weight": m.weight, "bias": m.bias}, mod)
        if isinstance(m, nn.Linear):
            return self.emit(node, "linear", [x], {}, {"weight": m.weight, "bias": m.bias}, mod)
        if isinstance(m, nn.BatchNorm2d):
            if m.running_mean is None or m.running_var is None:
                self.fail(node, "BatchNorm2d without running statistics (track_running_stats=False)")
            w = m.weight if m.affine else torch.ones_like(m.running_mean)
            b = m.bias if m.affine else torch.zeros_like(m.running_mean)
            return self.emit(node, "batchnorm2d", [x], {"eps": float(m.eps)},
                             {"mean": m.running_mean, "var": m.running_var, "weight": w, "bias": b}, mod)
        if isinstance(m, nn.LayerNorm):
            return self.layernorm(node, x, m.normalized_shape, m.weight, m.bias, m.eps, mod)
        if type(m) is nn.ReLU:
            return self.emit(node, "relu", [x], module=mod)
        if isinstance(m, nn.Hardtanh):   # nn.ReLU6 is Hardtanh(0, 6)
            if (m.min_val, m.max_val) != (0.0, 6.0):
                self.fail(node, f"Hardtanh({m.min_val}, {m.max_val}) (only (0, 6), i.e. ReLU6)")
            return self.emit(node, "relu6", [x], module=mod)
        simple = {nn.SiLU: "silu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.Hardswish: "hardswish",
                  nn.Hardsigmoid: "hardsigmoid"}
        for t, op in simple.items():
            if isinstance(m, t):
                return self.emit(node, op, [x], module=mod)
        if isinstance(m, nn.GELU):
            return self.emit(node, "gelu", [x], {"approximate": m.approximate}, module=mod)
        if isinstance(m, nn.Softmax):
            return self.softmax(node, x, m.dim, mod)
        if isinstance(m, nn.MaxPool2d):
            if m.return_indices:
                self.fail(node, "return_indices=True")
            stride = m.stride if m.stride is not None else m.kernel_size
            return self.emit(node, "maxpool2d", [x], {"kernel_size": _pair(m.kernel_size), "stride": _pair(stride),
                                                     "padding": _pair(m.padding), "dilation": _pair(m.dilation),
                                                     "ceil_mode": bool(m.ceil_mode)}, module=mod)
        if isinstance(m, nn.AvgPool2d):
            return self._avgpool(node, x, m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad,
                                 m.divisor_override, mod)
        if isinstance(m, nn.AdaptiveAvgPool2d):
            return self._adaptive(node, x, m.output_size, mod)
        if isinstance(m, nn.Flatten):
            return self._flatten(node, x, m.start_dim, m.end_dim, mod)
        if isinstance(m, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout, nn.Identity)):
            return x
        self.fail(node, f"module type {type(m).__module__}.{type(m).__name__} has no layout op")

    def _str_padding(self, node, pad, k, d):
        if pad == "valid":
            return [0, 0]
        out = []
        for ki, di in zip(k, d):
            total = di * (ki - 1)
            if total % 2:
                self.fail(node, "padding='same' with an even kernel (asymmetric padding)")
            out.append(total // 2)
        return out

    def _avgpool(self, node, x, k, s, p, ceil, cip, div, module):
        s = k if s is None or (isinstance(s, (list, tuple)) and len(s) == 0) else s
        return self.emit(node, "avgpool2d", [x], {"kernel_size": _pair(k), "stride": _pair(s), "padding": _pair(p),
                                                 "ceil_mode": bool(ceil), "count_include_pad": bool(cip),
                                                 "divisor_override": None if div is None else int(div)},
                         module=module)

    def _adaptive(self, node, x, size, module):
        in_shape = self.b.values[x].shape
        size = _pair(size) if not isinstance(size, (list, tuple)) else list(size)
        if len(size) == 1:
            size = [size[0], size[0]]
        size = [int(in_shape[2 + i]) if v is None else int(v) for i, v in enumerate(size)]
        return self.emit(node, "adaptive_avgpool2d", [x], {"output_size": size}, module=module)

    def _flatten(self, node, x, start, end, module):
        rank = self.b.values[x].dim()
        start = start + rank if start < 0 else start
        end = end + rank if end < 0 else end
        if start < 1:
            self.fail(node, "flatten including the batch dimension")
        if start >= end:   # flattening a single dim: identity
            return x
        return self.emit(node, "flatten", [x], {"start_dim": int(start), "end_dim": -1 if end == rank - 1 else int(end)},
                         module=module)

    def layernorm(self, node, x, shape, weight, bias, eps, module=None):
        k = len(shape) if isinstance(shape, (list, tuple, torch.Size)) else 1
        return self.emit(node, "layernorm", [x], {"normalized_dims": int(k), "eps": float(eps)},
                         {"weight": weight, "bias": bias}, module)

    def softmax(self, node, x, dim, module=None):
        rank = self.b.values[x].dim()
        if dim is None:
            self.fail(node, "softmax without dim")
        d = _dims(dim, rank)[0]
        if d < 1:
            self.fail(node, "softmax over the batch dimension")
        return self.emit(node, "softmax", [x], {"dim": d}, module=module)

    # ---------------------------------------------------------------- attention
    def mha(self, node, m):
        """nn.MultiheadAttention (self-attention, batch_first) as its matmuls and softmax."""
        a = _bind(m.forward, node.args, node.kwargs)
        q, k, v = a["query"], a["key"], a["value"]
        if not (q is k and k is v):
            self.fail(node, "MultiheadAttention with different query, key and value (only self-attention)")
        if a.get("key_padding_mask") is not None or a.get("attn_mask") is not None:
            self.fail(node, "MultiheadAttention with a mask")
        if not m.batch_first:
            self.fail(node, "MultiheadAttention with batch_first=False (the batch must stay the first dimension)")
        if not m._qkv_same_embed_dim or m.bias_k is not None or m.add_zero_attn:
            self.fail(node, "MultiheadAttention with separate q/k/v projections, bias_k/bias_v or add_zero_attn")
        x = self.t(node, q)
        t, e = self.b.values[x].shape[1:]
        h = m.num_heads
        d = e // h
        base, mod = node.name, node.target
        qkv = self.emit(node, "linear", [x], {}, {"weight": m.in_proj_weight, "bias": m.in_proj_bias}, mod,
                        f"{base}_in_proj")
        qkv = self.emit(node, "reshape", [qkv], {"shape": [t, 3, h, d]}, module=mod, base=f"{base}_heads")
        qkv = self.emit(node, "permute", [qkv], {"dims": [0, 2, 3, 1, 4]}, module=mod, base=f"{base}_heads")
        parts = []
        for i, part in enumerate("qkv"):
            p = self.emit(node, "slice", [qkv], {"dims": [1], "starts": [i], "ends": [i + 1], "steps": [1]},
                          module=mod, base=f"{base}_{part}")
            parts.append(self.emit(node, "reshape", [p], {"shape": [h, t, d]}, module=mod, base=f"{base}_{part}"))
        qs = self.emit(node, "div", [parts[0], self.b.constant(torch.tensor(math.sqrt(d)), f"{base}_scale")],
                       module=mod, base=f"{base}_q_scaled")
        kt = self.emit(node, "permute", [parts[1]], {"dims": [0, 1, 3, 2]}, module=mod, base=f"{base}_k_t")
        s = self.emit(node, "matmul", [qs, kt], module=mod, base=f"{base}_qk")
        p = self.emit(node, "softmax", [s], {"dim": 3}, module=mod, base=f"{base}_softmax")
        o = self.emit(node, "matmul", [p, parts[2]], module=mod, base=f"{base}_pv")
        o = self.emit(node, "permute", [o], {"dims": [0, 2, 1, 3]}, module=mod, base=f"{base}_merge")
        o = self.emit(node, "reshape", [o], {"shape": [t, e]}, module=mod, base=f"{base}_merge")
        o = self.emit(node, "linear", [o], {}, {"weight": m.out_proj.weight, "bias": m.out_proj.bias},
                      f"{mod}.out_proj", f"{base}_out_proj")
        return [o, None]

    def swin_attention(self, node):
        """torchvision's shifted_window_attention with the batch kept as its own dimension: windows
        become two extra dimensions instead of being folded into the batch."""
        a = _bind(node.target, node.args, node.kwargs)
        if a.get("logit_scale") is not None:
            self.fail(node, "Swin V2 cosine attention")
        if a["attention_dropout"] or a["dropout"]:
            self.fail(node, "dropout inside the attention (applied even in eval mode)")
        x = self.t(node, a["input"])
        val = self.value
        wq, wp = val(a["qkv_weight"]), val(a["proj_weight"])
        bq, bp = val(a["qkv_bias"]), val(a["proj_bias"])
        bias = val(a["relative_position_bias"])
        ws, heads, shift = list(a["window_size"]), int(a["num_heads"]), list(a["shift_size"])
        base, mod = node.name, ""
        _, hh, ww, c = self.b.values[x].shape
        pad_r, pad_b = (ws[1] - ww % ws[1]) % ws[1], (ws[0] - hh % ws[0]) % ws[0]
        if pad_r or pad_b:
            x = self.emit(node, "pad", [x], {"before": [0, 0, 0], "after": [pad_b, pad_r, 0], "value": 0.0},
                          base=f"{base}_pad")
        ph, pw = hh + pad_b, ww + pad_r
        if ws[0] >= ph:
            shift[0] = 0
        if ws[1] >= pw:
            shift[1] = 0
        if sum(shift) > 0:
            x = self.emit(node, "roll", [x], {"shifts": [-shift[0], -shift[1]], "dims": [1, 2]}, base=f"{base}_shift")
        gh, gw, t = ph // ws[0], pw // ws[1], ws[0] * ws[1]
        nw, d = gh * gw, c // heads
        x = self.emit(node, "reshape", [x], {"shape": [gh, ws[0], gw, ws[1], c]}, base=f"{base}_windows")
        x = self.emit(node, "permute", [x], {"dims": [0, 1, 3, 2, 4, 5]}, base=f"{base}_windows")
        x = self.emit(node, "reshape", [x], {"shape": [nw, t, c]}, base=f"{base}_windows")
        qkv = self.emit(node, "linear", [x], {}, {"weight": wq, "bias": bq}, mod, f"{base}_qkv")
        qkv = self.emit(node, "reshape", [qkv], {"shape": [nw, t, 3, heads, d]}, base=f"{base}_heads")
        qkv = self.emit(node, "permute", [qkv], {"dims": [0, 3, 1, 4, 2, 5]}, base=f"{base}_heads")
        parts = []
        for i, part in enumerate("qkv"):
            p = self.emit(node, "slice", [qkv], {"dims": [1], "starts": [i], "ends": [i + 1], "steps": [1]},
                          base=f"{base}_{part}")
            parts.append(self.emit(node, "reshape", [p], {"shape": [nw, heads, t, d]}, base=f"{base}_{part}"))
        q = self.emit(node, "mul", [parts[0], self.b.constant(torch.tensor(d ** -0.5), f"{base}_scale")],
                      base=f"{base}_q_scaled")
        kt = self.emit(node, "permute", [parts[1]], {"dims": [0, 1, 2, 4, 3]}, base=f"{base}_k_t")
        s = self.emit(node, "matmul", [q, kt], base=f"{base}_qk")
        s = self.emit(node, "add", [s, self.b.constant(bias, f"{base}_position_bias")], base=f"{base}_biased")
        if sum(shift) > 0:
            mask = torch.zeros((ph, pw))
            count = 0
            for h0, h1 in ((0, -ws[0]), (-ws[0], -shift[0]), (-shift[0], None)):
                for w0, w1 in ((0, -ws[1]), (-ws[1], -shift[1]), (-shift[1], None)):
                    mask[h0:h1, w0:w1] = count
                    count += 1
            mask = mask.view(gh, ws[0], gw, ws[1]).permute(0, 2, 1, 3).reshape(nw, t)
            mask = mask.unsqueeze(1) - mask.unsqueeze(2)
            mask = mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)
            s = self.emit(node, "add", [s, self.b.constant(mask.unsqueeze(1), f"{base}_mask")], base=f"{base}_masked")
        p = self.emit(node, "softmax", [s], {"dim": 4}, base=f"{base}_softmax")
        o = self.emit(node, "matmul", [p, parts[2]], base=f"{base}_pv")
        o = self.emit(node, "permute", [o], {"dims": [0, 1, 3, 2, 4]}, base=f"{base}_merge")
        o = self.emit(node, "reshape", [o], {"shape": [nw, t, c]}, base=f"{base}_merge")
        o = self.emit(node, "linear", [o], {}, {"weight": wp, "bias": bp}, mod, f"{base}_proj")
        o = self.emit(node, "reshape", [o], {"shape": [gh, gw, ws[0], ws[1], c]}, base=f"{base}_unwindow")
        o = self.emit(node, "permute", [o], {"dims": [0, 1, 3, 2, 4, 5]}, base=f"{base}_unwindow")
        o = self.emit(node, "reshape", [o], {"shape": [ph, pw, c]}, base=f"{base}_unwindow")
        if sum(shift) > 0:
            o = self.emit(node, "roll", [o], {"shifts": [shift[0], shift[1]], "dims": [1, 2]}, base=f"{base}_unshift")
        if pad_r or pad_b:
            o = self.emit(node, "slice", [o], {"dims": [1, 2], "starts": [0, 0], "ends": [hh, ww], "steps": [1, 1]},
                          base=f"{base}_crop")
        return o

    def patch_merging_pad(self, node):
        """torchvision Swin's _patch_merging_pad: pad H and W to even, then the four 2x2 phases along C."""
        x = self.t(node, node.args[0])
        _, h, w, _ = self.b.values[x].shape
        if h % 2 or w % 2:
            x = self.emit(node, "pad", [x], {"before": [0, 0, 0], "after": [h % 2, w % 2, 0], "value": 0.0},
                          base=f"{node.name}_pad")
        hp, wp = h + h % 2, w + w % 2
        parts = [self.emit(node, "slice", [x], {"dims": [1, 2], "starts": [i, j], "ends": [hp, wp], "steps": [2, 2]},
                           base=f"{node.name}_x{k}") for k, (i, j) in enumerate(((0, 0), (1, 0), (0, 1), (1, 1)))]
        return self.emit(node, "cat", parts, {"dim": 3})

    # ---------------------------------------------------------------- functions and methods
    def function(self, node):
        t, args, kw = node.target, node.args, node.kwargs
        name = getattr(t, "__name__", "")
        mod = getattr(t, "__module__", "") or ""
        if mod.startswith("torchvision.models.swin_transformer") and name == "shifted_window_attention":
            return self.swin_attention(node)
        if mod.startswith("torchvision.models.swin_transformer") and name == "_patch_merging_pad":
            return self.patch_merging_pad(node)
        if mod.startswith("torchvision.ops") and name == "stochastic_depth":
            b = _bind(t, args, kw)
            if b["training"] and b["p"] > 0:
                self.fail(node, "stochastic depth in training mode")
            return self.t(node, b["input"])
        if t is getattr:
            self.fail(node, f"attribute '{args[1]}' of a tensor")
        return self.call(node, t, args, kw, f"{mod}.{name}")

    def method(self, node):
        return self.call(node, node.target, node.args[1:], node.kwargs, f"Tensor.{node.target}", node.args[0])

    BINARY = {operator.add: "add", operator.iadd: "add", torch.add: "add", "add": "add", "add_": "add",
              "__add__": "add", "__iadd__": "add", "__radd__": "radd",
              operator.sub: "sub", operator.isub: "sub", torch.sub: "sub", "sub": "sub", "sub_": "sub",
              "__sub__": "sub", "__rsub__": "rsub", torch.rsub: "rsub",
              operator.mul: "mul", operator.imul: "mul", torch.mul: "mul", "mul": "mul", "mul_": "mul",
              "__mul__": "mul", "__rmul__": "rmul",
              operator.truediv: "div", operator.itruediv: "div", torch.div: "div", "div": "div", "div_": "div",
              "__truediv__": "div", "__rtruediv__": "rdiv"}
    UNARY = {F.relu: "relu", torch.relu: "relu", torch.relu_: "relu", "relu": "relu", "relu_": "relu",
             F.relu6: "relu6", F.silu: "silu", torch.sigmoid: "sigmoid", "sigmoid": "sigmoid",
             torch.tanh: "tanh", "tanh": "tanh", F.hardswish: "hardswish", F.hardsigmoid: "hardsigmoid"}
    IDENTITY = {k: True for k in ("contiguous", "clone", "detach", "float", F.dropout, F.dropout2d, F.alpha_dropout,
                                  torch.clone)}

    def call(self, node, t, args, kw, label, self_arg=None):
        """A call_function (self_arg None) or call_method on `self_arg` (args exclude it)."""
        full = ((self_arg,) if self_arg is not None else ()) + tuple(args)
        rank = self.out_rank(node) if isinstance(self.values[node.name], torch.Tensor) else None
        key = t
        op = _lookup(self.BINARY, key)
        if op:
            if kw.get("alpha", 1) != 1 or len(full) > 2 and full[2] != 1:
                self.fail(node, "add/sub with alpha != 1")
            if kw.get("rounding_mode") is not None:
                self.fail(node, "division with a rounding mode")
            a, b = full[0], full[1] if len(full) > 1 else kw.get("other")
            if op.startswith("r"):
                op, a, b = op[1:], b, a
            return self.emit(node, op, [self.operand(node, a, rank), self.operand(node, b, rank)])
        if _lookup(self.UNARY, key):
            return self.emit(node, self.UNARY[key], [self.t(node, full[0])])
        if _lookup(self.IDENTITY, key) or (key == "to" and self.values[node.name].dtype == torch.float32):
            x = full[0] if full else kw.get("input")
            if key in (F.dropout, F.dropout2d, F.alpha_dropout):
                b = _bind(key, full, kw)
                if b.get("training") and b.get("p"):
                    self.fail(node, "dropout in training mode")
            return self.t(node, x)
        if t is F.hardtanh:
            b = _bind(t, full, kw, ("input", "min_val", "max_val", "inplace"), {"min_val": -1.0, "max_val": 1.0})
            if (b["min_val"], b["max_val"]) != (0.0, 6.0):
                self.fail(node, "hardtanh with bounds other than (0, 6)")
            return self.emit(node, "relu6", [self.t(node, b["input"])])
        if t is F.gelu:
            b = _bind(t, full, kw, ("input", "approximate"), {"approximate": "none"})
            return self.emit(node, "gelu", [self.t(node, b["input"])], {"approximate": b["approximate"]})
        if t in (F.softmax, torch.softmax, "softmax"):
            b = _bind(t if not isinstance(t, str) else None, full, kw, ("input", "dim"), {"dim": None})
            return self.softmax(node, self.t(node, b["input"]), b["dim"])
        if t is F.layer_norm:
            b = _bind(t, full, kw)
            return self.layernorm(node, self.t(node, b["input"]), b["normalized_shape"], self.value(b["weight"]),
                                  self.value(b["bias"]), b["eps"], "F.layer_norm")
        if t is F.linear:
            b = _bind(t, full, kw, ("input", "weight", "bias"), {"bias": None})
            if self.is_dynamic(b["weight"]) or self.is_dynamic(b["bias"]):
                self.fail(node, "linear with input-dependent weights")
            return self.emit(node, "linear", [self.t(node, b["input"])], {},
                             {"weight": self.value(b["weight"]), "bias": self.value(b["bias"])})
        if t in (torch.cat, torch.concat):
            b = _bind(t, full, kw, ("tensors", "dim"), {"dim": 0})
            d = _dims(b["dim"], rank)[0]
            if d < 1:
                self.fail(node, "cat along the batch dimension")
            return self.emit(node, "cat", [self.operand(node, x, rank) for x in b["tensors"]], {"dim": d})
        if t in (torch.flatten, "flatten"):
            b = _bind(None, full, kw, ("input", "start_dim", "end_dim"), {"start_dim": 0, "end_dim": -1})
            return self._flatten(node, self.t(node, b["input"]), b["start_dim"], b["end_dim"], label)
        if t in ("view", "reshape", torch.reshape, "unsqueeze", torch.unsqueeze, "squeeze", torch.squeeze,
                 "view_as", "reshape_as"):
            return self.reshape(node, full[0], label)
        if t in ("permute", torch.permute, "transpose", torch.transpose, "transpose_", torch.swapaxes, "swapaxes"):
            return self.permute(node, t, full, kw, label)
        if t in (operator.getitem,):
            return self.getitem(node, full[0], full[1])
        if t in ("chunk", torch.chunk, "split", torch.split, "unbind", torch.unbind, "tensor_split"):
            return self.pieces(node, t, full, kw)
        if t in ("mean", torch.mean):
            b = _bind(None, full, kw, ("input", "dim", "keepdim"), {"dim": None, "keepdim": False})
            if b["dim"] is None:
                self.fail(node, "mean over every dimension (the batch included)")
            dims = sorted(set(_dims(b["dim"], self.value(full[0]).dim())))
            if dims[0] < 1:
                self.fail(node, "mean over the batch dimension")
            return self.emit(node, "mean", [self.t(node, b["input"])], {"dims": dims, "keepdim": bool(b["keepdim"])})
        if t in (F.adaptive_avg_pool2d,):
            b = _bind(t, full, kw, ("input", "output_size"))
            return self._adaptive(node, self.t(node, b["input"]), b["output_size"], "F.adaptive_avg_pool2d")
        if t in (F.avg_pool2d, torch._C._nn.avg_pool2d):
            b = _bind(None, full, kw, ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                                       "divisor_override"),
                      {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True,
                       "divisor_override": None})
            return self._avgpool(node, self.t(node, b["input"]), b["kernel_size"], b["stride"], b["padding"],
                                 b["ceil_mode"], b["count_include_pad"], b["divisor_override"], "F.avg_pool2d")
        if t in (F.max_pool2d, torch.max_pool2d):
            b = _bind(None, full, kw, ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                                       "return_indices"),
                      {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False})
            if b["return_indices"]:
                self.fail(node, "return_indices=True")
            s = b["stride"] if b["stride"] not in (None, [], ()) else b["kernel_size"]
            return self.emit(node, "maxpool2d", [self.t(node, b["input"])],
                             {"kernel_size": _pair(b["kernel_size"]), "stride": _pair(s),
                              "padding": _pair(b["padding"]), "dilation": _pair(b["dilation"]),
                              "ceil_mode": bool(b["ceil_mode"])}, module="F.max_pool2d")
        if t in (operator.matmul, torch.matmul, torch.bmm, "matmul", "bmm", "__matmul__"):
            return self.matmul(node, full[0], full[1])
        if t is torch.einsum:
            return self.einsum(node, full[0], full[1:] if len(full) > 2 else full[1])
        if t in (torch.roll, "roll"):
            b = _bind(None, full, kw, ("input", "shifts", "dims"), {"dims": None})
            if b["dims"] is None:
                self.fail(node, "roll without dims (of the flattened tensor)")
            dims = _dims(b["dims"], rank)
            shifts = [int(s) for s in (b["shifts"] if isinstance(b["shifts"], (list, tuple)) else [b["shifts"]])]
            if min(dims) < 1 or len(shifts) != len(dims):
                self.fail(node, "roll along the batch dimension")
            return self.emit(node, "roll", [self.t(node, b["input"])], {"shifts": shifts, "dims": dims})
        if t is F.pad:
            b = _bind(None, full, kw, ("input", "pad", "mode", "value"), {"mode": "constant", "value": None})
            if b["mode"] != "constant":
                self.fail(node, f"pad mode '{b['mode']}' (only constant)")
            pad = [int(p) for p in b["pad"]]
            before, after = [0] * (rank - 1), [0] * (rank - 1)
            for i in range(len(pad) // 2):
                d = rank - 1 - i
                if d < 1:
                    self.fail(node, "padding of the batch dimension")
                before[d - 1], after[d - 1] = pad[2 * i], pad[2 * i + 1]
            if min(before + after) < 0:
                self.fail(node, "negative padding (cropping)")
            return self.emit(node, "pad", [self.t(node, b["input"])],
                             {"before": before, "after": after, "value": float(b["value"] or 0.0)})
        self.fail(node, "no layout op for this function" if self_arg is None else "no layout op for this method")

    def reshape(self, node, x, label):
        vin, vout = self.value(x), self.values[node.name]
        name = self.t(node, x)
        if vin.shape == vout.shape:
            return name
        if vout.shape[0] != vin.shape[0]:
            self.fail(node, f"reshapes {list(vin.shape)} to {list(vout.shape)}, which mixes the batch dimension "
                            f"with another")
        if vout.dim() == 2 and vin.dim() > 2:
            return self._flatten(node, name, 1, -1, label)
        return self.emit(node, "reshape", [name], {"shape": [int(s) for s in vout.shape[1:]]}, module=label)

    def permute(self, node, t, full, kw, label):
        rank = self.value(full[0]).dim()
        if t in ("permute", torch.permute):
            dims = full[1:] if t == "permute" else [full[1]]
            if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
                dims = dims[0]
            dims = kw.get("dims", dims)
            perm = _dims(list(dims), rank)
        else:
            a, b = _dims([full[1], full[2]], rank)
            perm = list(range(rank))
            perm[a], perm[b] = b, a
        if perm[0] != 0:
            self.fail(node, "moves the batch dimension (a layout graph keeps it first)")
        if perm == list(range(rank)):
            return self.t(node, full[0])
        return self.emit(node, "permute", [self.t(node, full[0])], {"dims": perm}, module=label)

    def getitem(self, node, x, idx):
        if isinstance(x, fx.Node) and x.name in self.tuples:
            r = self.tuples[x.name][idx]
            if r is None:
                self.fail(node, "uses an output the translation does not provide")
            return r
        v = self.value(x)
        if not isinstance(v, torch.Tensor):
            self.fail(node, "indexing a value that is not a tensor")
        idx = list(idx) if isinstance(idx, tuple) else [idx]
        if any(isinstance(i, (fx.Node, torch.Tensor, list)) for i in idx):
            self.fail(node, "indexing with a tensor (gather)")
        if Ellipsis in idx:
            at = idx.index(Ellipsis)
            rest = sum(1 for i in idx if i is not None and i is not Ellipsis)
            idx = idx[:at] + [slice(None)] * (v.dim() - rest) + idx[at + 1:]
        dims, starts, ends, steps, reshape = [], [], [], [], False
        d = 0
        for i in idx:
            if i is None:
                reshape = True
                continue
            size = v.shape[d]
            if isinstance(i, int):
                s = i + size if i < 0 else i
                rng = range(s, s + 1)
                reshape = True
            elif isinstance(i, slice):
                rng = range(size)[i]
            else:
                self.fail(node, f"index {i!r}")
            if d == 0 and (len(rng) != size or rng.step != 1):
                self.fail(node, "indexes the batch dimension")
            if len(rng) != size or rng.step != 1:
                dims.append(d)
                starts.append(rng.start)
                ends.append(rng.start + (len(rng) - 1) * rng.step + 1)
                steps.append(rng.step)
            d += 1
        name = self.t(node, x)
        if dims:
            name = self.emit(node, "slice", [name], {"dims": dims, "starts": starts, "ends": ends, "steps": steps},
                             module="Tensor.__getitem__")
        if reshape:
            name = self.emit(node, "reshape", [name], {"shape": [int(s) for s in self.values[node.name].shape[1:]]},
                             module="Tensor.__getitem__")
        return name

    def pieces(self, node, t, full, kw):
        """chunk / split / unbind: one slice (and for unbind a reshape) per piece."""
        v, outs = self.value(full[0]), self.values[node.name]
        rank = v.dim()
        if t in ("unbind", torch.unbind):
            d = _dims(kw.get("dim", full[1] if len(full) > 1 else 0), rank)[0]
        else:
            d = _dims(kw.get("dim", full[2] if len(full) > 2 else 0), rank)[0]
        if d < 1:
            self.fail(node, "splits the batch dimension")
        x, at, names = self.t(node, full[0]), 0, []
        for i, piece in enumerate(outs):
            n = 1 if t in ("unbind", torch.unbind) else piece.shape[d]
            p = self.emit(node, "slice", [x], {"dims": [d], "starts": [at], "ends": [at + n], "steps": [1]},
                          base=f"{node.name}_{i}")
            if t in ("unbind", torch.unbind):
                p = self.emit(node, "reshape", [p], {"shape": [int(s) for s in piece.shape[1:]]}, base=f"{node.name}_{i}")
            names.append(p)
            at += n
        return names

    def matmul(self, node, a, b):
        va, vb = self.value(a), self.value(b)
        if va.dim() < 2 or vb.dim() < 2:
            self.fail(node, "matmul of a vector")
        if not self.is_dynamic(b) and vb.dim() == 2:   # x @ W: a linear layer without bias
            return self.emit(node, "linear", [self.t(node, a)], {}, {"weight": vb.t().contiguous()})
        if self.is_dynamic(a) and self.is_dynamic(b) and (va.dim() != vb.dim() or va.dim() < 3):
            self.fail(node, f"matmul of {list(va.shape)} and {list(vb.shape)} (the batch would not stay a "
                            f"dimension of its own)")
        rank = max(va.dim(), vb.dim())
        return self.emit(node, "matmul", [self.operand(node, a, rank) if self.is_dynamic(a) else
                                          self.b.constant(va, f"{node.name}_a"),
                                          self.operand(node, b, rank) if self.is_dynamic(b) else
                                          self.b.constant(vb, f"{node.name}_b")])

    def einsum(self, node, eq, operands):
        operands = list(operands)
        if len(operands) != 2:
            self.fail(node, f"einsum '{eq}' with {len(operands)} operands (only two)")
        names = [self.t(node, x) if self.is_dynamic(x) else self.b.constant(self.value(x), f"{node.name}_{tag}")
                 for x, tag in zip(operands, "ab")]
        try:
            return einsum_matmul(self.b, eq, names[0], names[1], node.name)
        except ExportError as e:
            self.fail(node, str(e))


def translate(model, probe):
    """(graph, params) of `model` (eval mode) for input batches shaped like `probe`. Raises
    TraceFailure when fx cannot trace the model, ExportError when an op has no layout op."""
    gm, values = trace(model, probe)
    return Translator(gm, values, probe).run()
