#!/usr/bin/python3
"""Plot: per-layer largest magnitude of weights versus layer inputs (activations), the paper's key
observation (the two roles need different ranges, hence separately chosen formats and biases).

Weights: `ffp8 inspect --json MODEL.h5` (max_abs of /params/<node>/weight). Activations: the
calibration range `ffp8 eval` tapped per layer (`activation_max_abs` in eval.json, gathered
here from the paper table's layers.csv).

  /usr/bin/python3 experiments/plots/plot_magnitudes.py [--table results/paper_table] [--models a,b]
      [--out DIR] [--ffp8 PATH]
"""
import csv
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import ffp8x as X  # noqa: E402

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(argv=None):
    p = X.parser(__doc__)
    p.add_argument("--table", default=str(X.ROOT / "results" / "paper_table"),
                   help="folder with layers.csv from experiments/paper_table/run.py")
    p.add_argument("--models", help="comma-separated (default: every model in layers.csv)")
    p.add_argument("--variant", default="FFP8 methodology", help="the layers.csv variant whose formats are shown")
    p.add_argument("--out", default=str(X.BUILD / "plots"), help="output folder")
    p.add_argument("--ffp8", help="ffp8 binary (default: $FFP8 or build/bin/ffp8)")
    a = p.parse_args(argv)
    runner = X.Runner(X.ffp8_binary(a.ffp8), verbose=False)
    table = Path(a.table)
    rows = [r for r in csv.DictReader(open(table / "layers.csv")) if r["variant"] == a.variant]
    models = a.models.split(",") if a.models else list(dict.fromkeys(r["model"] for r in rows))
    models = [m for m in models if any(r["model"] == m for r in rows)]
    if not models:
        sys.exit(f"no '{a.variant}' rows in {table / 'layers.csv'}")
    det = X.load_json(table / "details.json").get("models", {}) if (table / "details.json").exists() else {}

    def model_file(m):
        p = det.get(m, {}).get("model")
        return (X.ROOT / p) if p and not Path(p).is_absolute() else Path(p) if p else X.model_path(m)
    n = len(models)
    cols = min(n, 2)
    nrows = math.ceil(n / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(7.5 * cols, 3.6 * nrows), squeeze=False)
    for k, m in enumerate(models):
        ax = axes[k // cols][k % cols]
        info = runner.inspect(model_file(m))
        wmax = {t["path"]: t["stats"]["max_abs"] for t in info["tensors"] if t.get("stats")}
        lr = [r for r in rows if r["model"] == m]
        nodes = [r["node"] for r in lr]
        w = [wmax.get(f"/params/{nd}/weight", float("nan")) for nd in nodes]
        act = [float(r["activation_max_abs"]) if r["activation_max_abs"] else float("nan") for r in lr]
        x = range(len(nodes))
        ax.semilogy(x, w, "o-", color="tab:orange", label="weights: max |w| (ffp8 inspect)", ms=4)
        ax.semilogy(x, act, "s-", color="tab:blue", label="layer inputs: max |x| (ffp8 eval calibration)", ms=4)
        vals = [v for v in w + act if v == v and v > 0]
        if vals:
            ax.set_ylim(10 ** math.floor(math.log10(min(vals))), 10 ** math.ceil(math.log10(max(vals))))
        ax.set_xticks(list(x))
        ax.set_xticklabels(nodes, rotation=60, ha="right", fontsize=7)
        ax.set_ylabel("largest magnitude (log)")
        ax.set_title(m, fontsize=10)
        ax.grid(True, which="both", alpha=0.25)
        if k == 0:
            ax.legend(fontsize=7)
    for k in range(n, nrows * cols):
        axes[k // cols][k % cols].axis("off")
    fig.suptitle("Per-layer largest magnitude: weights versus activations", fontsize=11)
    fig.tight_layout()
    out = Path(a.out) if a.out else table
    files = X.save_figure(fig, out / "max_magnitude_weights_vs_activations")
    print("wrote " + ", ".join(X.rel(f) for f in files))


if __name__ == "__main__":
    main()
