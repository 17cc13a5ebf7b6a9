#!/usr/bin/python3
"""Export a PyTorch model to an ffp8 HDF5 model file (layout 1, docs/hdf5-layout.md).

  python3 tools/export.py MODEL --out FILE.h5 [--input-shape C,H,W] [--seed N] [--state-dict W.pth]
                          [--fold-bn] [--calib-data DATA.h5 --calib N] [--reference N]

MODEL is `torchvision:NAME` (random initialisation from --seed, never downloaded weights) or
`path/to/file.py:FUNCTION` (a function returning an nn.Module). The model is traced with
torch.fx; every node is translated to one op of the closed list of layout 1, or the export fails
naming the node. Exit code 1 for bad input, 2 for usage errors.
"""
import argparse
import importlib.util
import json
import operator
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # shared machines: idle threads sleep, not spin
import ffp8_h5  # noqa: E402
from ffp8_h5 import LayoutError  # noqa: E402

ACT_BATCH = 32           # activation recording batch (and HDF5 chunk length along N)
DEFAULT_INPUT_SHAPE = (3, 224, 224)
# torchvision constructors whose defaults add training-only heads or input transforms.
TORCHVISION_KWARGS = {
    "googlenet": {"aux_logits": False, "transform_input": False, "init_weights": True},
    "inception_v3": {"aux_logits": False, "transform_input": False, "init_weights": True},
}


class ExportError(Exception):
    """Bad input or an unsupported model: one sentence for the user, exit code 1."""


# ------------------------------------------------------------------------------ model loading
def load_model(spec, seed):
    import torch
    from torch import nn
    torch.manual_seed(seed)
    if spec.startswith("torchvision:"):
        import torchvision
        name = spec.split(":", 1)[1]
        fn = getattr(torchvision.models, name, None)
        if not name or name.startswith("_") or not callable(fn) or isinstance(fn, type):
            raise ExportError(f"MODEL '{spec}': torchvision.models has no model named '{name}'")
        try:
            model = fn(weights=None, **TORCHVISION_KWARGS.get(name, {}))
        except TypeError as e:
            raise ExportError(f"MODEL '{spec}': cannot construct it ({e})") from None
        return model, None
    if ":" not in spec:
        raise ExportError(f"MODEL '{spec}' must be 'torchvision:NAME' or 'path/to/file.py:FUNCTION'")
    path, func = spec.rsplit(":", 1)
    if not path.endswith(".py") or not func:
        raise ExportError(f"MODEL '{spec}' must be 'torchvision:NAME' or 'path/to/file.py:FUNCTION'")
    if not os.path.isfile(path):
        raise ExportError(f"MODEL '{spec}': no such file '{path}'")
    mod_name = "ffp8_export_" + os.path.splitext(os.path.basename(path))[0]
    sp = importlib.util.spec_from_file_location(mod_name, path)
    module = importlib.util.module_from_spec(sp)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        sp.loader.exec_module(module)
    except Exception as e:  # the user's file: any error is bad input
        raise ExportError(f"MODEL '{spec}': importing '{path}' failed: {type(e).__name__}: {e}") from None
    finally:
        sys.path.pop(0)
    fn = getattr(module, func, None)
    if not callable(fn):
        raise ExportError(f"MODEL '{spec}': '{path}' has no function '{func}'")
    model = fn()
    if not isinstance(model, nn.Module):
        raise ExportError(f"MODEL '{spec}': '{func}()' returned {type(model).__name__}, not an nn.Module")
    shape = getattr(model, "ffp8_input_shape", None) or getattr(module, "INPUT_SHAPE", None)
    return model, (tuple(shape) if shape else None)


def load_state_dict(model, path):
    import torch
    if not os.path.isfile(path):
        raise ExportError(f"--state-dict '{path}': no such file")
    try:
        sd = torch.load(path, map_location="cpu")
    except Exception as e:
        raise ExportError(f"--state-dict '{path}': cannot load it ({type(e).__name__}: {e})") from None
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict):
        raise ExportError(f"--state-dict '{path}': not a state dict")
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        raise ExportError(f"--state-dict '{path}' does not match the model: {' '.join(first[:3])}") from None


