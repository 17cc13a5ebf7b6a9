"""Reference reader, validator and float32 executor for ffp8 HDF5 files (docs/hdf5-layout.md).

Used by tools/export.py, tools/train_fashion.py and tests/tools/. Errors are `LayoutError`
with one sentence naming the file and the dataset, attribute or node at fault.

  /usr/bin/python3 tools/ffp8_h5.py FILE.h5      # validate a model or data file, print a summary
"""
import json
import os
import re
import sys

import numpy as np

MODEL_LAYOUT = 2            # written by tools/export.py
MODEL_LAYOUTS = (1, 2)      # read: layout 1 is layout 2 without the ops added in 2
DATA_LAYOUT = 1


class OpSpec(tuple):
    """One row of the op table: attribute keys (exactly these), allowed params, required params,
    number of inputs (None = one or more, 0 = none), the layout version that added the op, and
    the inputs an FFP8 accelerator stores in 8 bits (operand indices; the op's `weight` param is
    quantized too when it has one)."""
    __slots__ = ()
    _fields = ("attrs", "params", "required", "inputs", "since", "quantized")

    def __new__(cls, attrs=(), params=(), required=(), inputs=1, since=1, quantized=()):
        return tuple.__new__(cls, (tuple(attrs), tuple(params), tuple(required), inputs, since, tuple(quantized)))

    attrs = property(lambda s: s[0])
    params = property(lambda s: s[1])
    required = property(lambda s: s[2])
    inputs = property(lambda s: s[3])
    since = property(lambda s: s[4])
    quantized = property(lambda s: s[5])


# The closed list of op kinds (docs/hdf5-layout.md; the C++ reader's op table in core/infer is the
# same list, tests compare the two). One table; the tests iterate it.
OPS = {
    "conv2d": OpSpec(("stride", "padding", "dilation", "groups"), ("weight", "bias"), ("weight",), quantized=(0,)),
    "linear": OpSpec((), ("weight", "bias"), ("weight",), quantized=(0,)),
    "batchnorm2d": OpSpec(("eps",), ("mean", "var", "weight", "bias"), ("mean", "var", "weight", "bias")),
    "relu": OpSpec(),
    "relu6": OpSpec(),
    "maxpool2d": OpSpec(("kernel_size", "stride", "padding", "dilation", "ceil_mode")),
    "avgpool2d": OpSpec(("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")),
    "adaptive_avgpool2d": OpSpec(("output_size",)),
    "add": OpSpec(inputs=2),
    "cat": OpSpec(("dim",), inputs=None),
    "flatten": OpSpec(("start_dim", "end_dim")),
    # layout 2
    "constant": OpSpec((), ("value",), ("value",), inputs=0, since=2),
    "sub": OpSpec(inputs=2, since=2),
    "mul": OpSpec(inputs=2, since=2),
    "div": OpSpec(inputs=2, since=2),
    "sigmoid": OpSpec(since=2),
    "tanh": OpSpec(since=2),
    "silu": OpSpec(since=2),
    "hardsigmoid": OpSpec(since=2),
    "hardswish": OpSpec(since=2),
    "gelu": OpSpec(("approximate",), since=2),
    "softmax": OpSpec(("dim",), since=2),
    "layernorm": OpSpec(("normalized_dims", "eps"), ("weight", "bias"), since=2),
    "mean": OpSpec(("dims", "keepdim"), since=2),
    "reshape": OpSpec(("shape",), since=2),
    "permute": OpSpec(("dims",), since=2),
    "slice": OpSpec(("dims", "starts", "ends", "steps"), since=2),
    "pad": OpSpec(("before", "after", "value"), since=2),
    "roll": OpSpec(("shifts", "dims"), since=2),
    "matmul": OpSpec(inputs=2, since=2, quantized=(0, 1)),
}

# params key -> role, per op family.
PARAM_ROLES = {
    "conv2d": {"weight": "weight", "bias": "bias"},
    "linear": {"weight": "weight", "bias": "bias"},
    "batchnorm2d": {"mean": "bn_mean", "var": "bn_var", "weight": "bn_weight", "bias": "bn_bias"},
    "layernorm": {"weight": "ln_weight", "bias": "ln_bias"},
    "constant": {"value": "constant"},
}

