"""Quantized inference of the bundled ViT (experiments/models/vit_mini.h5) equals a PyTorch
emulation that applies the project's own quantizer (`ffp8 quantize`) at the same points: every
linear and conv2d weight once, and per batch every linear/conv2d input and *both operands of
every matmul* (attention's Q K^T and P V), with the formats eval.json reports; same top-1 on the
whole Fashion-MNIST test set.

Needs FFP8_BIN (set by CTest), Debian's python3-torch, python3-h5py and dataset-fashion-mnist.
"""
import json
import os
import subprocess
import tempfile
import unittest

import h5py
import numpy as np

from ffp8_test_util import REPO
import ffp8_h5

FFP8 = os.environ.get("FFP8_BIN", os.path.join(REPO, "build", "bin", "ffp8"))
MODEL = os.path.join(REPO, "experiments", "models", "vit_mini.h5")
ENV = dict(os.environ, OMP_NUM_THREADS="2", OMP_WAIT_POLICY="PASSIVE")
BATCH = 1000


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


class Quantize:
    """numpy -> numpy through `ffp8 quantize` (HDF5 files in a temp folder)."""

    def __init__(self, tmp):
        self.tmp, self.calls = tmp, 0

    def __call__(self, x, fmt):
        if fmt == "float32":
            return None
        src, dst = os.path.join(self.tmp, "in.h5"), os.path.join(self.tmp, "out.h5")
        with h5py.File(src, "w") as f:
            f.create_dataset("x", data=np.array(x, np.float32, order="C"))
        if os.path.exists(dst):
            os.remove(dst)
        run([FFP8, "quantize", "--format", fmt, "--rounding", "rne", f"{src}:/x", f"{dst}:/x"])
        self.calls += 1
        with h5py.File(dst, "r") as f:
            return f["x"][()]


@unittest.skipUnless(os.path.exists(MODEL), "experiments/models/vit_mini.h5 is not bundled")
class ViTEmulation(unittest.TestCase):
    def test_same_top1_as_the_emulation(self):
        import convert_data
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "fashion-test.h5")
            convert_data.convert_fashion(data, "test")
            # fixed formats: attention operands signed (Q, K, V) and non-negative (P) alike in e4m3
            cfg = {"model": MODEL, "data": data, "batch": BATCH,
                   "formats": {"weight": "e4m3fn", "activation": "e4m3fn",
                               "overrides": {"blocks_3_attn_qk": "e5m2"}}}
            with open(os.path.join(tmp, "cfg.json"), "w") as f:
                json.dump(cfg, f)
            logits_file = os.path.join(tmp, "logits.h5")
            run([FFP8, "eval", os.path.join(tmp, "cfg.json"), "--out", os.path.join(tmp, "out"),
                 "--logits", logits_file, "--threads", "2"])
            with open(os.path.join(tmp, "out", "eval.json")) as f:
                ev = json.load(f)
            with h5py.File(logits_file, "r") as f:
                got = f["logits"][()]
            layers = {l["node"]: l for l in ev["layers"]}
            model = ffp8_h5.load_model(MODEL)
            ops = {n["name"]: n["op"] for n in model.graph["nodes"]}
            self.assertEqual({ops[n] for n in layers}, {"conv2d", "linear", "matmul"})
            self.assertEqual(layers["blocks_3_attn_qk"]["other"], "e5m2")
            self.assertEqual(layers["blocks_0_attn_pv"]["other"], "e4m3fn")
            quant = Quantize(tmp)
            params = dict(model.params)
            for node in model.graph["nodes"]:
                if node["name"] in layers and "weight" in node["params"]:
                    q = quant(params[node["params"]["weight"]], layers[node["name"]]["weight"])
                    if q is not None:
                        params[node["params"]["weight"]] = q

            def operand(node, v, k):
                layer = layers[node["name"]]
                return quant(v.numpy(), layer["activation"] if k == 0 else layer["other"])

            want, labels = [], []
            for x, y in ffp8_h5.iter_data(data, None, BATCH):
                want.append(ffp8_h5.run_graph(model.graph, params, x, operand, operands=True).numpy())
                labels.append(y)
            want, labels = np.concatenate(want), np.concatenate(labels)
            self.assertEqual(got.shape, want.shape)
            top1 = float(np.mean(want.argmax(1) == labels))
            agree = float(np.mean(got.argmax(1) == want.argmax(1)))
            print(f"vit_mini e4m3fn: engine top-1 {ev['top1']:.4f}, emulation {top1:.4f}, float32 "
                  f"{ev['top1_fp32']:.4f}, agreement {agree:.4f}, {quant.calls} quantize calls")
            self.assertEqual(ev["count"], 10000)
            self.assertAlmostEqual(ev["top1"], top1, delta=2e-4)   # at most two of 10,000 images
            self.assertGreaterEqual(agree, 0.999)
            # The quantization did something.
            self.assertNotEqual(ev["top1"], ev["top1_fp32"])


if __name__ == "__main__":
    unittest.main()