# ------------------------------------------------------------------------------ fx translation
def _pair(v):
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return [int(v[0]), int(v[0])]
        return [int(v[0]), int(v[1])]
    return [int(v), int(v)]


def _bind(args, kwargs, names, defaults):
    """Binds fx call arguments to parameter names (a tiny inspect.signature)."""
    out = dict(defaults)
    for n, v in zip(names, args):
        out[n] = v
    out.update(kwargs)
    return out


class Translator:
    """Turns a traced GraphModule plus concrete values of every node into layout-1 nodes."""

    def __init__(self, gm, values):
        self.gm, self.values = gm, values
        self.modules = dict(gm.named_modules())
        self.nodes, self.params, self.alias = [], {}, {}
        self.graph_input = None

    def fail(self, node, why):
        raise ExportError(f"unsupported node '{node.name}' ({node.op} {self._target(node)}): {why}")

    @staticmethod
    def _target(node):
        t = node.target
        if isinstance(t, str):
            return t
        mod = getattr(t, "__module__", None) or ""
        return f"{mod}.{getattr(t, '__name__', repr(t))}".lstrip(".")

    def tensor(self, node, arg):
        """The layout tensor name an fx argument refers to (after removing identity nodes)."""
        import torch.fx as fx
        if not isinstance(arg, fx.Node):
            self.fail(node, f"expected a tensor argument, found {arg!r}")
        name = self.alias.get(arg.name, arg.name)
        if name not in self.defined:
            self.fail(node, f"its input '{arg.name}' is not a tensor the graph computes")
        return name

    def emit(self, node, op, inputs, attrs=None, params=None, module=None):
        import torch
        v = self.values[node.name]
        if not isinstance(v, torch.Tensor):
            self.fail(node, "does not produce a tensor")
        entry = {"name": node.name, "op": op, "inputs": inputs, "outputs": [node.name],
                 "shape": [int(s) for s in v.shape[1:]], "module": module or self._target(node),
                 "params": {}, "attrs": attrs or {}}
        for key, arr in (params or {}).items():
            if arr is None:
                continue
            dpath = f"/params/{node.name}/{key}"
            entry["params"][key] = dpath
            self.params[dpath] = arr.detach().to("cpu").float().numpy().copy()
        self.nodes.append(entry)
        self.defined.add(node.name)

    def run(self):
        import torch
        self.defined = set()
        output = None
        for node in self.gm.graph.nodes:
            v = self.values.get(node.name)
            if node.op == "placeholder":
                if self.graph_input is not None:
                    self.fail(node, "layout 1 supports exactly one model input")
                self.graph_input = node.name
                self.defined.add(node.name)
            elif node.op == "output":
                out = node.args[0]
                if isinstance(out, (list, tuple)) and len(out) == 1:
                    out = out[0]
                output = self.tensor(node, out)
            elif node.op == "get_attr":
                if isinstance(v, torch.Tensor) and any(u.op != "output" for u in node.users):
                    self.fail(node, "parameters used outside a supported module are not supported")
            elif not isinstance(v, torch.Tensor):
                # Shape arithmetic (x.size(0), getitem on sizes, ...): static for a fixed input shape,
                # consumed only through the concrete values (e.g. view -> flatten).
                continue
            elif node.op == "call_module":
                self.module(node, self.modules[node.target])
            elif node.op == "call_function":
                self.function(node)
            elif node.op == "call_method":
                self.method(node)
            else:
                self.fail(node, "unknown fx node kind")
        if output is None:
            raise ExportError("the traced model has no output")
        return {"inputs": [self.graph_input], "outputs": [output], "nodes": self.nodes}

    # -- call_module
    def module(self, node, m):
        from torch import nn
        x = self.tensor(node, node.args[0]) if node.args else self.fail(node, "no input")
        if len(node.args) != 1 or node.kwargs:
            self.fail(node, "a module called with more than one argument")
        if isinstance(m, nn.Conv2d):
            if m.padding_mode != "zeros":
                self.fail(node, f"padding_mode '{m.padding_mode}' (only zeros)")
            pad = m.padding
            if isinstance(pad, str):
                pad = self._str_padding(node, pad, m.kernel_size, m.dilation)
            self.emit(node, "conv2d", [x], {"stride": _pair(m.stride), "padding": _pair(pad),
                                            "dilation": _pair(m.dilation), "groups": int(m.groups)},
                      {"weight": m.weight, "bias": m.bias}, node.target)
        elif isinstance(m, nn.Linear):
            self.emit(node, "linear", [x], {}, {"weight": m.weight, "bias": m.bias}, node.target)
        elif isinstance(m, nn.BatchNorm2d):
            if m.running_mean is None or m.running_var is None:
                self.fail(node, "BatchNorm2d without running statistics (track_running_stats=False)")
            import torch
            w = m.weight if m.affine else torch.ones_like(m.running_mean)
            b = m.bias if m.affine else torch.zeros_like(m.running_mean)
            self.emit(node, "batchnorm2d", [x], {"eps": float(m.eps)},
                      {"mean": m.running_mean, "var": m.running_var, "weight": w, "bias": b}, node.target)
        elif type(m) is nn.ReLU:
            self.emit(node, "relu", [x], module=node.target)
        elif isinstance(m, nn.Hardtanh):   # nn.ReLU6 is Hardtanh(0, 6)
            if (m.min_val, m.max_val) != (0.0, 6.0):
                self.fail(node, f"Hardtanh({m.min_val}, {m.max_val}) (only (0, 6), i.e. ReLU6)")
            self.emit(node, "relu6", [x], module=node.target)
        elif isinstance(m, nn.MaxPool2d):
            if m.return_indices:
                self.fail(node, "return_indices=True")
            stride = m.stride if m.stride is not None else m.kernel_size
            self.emit(node, "maxpool2d", [x], {"kernel_size": _pair(m.kernel_size), "stride": _pair(stride),
                                               "padding": _pair(m.padding), "dilation": _pair(m.dilation),
                                               "ceil_mode": bool(m.ceil_mode)}, module=node.target)
        elif isinstance(m, nn.AvgPool2d):
            self._avgpool(node, x, m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad,
                          m.divisor_override, node.target)
        elif isinstance(m, nn.AdaptiveAvgPool2d):
            self._adaptive(node, x, m.output_size, node.target)
        elif isinstance(m, nn.Flatten):
            self._flatten(node, x, m.start_dim, m.end_dim, node.target)
        elif isinstance(m, (nn.Dropout, nn.Dropout2d, nn.Dropout1d, nn.AlphaDropout, nn.Identity)):
            self.alias[node.name] = x
        else:
            self.fail(node, f"module type {type(m).__module__}.{type(m).__name__} has no layout-1 op")

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
        self.emit(node, "avgpool2d", [x], {"kernel_size": _pair(k), "stride": _pair(s), "padding": _pair(p),
                                           "ceil_mode": bool(ceil), "count_include_pad": bool(cip),
                                           "divisor_override": None if div is None else int(div)}, module=module)

    def _adaptive(self, node, x, size, module):
        in_shape = self.values[node.args[0].name].shape
        size = _pair(size) if not isinstance(size, (list, tuple)) else list(size)
        if len(size) == 1:
            size = [size[0], size[0]]
        size = [int(in_shape[2 + i]) if v is None else int(v) for i, v in enumerate(size)]
        self.emit(node, "adaptive_avgpool2d", [x], {"output_size": size}, module=module)

    def _flatten(self, node, x, start, end, module):
        rank = self.values[node.args[0].name].dim()
        start = start + rank if start < 0 else start
        end = end + rank if end < 0 else end
        if start < 1:
            self.fail(node, "flatten including the batch dimension")
        if start >= end:   # flattening a single dim: identity
            self.alias[node.name] = x
            return
        self.emit(node, "flatten", [x], {"start_dim": int(start), "end_dim": -1 if end == rank - 1 else int(end)},
                  module=module)

    # -- call_function
    def function(self, node):
        import torch
        import torch.nn.functional as F
        t, args, kw = node.target, node.args, node.kwargs
        if t in (operator.add, operator.iadd, torch.add):
            b = _bind(args, kw, ("input", "other", "alpha"), {"alpha": 1})
            if b["alpha"] != 1:
                self.fail(node, "add with alpha != 1")
            self._add(node, b["input"], b["other"])
        elif t in (torch.cat, torch.concat):
            b = _bind(args, kw, ("tensors", "dim"), {"dim": 0})
            self._cat(node, b["tensors"], b["dim"])
        elif t in (F.relu, torch.relu, torch.relu_):
            self.emit(node, "relu", [self.tensor(node, args[0])])
        elif t in (F.relu6,):
            self.emit(node, "relu6", [self.tensor(node, args[0])])
        elif t is F.hardtanh:
            b = _bind(args, kw, ("input", "min_val", "max_val", "inplace"), {"min_val": -1.0, "max_val": 1.0})
            if (b["min_val"], b["max_val"]) != (0.0, 6.0):
                self.fail(node, "hardtanh with bounds other than (0, 6)")
            self.emit(node, "relu6", [self.tensor(node, b["input"])])
        elif t is torch.flatten:
            b = _bind(args, kw, ("input", "start_dim", "end_dim"), {"start_dim": 0, "end_dim": -1})
            self._flatten(node, self.tensor(node, b["input"]), b["start_dim"], b["end_dim"], "torch.flatten")
        elif t in (F.adaptive_avg_pool2d, torch._C._nn.adaptive_avg_pool2d):
            b = _bind(args, kw, ("input", "output_size"), {})
            self._adaptive(node, self.tensor(node, b["input"]), b["output_size"], "F.adaptive_avg_pool2d")
        elif t in (F.avg_pool2d, torch._C._nn.avg_pool2d):
            b = _bind(args, kw, ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                                 "divisor_override"),
                      {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True,
                       "divisor_override": None})
            self._avgpool(node, self.tensor(node, b["input"]), b["kernel_size"], b["stride"], b["padding"],
                          b["ceil_mode"], b["count_include_pad"], b["divisor_override"], "F.avg_pool2d")
        elif t in (F.max_pool2d, torch.max_pool2d):
            b = _bind(args, kw, ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                                 "return_indices"),
                      {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False})
            if b["return_indices"]:
                self.fail(node, "return_indices=True")
            s = b["stride"] if b["stride"] not in (None, [], ()) else b["kernel_size"]
            self.emit(node, "maxpool2d", [self.tensor(node, b["input"])],
                      {"kernel_size": _pair(b["kernel_size"]), "stride": _pair(s), "padding": _pair(b["padding"]),
                       "dilation": _pair(b["dilation"]), "ceil_mode": bool(b["ceil_mode"])}, module="F.max_pool2d")
        elif t in (F.dropout, F.dropout2d, F.alpha_dropout):
            self.alias[node.name] = self.tensor(node, args[0] if args else kw["input"])
        else:
            self.fail(node, "no layout-1 op for this function")

    def _add(self, node, a, b):
        import torch
        va, vb = self.values.get(getattr(a, "name", None)), self.values.get(getattr(b, "name", None))
        if not (isinstance(va, torch.Tensor) and isinstance(vb, torch.Tensor)):
            self.fail(node, "add of a tensor and a constant")
        if va.shape != vb.shape:
            self.fail(node, f"add with broadcasting ({list(va.shape)} + {list(vb.shape)})")
        self.emit(node, "add", [self.tensor(node, a), self.tensor(node, b)])

    def _cat(self, node, tensors, dim):
        rank = self.values[node.name].dim()
        dim = dim + rank if dim < 0 else dim
        if dim < 1:
            self.fail(node, "cat along the batch dimension")
        self.emit(node, "cat", [self.tensor(node, t) for t in tensors], {"dim": int(dim)})

    # -- call_method
    def method(self, node):
        t, args = node.target, node.args
        if t in ("relu", "relu_"):
            self.emit(node, "relu", [self.tensor(node, args[0])], module=f"Tensor.{t}")
        elif t in ("add", "add_", "__add__", "__iadd__"):
            if len(args) != 2 or node.kwargs:
                self.fail(node, "add with alpha")
            self._add(node, args[0], args[1])
        elif t == "flatten":
            b = _bind(args, node.kwargs, ("input", "start_dim", "end_dim"), {"start_dim": 0, "end_dim": -1})
            self._flatten(node, self.tensor(node, b["input"]), b["start_dim"], b["end_dim"], "Tensor.flatten")
        elif t in ("view", "reshape"):
            vin, vout = self.values[args[0].name], self.values[node.name]
            if vin.shape == vout.shape:
                self.alias[node.name] = self.tensor(node, args[0])
            elif vout.dim() == 2 and vout.shape[0] == vin.shape[0]:
                self._flatten(node, self.tensor(node, args[0]), 1, -1, f"Tensor.{t}")
            else:
                self.fail(node, f"{t} to {list(vout.shape)} is not a flatten of [N, ...]")
        elif t in ("contiguous", "clone", "detach"):
            self.alias[node.name] = self.tensor(node, args[0])
        else:
            self.fail(node, "no layout-1 op for this method")


