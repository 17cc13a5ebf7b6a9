"""Shared helpers for the tools/ tests: repo location, in-process CLI runs."""
import contextlib
import io
import os
import sys

REPO = os.environ.get("FFP8_REPO") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOLS = os.path.join(REPO, "tools")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

# Shared machines: idle OpenMP threads sleep instead of spinning (set before torch is imported).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402

torch.set_num_threads(2)


def run_cli(main, argv):
    """Runs a tool's main(argv) in-process; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as e:   # argparse usage errors
            rc = e.code
    return rc, out.getvalue(), err.getvalue()
