"""Quantized inference of the bundled ViT (experiments/models/vit_mini.h5) equals a PyTorch
emulation that applies the project's own quantizer (`ffp8 quantize`) at the same points: every
linear and conv2d weight once, and per batch every linear/conv2d input and *both operands of
every matmul* (attention's Q K^T and P V), with the formats eval.json reports; same top-1 on the
whole Fashion-MNIST test set.

Needs FFP8_BIN (set by CTest), Debian's python3-torch, python3-h5py and dataset-fashion-mnist.
"""
import json
import os
import tempfile
import unittest

import h5py
import numpy as np

from ffp8_test_util import FFP8, REPO, CliQuantizer, run
import ffp8_h5

MODEL = os.path.join(REPO, "experiments", "models", "vit_mini.h5")
BATCH = 1000


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
            quant = CliQuantizer(tmp)
            params = dict(model.params)
            for node in model.graph["nodes"]:
                if node["name"] in layers and "weight" in node["params"]:
                    w = node["params"]["weight"]
                    params[w] = quant(params[w], layers[node["name"]]["weight"])

            def operand(node, v, k):
                layer = layers[node["name"]]
                fmt = layer["activation"] if k == 0 else layer["other"]
                return None if fmt == "float32" else quant(v.numpy(), fmt)

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