def trace(model):
    import torch.fx as fx
    try:
        return fx.GraphModule(model, fx.Tracer().trace(model))
    except Exception as e:
        raise ExportError(f"torch.fx cannot trace the model: {type(e).__name__}: {str(e).splitlines()[0]}") from None


def record_values(gm, x):
    """Concrete value of every fx node for input x (shapes are static for a fixed input shape)."""
    import torch.fx as fx
    values = {}

    class Rec(fx.Interpreter):
        def run_node(self, n):
            v = super().run_node(n)
            values[n.name] = v
            return v

    try:
        Rec(gm).run(x)
    except Exception as e:
        raise ExportError(f"the model fails on an input of shape {list(x.shape[1:])}: "
                          f"{type(e).__name__}: {str(e).splitlines()[0]}") from None
    return values


# ------------------------------------------------------------------------------ BN folding
def fold_bn(graph, params):
    """Merges every batchnorm2d whose input is a conv2d output read by nobody else into that conv."""
    users = {}
    for n in graph["nodes"]:
        for t in n["inputs"]:
            users[t] = users.get(t, 0) + 1
    users[graph["outputs"][0]] = users.get(graph["outputs"][0], 0) + 1
    by_name = {n["name"]: n for n in graph["nodes"]}
    rename, keep = {}, []
    for n in graph["nodes"]:
        n["inputs"] = [rename.get(t, t) for t in n["inputs"]]
        src = by_name.get(n["inputs"][0]) if n["op"] == "batchnorm2d" else None
        if src is not None and src["op"] == "conv2d" and users[src["name"]] == 1:
            P = lambda k: np.asarray(params[n["params"][k]], np.float64)  # noqa: E731
            g = P("weight") / np.sqrt(P("var") + n["attrs"]["eps"])
            w = np.asarray(params[src["params"]["weight"]], np.float64)
            b = np.asarray(params[src["params"]["bias"]], np.float64) if "bias" in src["params"] \
                else np.zeros(w.shape[0])
            params[src["params"]["weight"]] = (w * g[:, None, None, None]).astype(np.float32)
            bpath = f"/params/{src['name']}/bias"
            params[bpath] = ((b - P("mean")) * g + P("bias")).astype(np.float32)
            src["params"]["bias"] = bpath
            for k in n["params"].values():
                del params[k]
            rename[n["name"]] = src["name"]
            continue
        keep.append(n)
    graph["nodes"] = keep
    graph["outputs"] = [rename.get(t, t) for t in graph["outputs"]]
    return graph, params


