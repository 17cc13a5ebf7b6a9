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

MODEL_LAYOUT = 1
DATA_LAYOUT = 1

# The closed list of op kinds of layout 1: op -> (attribute keys, allowed params, required params,
# number of inputs (None = one or more)). One table; the tests iterate it.
OPS = {
    "conv2d": (("stride", "padding", "dilation", "groups"), ("weight", "bias"), ("weight",), 1),
    "linear": ((), ("weight", "bias"), ("weight",), 1),
    "batchnorm2d": (("eps",), ("mean", "var", "weight", "bias"), ("mean", "var", "weight", "bias"), 1),
    "relu": ((), (), (), 1),
    "relu6": ((), (), (), 1),
    "maxpool2d": (("kernel_size", "stride", "padding", "dilation", "ceil_mode"), (), (), 1),
    "avgpool2d": (("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
                  (), (), 1),
    "adaptive_avgpool2d": (("output_size",), (), (), 1),
    "add": ((), (), (), 2),
    "cat": (("dim",), (), (), None),
    "flatten": (("start_dim", "end_dim"), (), (), 1),
}

# params key -> role, per op family.
PARAM_ROLES = {
    "conv2d": {"weight": "weight", "bias": "bias"},
    "linear": {"weight": "weight", "bias": "bias"},
    "batchnorm2d": {"mean": "bn_mean", "var": "bn_var", "weight": "bn_weight", "bias": "bn_bias"},
}

ROLES = ("weight", "bias", "bn_mean", "bn_var", "bn_weight", "bn_bias", "activation", "reference_input",
         "reference_logits", "label", "image", "graph")

# Ops whose input tensor FFP8 stores (recorded under /activations/<node>).
RECORDED_OPS = ("conv2d", "linear")

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
    if attr not in f.attrs:
        raise LayoutError(f"{path}: root attribute '{attr}' is missing (not an ffp8 file?)")
    v = f.attrs[attr]
    if not isinstance(v, (int, np.integer)) or isinstance(v, (bool, np.bool_)):
        raise LayoutError(f"{path}: root attribute '{attr}' must be an integer, found {v!r}")
    if int(v) != supported:
        raise LayoutError(f"{path}: {attr} = {int(v)} is not supported (this reader knows version {supported})")
    return int(v)


def _pair(v, name, where):
    if not (isinstance(v, list) and len(v) == 2 and all(isinstance(i, int) and not isinstance(i, bool) for i in v)):
        raise LayoutError(f"{where}: attribute '{name}' must be a list of two integers, found {v!r}")


def validate_graph(graph, path="<graph>"):
    """Checks the JSON graph structure: closed op list, attr keys, topological order, names."""
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
        attr_keys, allowed, required, nin = OPS[op]
        if node["outputs"] != [name]:
            raise LayoutError(f"{where}: outputs must be [\"{name}\"], found {node['outputs']!r}")
        if name in defined:
            raise LayoutError(f"{where}: tensor name defined twice")
        if (nin is not None and len(node["inputs"]) != nin) or len(node["inputs"]) < 1:
            raise LayoutError(f"{where}: op '{op}' takes {nin or 'one or more'} inputs, found {len(node['inputs'])}")
        for t in node["inputs"]:
            if t not in defined:
                raise LayoutError(f"{where}: input '{t}' is not a graph input or an earlier node's output")
        unknown = set(node["attrs"]) - set(attr_keys)
        if unknown:
            raise LayoutError(f"{where}: unknown attribute(s) {sorted(unknown)} for op '{op}'")
        missing = set(attr_keys) - set(node["attrs"])
        if missing:
            raise LayoutError(f"{where}: missing attribute(s) {sorted(missing)} for op '{op}'")
        a = node["attrs"]
        for k in ("stride", "padding", "dilation", "kernel_size", "output_size"):
            if k in a:
                _pair(a[k], k, where)
        bad = set(node["params"]) - set(allowed)
        if bad:
            raise LayoutError(f"{where}: unknown param(s) {sorted(bad)} for op '{op}'")
        lack = set(required) - set(node["params"])
        if lack:
            raise LayoutError(f"{where}: missing param(s) {sorted(lack)} for op '{op}'")
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
        return (out[0], in_shape[0]) if key == "weight" else (out[0],)
    if op == "batchnorm2d":
        return (in_shape[0],)
    return None


def load_model(path, with_reference=True):
    """Reads and validates a model file; raises LayoutError on any deviation from layout 1."""
    with open_h5(path) as f:
        check_version(f, path, "ffp8_layout", MODEL_LAYOUT)
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
        validate_graph(graph, path)
        shapes = {graph["inputs"][0]: [int(v) for v in attrs["input_shape"]]}
        params = {}
        for node in graph["nodes"]:
            in_shape = shapes[node["inputs"][0]]
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
                if node["op"] in RECORDED_OPS:
                    dp = f"activations/{node['name']}"
                    if dp not in f:
                        raise LayoutError(f"{path}: dataset /{dp} is missing (every conv2d/linear input is recorded)")
                    ds = f[dp]
                    _check_tensor(ds, path, "activation")
                    want = shapes[node["inputs"][0]]
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
    (INTERFACES.md pins only /images and /labels); an unknown value is refused."""
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
def run_graph(graph, params, x, record=None):
    """Runs a layout-1 graph in float32 with PyTorch's functional ops (the semantics of the doc).
    `params` maps dataset paths to arrays; `record(node, input)` is called before every
    conv2d/linear with its input tensor. Returns the output tensor (torch)."""
    import torch
    import torch.nn.functional as F
    pt = {}

    def p(node, key):
        if key not in node["params"]:
            return None
        dp = node["params"][key]
        if dp not in pt:
            pt[dp] = torch.as_tensor(np.asarray(params[dp], np.float32))
        return pt[dp]

    env = {graph["inputs"][0]: torch.as_tensor(x)}
    with torch.no_grad():
        for node in graph["nodes"]:
            op, a = node["op"], node["attrs"]
            ins = [env[t] for t in node["inputs"]]
            v = ins[0]
            if op in RECORDED_OPS and record is not None:
                record(node, v)
            if op == "conv2d":
                y = F.conv2d(v, p(node, "weight"), p(node, "bias"), a["stride"], a["padding"], a["dilation"], a["groups"])
            elif op == "linear":
                y = F.linear(v, p(node, "weight"), p(node, "bias"))
            elif op == "batchnorm2d":
                y = F.batch_norm(v, p(node, "mean"), p(node, "var"), p(node, "weight"), p(node, "bias"), False, 0.0, a["eps"])
            elif op == "relu":
                y = F.relu(v)
            elif op == "relu6":
                y = F.hardtanh(v, 0.0, 6.0)
            elif op == "maxpool2d":
                y = F.max_pool2d(v, a["kernel_size"], a["stride"], a["padding"], a["dilation"], a["ceil_mode"])
            elif op == "avgpool2d":
                y = F.avg_pool2d(v, a["kernel_size"], a["stride"], a["padding"], a["ceil_mode"], a["count_include_pad"],
                                 a["divisor_override"])
            elif op == "adaptive_avgpool2d":
                y = F.adaptive_avg_pool2d(v, a["output_size"])
            elif op == "add":
                y = ins[0] + ins[1]
            elif op == "cat":
                y = torch.cat(ins, a["dim"])
            elif op == "flatten":
                y = torch.flatten(v, a["start_dim"], a["end_dim"])
            else:  # validate_graph makes this unreachable
                raise LayoutError(f"node '{node['name']}': unknown op '{op}'")
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
