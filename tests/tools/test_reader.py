"""tools/ffp8_h5.py: the reader refuses malformed files with clear messages; the documented op
semantics (docs/hdf5-layout.md) agree with PyTorch."""
import itertools
import json
import math
import os
import re
import shutil
import tempfile
import unittest

import h5py
import numpy as np
import torch
import torch.nn.functional as F

from ffp8_test_util import REPO, run_cli
import export
import ffp8_h5
from ffp8_h5 import LayoutError


class MalformedFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.base = os.path.join(cls.tmp.name, "base.h5")
        rc, _, err = run_cli(export.main, [f"{REPO}/tools/ffp8_models.py:resnet_small", "--out", cls.base,
                                           "--calib", "2", "--reference", "2"])
        assert rc == 0, err
        ffp8_h5.load_model(cls.base)   # the unmodified file is valid
        with h5py.File(cls.base, "r") as f:
            cls.graph = json.loads(f["graph"][()])
        cls.conv = next(n for n in cls.graph["nodes"] if n["op"] == "conv2d")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def mutate(self, fn):
        path = os.path.join(self.tmp.name, f"{self._testMethodName}.h5")
        shutil.copy(self.base, path)
        with h5py.File(path, "r+") as f:
            fn(f)
        return path

    def refuses(self, path, *needles):
        with self.assertRaises(LayoutError) as cm:
            ffp8_h5.load_model(path)
        msg = str(cm.exception)
        self.assertIn(path, msg)
        for n in needles:
            self.assertIn(n, msg)
        rc, _, err = run_cli(ffp8_h5.main, [path])
        self.assertEqual(rc, 1)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        return msg

    def set_graph(self, f, graph):
        del f["graph"]
        f.create_dataset("graph", data=json.dumps(graph), dtype=h5py.string_dtype("utf-8"))

    def test_missing_file(self):
        self.refuses(os.path.join(self.tmp.name, "nope.h5"), "no such file")

    def test_truncated_file(self):
        path = os.path.join(self.tmp.name, "truncated.h5")
        with open(self.base, "rb") as src, open(path, "wb") as dst:
            dst.write(src.read(os.path.getsize(self.base) // 3))
        self.refuses(path, "not a readable HDF5 file")

    def test_not_hdf5(self):
        path = os.path.join(self.tmp.name, "text.h5")
        with open(path, "w") as f:
            f.write("hello\n")
        self.refuses(path, "not a readable HDF5 file")

    def test_unknown_layout_version(self):
        def f(h):
            h.attrs["ffp8_layout"] = np.int64(3)
        self.refuses(self.mutate(f), "ffp8_layout = 3", "not supported", "1 and 2")

    def test_layout_two_op_in_a_layout_one_file(self):
        g = json.loads(json.dumps(self.graph))
        g["nodes"][1]["op"], g["nodes"][1]["params"], g["nodes"][1]["attrs"] = "sigmoid", {}, {}

        def f(h):
            self.set_graph(h, g)
            h.attrs["ffp8_layout"] = np.int64(1)
        self.refuses(self.mutate(f), "'sigmoid' needs layout 2", "layout 1", g["nodes"][1]["name"])

    def test_missing_layout_version(self):
        self.refuses(self.mutate(lambda h: h.attrs.__delitem__("ffp8_layout")), "'ffp8_layout' is missing")

    def test_layout_version_not_integer(self):
        def f(h):
            h.attrs["ffp8_layout"] = "1"
        self.refuses(self.mutate(f), "must be an integer")

    def test_missing_graph(self):
        self.refuses(self.mutate(lambda h: h.__delitem__("graph")), "/graph is missing")

    def test_graph_not_json(self):
        def f(h):
            del h["graph"]
            h.create_dataset("graph", data="{nodes: oops", dtype=h5py.string_dtype("utf-8"))
        self.refuses(self.mutate(f), "not valid JSON")

    def test_missing_params_group(self):
        self.refuses(self.mutate(lambda h: h.__delitem__("params")), self.conv["params"]["weight"], "missing")

    def test_missing_param(self):
        path = self.conv["params"]["weight"]
        self.refuses(self.mutate(lambda h: h.__delitem__(path)), path, self.conv["name"])

    def test_wrong_dtype(self):
        path = self.conv["params"]["weight"]

        def f(h):
            data = h[path][()]
            del h[path]
            h.create_dataset(path, data=data.astype(np.float64)).attrs["role"] = "weight"
        self.refuses(self.mutate(f), path, "float32", "float64")

    def test_wrong_shape(self):
        bn = next(n for n in self.graph["nodes"] if n["op"] == "batchnorm2d")
        path = bn["params"]["mean"]

        def f(h):
            del h[path]
            h.create_dataset(path, data=np.zeros(3, np.float32)).attrs["role"] = "bn_mean"
        self.refuses(self.mutate(f), path, "shape")

    def test_wrong_role(self):
        path = self.conv["params"]["weight"]

        def f(h):
            h[path].attrs["role"] = "bias"
        self.refuses(self.mutate(f), path, "role 'weight'")

    def test_unknown_op(self):
        g = json.loads(json.dumps(self.graph))
        g["nodes"][1]["op"] = "sine"
        self.refuses(self.mutate(lambda h: self.set_graph(h, g)), "unknown op 'sine'", g["nodes"][1]["name"])

    def test_unknown_attr(self):
        g = json.loads(json.dumps(self.graph))
        g["nodes"][0]["attrs"]["padding_mode"] = "reflect"
        self.refuses(self.mutate(lambda h: self.set_graph(h, g)), "unknown attribute", "padding_mode")

    def test_missing_attr(self):
        g = json.loads(json.dumps(self.graph))
        del g["nodes"][0]["attrs"]["groups"]
        self.refuses(self.mutate(lambda h: self.set_graph(h, g)), "missing attribute", "groups")

    def test_input_not_defined_earlier(self):
        g = json.loads(json.dumps(self.graph))
        g["nodes"][0], g["nodes"][1] = g["nodes"][1], g["nodes"][0]
        self.refuses(self.mutate(lambda h: self.set_graph(h, g)), "not a graph input or an earlier node")

    def test_missing_activation(self):
        self.refuses(self.mutate(lambda h: h.__delitem__(f"activations/{self.conv['name']}")),
                     f"/activations/{self.conv['name']}")

    def test_every_op_is_documented(self):
        """The op list of docs/ops.md (generated from the C++ op table) names every op of this
        reader's table with the same attributes, params, input count and layout version."""
        with open(os.path.join(REPO, "docs", "ops.md")) as f:
            doc = f.read()
        rows = {m[0]: m[1:] for m in re.findall(
            r"^\| `([a-z0-9_]+)` \| ([^|\n]+) \| ([^|\n]+) \| ([^|\n]+) \| (\d) \| ([^|\n]+) \|", doc, re.M)}
        self.assertEqual(set(rows), set(ffp8_h5.OPS))
        for op, spec in ffp8_h5.OPS.items():
            inputs, params, attrs, since, quantized = rows[op]
            self.assertEqual(inputs, "1 or more" if spec.inputs is None else str(spec.inputs), op)
            self.assertEqual(re.findall(r"`(\w+)`", attrs), list(spec.attrs), op)
            self.assertEqual(re.findall(r"`(\w+)`", params), list(spec.params), op)
            self.assertEqual(re.findall(r"`(\w+)` \(optional\)", params),
                             [p for p in spec.params if p not in spec.required], op)
            self.assertEqual(int(since), spec.since, op)
            self.assertEqual(quantized != "no", bool(spec.quantized), op)

    def test_list_tensors_roles(self):
        roles = {r for _, _, _, r in ffp8_h5.list_tensors(self.base)}
        self.assertTrue(roles <= set(ffp8_h5.ROLES), roles)
        self.assertTrue({"weight", "bn_mean", "bn_var", "bn_weight", "bn_bias", "activation", "graph",
                         "reference_input", "reference_logits"} <= roles, roles)


# ------------------------------------------------------------------ documented semantics vs PyTorch
def out_size(h, k, s, p, d, ceil):
    """Output length of a pooling window, as written in docs/hdf5-layout.md."""
    num = h + 2 * p - d * (k - 1) - 1
    o = (math.ceil(num / s) if ceil else num // s) + 1
    if ceil and (o - 1) * s >= h + p:
        o -= 1
    return o


def doc_avgpool(x, k, s, p, ceil, cip, div):
    n, c, h, w = x.shape
    ho, wo = out_size(h, k, s, p, 1, ceil), out_size(w, k, s, p, 1, ceil)
    y = np.zeros((n, c, ho, wo))
    for i, j in itertools.product(range(ho), range(wo)):
        hs, ws = i * s - p, j * s - p
        he, we = min(hs + k, h + p), min(ws + k, w + p)
        pool = (he - hs) * (we - ws)
        hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
        divisor = div if div is not None else (pool if cip else (he - hs) * (we - ws))
        y[:, :, i, j] = x[:, :, hs:he, ws:we].sum(axis=(2, 3)) / divisor
    return y


def doc_maxpool(x, k, s, p, d, ceil):
    n, c, h, w = x.shape
    ho, wo = out_size(h, k, s, p, d, ceil), out_size(w, k, s, p, d, ceil)
    xp = np.full((n, c, h + 2 * p + k * d, w + 2 * p + k * d), -np.inf)
    xp[:, :, p:p + h, p:p + w] = x
    y = np.full((n, c, ho, wo), -np.inf)
    for i, j in itertools.product(range(ho), range(wo)):
        for a, b in itertools.product(range(k), range(k)):
            y[:, :, i, j] = np.maximum(y[:, :, i, j], xp[:, :, i * s + a * d, j * s + b * d])
    return y


def doc_adaptive(x, oh, ow):
    n, c, h, w = x.shape
    y = np.zeros((n, c, oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        r0, r1 = (i * h) // oh, -((-(i + 1) * h) // oh)
        c0, c1 = (j * w) // ow, -((-(j + 1) * w) // ow)
        y[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    return y


class DocumentedSemantics(unittest.TestCase):
    """A C++ engine implements the formulas of the layout doc; they must be PyTorch's."""

    def test_pooling(self):
        rng = np.random.default_rng(0)
        cases = 0
        for h, k, s, p, ceil in itertools.product((5, 6, 7, 8), (2, 3), (1, 2, 3), (0, 1), (False, True)):
            if p > k // 2:
                continue
            x = rng.standard_normal((1, 2, h, h + 1))
            t = torch.from_numpy(x)
            for cip, div in ((True, None), (False, None), (True, 5)):
                want = F.avg_pool2d(t, k, s, p, ceil, cip, div).numpy()
                got = doc_avgpool(x, k, s, p, ceil, cip, div)
                self.assertEqual(got.shape, want.shape, (h, k, s, p, ceil))
                np.testing.assert_allclose(got, want, atol=1e-12, err_msg=str((h, k, s, p, ceil, cip, div)))
                cases += 1
            for d in (1, 2):
                want = F.max_pool2d(t, k, s, p, d, ceil).numpy()
                got = doc_maxpool(x, k, s, p, d, ceil)
                self.assertEqual(got.shape, want.shape, (h, k, s, p, d, ceil))
                np.testing.assert_array_equal(got, want)
                cases += 1
        self.assertGreater(cases, 100)

    def test_adaptive_avgpool(self):
        rng = np.random.default_rng(1)
        for h, w, oh, ow in ((7, 7, 1, 1), (5, 7, 3, 2), (1, 1, 7, 7), (8, 6, 3, 4), (13, 13, 6, 6)):
            x = rng.standard_normal((2, 3, h, w))
            want = F.adaptive_avg_pool2d(torch.from_numpy(x), (oh, ow)).numpy()
            np.testing.assert_allclose(doc_adaptive(x, oh, ow), want, atol=1e-12)

    def test_conv_output_size(self):
        for h, k, s, p, d in itertools.product((7, 8), (1, 3, 5), (1, 2), (0, 1, 2), (1, 2)):
            if h + 2 * p < d * (k - 1) + 1:
                continue   # PyTorch refuses a kernel larger than the padded input
            want = F.conv2d(torch.zeros(1, 1, h, h), torch.zeros(1, 1, k, k), None, s, p, d).shape[2]
            self.assertEqual((h + 2 * p - d * (k - 1) - 1) // s + 1, want)

    def test_batchnorm_formula(self):
        rng = np.random.default_rng(2)
        x = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
        mean, var = rng.standard_normal(4).astype(np.float32), rng.uniform(0.1, 2, 4).astype(np.float32)
        wgt, bias = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
        want = F.batch_norm(*(torch.from_numpy(v) for v in (x, mean, var, wgt, bias)), False, 0.0, 1e-3).numpy()
        r = lambda v: v.reshape(1, -1, 1, 1)  # noqa: E731
        got = (x - r(mean)) / np.sqrt(r(var) + np.float32(1e-3)) * r(wgt) + r(bias)
        np.testing.assert_allclose(got, want, atol=1e-5)


if __name__ == "__main__":
    unittest.main()