# ------------------------------------------------------------------------------ inputs
def input_batches(args, shape, count, batch):
    """Yields (float32 inputs, labels or None): from --calib-data or seeded standard normal."""
    import torch
    if count <= 0:
        return
    if args.calib_data:
        for x, y in ffp8_h5.iter_data(args.calib_data, count, batch):
            yield x, y
    else:
        g = torch.Generator().manual_seed(args.seed)
        for i in range(0, count, batch):
            yield torch.randn((min(batch, count - i),) + tuple(shape), generator=g).numpy(), None


# ------------------------------------------------------------------------------ main
def parse_shape(text):
    try:
        dims = tuple(int(v) for v in text.split(","))
    except ValueError:
        dims = ()
    if len(dims) != 3 or min(dims) < 1:
        raise ExportError(f"--input-shape '{text}' must be three positive integers C,H,W")
    return dims


def export(args):
    import h5py
    import torch
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    if args.calib_data is not None:
        n, chw, _ = ffp8_h5.open_data(args.calib_data)
    model, file_shape = load_model(args.model, args.seed)
    if args.state_dict:
        load_state_dict(model, args.state_dict)
    model.eval()
    if args.input_shape:
        shape = parse_shape(args.input_shape)
    else:
        shape = file_shape or (tuple(chw) if args.calib_data is not None else DEFAULT_INPUT_SHAPE)
    if args.calib_data is not None:
        if list(chw) != list(shape):
            raise ExportError(f"--calib-data '{args.calib_data}' holds images of shape {chw}, the model input is "
                              f"{list(shape)}")
        if args.calib > n or args.reference > n:
            raise ExportError(f"--calib-data '{args.calib_data}' holds {n} images, fewer than requested "
                              f"(--calib {args.calib}, --reference {args.reference})")
    gm = trace(model)
    g = torch.Generator().manual_seed(args.seed)
    probe = torch.randn((2,) + tuple(shape), generator=g)
    values = record_values(gm, probe)
    tr = Translator(gm, values)
    graph = tr.run()
    params = tr.params
    out_node = [n for n in gm.graph.nodes if n.op == "output"][0]
    out = out_node.args[0]
    out = values[(out[0] if isinstance(out, (list, tuple)) else out).name]
    if out.dim() != 2:
        raise ExportError(f"the model output has shape {list(out.shape)}, expected [N, classes]")
    # The translated graph must compute what PyTorch computes (a cheap guard against translator bugs).
    mine = ffp8_h5.run_graph(graph, params, probe.numpy())
    err = float((mine - out).abs().max()) / max(1e-6, float(out.abs().max()))
    if not err < 1e-4:
        raise ExportError(f"internal error: the translated graph differs from PyTorch (relative error {err:.3g})")
    if args.fold_bn:
        graph, params = fold_bn(graph, params)
        mine = ffp8_h5.run_graph(graph, params, probe.numpy())
        err = float((mine - out).abs().max()) / max(1e-6, float(out.abs().max()))
        if not err < 1e-3:
            raise ExportError(f"internal error: BatchNorm folding changed the logits (relative error {err:.3g})")
    ffp8_h5.validate_graph(graph, args.out)

    tmp = args.out + ".tmp"
    d = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(d):
        raise ExportError(f"--out '{args.out}': directory '{d}' does not exist")
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["ffp8_layout"] = np.int64(ffp8_h5.MODEL_LAYOUT)
            f.attrs["model_name"] = str(args.model) if args.model.startswith("torchvision:") else \
                args.model.rsplit(":", 1)[1]
            f.attrs["input_shape"] = np.array(shape, np.int64)
            f.attrs["num_classes"] = np.int64(out.shape[1])
            f.attrs["bn_folded"] = np.int64(1 if args.fold_bn else 0)
            f.attrs["producer"] = "ffp8 tools/export.py"
            f.attrs["torch_version"] = str(torch.__version__)
            f.attrs["seed"] = np.int64(args.seed)
            gd = f.create_dataset("graph", data=json.dumps(graph, indent=1), dtype=h5py.string_dtype("utf-8"))
            gd.attrs["role"] = "graph"
            for node in graph["nodes"]:
                for key, dpath in node["params"].items():
                    ds = f.create_dataset(dpath, data=np.ascontiguousarray(params[dpath], np.float32))
                    ds.attrs["role"] = ffp8_h5.PARAM_ROLES[node["op"]][key]
                    ds.attrs["node"] = node["name"]
            shapes = {graph["inputs"][0]: list(shape)}
            shapes.update({n["name"]: n["shape"] for n in graph["nodes"]})
            if args.calib > 0:
                grp = f.create_group("activations")
                grp.attrs["count"] = np.int64(args.calib)
                grp.attrs["source"] = args.calib_data or "random"
                dsets = {}
                for node in graph["nodes"]:
                    if node["op"] in ffp8_h5.RECORDED_OPS:
                        s = shapes[node["inputs"][0]]
                        ds = grp.create_dataset(node["name"], (args.calib,) + tuple(s), np.float32,
                                                chunks=(min(args.calib, ACT_BATCH),) + tuple(s))
                        ds.attrs["role"] = "activation"
                        ds.attrs["node"] = node["name"]
                        ds.attrs["tensor"] = node["inputs"][0]
                        dsets[node["name"]] = ds
                pos = [0]

                def rec(node, v):
                    dsets[node["name"]][pos[0]:pos[0] + v.shape[0]] = v.numpy()

                for x, _ in input_batches(args, shape, args.calib, ACT_BATCH):
                    ffp8_h5.run_graph(graph, params, x, rec)
                    pos[0] += x.shape[0]
            if args.reference > 0:
                grp = f.create_group("reference")
                xs, ys = zip(*input_batches(args, shape, args.reference, max(1, args.reference)))
                x = np.concatenate(xs).astype(np.float32)
                with torch.no_grad():
                    logits = model(torch.from_numpy(x)) if not args.fold_bn else \
                        ffp8_h5.run_graph(graph, params, x)
                for k, v, role in (("inputs", x, "reference_input"),
                                   ("logits", logits.numpy().astype(np.float32), "reference_logits")):
                    grp.create_dataset(k, data=v).attrs["role"] = role
                if ys[0] is not None:
                    grp.create_dataset("labels", data=np.concatenate(ys).astype(np.int64)).attrs["role"] = "label"
        os.replace(tmp, args.out)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return graph


