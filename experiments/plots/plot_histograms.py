#!/usr/bin/python3
"""Plot: value histograms of a few layers (weights and inputs) with the representable values of
the format chosen for them overlaid (`ffp8 format SPEC --json` gives every code's value).

Formats per layer come from a paper-table layers.csv (default variant "FFP8 methodology", i.e.
what `ffp8 eval` resolved); tensor values are read from the model file (weights) and from the
recorded activations file (/activations/<node>, written by `ffp8 record`).

  /usr/bin/python3 experiments/plots/plot_histograms.py --model resnet_small --acts ACTS.h5
      [--table results/paper_table] [--nodes a,b,c] [--out DIR] [--ffp8 PATH]
"""
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import ffp8x as X  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def panel(ax, values, fmt, title, color):
    v = np.asarray(values, np.float64).ravel()
    v = v[np.isfinite(v)]
    mags = np.abs(v[v != 0])
    zeros = int(np.sum(v == 0))
    reps = [x for x in fmt["values"] if isinstance(x, (int, float)) and x > 0]
    lo = min(min(reps), mags.min() if mags.size else 1.0)
    hi = max(max(reps), mags.max() if mags.size else 1.0)
    bins = np.logspace(np.log10(lo) - 0.1, np.log10(hi) + 0.1, 120)
    ax.hist(mags, bins=bins, color=color, alpha=0.75, label=f"|x| of {v.size} values ({zeros} zeros)",
            rasterized=True)
    ax.set_xscale("log")
    ax.set_yscale("log")
    # Representable values as a rug along the top of the panel (axes coordinates in y).
    ax.vlines(reps, ymin=0.90, ymax=1.0, transform=ax.get_xaxis_transform(), colors="black", lw=0.5,
              label=f"{fmt['name']}: its {len(set(reps))} positive values (rug)", rasterized=True)
    ax.set_ylim(0.7, ax.get_ylim()[1] * 8)
    ax.axvline(fmt["max"], color="red", lw=1.0, ls="--", label=f"format max {fmt['max']:.4g}")
    if mags.size:
        ax.axvline(mags.max(), color="tab:green", lw=1.0, ls=":", label=f"data max {mags.max():.4g}")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("magnitude (log)")
    ax.set_ylabel("count (log)")
    ax.legend(fontsize=6, loc="center left")


def main(argv=None):
    p = X.parser(__doc__)
    p.add_argument("--model", required=True, help="model name of the bundled zoo or a .h5 file")
    p.add_argument("--acts", required=True, help="HDF5 file with /activations/<node> (`ffp8 record`)")
    p.add_argument("--table", default=str(X.ROOT / "results" / "paper_table"),
                   help="folder with layers.csv from experiments/paper_table/run.py")
    p.add_argument("--variant", default="FFP8 methodology", help="the layers.csv variant whose formats are shown")
    p.add_argument("--nodes", help="comma-separated (default: first, middle and last layer)")
    p.add_argument("--max-values", type=int, default=400000, help="subsample activations to this many values")
    p.add_argument("--out", default=str(X.BUILD / "plots"), help="output folder")
    p.add_argument("--ffp8", help="ffp8 binary (default: $FFP8 or build/bin/ffp8)")
    a = p.parse_args(argv)
    runner = X.Runner(X.ffp8_binary(a.ffp8), verbose=False)
    model = X.model_path(a.model)
    table = Path(a.table)
    rows = [r for r in csv.DictReader(open(table / "layers.csv"))
            if r["variant"] == a.variant and r["model"] == model.stem]
    if not rows:
        sys.exit(f"no '{a.variant}' rows for {model.stem} in {table / 'layers.csv'}")
    byname = {r["node"]: r for r in rows}
    nodes = a.nodes.split(",") if a.nodes else [rows[0]["node"], rows[len(rows) // 2]["node"], rows[-1]["node"]]
    fig, axes = plt.subplots(len(nodes), 2, figsize=(11, 3.2 * len(nodes)), squeeze=False)
    rng = np.random.default_rng(0)
    with h5py.File(model, "r") as fm, h5py.File(a.acts, "r") as fa:
        for i, nd in enumerate(nodes):
            r = byname[nd]
            w = fm[f"/params/{nd}/weight"][()]
            panel(axes[i][0], w, runner.format(r["weight_format"]), f"{nd}: weights in {r['weight_format']}",
                  "tab:orange")
            x = fa[f"/activations/{nd}"][()].ravel()
            if x.size > a.max_values:
                x = rng.choice(x, a.max_values, replace=False)
            if r["activation_format"] == "float32":
                axes[i][1].set_title(f"{nd}: input kept in float32", fontsize=9)
                continue
            panel(axes[i][1], x, runner.format(r["activation_format"]),
                  f"{nd}: input in {r['activation_format']}", "tab:blue")
    fig.suptitle(f"{model.stem}: value histograms and the representable values of the chosen formats "
                 f"({a.variant})", fontsize=10)
    fig.tight_layout()
    out = Path(a.out) if a.out else table
    files = X.save_figure(fig, out / f"histograms_{model.stem}")
    print("wrote " + ", ".join(X.rel(f) for f in files))


if __name__ == "__main__":
    main()
