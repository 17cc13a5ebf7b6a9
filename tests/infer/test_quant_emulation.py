"""`ffp8 eval` with FFP8 emulation equals a PyTorch emulation that applies the project's own
quantizer (`ffp8 quantize`) at the same points: every conv2d/linear weight once, every
conv2d/linear input activation per batch, with the per-layer formats eval.json reports.

Run by CTest (tests/infer/CMakeLists.txt) with FFP8_BIN and FFP8_REPO set; /usr/bin/python3.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

REPO = os.environ.get("FFP8_REPO", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FFP8 = os.environ.get("FFP8_BIN", os.path.join(REPO, "build", "bin", "ffp8"))
sys.path.insert(0, os.path.join(REPO, "tools"))
import ffp8_h5  # noqa: E402

PY = "/usr/bin/python3"
ENV = dict(os.environ, OMP_NUM_THREADS="2", OMP_WAIT_POLICY="PASSIVE")
COUNT = 200      # images evaluated
BATCH = 50


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


class Quantizer:
    """Quantizes numpy arrays with `ffp8 quantize` (the project's quantizer) through HDF5 files."""

    def __init__(self, tmp):
        self.tmp, self.calls = tmp, 0

    def __call__(self, x, fmt):
        if fmt == "float32":
            return x
        src, dst = os.path.join(self.tmp, "q_in.h5"), os.path.join(self.tmp, "q_out.h5")
        with h5py.File(src, "w") as f:
            f.create_dataset("x", data=np.ascontiguousarray(x, np.float32))
        if os.path.exists(dst):
            os.remove(dst)
        run([FFP8, "quantize", "--format", fmt, "--rounding", "rne", f"{src}:/x", f"{dst}:/x"])
        self.calls += 1
        with h5py.File(dst, "r") as f:
            return f["x"][()]


def emulate(model, layers, data, quant):
    """Runs the graph in PyTorch float32, quantizing weights and conv/linear inputs as `layers` says."""
    import torch
    params = dict(model.params)
    for node in model.graph["nodes"]:
        if node["op"] in ffp8_h5.RECORDED_OPS:
            w = layers[node["name"]]["weight"]
            assert isinstance(w, str), "per-tensor weight formats expected"
            params[node["params"]["weight"]] = quant(params[node["params"]["weight"]], w)

    def run_batch(x):
        # ffp8_h5.run_graph node by node, with the input of each conv2d/linear replaced by its quantized value.
        env = {model.graph["inputs"][0]: torch.as_tensor(x)}
        for node in model.graph["nodes"]:
            ins = [env[t] for t in node["inputs"]]
            if node["op"] in ffp8_h5.RECORDED_OPS:
                ins[0] = torch.as_tensor(quant(ins[0].numpy(), layers[node["name"]]["activation"]))
            names = ["in%d" % i for i in range(len(ins))]
            if len(ins) == 1:
                sub = {"inputs": names, "outputs": [node["name"]], "nodes": [dict(node, inputs=names)]}
                env[node["name"]] = ffp8_h5.run_graph(sub, params, ins[0].numpy())
            elif node["op"] == "add":
                env[node["name"]] = ins[0] + ins[1]
            else:
                env[node["name"]] = torch.cat(ins, node["attrs"]["dim"])
        return env[model.graph["outputs"][0]].numpy()

    outs = []
    for x, _ in ffp8_h5.iter_data(data, COUNT, BATCH):
        outs.append(run_batch(x))
    return np.concatenate(outs)


class QuantEmulation(unittest.TestCase):
    def check(self, model_spec, formats, extra=None, export_args=()):
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "data.h5")
            run([PY, os.path.join(REPO, "tools", "convert_data.py"), "fashion-mnist", "--split", "test",
                 "--limit", str(COUNT), "--out", data])
            mfile = os.path.join(tmp, "model.h5")
            run([PY, os.path.join(REPO, "tests", "infer", "export_calibrated.py"), model_spec, "--out", mfile,
                 "--seed", "5", *export_args], cwd=REPO)
            cfg = {"model": mfile, "data": data, "limit": COUNT, "batch": BATCH, "calib": 64, "formats": formats}
            cfg.update(extra or {})
            with open(os.path.join(tmp, "cfg.json"), "w") as f:
                json.dump(cfg, f)
            out = os.path.join(tmp, "out")
            logits_file = os.path.join(tmp, "logits.h5")
            run([FFP8, "eval", os.path.join(tmp, "cfg.json"), "--out", out, "--logits", logits_file, "--threads", "2"])
            with open(os.path.join(out, "eval.json")) as f:
                ev = json.load(f)
            with h5py.File(logits_file, "r") as f:
                got = f["logits"][()]
            layers = {l["node"]: l for l in ev["layers"]}
            model = ffp8_h5.load_model(mfile)
            quant = Quantizer(tmp)
            want = emulate(model, layers, data, quant)
            self.assertEqual(got.shape, (COUNT, int(model.attrs["num_classes"])))
            err = np.abs(got - want).max(axis=1) / np.abs(want).max(axis=1)
            same = float(np.mean(got.argmax(1) == want.argmax(1)))
            print(f"{model_spec} {formats}: top1 {ev['top1']:.4f} (fp32 {ev['top1_fp32']:.4f}), emulation top-1 "
                  f"agreement {same:.4f}, median rel err {np.median(err):.2g}, max {err.max():.2g}, "
                  f"{quant.calls} quantize calls", file=sys.stderr)
            # Tiny float32 differences (summation order) can move a value across a rounding boundary of a
            # later layer's format; that must stay rare and local.
            self.assertGreaterEqual(same, 0.99)
            self.assertLess(float(np.median(err)), 1e-4)
            self.assertGreater(float(np.mean(err < 1e-3)), 0.95)
            # The quantization did something: the emulation differs from float32.
            fp = ffp8_h5.run_graph(model.graph, model.params, next(ffp8_h5.iter_data(data, BATCH, BATCH))[0]).numpy()
            self.assertGreater(float(np.abs(fp - want[:BATCH]).max()), 1e-4)
            self.check_fit_biases(model, layers, data, formats, cfg["calib"])
            return ev

    def check_fit_biases(self, model, layers, data, formats, calib):
        """Fit activation formats: max(V) >= a > max(V) / 2 for a = max|x| (max x if unsigned) of the layer's
        float32 input over the first `calib` images, computed here independently of the engine."""
        stats = {}

        def rec(node, v):
            v = v.numpy()
            a, p = float(np.abs(v).max()), float(max(v.max(), 0))
            old = stats.get(node["name"], (0.0, 0.0))
            stats[node["name"]] = (max(old[0], a), max(old[1], p))

        for x, _ in ffp8_h5.iter_data(data, calib, BATCH):
            ffp8_h5.run_graph(model.graph, model.params, x, rec)
        checked = 0
        for name, (a_abs, a_pos) in stats.items():
            choice = formats.get("overrides", {}).get(name, formats["activation"])
            choice = choice["activation"] if isinstance(choice, dict) else choice
            if not choice.startswith("fit:"):
                continue
            fmt = layers[name]["activation"]
            info = json.loads(run([FFP8, "format", fmt, "--json"]).stdout)
            a = a_pos if info["sign"] == 0 else a_abs
            self.assertGreaterEqual(info["max"], a, f"{name}: {fmt}")
            self.assertLess(info["max"] / 2, a, f"{name}: {fmt} (a larger bias would still fit)")
            checked += 1
        self.assertGreater(checked, 0)

    def test_resnet_fit_formats(self):
        ev = self.check("tools/ffp8_models.py:resnet_small",
                        {"weight": "fit:s1e4m3", "activation": "fit:s0e4m4",
                         "overrides": {"stem_0": {"activation": "fit:s1e4m3"}, "fc": "float32"}})
        by = {l["node"]: l for l in ev["layers"]}
        self.assertEqual(by["fc"]["weight"], "float32")
        self.assertEqual(by["fc"]["activation"], "float32")
        self.assertTrue(by["stem_0"]["activation"].startswith("s1e4m3b"))
        self.assertTrue(by["layer1_conv1"]["activation"].startswith("s0e4m4b"))

    def test_mobilenet_fixed_and_fit_formats(self):
        # Signed activations after linear bottlenecks: signed fit formats; fixed OCP weights.
        self.check("tools/ffp8_models.py:mobilenet_small", {"weight": "e4m3fn", "activation": "fit:s1e4m3"})

    def test_densenet_folded_bn(self):
        self.check("tools/ffp8_models.py:densenet_small", {"weight": "fit:s1e3m4", "activation": "fit:s1e4m3"},
                   export_args=("--fold-bn",))


if __name__ == "__main__":
    unittest.main()
