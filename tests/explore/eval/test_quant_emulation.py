"""`ffp8 eval` with FFP8 emulation equals a PyTorch emulation that applies the project's own
quantizer (`ffp8 quantize`) at the same points: every conv2d/linear weight once, every
conv2d/linear input activation per batch, with the per-layer formats eval.json reports.

Run by CTest (tests/explore/eval/CMakeLists.txt) with FFP8_BIN and FFP8_REPO set; /usr/bin/python3.
"""
import json
import os
import sys
import tempfile
import unittest

import h5py
import numpy as np

REPO = os.environ.get("FFP8_REPO", os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
FFP8 = os.environ.get("FFP8_BIN", os.path.join(REPO, "build", "bin", "ffp8"))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "tools"))
import ffp8_h5  # noqa: E402
from ffp8_test_util import CliQuantizer, run  # noqa: E402

PY = "/usr/bin/python3"
COUNT = 200      # images evaluated
BATCH = 50


def int8(x, scale):
    """INT8 per-tensor symmetric in PyTorch float32: clamp(round(x / scale), -127, 127) * scale
    (torch.round rounds half to even); scale 0 (an all-zero tensor) gives zeros."""
    import torch
    t = torch.as_tensor(np.ascontiguousarray(x, np.float32))
    if scale == 0:
        return torch.zeros_like(t).numpy()
    s = torch.tensor(np.float32(scale))
    return (torch.clamp(torch.round(t / s), -127, 127) * s).numpy()


def int8_scale(max_abs):
    return np.float32(max_abs) / np.float32(127)


def calib_max_abs(model, data, calib):
    """Per conv2d/linear node: (max|x|, max x) of its float32 input over the first `calib` images,
    from the reference executor (independent of the engine)."""
    stats = {}

    def rec(node, v):
        v = v.numpy()
        a, p = float(np.abs(v).max()), float(max(v.max(), 0))
        old = stats.get(node["name"], (0.0, 0.0))
        stats[node["name"]] = (max(old[0], a), max(old[1], p))

    for x, _ in ffp8_h5.iter_data(data, calib, BATCH):
        ffp8_h5.run_graph(model.graph, model.params, x, rec)
    return stats


