#!/usr/bin/python3
"""Export a PyTorch or ONNX model to an ffp8 HDF5 model file (layout 2, docs/hdf5-layout.md).

  python3 tools/export.py MODEL --out FILE.h5 [--input-shape C,H,W] [--seed N] [--state-dict W.pth]
                          [--fold-bn] [--calib-data DATA.h5 --calib N] [--reference N] [--via auto|fx|onnx]

MODEL is `torchvision:NAME` (random initialisation from --seed, never downloaded weights),
`path/to/file.py:FUNCTION` (a function returning an nn.Module) or `onnx:FILE.onnx`. A PyTorch
model is traced with torch.fx (with concrete shapes; tools/export_fx.py), or, when fx cannot
trace it, exported with torch.onnx.export and read by the ONNX front end (tools/export_onnx.py).
Every node becomes ops of the closed op list, or the export fails naming the node and its op.
Exit code 1 for bad input, 2 for usage errors.
"""
import argparse
import importlib.util
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # shared machines: idle threads sleep, not spin
import ffp8_h5  # noqa: E402
from export_graph import ExportError, fold_bn, prune  # noqa: E402
from ffp8_h5 import LayoutError  # noqa: E402

ACT_BATCH = 32           # activation recording batch (and HDF5 chunk length along N)
DEFAULT_INPUT_SHAPE = (3, 224, 224)
# torchvision constructors whose defaults add training-only heads or input transforms.
TORCHVISION_KWARGS = {
    "googlenet": {"aux_logits": False, "transform_input": False, "init_weights": True},
    "inception_v3": {"aux_logits": False, "transform_input": False, "init_weights": True},
}


# ------------------------------------------------------------------------------ model loading
def size_kwargs(name, shape):
    """Constructor arguments of torchvision models whose layers depend on the input size."""
    if shape is None:
        return {}
    if name.startswith("vit_"):
        return {"image_size": int(shape[1])}
    if name.startswith("maxvit_"):
        return {"input_size": (int(shape[1]), int(shape[2]))}
    return {}


def load_model(spec, seed, shape=None):
    """(model, input shape the model file declares or None) of a torchvision or file.py:FUNCTION spec;
    `shape` (C, H, W) sizes torchvision models that need their input size at construction."""
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
            model = fn(weights=None, **TORCHVISION_KWARGS.get(name, {}), **size_kwargs(name, shape))
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


def source_graph(args, shape, model):
    """(graph, params, frontend, reference output on the probe or None) from the torch model (fx,
    falling back to torch.onnx.export when fx cannot trace it) or from an ONNX file."""
    import torch
    g = torch.Generator().manual_seed(args.seed)
    if model is None:                                   # onnx:FILE
        import export_onnx
        graph, params, shape = export_onnx.translate_file(args.model.split(":", 1)[1], shape)
        return graph, params, "onnx", None, shape
    probe = torch.randn((2,) + tuple(shape), generator=g)
    with torch.no_grad():
        try:
            out = model(probe)
        except Exception as e:
            raise ExportError(f"the model fails on an input of shape {list(shape)}: "
                              f"{type(e).__name__}: {str(e).splitlines()[0]}") from None
    if not isinstance(out, torch.Tensor) or out.dim() != 2:
        raise ExportError(f"the model output is {type(out).__name__} "
                          f"{list(out.shape) if isinstance(out, torch.Tensor) else ''}, expected a tensor [N, classes]")
    if args.via in ("auto", "fx"):
        import export_fx
        try:
            graph, params = export_fx.translate(model, probe)
            return graph, params, "torch.fx", (probe, out), shape
        except export_fx.TraceFailure as e:
            if args.via == "fx":
                raise ExportError(f"torch.fx cannot trace the model: {e}") from None
            fx_error = str(e)
    import export_onnx
    try:
        graph, params = export_onnx.translate_torch(model, shape)
    except ExportError as e:
        if args.via == "onnx":
            raise
        raise ExportError(f"torch.fx cannot trace the model ({fx_error}), and through torch.onnx.export: {e}") \
            from None
    return graph, params, "torch.onnx", (probe, out), shape


