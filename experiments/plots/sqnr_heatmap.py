#!/usr/bin/python3
"""Plot: SQNR over exponent width and bias for one weight tensor and one layer input, from a
`ffp8 sweep` points.csv (width 8, bias range), with the fit bias of each exponent width marked.

Either pass --points to plot an existing points.csv (it must contain range-bias rows), or pass
--model/--acts to run the sweep first (config written next to its outputs in --work).

  /usr/bin/python3 experiments/plots/sqnr_heatmap.py --model resnet_small --acts ACTS.h5
      [--weight-node N] [--act-node N] [--bias-min -8 --bias-max 40] [--out DIR] [--work DIR]
  /usr/bin/python3 experiments/plots/sqnr_heatmap.py --points points.csv --out DIR
"""
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import ffp8x as X  # noqa: E402

import numpy as np  # noqa: E402
import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def run_sweeps(runner, model, acts, wnode, anode, bias_min, bias_max, exps, work):
    inputs = [{"file": str(model), "tensors": [f"/params/{wnode}/weight"], "role": "weight"},
              {"file": str(acts), "tensors": [f"/activations/{anode}"], "role": "activation"}]
    space = {"width": 8, "sign": [0, 1], "exp": exps, "specials": ["none"], "subnormals": [True], "rounding": ["rne"]}
    base = {"inputs": inputs, "granularity": ["tensor"], "metrics": ["mse", "sqnr_db"],
            "objectives": [{"column": "sqnr_db", "goal": "max"}, {"column": "exp", "goal": "min"}],
            "selection": {"strategy": "none"}}
    runner.sweep(dict(base, description="SQNR heatmap: bias range", space=dict(space, bias={"min": bias_min, "max": bias_max})),
                 work / "range")
    runner.sweep(dict(base, description="SQNR heatmap: fit bias", space=dict(space, bias="fit")), work / "fit")
    return work / "range" / "points.csv", work / "fit" / "points.csv"


def main(argv=None):
    p = X.parser(__doc__)
    p.add_argument("--points", help="existing points.csv (range bias)")
    p.add_argument("--fit-points", help="optional points.csv of the same tensors with bias 'fit'")
    p.add_argument("--model", help="model name of the bundled zoo or a .h5 file (with --acts: run the sweeps)")
    p.add_argument("--acts", help="HDF5 file with /activations/<node> (`ffp8 record`)")
    p.add_argument("--weight-node", help="node whose weight is shown (default: the activation node)")
    p.add_argument("--act-node", help="node whose input is shown (default: the middle one of --acts)")
    p.add_argument("--bias-min", type=int, default=-8, help="smallest bias swept")
    p.add_argument("--bias-max", type=int, default=40, help="largest bias swept")
    p.add_argument("--exp", default="2,3,4,5", help="comma-separated exponent widths")
    p.add_argument("--act-sign", type=int, default=0, choices=(0, 1), help="sign of the activation layouts shown")
    p.add_argument("--out", required=True, help="output folder of the plot and its commands")
    p.add_argument("--work", help="folder of the sweeps (default: build/experiments/sqnr_heatmap)")
    p.add_argument("--ffp8", help="ffp8 binary (default: $FFP8 or build/bin/ffp8)")
    a = p.parse_args(argv)
    out = Path(a.out)
    if a.points:
        pts, fitpts = Path(a.points), Path(a.fit_points) if a.fit_points else None
        title_src = X.rel(pts)
    else:
        if not (a.model and a.acts):
            p.error("give --points, or --model and --acts")
        runner = X.Runner(X.ffp8_binary(a.ffp8))
        model = X.model_path(a.model)
        info = runner.inspect(a.acts)
        anodes = [t["path"].split("/")[-1] for t in info["tensors"] if t["path"].startswith("/activations/")]
        anode = a.act_node or anodes[len(anodes) // 2]
        wnode = a.weight_node or anode
        work = Path(a.work) if a.work else X.BUILD / "sqnr_heatmap"
        pts, fitpts = run_sweeps(runner, model, Path(a.acts).resolve(), wnode, anode, a.bias_min, a.bias_max,
                                 [int(e) for e in a.exp.split(",")], work)
        X.write_atomic(out / "sqnr_heatmap_commands.txt", "\n".join(runner.commands) + "\n")
        title_src = f"{model.stem}"
    rows = list(csv.DictReader(open(pts)))
    fit = {}
    if fitpts and Path(fitpts).exists():
        for r in csv.DictReader(open(fitpts)):
            fit[(r["tensor"], int(r["sign"]), int(r["exp"]))] = int(r["bias"])
    tensors = list(dict.fromkeys(r["tensor"] for r in rows))
    panels = []
    for t in tensors:
        role = next(r["role"] for r in rows if r["tensor"] == t)
        sign = 1 if role == "weight" else a.act_sign  # inputs after ReLU: unsigned, as FFP8 does
        sel = [r for r in rows if r["tensor"] == t and int(r["sign"]) == sign]
        if sel:
            panels.append((t, role, sign, sel))
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4.2), squeeze=False)
    for ax, (t, role, sign, sel) in zip(axes[0], panels):
        exps = sorted({int(r["exp"]) for r in sel})
        biases = sorted({int(r["bias"]) for r in sel})
        grid = np.full((len(exps), len(biases)), np.nan)
        for r in sel:
            grid[exps.index(int(r["exp"])), biases.index(int(r["bias"]))] = max(float(r["sqnr_db"]), -10.0)
        im = ax.imshow(grid, aspect="auto", origin="lower", cmap="viridis", vmin=0,
                       extent=[biases[0] - 0.5, biases[-1] + 0.5, exps[0] - 0.5, exps[-1] + 0.5])
        cb = fig.colorbar(im, ax=ax)
        cb.set_label("SQNR (dB)")
        best = np.nanargmax(grid, axis=1)
        ax.plot([biases[j] for j in best], exps, "w^", ms=6, label="best bias per exponent width")
        fx = [(fit[(t, sign, e)], e) for e in exps if (t, sign, e) in fit and biases[0] <= fit[(t, sign, e)] <= biases[-1]]
        if fx:
            ax.plot([b for b, _ in fx], [e for _, e in fx], "rx", ms=8, mew=2, label="fit bias (all you can fit)")
        ax.set_xlim(biases[0] - 0.5, biases[-1] + 0.5)
        ax.set_yticks(exps)
        ax.set_yticklabels([f"e{e}m{8 - sign - e}" for e in exps])
        ax.set_xlabel("exponent bias")
        ax.set_ylabel(f"layout (sign {sign})")
        ax.set_title(f"{role}: {t}", fontsize=9)
        ax.legend(fontsize=7, loc="lower left")
    fig.suptitle(f"SQNR over exponent width and bias ({title_src}, ffp8 sweep)", fontsize=10)
    fig.tight_layout()
    files = X.save_figure(fig, out / "sqnr_heatmap")
    print("wrote " + ", ".join(X.rel(f) for f in files))


if __name__ == "__main__":
    main()
