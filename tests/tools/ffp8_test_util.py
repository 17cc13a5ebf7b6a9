"""Shared helpers of the Python tests: repo location, in-process CLI runs, the `ffp8` binary run as a
subprocess, its quantizer on numpy arrays, and a test case with a temporary folder."""
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import unittest

REPO = os.environ.get("FFP8_REPO") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOLS = os.path.join(REPO, "tools")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

# Shared machines: idle OpenMP threads sleep instead of spinning (set before torch is imported).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402

torch.set_num_threads(2)
import h5py  # noqa: E402
import numpy as np  # noqa: E402

FFP8 = os.environ.get("FFP8_BIN", os.path.join(REPO, "build", "bin", "ffp8"))
ENV = dict(os.environ, OMP_NUM_THREADS="2", OMP_WAIT_POLICY="PASSIVE")


def run_cli(main, argv):
    """Runs a tool's main(argv) in-process; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as e:   # argparse usage errors
            rc = e.code
    return rc, out.getvalue(), err.getvalue()


def run(cmd, **kw):
    """Runs a command (2 OpenMP threads); fails the test with its output when it exits non-zero."""
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


class CliQuantizer:
    """numpy -> numpy through `ffp8 quantize` (the project's quantizer, rne) via HDF5 files in `tmp`;
    "float32" returns x unchanged. `calls` counts the quantize runs."""

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


class TempDirCase(unittest.TestCase):
    """A test case whose class has one temporary folder, `cls.tmp` (removed after its tests)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()
