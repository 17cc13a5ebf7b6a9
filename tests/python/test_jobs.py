"""ffp8.sweep / ffp8.eval (library calls in this process) give the numbers `ffp8 sweep` / `ffp8 eval`
write, as DataFrames and dicts; config errors name the JSON path, missing files are
FileNotFoundError.

Run by CTest (tests/python/CMakeLists.txt) with /usr/bin/python3, PYTHONPATH at the build's
python/ folder, FFP8_BIN and FFP8_REPO set.
"""
import io
import json
import os
import subprocess
import tempfile
import unittest

import h5py
import numpy as np
import pandas as pd

import ffp8

REPO = os.environ["FFP8_REPO"]
FFP8 = os.environ["FFP8_BIN"]
PY = "/usr/bin/python3"
MODEL = os.path.join(REPO, "experiments", "models", "resnet_small.h5")


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert p.returncode == 0, f"{' '.join(cmd)}: {p.stdout}{p.stderr}"
    return p


def drop_run_facts(summary):
    """summary.json without what differs between two runs (times, host, load, command)."""
    s = dict(summary)
    for k in ("provenance", "context", "timing", "seconds"):
        s.pop(k, None)
    return s


class Jobs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        t = cls.tmp.name
        rng = np.random.default_rng(2)
        with h5py.File(os.path.join(t, "w.h5"), "w") as f:
            f["weights/conv1"] = (rng.standard_normal((16, 27)) * 0.05).astype(np.float32)
            f["weights/fc"] = (rng.standard_normal((10, 128)) * 0.1).astype(np.float32)
        with h5py.File(os.path.join(t, "a.h5"), "w") as f:
            f["activations/relu1"] = np.maximum(rng.standard_normal((16, 256)) + 0.2, 0).astype(np.float32)
        cls.sweep_cfg = {
            "inputs": [{"file": "w.h5", "tensors": ["/weights/*"], "role": "weight"},
                       {"file": "a.h5", "tensors": ["/activations/*"], "role": "activation"}],
            "space": {"width": 8, "sign": [0, 1], "exp": [3, 4], "bias": {"min": 0, "max": 16},
                      "specials": ["none"], "subnormals": [True], "rounding": ["rne"]},
            "metrics": ["mse", "sqnr_db"],
        }
        cls.data = os.path.join(t, "data.h5")
        run([PY, os.path.join(REPO, "tools", "convert_data.py"), "fashion-mnist", "--split", "test", "--limit", "300",
             "--out", cls.data])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def write(self, name, cfg):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            json.dump(cfg, f)
        return path

    def test_sweep_equals_the_cli(self):
        path = self.write("sweep.json", self.sweep_cfg)
        out = os.path.join(self.tmp.name, "sweep-cli")
        run([FFP8, "sweep", path, "--out", out, "--quiet"])
        want_points = pd.read_csv(os.path.join(out, "points.csv"))
        with open(os.path.join(out, "summary.json")) as f:
            want_summary = json.load(f)
        for label, r in (("dict", ffp8.sweep(self.sweep_cfg, base_dir=self.tmp.name, threads=2)),
                         ("file", ffp8.sweep(path))):
            with self.subTest(config=label):
                self.assertIsInstance(r.points, pd.DataFrame)
                self.assertGreater(len(r.points), 50)
                pd.testing.assert_frame_equal(r.points, want_points)
                pd.testing.assert_frame_equal(r.pareto, pd.read_csv(os.path.join(out, "pareto.csv")))
                for key in ("counts", "selection", "knee", "inputs"):
                    self.assertEqual(r.summary[key], want_summary[key], key)
                self.assertIn("provenance", r.summary)
        # Nothing is written without out=; with it, the CLI's files.
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "sweep")))
        mine = os.path.join(self.tmp.name, "sweep-py")
        ffp8.sweep(path, out=mine)
        with open(os.path.join(mine, "points.csv")) as a, open(os.path.join(out, "points.csv")) as b:
            self.assertEqual(a.read(), b.read())

    def test_sweep_errors(self):
        bad = dict(self.sweep_cfg, space=dict(self.sweep_cfg["space"], exp=[3, 99]))
        with self.assertRaises(ValueError) as e:
            ffp8.sweep(bad, base_dir=self.tmp.name)
        self.assertIsInstance(e.exception, ffp8.ConfigError)
        self.assertIn("space", str(e.exception))
        with self.assertRaises(ffp8.ConfigError) as e:
            ffp8.sweep(dict(self.sweep_cfg, colour="red"), base_dir=self.tmp.name)
        self.assertIn("colour", str(e.exception))
        with self.assertRaises(FileNotFoundError):
            ffp8.sweep(os.path.join(self.tmp.name, "nope.json"))
        missing = dict(self.sweep_cfg, inputs=[dict(self.sweep_cfg["inputs"][0], file="gone.h5")])
        with self.assertRaises(FileNotFoundError) as e:
            ffp8.sweep(missing, base_dir=self.tmp.name)
        self.assertIn("gone.h5", str(e.exception))
        with self.assertRaises(TypeError):
            ffp8.sweep(3)

    def eval_cfg(self, **kw):
        cfg = {"model": MODEL, "data": self.data, "limit": 200, "batch": 50, "calib": 64,
               "formats": {"weight": "fit:s1e4m3", "activation": "fit:s0e4m4",
                           "overrides": {"stem_0": {"activation": "fit:s1e4m3"}}}}
        cfg.update(kw)
        return cfg

    def test_eval_equals_the_cli(self):
        path = self.write("eval.json", self.eval_cfg())
        out = os.path.join(self.tmp.name, "eval-cli")
        run([FFP8, "eval", path, "--out", out, "--quiet"])
        with open(os.path.join(out, "eval.json")) as f:
            want = json.load(f)
        r = ffp8.eval(self.eval_cfg(), threads=2)
        for k in ("top1", "top5", "count", "agreement_fp32", "top1_fp32"):
            self.assertEqual(r.summary[k], want[k], k)
        self.assertEqual(r.summary["layers"], want["layers"])
        self.assertIsInstance(r.layers, pd.DataFrame)
        self.assertEqual(list(r.layers["node"]), [l["node"] for l in want["layers"]])
        self.assertIsNone(r.candidates)

    def test_eval_candidates(self):
        cfg = self.eval_cfg(limit=100)
        del cfg["formats"]
        cfg["candidates"] = [{"name": "e4m3", "formats": {"weight": "e4m3fn", "activation": "e4m3fn"}},
                             {"name": "fp32", "formats": {"weight": "float32", "activation": "float32"}}]
        r = ffp8.eval(cfg)
        self.assertEqual(list(r.summary), ["e4m3", "fp32"])
        self.assertEqual(r.summary["fp32"]["agreement_fp32"], 1.0)
        self.assertIsInstance(r.candidates, pd.DataFrame)
        self.assertEqual(len(r.candidates), 2)

    def test_eval_errors(self):
        with self.assertRaises(ffp8.ConfigError) as e:
            ffp8.eval(self.eval_cfg(formats={"weight": "fit:s1e4m3"}))
        self.assertIn("activation", str(e.exception))
        with self.assertRaises(ValueError) as e:
            ffp8.eval(self.eval_cfg(formats={"weight": "s1e4m3", "activation": "float32"}))
        self.assertIn("s1e4m3", str(e.exception))
        with self.assertRaises(FileNotFoundError) as e:
            ffp8.eval(self.eval_cfg(data=os.path.join(self.tmp.name, "missing.h5")))
        self.assertIn("missing.h5", str(e.exception))


if __name__ == "__main__":
    unittest.main()