def emulate(model, layers, data, quant, act_scales=None):
    """Runs the graph in PyTorch float32, quantizing weights and conv/linear inputs as `layers` says
    ("int8" inputs with the scales `act_scales` gives per node; int8 weights with their own max|w|)."""
    import torch
    params = dict(model.params)
    for node in model.graph["nodes"]:
        if node["op"] in ffp8_h5.RECORDED_OPS:
            w = layers[node["name"]]["weight"]
            assert isinstance(w, str), "per-tensor weight formats expected"
            pw = params[node["params"]["weight"]]
            params[node["params"]["weight"]] = (int8(pw, int8_scale(np.abs(pw).max())) if w == "int8"
                                                else quant(pw, w))

    def quant_input(x, name):
        fmt = layers[name]["activation"]
        return int8(x, act_scales[name]) if fmt == "int8" else quant(x, fmt)

    def run_batch(x):
        # ffp8_h5.run_graph node by node, with the input of each conv2d/linear replaced by its quantized value.
        env = {model.graph["inputs"][0]: torch.as_tensor(x)}
        for node in model.graph["nodes"]:
            ins = [env[t] for t in node["inputs"]]
            if node["op"] in ffp8_h5.RECORDED_OPS:
                ins[0] = torch.as_tensor(quant_input(ins[0].numpy(), node["name"]))
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
            run([PY, os.path.join(REPO, "tests", "core", "infer", "export_calibrated.py"), model_spec, "--out", mfile,
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
            quant = CliQuantizer(tmp)
            stats = calib_max_abs(model, data, cfg["calib"])
            # int8 inputs: the engine's scales, checked below against this test's own calibration (a
            # scale one ulp off would move every value of the layer a little, masking real differences).
            want = emulate(model, layers, data, quant,
                           {n: np.float32(l["activation_scale"]) for n, l in layers.items() if "activation_scale" in l})
            self.assertEqual(got.shape, (COUNT, int(model.attrs["num_classes"])))
            err = np.abs(got - want).max(axis=1) / np.abs(want).max(axis=1)
            same = float(np.mean(got.argmax(1) == want.argmax(1)))
            print(f"{model_spec} {formats}: top1 {ev['top1']:.4f} (fp32 {ev['top1_fp32']:.4f}), emulation top-1 "
                  f"agreement {same:.4f}, median rel err {np.median(err):.2g}, max {err.max():.2g}, share < 1e-3 {np.mean(err < 1e-3):.3f}, "
                  f"{quant.calls} quantize calls", file=sys.stderr)
            # Tiny float32 differences (summation order) can move a value across a rounding boundary of a
            # later layer's format; that must stay rare and local.
            self.assertGreaterEqual(same, 0.99)
            self.assertLess(float(np.median(err)), 1e-4)
            self.assertGreater(float(np.mean(err < 1e-3)), 0.95)
            # The quantization did something: the emulation differs from float32.
            fp = ffp8_h5.run_graph(model.graph, model.params, next(ffp8_h5.iter_data(data, BATCH, BATCH))[0]).numpy()
            self.assertGreater(float(np.abs(fp - want[:BATCH]).max()), 1e-4)
            if "int8" in json.dumps(formats):
                self.check_int8_scales(model, layers, {n: int8_scale(a) for n, (a, _) in stats.items()})
            else:
                self.check_fit_biases(layers, formats, stats)
            return ev

    def check_int8_scales(self, model, layers, act_scales):
        """eval.json's int8 scales: weights max|w| / 127 exactly; inputs the independent calibration
        max|x| / 127 (float32 summation order may move it by an ulp or so)."""
        checked = 0
        for node in model.graph["nodes"]:
            l = layers.get(node["name"])
            if l is None:
                continue
            if l["weight"] == "int8":
                w = model.params[node["params"]["weight"]]
                self.assertEqual(np.float32(l["weight_scale"]), int8_scale(np.abs(w).max()), node["name"])
                checked += 1
            if l["activation"] == "int8":
                self.assertAlmostEqual(l["activation_scale"] / float(act_scales[node["name"]]), 1.0, delta=1e-5)
                checked += 1
        self.assertGreater(checked, 0)

    def check_fit_biases(self, layers, formats, stats):
        """Fit activation formats: max(V) >= a > max(V) / 2 for a = max|x| (max x if unsigned) of the layer's
        float32 input over the calibration images (`stats`, computed independently of the engine)."""
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

    def test_resnet_int8(self):
        # INT8 per-tensor symmetric on both roles; the first layer's input stays float32 (override).
        ev = self.check("tools/ffp8_models.py:resnet_small",
                        {"weight": "int8", "activation": "int8", "overrides": {"stem_0": {"activation": "float32"}}})
        by = {l["node"]: l for l in ev["layers"]}
        self.assertEqual(by["stem_0"]["activation"], "float32")
        self.assertEqual(by["fc"]["weight"], "int8")

    def test_resnet_integer_and_p3109_members(self):
        # Members beyond the FFP8 floats: P3109 weights (fixed), two's-complement integer inputs
        # with the fit bias per layer (k * 2^-B on the integer grid, symmetric range).
        ev = self.check("tools/ffp8_models.py:resnet_small", {"weight": "p3109_k8p4se", "activation": "fit:i8-sym"})
        by = {l["node"]: l for l in ev["layers"]}
        self.assertEqual(by["fc"]["weight"], "s1e4m3b8-fnuz-inf")  # the preset's canonical name
        self.assertRegex(by["layer1_conv1"]["activation"], r"^i8b-?[0-9]+-sym$")

    def test_densenet_folded_bn(self):
        self.check("tools/ffp8_models.py:densenet_small", {"weight": "fit:s1e3m4", "activation": "fit:s1e4m3"},
                   export_args=("--fold-bn",))


if __name__ == "__main__":
    unittest.main()
