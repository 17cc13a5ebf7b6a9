#!/usr/bin/python3
"""Export a model for the parity tests with BatchNorm running statistics set from data.

  export_calibrated.py MODEL --out FILE.h5 [--seed N] [other tools/export.py arguments]

Untrained torchvision models keep BatchNorm's initial statistics (mean 0, var 1), under which
activations of some of them (GoogLeNet, MobileNetV2) shrink until the logits no longer depend on
the input, and a parity test would compare constants. Here every BatchNorm first gets the
statistics of a batch of seeded random inputs (train-mode forward, cumulative average), then
tools/export.py exports the model with that state dict, in the same process.
"""
import os
import sys
import tempfile

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(REPO, "tools"))
import export  # noqa: E402


def main(argv):
    import torch
    spec, rest = argv[0], argv[1:]
    seed = int(rest[rest.index("--seed") + 1]) if "--seed" in rest else 0
    shape = None
    if "--input-shape" in rest:
        shape = tuple(int(v) for v in rest[rest.index("--input-shape") + 1].split(","))
    torch.set_num_threads(2)
    model, file_shape = export.load_model(spec, seed)
    shape = shape or file_shape or export.DEFAULT_INPUT_SHAPE
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the calibration batch
    model.train()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        model(torch.randn((16,) + tuple(shape), generator=g))
    model.eval()
    with tempfile.TemporaryDirectory() as d:
        pth = os.path.join(d, "state.pth")
        torch.save(model.state_dict(), pth)
        return export.main([spec, "--state-dict", pth] + rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