def main(argv=None):
    p = argparse.ArgumentParser(prog="export.py", description=__doc__.split("\n\n")[0])
    p.add_argument("model", metavar="MODEL", help="torchvision:NAME or path/to/file.py:FUNCTION")
    p.add_argument("--out", required=True, metavar="FILE.h5")
    p.add_argument("--input-shape", metavar="C,H,W", help="model input shape (default: the model file's "
                   "INPUT_SHAPE, else the --calib-data image shape, else 3,224,224)")
    p.add_argument("--seed", type=int, default=0, help="initialisation and random-input seed (default 0)")
    p.add_argument("--state-dict", metavar="W.pth", help="load these weights (torch.save of a state dict)")
    p.add_argument("--fold-bn", action="store_true", help="fold BatchNorm into the preceding convolution")
    p.add_argument("--calib-data", metavar="DATA.h5", help="data file for calibration and reference inputs")
    p.add_argument("--calib", type=int, default=0, metavar="N",
                   help="record the input of every conv/linear for the first N inputs of --calib-data "
                   "(seeded random inputs without it; default 0: none)")
    p.add_argument("--reference", type=int, default=0, metavar="N", help="store inputs and FP32 logits for N inputs")
    args = p.parse_args(argv)
    try:
        if args.calib < 0 or args.reference < 0:
            raise ExportError("--calib and --reference must not be negative")
        graph = export(args)
    except (ExportError, LayoutError) as e:
        print(f"export.py: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"export.py: {e.filename or args.out}: {e.strerror or e}", file=sys.stderr)
        return 1
    ops = {}
    for n in graph["nodes"]:
        ops[n["op"]] = ops.get(n["op"], 0) + 1
    print(f"wrote {args.out}: {len(graph['nodes'])} nodes {ops}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
