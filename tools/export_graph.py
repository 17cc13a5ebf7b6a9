"""The graph under construction, shared by the exporter's two front ends (torch.fx, ONNX).

Every node added is run at once on the probe batch with the reference executor
(ffp8_h5.eval_node), so its stored shape is what the layout's semantics give, and a front end
can compare it with what the source framework computed for the same node: a translation error
is reported at the node that made it, not as wrong logits at the end.
"""
import re

import numpy as np

import ffp8_h5


class ExportError(Exception):
    """Bad input or an unsupported model: one sentence for the user, exit code 1."""


def sanitize(name):
    """A layout node name ([A-Za-z_][A-Za-z0-9_]*) for a framework's node or module name."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", str(name)).strip("_")
    s = re.sub(r"__+", "_", s)
    return s if s and not s[0].isdigit() else f"n_{s}"


class GraphBuilder:
    """Nodes of a layout graph with their params and their values on the probe batch."""

    def __init__(self, input_name, probe):
        import torch
        self.input = sanitize(input_name)
        self.nodes, self.params = [], {}
        self.values = {self.input: torch.as_tensor(probe)}
        self.batch = int(probe.shape[0])
        self._constants = {}

    def unique(self, base):
        name, i = sanitize(base), 1
        while name in self.values:
            i += 1
            name = f"{sanitize(base)}_{i}"
        return name

    def add(self, base, op, inputs, attrs=None, params=None, module=""):
        """Appends a node (name made unique from `base`) and returns its output tensor name.
        `params` maps keys to arrays (None entries are left out)."""
        import torch
        name = self.unique(base)
        node = {"name": name, "op": op, "inputs": list(inputs), "outputs": [name], "shape": [],
                "module": module, "params": {}, "attrs": attrs or {}}
        tensors = {}
        for key, arr in (params or {}).items():
            if arr is None:
                continue
            if isinstance(arr, torch.Tensor):
                arr = arr.detach().cpu().float().numpy()
            arr = np.array(arr, np.float32, order="C")   # a writable copy
            dpath = f"/params/{name}/{key}"
            node["params"][key] = dpath
            self.params[dpath] = arr
            tensors[key] = torch.from_numpy(arr)
        ins = [self.values[t] for t in inputs] or [self.values[self.input]]
        try:
            y = ffp8_h5.eval_node(node, ins, tensors.get)
        except (RuntimeError, ValueError, IndexError) as e:
            raise ExportError(f"internal error: node '{name}' ({op}) cannot run on the probe input: "
                              f"{str(e).splitlines()[0]}") from None
        node["shape"] = [int(s) for s in y.shape[1:]]
        self.nodes.append(node)
        self.values[name] = y
        return name

    def constant(self, value, base="const", context_rank=None):
        """A `constant` node holding `value` (a tensor that does not depend on the input) as seen by
        one image. `context_rank` is the rank of the batched tensor it is combined with: a value of
        that rank has a batch dimension first, which must be 1 or the probe batch with equal rows."""
        import torch
        v = torch.as_tensor(value).detach().float()
        if context_rank is not None and v.dim() == context_rank:
            if v.shape[0] not in (1, self.batch) or not torch.equal(v, v[:1].expand_as(v)):
                raise ExportError(f"a constant of shape {list(v.shape)} differs between the images of a batch")
            v = v[0]
        elif context_rank is not None and v.dim() > context_rank:
            raise ExportError(f"a constant of shape {list(v.shape)} has more dimensions than the tensor it meets")
        key = (base, tuple(v.shape), v.numpy().tobytes())
        if key not in self._constants:
            self._constants[key] = self.add(base, "constant", [], params={"value": v.numpy()})
        return self._constants[key]

    def graph(self, output):
        return {"inputs": [self.input], "outputs": [output], "nodes": self.nodes}


def check_close(name, mine, want, what, tol=1e-4):
    """Raises an internal-error ExportError when tensor `mine` differs from `want` by more than `tol`
    relative to the largest |want|."""
    import torch
    mine, want = torch.as_tensor(mine).float(), torch.as_tensor(want).float()
    if mine.shape != want.shape:
        raise ExportError(f"internal error: {what} '{name}' has shape {list(mine.shape)} in the translated graph, "
                          f"{list(want.shape)} in the source")
    scale = max(1e-6, float(want.abs().max())) if want.numel() else 1.0
    err = float((mine - want).abs().max()) / scale if want.numel() else 0.0
    if not err <= tol:
        raise ExportError(f"internal error: {what} '{name}' differs from the source model (relative error {err:.3g})")


def einsum_matmul(b, eq, x, y, base):
    """Two-operand einsum of batched-matmul form ('bhid,bhjd->bhij', the batch index first) on
    layout tensors x and y: a permute of each operand where needed, a matmul and a permute of the
    result. Raises ExportError (without the node) for other equations."""
    eq = eq.replace(" ", "")
    if "->" not in eq or "." in eq or eq.count(",") != 1:
        raise ExportError(f"einsum '{eq}' (only two operands with an explicit output)")
    ins, out = eq.split("->")
    la, lb = ins.split(",")
    if len(set(la)) != len(la) or len(set(lb)) != len(lb):
        raise ExportError(f"einsum '{eq}' with a repeated index (a trace or diagonal)")
    batch = [c for c in out if c in la and c in lb]
    contr = [c for c in la if c in lb and c not in out]
    fa = [c for c in la if c not in lb]
    fb = [c for c in lb if c not in la]
    if len(contr) != 1 or len(fa) != 1 or len(fb) != 1 or set(out) != set(batch + fa + fb) or \
            not batch or la[0] != batch[0] or lb[0] != batch[0] or out[0] != batch[0]:
        raise ExportError(f"einsum '{eq}' is not a batched matrix product with the batch first")

    def permuted(name, have, want, tag):
        perm = [have.index(c) for c in want]
        return name if perm == list(range(len(perm))) else b.add(f"{base}_{tag}", "permute", [name], {"dims": perm})

    z = b.add(base, "matmul", [permuted(x, la, batch + fa + contr, "a"), permuted(y, lb, batch + contr + fb, "b")])
    return permuted(z, batch + fa + fb, list(out), "out")


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


def prune(graph, params):
    """Drops nodes the output does not depend on (and their params)."""
    needed = {graph["outputs"][0]}
    for n in reversed(graph["nodes"]):
        if n["name"] in needed:
            needed.update(n["inputs"])
    keep = [n for n in graph["nodes"] if n["name"] in needed]
    used = {p for n in keep for p in n["params"].values()}
    graph["nodes"] = keep
    return graph, {k: v for k, v in params.items() if k in used}
