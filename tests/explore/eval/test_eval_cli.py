"""`ffp8 eval` end to end (docs/inference.md): eval.json fields, --logits, float32 parity with
PyTorch through the CLI, exit codes and one-sentence errors naming the file or key at fault.

Run by CTest (tests/explore/eval/CMakeLists.txt) with FFP8_BIN and FFP8_REPO set; /usr/bin/python3.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

REPO = os.environ.get("FFP8_REPO", os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
FFP8 = os.environ.get("FFP8_BIN", os.path.join(REPO, "build", "bin", "ffp8"))
PY = "/usr/bin/python3"
ENV = dict(os.environ, OMP_NUM_THREADS="2", OMP_WAIT_POLICY="PASSIVE")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, **kw)


class EvalCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        t = cls.tmp.name
        cls.data = os.path.join(t, "data.h5")
        cls.model = os.path.join(t, "model.h5")
        for cmd in ([PY, "tools/convert_data.py", "fashion-mnist", "--split", "test", "--limit", "300", "--out", cls.data],
                    [PY, "tests/core/infer/export_calibrated.py", "tools/ffp8_models.py:inception_small", "--out", cls.model,
                     "--seed", "4", "--calib-data", cls.data, "--reference", "300"]):
            p = run(cmd, cwd=REPO)
            assert p.returncode == 0, p.stdout + p.stderr

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def config(self, name, **kw):
        cfg = {"model": "model.h5", "data": "data.h5", "batch": 64,  # relative to the config's folder
               "formats": {"weight": "fit:s1e4m3", "activation": "fit:s1e4m3"}}
        cfg.update(kw)
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            json.dump(cfg, f)
        return path

    def test_without_out_the_config_is_never_overwritten_and_the_folder_is_named(self):
        # A config named eval.json without "out" and without --out, run from another folder:
        # the outputs go beside the config into eval/ (not ./eval.json), and stderr says so.
        sub = os.path.join(self.tmp.name, "own")
        os.makedirs(sub, exist_ok=True)
        cfg = {"model": "../model.h5", "data": "../data.h5", "limit": 64,
               "formats": {"weight": "float32", "activation": "float32"}}
        path = os.path.join(sub, "eval.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        before = open(path).read()
        elsewhere = os.path.join(self.tmp.name, "cwd")
        os.makedirs(elsewhere, exist_ok=True)
        p = run([FFP8, "eval", path, "--set", "limit=32"], cwd=elsewhere)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(open(path).read(), before)
        self.assertEqual(os.listdir(elsewhere), [])
        self.assertIn("writing into " + os.path.join(sub, "eval"), p.stderr)
        with open(os.path.join(sub, "eval", "eval.json")) as f:
            ev = json.load(f)
        self.assertEqual(ev["count"], 32)  # --set applied
        self.assertEqual(ev["config"]["limit"], 32)
        for k in ("schema_version", "cpu_model", "num_cpus", "caches", "load_avg", "compiler", "build_type"):
            self.assertIn(k, ev["context"])

    def test_float32_logits_match_pytorch_and_eval_json_has_the_pinned_fields(self):
        out = os.path.join(self.tmp.name, "out32")
        logits = os.path.join(self.tmp.name, "l32.h5")
        cfg = self.config("f32.json", formats={"weight": "float32", "activation": "float32"})
        p = run([FFP8, "eval", cfg, "--out", out, "--logits", logits, "--threads", "2"])
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(out, "eval.json")) as f:
            ev = json.load(f)
        for k in ("top1", "top5", "count", "agreement_fp32", "layers", "images_per_second", "provenance"):
            self.assertIn(k, ev)
        for k in ("version", "git_commit", "host", "start", "end", "threads"):
            self.assertIn(k, ev["provenance"])
        self.assertEqual(ev["count"], 300)
        self.assertEqual(ev["agreement_fp32"], 1.0)
        with h5py.File(logits, "r") as f, h5py.File(self.model, "r") as m:
            got, ref, labels = f["logits"][()], m["reference/logits"][()], m["reference/labels"][()]
        self.assertEqual(got.dtype, np.float32)
        self.assertEqual(got.shape, (300, 10))
        self.assertLess(np.abs(got - ref).max() / np.abs(ref).max(), 1e-4)
        self.assertAlmostEqual(ev["top1"], float(np.mean(ref.argmax(1) == labels)), places=6)
        top5 = np.argsort(-ref, axis=1)[:, :5]
        self.assertAlmostEqual(ev["top5"], float(np.mean([l in r for l, r in zip(labels, top5)])), places=6)

    def test_quantized_run_reports_formats_and_overrides(self):
        out = os.path.join(self.tmp.name, "outq")
        cfg = self.config("q.json", formats={"weight": "fit:s1e4m3", "activation": "fit:s0e4m4",
                                              "overrides": {"stem_0": {"activation": "fit:s1e4m3"}, "fc": "float32"}},
                          per_channel=True, calib=100)
        p = run([FFP8, "eval", cfg, "--out", out])
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(out, "eval.json")) as f:
            ev = json.load(f)
        by = {l["node"]: l for l in ev["layers"]}
        self.assertEqual(by["fc"]["weight"], "float32")
        self.assertEqual(len(by["stem_0"]["weight"]), 24)  # per output channel
        self.assertTrue(by["stem_0"]["activation"].startswith("s1e4m3b"))
        self.assertTrue(by["inc1_branch1_0"]["activation"].startswith("s0e4m4b"))
        self.assertLess(ev["agreement_fp32"], 1.0 + 1e-12)
        self.assertIn("top1", p.stdout)

    def expect_error(self, cfg_path, *parts, code=1, args=()):
        p = run([FFP8, "eval", cfg_path, "--out", os.path.join(self.tmp.name, "bad"), *args])
        self.assertEqual(p.returncode, code, p.stdout + p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        for part in parts:
            self.assertIn(part, p.stderr)

    def test_bad_input_exits_1_naming_the_key_or_file(self):
        self.expect_error(self.config("unknown.json", batchsize=3), "/batchsize")
        self.expect_error(self.config("missing.json", formats={"weight": "float32"}), "/formats: missing key \"activation\"")
        self.expect_error(self.config("override.json", formats={"weight": "float32", "activation": "float32",
                                                                 "overrides": {"conv9": "float32"}}),
                          "/formats/overrides/conv9")
        self.expect_error(self.config("nofile.json", data="nope.h5"), "nope.h5")
        self.expect_error(self.config("badfmt.json", formats={"weight": "s1e4m3", "activation": "float32"}),
                          "/formats/weight")
        rgb = os.path.join(self.tmp.name, "rgb.h5")
        with h5py.File(rgb, "w") as f:
            f["images"] = np.zeros((2, 3, 28, 28), np.float32)
            f["labels"] = np.zeros(2, np.int64)
        self.expect_error(self.config("shape.json", data="rgb.h5"), "rgb.h5", "[3, 28, 28]", "[1, 28, 28]")
        with open(os.path.join(self.tmp.name, "broken.json"), "w") as f:
            f.write("{")
        self.expect_error(os.path.join(self.tmp.name, "broken.json"), "broken.json")
        self.expect_error(self.config("both.json", candidates=[]), "/candidates")
        dup = {"name": "a", "formats": {"weight": "float32", "activation": "float32"}}
        cfg = self.config("dup.json", candidates=[dup, dup])
        with open(cfg) as f:
            j = json.load(f)
        del j["formats"]
        with open(cfg, "w") as f:
            json.dump(j, f)
        self.expect_error(cfg, "/candidates/1/name")
        # A bad override node in the second candidate is found before the first one runs.
        cands = [{"name": "good", "formats": {"weight": "float32", "activation": "float32"}},
                 {"name": "typo", "formats": {"weight": "float32", "activation": "float32",
                                              "overrides": {"conv9": "float32"}}}]
        cfg = os.path.join(self.tmp.name, "badcand.json")
        with open(cfg, "w") as f:
            json.dump({"model": "model.h5", "data": "data.h5", "limit": 64, "candidates": cands}, f)
        out = os.path.join(self.tmp.name, "badcand")
        p = run([FFP8, "eval", cfg, "--out", out])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("/candidates/1/formats/overrides/conv9: candidate \"typo\"", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "eval.journal")))  # no candidate ran

    def test_candidates_equal_single_evals_at_any_rank_count_and_resume_after_a_kill(self):
        cands = [{"name": "ocp", "formats": {"weight": "e4m3fn", "activation": "e4m3fn"}},
                 {"name": "fit", "formats": {"weight": "fit:s1e4m3", "activation": "fit:s1e4m3"}},
                 {"name": "narrow", "formats": {"weight": "s1e3m4b5", "activation": "s1e5m2b15"}}]
        base = {"model": "model.h5", "data": "data.h5", "batch": 64, "limit": 200}
        cfg = os.path.join(self.tmp.name, "cands.json")
        with open(cfg, "w") as f:
            json.dump(dict(base, candidates=cands), f)
        one = os.path.join(self.tmp.name, "cands1")
        p = run([FFP8, "eval", cfg, "--out", one])
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(one, "candidates.csv")) as f:
            rows = f.read().splitlines()
        self.assertEqual([r.split(",")[0] for r in rows[1:]], ["ocp", "fit", "narrow"])
        for c, row in zip(cands, rows[1:]):
            single = os.path.join(self.tmp.name, "single-" + c["name"])
            p = run([FFP8, "eval", self.config("single.json", limit=200, formats=c["formats"]), "--out", single])
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(single, "eval.json")) as f:
                ev = json.load(f)
            with open(os.path.join(one, c["name"], "eval.json")) as f:
                cv = json.load(f)
            for k in ("top1", "top5", "agreement_fp32", "count", "layers"):
                self.assertEqual(ev[k], cv[k], (c["name"], k))
        env = dict(ENV, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                   OMPI_MCA_btl_vader_single_copy_mechanism="none")
        if env.get("ASAN_OPTIONS"):  # the sanitizer pass: see mpirun() in tests/explore/dist/dist_test.cpp
            env["ASAN_OPTIONS"] += ":fast_unwind_on_malloc=0"
        for n in (2, 3):
            out = os.path.join(self.tmp.name, "cands-np%d" % n)
            p = subprocess.run(["mpirun", "--oversubscribe", "--bind-to", "none", "-np", str(n), FFP8, "eval", cfg,
                                "--out", out], capture_output=True, text=True, env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(out, "candidates.csv")) as f:
                self.assertEqual(f.read().splitlines(), rows, n)
        # Killed after one journaled candidate: started again, it evaluates only the other two.
        out = os.path.join(self.tmp.name, "cands-killed")
        p = subprocess.run([FFP8, "eval", cfg, "--out", out], capture_output=True, text=True,
                           env=dict(ENV, FFP8_TEST_KILL_AFTER="1"))
        self.assertEqual(p.returncode, -9, p.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "candidates.csv")))
        other = os.path.join(self.tmp.name, "cands-other.json")
        with open(other, "w") as f:
            json.dump(dict(base, limit=100, candidates=cands), f)
        p = run([FFP8, "eval", other, "--out", out])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("eval.journal\" belongs to another candidate evaluation", p.stderr)
        self.assertIn("its key covers the eval config (without out and threads)", p.stderr)
        # A data file written again since the journal (a later modification time) is other work too.
        data = os.path.join(self.tmp.name, "data.h5")
        st = os.stat(data)
        os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        p = run([FFP8, "eval", cfg, "--out", out])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("model and data files' size and modification time", p.stderr)
        os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns))
        p = run([FFP8, "eval", cfg, "--out", out])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("2 evaluated, 1 taken from the journal", p.stdout)
        with open(os.path.join(out, "candidates.csv")) as f:
            self.assertEqual(f.read().splitlines(), rows)

    def test_usage_errors_exit_2(self):
        self.assertEqual(run([FFP8, "eval"]).returncode, 2)
        self.assertEqual(run([FFP8, "eval", self.config("u.json"), "--bogus"]).returncode, 2)
        self.assertEqual(run([FFP8, "eval", "--help"]).returncode, 0)


if __name__ == "__main__":
    unittest.main()