def export(args):
    import h5py
    import torch
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    if args.calib_data is not None:
        n, chw, _ = ffp8_h5.open_data(args.calib_data)
    shape = parse_shape(args.input_shape) if args.input_shape else None
    if args.model.startswith("onnx:"):
        if args.state_dict:
            raise ExportError("--state-dict applies to PyTorch models, not to 'onnx:' files (their weights are inside)")
        model, file_shape = None, None
    else:
        model, file_shape = load_model(args.model, args.seed, shape)
        if args.state_dict:
            load_state_dict(model, args.state_dict)
        model.eval()
    if shape is None:
        shape = file_shape or (tuple(chw) if args.calib_data is not None else None)
    if shape is None and model is not None:
        shape = DEFAULT_INPUT_SHAPE
    graph, params, frontend, ref, shape = source_graph(args, shape, model)
    if args.calib_data is not None:
        if list(chw) != list(shape):
            raise ExportError(f"--calib-data '{args.calib_data}' holds images of shape {chw}, the model input is "
                              f"{list(shape)}")
        if args.calib > n or args.reference > n:
            raise ExportError(f"--calib-data '{args.calib_data}' holds {n} images, fewer than requested "
                              f"(--calib {args.calib}, --reference {args.reference})")
    graph, params = prune(graph, params)
    out_shape = {n["name"]: n["shape"] for n in graph["nodes"]}.get(graph["outputs"][0], [])
    if len(out_shape) != 1:
        raise ExportError(f"the model output has shape [N, {', '.join(map(str, out_shape))}], expected [N, classes]")
    classes = out_shape[0]
    if ref is not None:
        # The translated graph must compute what PyTorch computes (a cheap guard against translator bugs).
        probe, out = ref
        mine = ffp8_h5.run_graph(graph, params, probe.numpy())
        err = float((mine - out).abs().max()) / max(1e-6, float(out.abs().max()))
        if not err < 1e-4:
            raise ExportError(f"internal error: the translated graph differs from PyTorch (relative error {err:.3g})")
    if args.fold_bn:
        g = torch.Generator().manual_seed(args.seed)
        probe = torch.randn((2,) + tuple(shape), generator=g)
        before = ffp8_h5.run_graph(graph, params, probe.numpy())
        graph, params = fold_bn(graph, params)
        mine = ffp8_h5.run_graph(graph, params, probe.numpy())
        err = float((mine - before).abs().max()) / max(1e-6, float(before.abs().max()))
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
                os.path.basename(args.model.split(":", 1)[1]) if args.model.startswith("onnx:") else \
                args.model.rsplit(":", 1)[1]
            f.attrs["input_shape"] = np.array(shape, np.int64)
            f.attrs["num_classes"] = np.int64(classes)
            f.attrs["frontend"] = frontend
            f.attrs["bn_folded"] = np.int64(1 if args.fold_bn else 0)
            f.attrs["producer"] = "ffp8 tools/export.py"
            f.attrs["torch_version"] = str(torch.__version__)
            f.attrs["seed"] = np.int64(args.seed)
            gd = f.create_dataset("graph", data=json.dumps(graph, indent=1), dtype=h5py.string_dtype("utf-8"))
            gd.attrs["role"] = "graph"
            for node in graph["nodes"]:
                for key, dpath in node["params"].items():
                    ds = f.create_dataset(dpath, data=np.array(params[dpath], np.float32, order="C"))  # keeps 0-d
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
                    for k in ffp8_h5.OPS[node["op"]].quantized:
                        s = shapes[node["inputs"][k]]
                        dname = node["name"] + ffp8_h5.OPERAND_SUFFIX[k]
                        ds = grp.create_dataset(dname, (args.calib,) + tuple(s), np.float32,
                                                chunks=(min(args.calib, ACT_BATCH),) + tuple(s))
                        ds.attrs["role"] = "activation"
                        ds.attrs["node"] = node["name"]
                        ds.attrs["tensor"] = node["inputs"][k]
                        ds.attrs["operand"] = np.int64(k)
                        dsets[dname] = ds
                pos = [0]

                def rec(node, v, k):
                    dsets[node["name"] + ffp8_h5.OPERAND_SUFFIX[k]][pos[0]:pos[0] + v.shape[0]] = v.numpy()

                for x, _ in input_batches(args, shape, args.calib, ACT_BATCH):
                    ffp8_h5.run_graph(graph, params, x, rec, operands=True)
                    pos[0] += x.shape[0]
            if args.reference > 0:
                grp = f.create_group("reference")
                xs, ys = zip(*input_batches(args, shape, args.reference, max(1, args.reference)))
                x = np.concatenate(xs).astype(np.float32)
                with torch.no_grad():   # PyTorch's logits; for ONNX files (or folded BN) the reference executor's
                    logits = model(torch.from_numpy(x)) if model is not None and not args.fold_bn else \
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
    p.add_argument("model", metavar="MODEL", help="torchvision:NAME, path/to/file.py:FUNCTION or onnx:FILE.onnx")
    p.add_argument("--via", choices=("auto", "fx", "onnx"), default="auto",
                   help="how a PyTorch model is read: torch.fx, torch.onnx.export then the ONNX front end, or "
                   "auto (default): fx, and ONNX when fx cannot trace the model")
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
