"""The ONNX front end (tools/export_onnx.py through `tools/export.py onnx:FILE`): ONNX files
written by torch.onnx.export import with the logits of the PyTorch model; bad files (an
unsupported op, a malformed file, an opset out of range, a batch-mixing transpose) are refused
with one sentence naming the file and the node."""
import os
import unittest

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper
from torch import nn

from ffp8_test_util import TempDirCase, run_cli
import export
import export_onnx
import ffp8_h5


class Small(nn.Module):
    """Conv, BN, Hardswish, SE (sigmoid, mul), exact GELU, LayerNorm, a Linear and a transpose."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(8, 8, 1), nn.Sigmoid())
        self.norm = nn.LayerNorm(8)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = nn.functional.hardswish(self.bn(self.conv(x)))
        x = x * self.se(x)
        x = nn.functional.gelu(x).flatten(2).transpose(1, 2)     # [N, 36, 8]
        return self.fc(self.norm(x).mean(1))


def make_model(nodes, opset=17, inputs=None, inits=()):
    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])]
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])
    g = helper.make_graph(nodes, "g", inputs, [out], initializer=list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


class OnnxImport(TempDirCase):
    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def fails(self, argv, *needles):
        out = self.path("out.h5")
        rc, _, err = run_cli(export.main, argv + ["--out", out])
        self.assertEqual(rc, 1, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        for n in needles:
            self.assertIn(n, err)
        self.assertFalse(os.path.exists(out))
        return err

    def test_a_torch_export_imports_with_its_logits(self):
        torch.manual_seed(0)
        model = Small().eval()
        with torch.no_grad():
            model.bn.running_mean.uniform_(-1, 1)
            model.bn.running_var.uniform_(0.5, 2)
        f = self.path("small.onnx")
        torch.onnx.export(model, torch.zeros(1, 3, 6, 6), f, opset_version=17,
                          dynamic_axes={"x": {0: "batch"}}, input_names=["x"])
        out = self.path("small.h5")
        rc, _, err = run_cli(export.main, [f"onnx:{f}", "--out", out, "--reference", "3"])
        self.assertEqual(rc, 0, err)
        m = ffp8_h5.load_model(out)
        self.assertEqual(m.attrs["frontend"], "onnx")
        self.assertEqual(list(m.input_shape), [3, 6, 6])
        ops = [n["op"] for n in m.graph["nodes"]]
        self.assertIn("gelu", ops)           # Div, Erf, Add, Mul, Mul fused back
        self.assertNotIn("div", ops)
        x = m.reference["inputs"]
        with torch.no_grad():
            want = model(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(m.reference["logits"], want, rtol=0, atol=1e-5 * np.abs(want).max())

    def test_unsupported_op_is_named(self):
        f = self.path("sin.onnx")
        onnx.save(make_model([helper.make_node("Sin", ["x"], ["y"], name="sin_1")]), f)
        self.fails([f"onnx:{f}"], "sin.onnx", "'sin_1'", "op Sin")

    def test_malformed_file(self):
        f = self.path("broken.onnx")
        with open(f, "wb") as fh:
            fh.write(b"\x08\x07not a protobuf at all" * 3)
        self.fails([f"onnx:{f}"], "broken.onnx", "not an ONNX model")
        self.fails([f"onnx:{self.path('missing.onnx')}"], "missing.onnx", "no such ONNX file")

    def test_opset_out_of_range(self):
        f = self.path("old.onnx")
        model = make_model([helper.make_node("Relu", ["x"], ["y"])], opset=7)
        onnx.save(model, f)
        self.fails([f"onnx:{f}"], "old.onnx", "opset 7", f"{export_onnx.OPSETS.start} to {export_onnx.OPSETS.stop - 1}")

    def test_batch_mixing_transpose_is_refused(self):
        f = self.path("mix.onnx")
        onnx.save(make_model([helper.make_node("Transpose", ["x"], ["y"], perm=[1, 0, 2, 3], name="t")]), f)
        self.fails([f"onnx:{f}"], "'t'", "moves the batch dimension")

    def test_multihead_attention_takes_the_fx_route(self):
        """torch.onnx exports nn.MultiheadAttention in [T, N, E]: refused through ONNX (naming the
        transpose), while the default route (fx) translates it."""
        src = self.path("mha.py")
        with open(src, "w") as fh:
            fh.write("import torch\nfrom torch import nn\n"
                     "class M(nn.Module):\n"
                     "    def __init__(self):\n"
                     "        super().__init__(); self.a = nn.MultiheadAttention(4, 2, batch_first=True)\n"
                     "    def forward(self, x):\n"
                     "        t = x.flatten(2).transpose(1, 2)\n"
                     "        return self.a(t, t, t, need_weights=False)[0].mean(1)\n"
                     "def make():\n    torch.manual_seed(0)\n    return M()\n")
        self.fails([f"{src}:make", "--input-shape", "4,3,3", "--via", "onnx"], "Transpose", "batch")
        rc, _, err = run_cli(export.main, [f"{src}:make", "--out", self.path("mha.h5"), "--input-shape", "4,3,3"])
        self.assertEqual(rc, 0, err)
        ops = [n["op"] for n in ffp8_h5.load_model(self.path("mha.h5")).graph["nodes"]]
        self.assertEqual(ops.count("matmul"), 2)


if __name__ == "__main__":
    unittest.main()