ROLES = ("weight", "bias", "bn_mean", "bn_var", "bn_weight", "bn_bias", "ln_weight", "ln_bias", "constant",
         "activation", "reference_input", "reference_logits", "label", "image", "graph")

# Ops whose inputs FFP8 stores (recorded under /activations/<node>, and /activations/<node>.other for
# the second operand of a matmul).
RECORDED_OPS = tuple(op for op, spec in OPS.items() if spec.quantized)
OPERAND_SUFFIX = ("", ".other")     # dataset / tensor name suffix of operand 0 and 1 of a quantized op

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class LayoutError(Exception):
    """A file does not follow docs/hdf5-layout.md; the message names the file and the place."""


def _h5():
    import h5py
    return h5py


def _str(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def open_h5(path):
    """Opens an HDF5 file read-only, turning every failure into a one-sentence LayoutError."""
    h5py = _h5()
    if not os.path.exists(path):
        raise LayoutError(f"{path}: no such file")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise LayoutError(f"{path}: not a readable HDF5 file (truncated or corrupt?): {e}") from None


def check_version(f, path, attr, supported):
    """The file's version attribute `attr`, refused unless it is one of `supported` (an int or a tuple)."""
    supported = (supported,) if isinstance(supported, int) else tuple(supported)
    if attr not in f.attrs:
        raise LayoutError(f"{path}: root attribute '{attr}' is missing (not an ffp8 file?)")
    v = f.attrs[attr]
    if not isinstance(v, (int, np.integer)) or isinstance(v, (bool, np.bool_)):
        raise LayoutError(f"{path}: root attribute '{attr}' must be an integer, found {v!r}")
    if int(v) not in supported:
        known = " and ".join(str(k) for k in supported)
        raise LayoutError(f"{path}: {attr} = {int(v)} is not supported (this reader knows version {known})")
    return int(v)


def _pair(v, name, where):
    if not (isinstance(v, list) and len(v) == 2 and all(isinstance(i, int) and not isinstance(i, bool) for i in v)):
        raise LayoutError(f"{where}: attribute '{name}' must be a list of two integers, found {v!r}")


def _int_list(v, name, where, positive=False):
    if not (isinstance(v, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in v)) or \
            (positive and any(i < 1 for i in v)):
        kind = "positive integers" if positive else "integers"
        raise LayoutError(f"{where}: attribute '{name}' must be a list of {kind}, found {v!r}")


def _check_keys(where, op, what, given, allowed, required):
    """Refuses keys of `given` outside `allowed` and missing `required` ones; `what` names them
    in the message ("attribute", "param")."""
    unknown = set(given) - set(allowed)
    if unknown:
        raise LayoutError(f"{where}: unknown {what}(s) {sorted(unknown)} for op '{op}'")
    missing = set(required) - set(given)
    if missing:
        raise LayoutError(f"{where}: missing {what}(s) {sorted(missing)} for op '{op}'")


def validate_graph(graph, path="<graph>", layout=MODEL_LAYOUT):
    """Checks the JSON graph structure: closed op list (ops of `layout` and before), attr keys,
    topological order, names."""
    if not isinstance(graph, dict):
        raise LayoutError(f"{path}: /graph must be a JSON object")
    for key in ("inputs", "outputs", "nodes"):
        if key not in graph:
            raise LayoutError(f"{path}: /graph has no '{key}'")
    if len(graph["inputs"]) != 1 or len(graph["outputs"]) != 1:
        raise LayoutError(f"{path}: /graph must have exactly one input and one output in layout 1")
    defined = set(graph["inputs"])
    for i, node in enumerate(graph["nodes"]):
        where = f"{path}: /graph node {i}"
        if not isinstance(node, dict):
            raise LayoutError(f"{where} is not an object")
        for key in ("name", "op", "inputs", "outputs", "params", "attrs"):
            if key not in node:
                raise LayoutError(f"{where} has no '{key}'")
        name, op = node["name"], node["op"]
        where = f"{path}: /graph node '{name}'"
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise LayoutError(f"{where}: invalid node name")
        if op not in OPS:
            raise LayoutError(f"{where}: unknown op '{op}' (layout {MODEL_LAYOUT} knows {', '.join(OPS)})")
        attr_keys, allowed, required, nin = OPS[op][:4]
        if OPS[op].since > layout:
            raise LayoutError(f"{where}: op '{op}' needs layout {OPS[op].since}, the file is layout {layout}")
        if node["outputs"] != [name]:
            raise LayoutError(f"{where}: outputs must be [\"{name}\"], found {node['outputs']!r}")
        if name in defined:
            raise LayoutError(f"{where}: tensor name defined twice")
        if (nin is not None and len(node["inputs"]) != nin) or (nin is None and len(node["inputs"]) < 1):
            raise LayoutError(f"{where}: op '{op}' takes {'one or more' if nin is None else nin} inputs, "
                              f"found {len(node['inputs'])}")
        for t in node["inputs"]:
            if t not in defined:
                raise LayoutError(f"{where}: input '{t}' is not a graph input or an earlier node's output")
        _check_keys(where, op, "attribute", node["attrs"], attr_keys, attr_keys)
        a = node["attrs"]
        for k in ("stride", "padding", "dilation", "kernel_size", "output_size"):
            if k in a:
                _pair(a[k], k, where)
        for k in ("dims", "starts", "ends", "shifts", "before", "after"):
            if k in a:
                _int_list(a[k], k, where)
        for k in ("shape", "steps"):
            if k in a:
                _int_list(a[k], k, where, positive=True)
        if op == "gelu" and a["approximate"] not in ("none", "tanh"):
            raise LayoutError(f"{where}: attribute 'approximate' must be \"none\" or \"tanh\", found {a['approximate']!r}")
        _check_keys(where, op, "param", node["params"], allowed, required)
        defined.add(name)
    if graph["outputs"][0] not in defined:
        raise LayoutError(f"{path}: graph output '{graph['outputs'][0]}' is not defined")


class Model:
    """A model file loaded in memory (params as float32 numpy arrays; activations left on disk)."""

    def __init__(self, path, attrs, graph, params, reference):
        self.path, self.attrs, self.graph, self.params, self.reference = path, attrs, graph, params, reference

    @property
    def input_shape(self):
        return tuple(int(v) for v in self.attrs["input_shape"])

    def node(self, name):
        return next(n for n in self.graph["nodes"] if n["name"] == name)


def _check_tensor(ds, path, role, dtype_kind="f"):
    if ds.dtype.kind != dtype_kind or (dtype_kind == "f" and ds.dtype.itemsize != 4):
        want = "float32" if dtype_kind == "f" else "integer"
        raise LayoutError(f"{path}: dataset {ds.name} must be {want}, found {ds.dtype}")
    got = _str(ds.attrs.get("role", ""))
    if got != role:
        raise LayoutError(f"{path}: dataset {ds.name} must have role '{role}', found '{got}'")


def expected_param_shape(node, key, in_shape):
    """Shape a param must have, from the node's attrs and its input shape (batch excluded)."""
    op, out = node["op"], node["shape"]
    if op == "conv2d":
        if key == "bias":
            return (out[0],)
        return None   # kernel size is free; checked against groups below
    if op == "linear":
        return (out[-1], in_shape[-1]) if key == "weight" else (out[-1],)
    if op == "batchnorm2d":
        return (in_shape[0],)
    if op == "layernorm":
        return tuple(in_shape[len(in_shape) - node["attrs"]["normalized_dims"]:])
    if op == "constant":
        return tuple(out)
    return None


def load_model(path, with_reference=True):
    """Reads and validates a model file; raises LayoutError on any deviation from layout 1."""
    with open_h5(path) as f:
        layout = check_version(f, path, "ffp8_layout", MODEL_LAYOUTS)
        attrs = {k: (_str(v) if isinstance(v, (str, bytes)) else v) for k, v in f.attrs.items()}
        for k in ("model_name", "input_shape", "num_classes"):
            if k not in attrs:
                raise LayoutError(f"{path}: root attribute '{k}' is missing")
        if np.asarray(attrs["input_shape"]).shape != (3,):
            raise LayoutError(f"{path}: root attribute 'input_shape' must be [C, H, W]")
        if "graph" not in f:
            raise LayoutError(f"{path}: dataset /graph is missing")
        try:
            graph = json.loads(_str(f["graph"][()]))
        except (ValueError, TypeError) as e:
            raise LayoutError(f"{path}: /graph is not valid JSON: {e}") from None
        validate_graph(graph, path, layout)
        shapes = {graph["inputs"][0]: [int(v) for v in attrs["input_shape"]]}
        params = {}
        for node in graph["nodes"]:
            in_shape = shapes[node["inputs"][0]] if node["inputs"] else None
            for key, dpath in node["params"].items():
                if dpath not in f:
                    raise LayoutError(f"{path}: dataset {dpath} (param '{key}' of node '{node['name']}') is missing")
                ds = f[dpath]
                if not hasattr(ds, "dtype"):
                    raise LayoutError(f"{path}: {dpath} is a group, expected a float32 dataset")
                _check_tensor(ds, path, PARAM_ROLES[node["op"]][key])
                want = expected_param_shape(node, key, in_shape)
                if want is not None and tuple(ds.shape) != tuple(want):
                    raise LayoutError(f"{path}: dataset {dpath} has shape {list(ds.shape)}, expected {list(want)}")
                if node["op"] == "conv2d" and key == "weight":
                    g = node["attrs"]["groups"]
                    if len(ds.shape) != 4 or ds.shape[0] != node["shape"][0] or ds.shape[1] * g != in_shape[0]:
                        raise LayoutError(f"{path}: dataset {dpath} has shape {list(ds.shape)}, expected "
                                          f"[{node['shape'][0]}, {in_shape[0]}/{g}, kH, kW]")
                params[dpath] = ds[()]
            shapes[node["name"]] = node["shape"]
        out_shape = shapes[graph["outputs"][0]]
        if out_shape != [int(attrs["num_classes"])]:
            raise LayoutError(f"{path}: graph output shape {out_shape} does not match num_classes {attrs['num_classes']}")
        reference = {}
        if with_reference and "reference" in f:
            for k, role in (("inputs", "reference_input"), ("logits", "reference_logits")):
                if k in f["reference"]:
                    _check_tensor(f["reference"][k], path, role)
                    reference[k] = f["reference"][k][()]
            if "labels" in f["reference"]:
                _check_tensor(f["reference/labels"], path, "label", "i")
                reference["labels"] = f["reference/labels"][()]
        if "activations" in f:
            for node in graph["nodes"]:
                for k in OPS[node["op"]].quantized:
                    dp = f"activations/{node['name']}{OPERAND_SUFFIX[k]}"
                    if dp not in f:
                        raise LayoutError(f"{path}: dataset /{dp} is missing (every input of a conv2d, linear "
                                          f"and matmul is recorded)")
                    ds = f[dp]
                    _check_tensor(ds, path, "activation")
                    want = shapes[node["inputs"][k]]
                    if list(ds.shape[1:]) != list(want):
                        raise LayoutError(f"{path}: dataset /{dp} has shape {list(ds.shape)}, expected [N] + {want}")
    return Model(path, attrs, graph, params, reference)


def list_tensors(path):
    """(dataset path, shape, dtype, role) of every dataset, the generic view `ffp8 inspect` gives."""
    out = []
    with open_h5(path) as f:
        def visit(name, obj):
            if hasattr(obj, "dtype"):
                out.append(("/" + name, tuple(obj.shape), str(obj.dtype), _str(obj.attrs.get("role", ""))))
        f.visititems(visit)
    return out


# ------------------------------------------------------------------------------ data files
def open_data(path):
    """Validates a data file; returns (N, [C,H,W], has_labels). A missing ffp8_data_layout is accepted
    (only /images and /labels are required of a data file); an unknown value is refused."""
    with open_h5(path) as f:
        if "ffp8_data_layout" in f.attrs:
            check_version(f, path, "ffp8_data_layout", DATA_LAYOUT)
        if "images" not in f:
            raise LayoutError(f"{path}: dataset /images is missing")
        img = f["images"]
        if not hasattr(img, "dtype"):
            raise LayoutError(f"{path}: /images is a group, expected a dataset")
        if img.dtype == np.uint8:
            if img.ndim == 3:
                chw = [1, img.shape[1], img.shape[2]]
            elif img.ndim == 4:
                chw = [img.shape[3], img.shape[1], img.shape[2]]
            else:
                raise LayoutError(f"{path}: uint8 /images must be [N,H,W] or [N,H,W,C], found {list(img.shape)}")
            for k in ("mean", "std"):
                if k not in img.attrs:
                    raise LayoutError(f"{path}: uint8 /images needs a '{k}' attribute")
                v = np.atleast_1d(np.asarray(img.attrs[k], np.float64))
                if len(v) not in (1, chw[0]):
                    raise LayoutError(f"{path}: /images attribute '{k}' has {len(v)} values for {chw[0]} channels")
            if np.any(np.atleast_1d(img.attrs["std"]) <= 0):
                raise LayoutError(f"{path}: /images attribute 'std' must be positive")
        elif img.dtype == np.float32:
            if img.ndim != 4:
                raise LayoutError(f"{path}: float32 /images must be [N,C,H,W], found {list(img.shape)}")
            chw = list(img.shape[1:])
        else:
            raise LayoutError(f"{path}: /images must be float32 or uint8, found {img.dtype}")
        has_labels = "labels" in f
        if has_labels:
            lab = f["labels"]
            if lab.dtype.kind not in "iu" or lab.shape != (img.shape[0],):
                raise LayoutError(f"{path}: /labels must be integer [N={img.shape[0]}], found {lab.dtype} {list(lab.shape)}")
        else:
            raise LayoutError(f"{path}: dataset /labels is missing")
        return int(img.shape[0]), chw, has_labels


def iter_data(path, count=None, batch=64, start=0):
    """Yields (float32 [B,C,H,W] model inputs, int64 [B] labels), streamed from a data file."""
    n, chw, _ = open_data(path)
    end = n if count is None else min(n, start + count)
    with open_h5(path) as f:
        img, lab = f["images"], f["labels"]
        if img.dtype == np.uint8:
            mean = np.atleast_1d(np.asarray(img.attrs["mean"], np.float32)).reshape(-1, 1, 1)
            std = np.atleast_1d(np.asarray(img.attrs["std"], np.float32)).reshape(-1, 1, 1)
        for i in range(start, end, batch):
            j = min(end, i + batch)
            x = img[i:j]
            if x.dtype == np.uint8:
                x = x.astype(np.float32) / np.float32(255.0)
                x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
                x = np.ascontiguousarray((x - mean) / std, np.float32)
            yield x, lab[i:j].astype(np.int64)


# ------------------------------------------------------------------------------ executor
def _align(t, rank):
    """t [N, ...] with singleton dims inserted after the batch dim up to `rank` per-image dims, so that
    PyTorch's right-aligned broadcasting of the whole tensors is the layout's broadcasting of the
    per-image shapes (the batch dims then line up)."""
    extra = rank - (t.dim() - 1)
    return t.reshape((t.shape[0],) + (1,) * extra + tuple(t.shape[1:])) if extra > 0 else t


def eval_node(node, ins, param):
    """The output of one node (torch tensors [N, ...] in, out) with PyTorch's functional ops: the
    semantics of docs/hdf5-layout.md. `param(key)` gives the node's params as torch tensors (or None);
    `ins` are its input tensors; for `constant`, ins = [a tensor whose batch size is used]."""
    import torch
    import torch.nn.functional as F
    op, a = node["op"], node["attrs"]
    v = ins[0] if ins else None
    if op == "conv2d":
        return F.conv2d(v, param("weight"), param("bias"), a["stride"], a["padding"], a["dilation"], a["groups"])
    if op == "linear":
        return F.linear(v, param("weight"), param("bias"))
    if op == "batchnorm2d":
        return F.batch_norm(v, param("mean"), param("var"), param("weight"), param("bias"), False, 0.0, a["eps"])
    if op == "relu":
        return F.relu(v)
    if op == "relu6":
        return F.hardtanh(v, 0.0, 6.0)
    if op == "maxpool2d":
        return F.max_pool2d(v, a["kernel_size"], a["stride"], a["padding"], a["dilation"], a["ceil_mode"])
    if op == "avgpool2d":
        return F.avg_pool2d(v, a["kernel_size"], a["stride"], a["padding"], a["ceil_mode"], a["count_include_pad"],
                            a["divisor_override"])
    if op == "adaptive_avgpool2d":
        return F.adaptive_avg_pool2d(v, a["output_size"])
    if op in ("add", "sub", "mul", "div"):
        rank = max(t.dim() - 1 for t in ins)
        x, y = (_align(t, rank) for t in ins)
        return {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}[op](x, y)
    if op == "cat":
        return torch.cat(ins, a["dim"])
    if op == "flatten":
        return torch.flatten(v, a["start_dim"], a["end_dim"])
    if op == "constant":
        c = param("value")
        return c.unsqueeze(0).expand((v.shape[0],) + tuple(c.shape)).contiguous()
    if op == "sigmoid":
        return torch.sigmoid(v)
    if op == "tanh":
        return torch.tanh(v)
    if op == "silu":
        return F.silu(v)
    if op == "hardsigmoid":
        return F.hardsigmoid(v)
    if op == "hardswish":
        return F.hardswish(v)
    if op == "gelu":
        return F.gelu(v, approximate=a["approximate"])
    if op == "softmax":
        return F.softmax(v, a["dim"])
    if op == "layernorm":
        return F.layer_norm(v, tuple(v.shape[v.dim() - a["normalized_dims"]:]), param("weight"), param("bias"),
                            a["eps"])
    if op == "mean":
        return v.mean(a["dims"], keepdim=a["keepdim"])
    if op == "reshape":
        return v.reshape([v.shape[0]] + a["shape"])
    if op == "permute":
        return v.permute(a["dims"])
    if op == "slice":
        index = [slice(None)] * v.dim()
        for d, s, e, st in zip(a["dims"], a["starts"], a["ends"], a["steps"]):
            index[d] = slice(s, e, st)
        return v[tuple(index)]
    if op == "pad":
        pads = []
        for lo, hi in zip(reversed(a["before"]), reversed(a["after"])):
            pads += [lo, hi]
        return F.pad(v, pads, value=a["value"])
    if op == "roll":
        return torch.roll(v, a["shifts"], a["dims"])
    if op == "matmul":
        rank = max(t.dim() - 1 for t in ins)
        return torch.matmul(*(_align(t, rank) for t in ins))
    raise LayoutError(f"node '{node['name']}': unknown op '{op}'")   # validate_graph makes this unreachable


def run_graph(graph, params, x, record=None, operands=False):
    """Runs a graph in float32 with PyTorch's functional ops (the semantics of the doc).
    `params` maps dataset paths to arrays. `record(node, input)` is called before every conv2d,
    linear and matmul with its first input tensor; with `operands`, `record(node, input, k)` is
    called for each quantized input k (both operands of a matmul) and may return a tensor that
    replaces that input (None keeps it): the hook of quantization emulations. Returns the output
    tensor (torch)."""
    import torch
    pt = {}

    def param_of(node):
        def p(key):
            if key not in node["params"]:
                return None
            dp = node["params"][key]
            if dp not in pt:
                pt[dp] = torch.as_tensor(np.asarray(params[dp], np.float32))
            return pt[dp]
        return p

    first = torch.as_tensor(x)
    env = {graph["inputs"][0]: first}
    with torch.no_grad():
        for node in graph["nodes"]:
            ins = [env[t] for t in node["inputs"]] or [first]
            if record is not None:
                for k in OPS[node["op"]].quantized[:None if operands else 1]:
                    got = record(node, ins[k], k) if operands else record(node, ins[k])
                    if operands and got is not None:
                        ins[k] = torch.as_tensor(got)
            y = eval_node(node, ins if node["inputs"] else [first], param_of(node))
            if list(y.shape[1:]) != list(node["shape"]):
                raise LayoutError(f"node '{node['name']}': output shape {list(y.shape[1:])} differs from the stored "
                                  f"shape {node['shape']}")
            env[node["name"]] = y
    return env[graph["outputs"][0]]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: ffp8_h5.py FILE.h5  (validates a model or data file)", file=sys.stderr)
        return 2
    path = argv[0]
    try:
        with open_h5(path) as f:
            is_data = "ffp8_layout" not in f.attrs and "images" in f
        if is_data:
            n, chw, _ = open_data(path)
            print(f"{path}: data file, {n} images of shape {chw}")
        else:
            m = load_model(path)
            ops = {}
            for node in m.graph["nodes"]:
                ops[node["op"]] = ops.get(node["op"], 0) + 1
            print(f"{path}: model '{m.attrs['model_name']}', input {list(m.input_shape)}, "
                  f"{m.attrs['num_classes']} classes, {len(m.graph['nodes'])} nodes {ops}")
        for name, shape, dtype, role in list_tensors(path):
            print(f"  {name:50s} {str(list(shape)):22s} {dtype:8s} {role}")
    except LayoutError as e:
        print(f"ffp8_h5: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:   # e.g. piped into head
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
