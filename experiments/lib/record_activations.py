#!/usr/bin/python3
"""Records the float32 input of every conv2d/linear node of a model for the first N images of a
data file, as /activations/<node> (role "activation", layout of docs/hdf5-layout.md), so that
`ffp8 sweep` and the plots can read layer activations.

Why this exists: the bundled zoo files are exported with `--calib 0` (no /activations), and
`ffp8 eval` has no option to write the activations it calibrates on. This runs the project's own
float32 reference executor (tools/ffp8_h5.run_graph, PyTorch functional ops); it quantizes
nothing. When a model file already has /activations, the experiments use those instead.

  /usr/bin/python3 experiments/lib/record_activations.py MODEL.h5 DATA.h5 --count 256 --out ACTS.h5
"""
import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import h5py  # noqa: E402
import numpy as np  # noqa: E402

import ffp8_h5  # noqa: E402


def record(model_file, data_file, count, out, batch=64):
    import torch
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    m = ffp8_h5.load_model(str(model_file), with_reference=False)
    chunks = {}

    def rec(node, x):
        chunks.setdefault(node["name"], []).append(x.detach().numpy().astype(np.float32, copy=True))

    seen = 0
    for x, _ in ffp8_h5.iter_data(str(data_file), count=count, batch=batch):
        ffp8_h5.run_graph(m.graph, m.params, x, record=rec)
        seen += len(x)
    tmp = str(out) + ".tmp"
    with h5py.File(tmp, "w") as f:
        g = f.create_group("activations")
        g.attrs["count"] = np.int64(seen)
        g.attrs["source"] = str(data_file)
        g.attrs["producer"] = "experiments/lib/record_activations.py (tools/ffp8_h5.run_graph, float32)"
        for node in m.graph["nodes"]:
            if node["name"] not in chunks:
                continue
            a = np.concatenate(chunks[node["name"]])
            ds = g.create_dataset(node["name"], data=a, chunks=(min(len(a), batch),) + a.shape[1:])
            ds.attrs["role"] = "activation"
            ds.attrs["node"] = node["name"]
            ds.attrs["tensor"] = node["inputs"][0]
    os.replace(tmp, out)
    return seen


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--count", type=int, default=256)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    n = record(a.model, a.data, a.count, a.out)
    print(f"recorded conv2d/linear inputs of {n} images into {a.out}")


if __name__ == "__main__":
    main()
