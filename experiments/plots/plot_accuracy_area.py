#!/usr/bin/python3
"""Plot: top-1 versus PE area from experiments/accuracy_area/run.py outputs (candidates.csv),
with the accuracy frontier and the fixed formats of prior work marked.

  /usr/bin/python3 experiments/plots/plot_accuracy_area.py [--in results/accuracy_area] [--out DIR]

Writes accuracy_vs_area.png and .svg into --out only.
"""
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import ffp8x as X  # noqa: E402

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(argv=None):
    p = X.parser(__doc__)
    p.add_argument("--in", dest="inp", default=str(X.ROOT / "results" / "accuracy_area"),
                   help="folder with candidates.csv and summary.json of experiments/accuracy_area/run.py")
    p.add_argument("--out", default=str(X.BUILD / "plots"), help="output folder")
    a = p.parse_args(argv)
    inp = Path(a.inp)
    out = Path(a.out)
    rows = list(csv.DictReader(open(inp / "candidates.csv")))
    summ = X.load_json(inp / "summary.json") if (inp / "summary.json").exists() else {}
    if not rows:
        sys.exit(f"{inp / 'candidates.csv'} has no rows")
    for r in rows:
        r["area"] = float(r["area_um2"]) / 1000.0
        r["acc"] = 100.0 * float(r["top1"])
    fp32 = 100.0 * float(rows[0]["top1_fp32"])

    fig, ax = plt.subplots(figsize=(9.5, 5))
    ffp8 = [r for r in rows if r["kind"] == "ffp8"]
    fixed = [r for r in rows if r["kind"] == "fixed"]
    ax.scatter([r["area"] for r in ffp8], [r["acc"] for r in ffp8], s=28, color="tab:blue", alpha=0.6,
               label="FFP8 candidates (fit bias per layer)", zorder=3)
    front = sorted([r for r in rows if r["accuracy_frontier"] in ("True", "1", "true")], key=lambda r: r["area"])
    if front:
        ax.step([r["area"] for r in front], [r["acc"] for r in front], where="post", color="tab:blue", lw=1.5,
                label="accuracy/area frontier", zorder=2)
        ax.scatter([r["area"] for r in front], [r["acc"] for r in front], s=60, facecolors="none",
                   edgecolors="tab:blue", lw=1.5, zorder=4)
    markers = ["s", "D", "^", "v", "P", "X", "*"]
    for i, r in enumerate(fixed):
        ax.scatter([r["area"]], [r["acc"]], marker=markers[i % len(markers)], s=70, color=f"C{(i + 1) % 10}",
                   edgecolors="black", lw=0.6, label=r["label"], zorder=5)
    for r in front:
        if r["kind"] == "ffp8":
            ax.annotate(f"W {r['weight']}\nA {r['activation']}", (r["area"], r["acc"]), textcoords="offset points",
                        xytext=(5, -14), fontsize=7, color="tab:blue")
    ax.axhline(fp32, color="gray", ls="--", lw=1, label=f"float32 ({fp32:.2f}%)")
    if summ.get("int8_area_um2"):  # a top axis in units of the INT8 MAC's area (ffp8 hwcost --int8)
        k = summ["int8_area_um2"] / 1000.0
        top = ax.secondary_xaxis("top", functions=(lambda v: v / k, lambda v: v * k))
        top.set_xlabel("area relative to the INT8 MAC (ffp8 hwcost --int8)")
    ax.set_xlabel("PE area (10³ µm², analytic model, fixed-format PE)")
    ax.set_ylabel("top-1 accuracy (%)")
    accs = [r["acc"] for r in rows]
    lo = max(min(accs), fp32 - 10.0)
    ax.set_ylim(lo - 0.5, max(max(accs), fp32) + 0.5)
    model = summ.get("model", "")
    ax.set_title(f"Accuracy versus PE area {('(' + Path(model).stem + ')') if model else ''}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    files = X.save_figure(fig, out / "accuracy_vs_area")
    print("wrote " + ", ".join(X.rel(f) for f in files))


if __name__ == "__main__":
    main()
