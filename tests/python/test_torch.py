"""ffp8.torch: fake_quant equals ffp8.quantize on the tensor's numpy view and has a straight-through
gradient (torch.autograd); quantize_model applies an eval assignment that agrees with `ffp8 eval`
on a bundled model (per-layer formats identical, top-1 on the same images).

Run by CTest (tests/python/CMakeLists.txt) with /usr/bin/python3, PYTHONPATH at the build's
python/ folder, FFP8_BIN and FFP8_REPO set. FFP8_TORCH_IMAGES overrides the number of test images
(the full-test-set agreement is measured the same way with 10000).
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch

import ffp8
import ffp8.torch as ft

REPO = os.environ["FFP8_REPO"]
FFP8 = os.environ["FFP8_BIN"]
PY = "/usr/bin/python3"
IMAGES = int(os.environ.get("FFP8_TORCH_IMAGES", "500"))
sys.path.insert(0, os.path.join(REPO, "tools"))
import ffp8_h5  # noqa: E402
import ffp8_models  # noqa: E402


class FakeQuant(unittest.TestCase):
    def test_equals_quantize_on_the_numpy_view(self):
        g = torch.Generator().manual_seed(1)
        for dtype in (torch.float32, torch.float64):
            t = torch.randn(64, 33, generator=g, dtype=dtype) * 30
            for rounding in ("rne", "stochastic"):
                got = ft.fake_quant(t, "e4m3fn", rounding, seed=5)
                want = ffp8.quantize(t.numpy(), "e4m3fn", rounding, seed=5)
                self.assertEqual(got.dtype, dtype)
                self.assertTrue(np.array_equal(got.numpy(), want))
                # A non-contiguous view gives the results of its contiguous copy.
                tv = t.t()
                self.assertTrue(np.array_equal(ft.fake_quant(tv, "e4m3fn", rounding, seed=5).numpy(),
                                               ffp8.quantize(tv.contiguous().numpy(), "e4m3fn", rounding, seed=5)))
        self.assertTrue(torch.equal(t, t.clone()))  # input untouched

    def test_straight_through_gradient(self):
        x = (torch.randn(200, dtype=torch.float64) * 300).requires_grad_()
        y = ft.fake_quant(x, "e4m3fn")
        g = torch.randn(200, dtype=torch.float64)
        (gx,) = torch.autograd.grad(y, x, g)
        self.assertTrue(torch.equal(gx, g))
        # clip_grad: zero gradient beyond max(V) = 448.
        y = ft.fake_quant(x, "e4m3fn", clip_grad=True)
        (gx,) = torch.autograd.grad((y * g).sum(), x)
        self.assertTrue(torch.equal(gx, torch.where(x.detach().abs() <= 448, g, torch.zeros_like(g))))
        self.assertTrue(bool((x.detach().abs() > 448).any()))
        # Through a composite: d/dx sum(w * fq(x)) = w.
        w = torch.randn(200, dtype=torch.float64)
        (gx,) = torch.autograd.grad((w * ft.fake_quant(x, "s1e3m4b3")).sum(), x)
        self.assertTrue(torch.equal(gx, w))

    def test_bad_tensors(self):
        with self.assertRaises(TypeError):
            ft.fake_quant(torch.arange(4), "e4m3fn")
        with self.assertRaises(TypeError):
            ft.fake_quant(np.zeros(3, np.float32), "e4m3fn")
        with self.assertRaises(ValueError):
            ft.fake_quant(torch.zeros(3), "s1e4m3")
        with self.assertRaises(ValueError):
            ft.fake_quant(torch.tensor([1.0, float("nan")]), "s1e4m3b7")


def top1_torch(model, data, count, batch=100):
    correct, total = 0, 0
    with torch.no_grad():
        for x, y in ffp8_h5.iter_data(data, count, batch):
            pred = model(torch.from_numpy(x)).argmax(1).numpy()
            correct += int((pred == y).sum())
            total += len(y)
    return correct / total


class QuantizeModel(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.data = os.path.join(cls.tmp.name, "data.h5")
        p = subprocess.run([PY, os.path.join(REPO, "tools", "convert_data.py"), "fashion-mnist", "--split", "test",
                            "--limit", str(IMAGES), "--out", cls.data], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def agree(self, name, formats, per_channel=False, calib=256):
        model = ft.load_weights(getattr(ffp8_models, name)().eval(), os.path.join(REPO, "experiments", "models",
                                                                                  name + ".h5"))
        fp32 = top1_torch(model, self.data, IMAGES)
        plan = ft.quantize_model(model, formats, calib=ffp8_h5.iter_data(self.data, calib, 64),
                                 per_channel=per_channel)
        got = top1_torch(model, self.data, IMAGES)
        r = ffp8.eval({"model": os.path.join(REPO, "experiments", "models", name + ".h5"), "data": self.data,
                       "limit": IMAGES, "batch": 100, "calib": calib, "formats": formats, "per_channel": per_channel})
        ev = r.summary
        print(f"{name} {json.dumps(formats)}: ffp8.torch top1 {got:.4f} (float32 {fp32:.4f}), ffp8 eval top1 "
              f"{ev['top1']:.4f} (float32 {ev['top1_fp32']:.4f}), {IMAGES} images", file=sys.stderr)
        self.assertEqual(fp32, ev["top1_fp32"])
        mine = {l["node"]: (l["weight"], l["activation"]) for l in plan.layers}
        theirs = {l["node"]: (l["weight"], l["activation"]) for l in ev["layers"]}
        self.assertEqual(mine, theirs)
        # Same formats everywhere; float32 summation order may move an image across a decision
        # boundary, rarely: at most one image in 500 here.
        self.assertLessEqual(abs(got - ev["top1"]), max(1, IMAGES // 500) / IMAGES + 1e-12)
        self.assertNotEqual(got, fp32)  # the quantization did something
        plan.remove()
        self.assertEqual(top1_torch(model, self.data, IMAGES), fp32)
        return got, ev["top1"]

    def test_resnet_fit_templates_and_overrides(self):
        self.agree("resnet_small", {"weight": "fit:s1e3m4", "activation": "fit:s0e3m5",
                                    "overrides": {"stem_0": {"activation": "fit:s1e3m4"}, "fc": "e4m3fn"}})

    def test_mobilenet_auto_per_channel(self):
        self.agree("mobilenet_small", {"weight": "fit:auto:e3", "activation": "fit:auto:e3"}, per_channel=True)

    def test_vgg_int8_and_fixed(self):
        self.agree("vgg_small", {"weight": "int8", "activation": "s1e2m5b1"})

    def test_fine_tuning_updates_float_weights(self):
        model = torch.nn.Sequential(torch.nn.Linear(8, 4))
        plan = ft.quantize_model(model, {"weight": "fit:s1e4m3", "activation": "e4m3fn"})
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        before = model[0].parametrizations.weight.original.detach().clone()
        loss = model(torch.randn(16, 8)).square().mean()
        loss.backward()
        opt.step()
        after = model[0].parametrizations.weight.original.detach()
        self.assertFalse(torch.equal(before, after))
        w = model[0].weight.detach().numpy()
        self.assertTrue(np.array_equal(w, ffp8.quantize(after.numpy(), plan.layers[0]["weight"])))

    def test_bad_assignments(self):
        model = torch.nn.Sequential(torch.nn.Linear(8, 4))
        with self.assertRaises(ValueError) as e:
            ft.quantize_model(model, {"weight": "e4m3fn", "activation": "e4m3fn", "overrides": {"fc9": "e4m3fn"}})
        self.assertIn("fc9", str(e.exception))
        with self.assertRaises(ValueError):
            ft.quantize_model(model, {"weight": "e4m3fn", "activation": "fit:s0e4m4"})  # no calib
        with self.assertRaises(ValueError):
            ft.quantize_model(model, {"weight": "s1e4m3", "activation": "float32"})
        with self.assertRaises(ValueError):
            ft.quantize_model(model, {"weight": "e4m3fn"})


if __name__ == "__main__":
    unittest.main()
