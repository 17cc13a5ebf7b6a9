#!/usr/bin/python3
"""Accuracy versus PE area: sweep per-role 8-bit layouts with `ffp8 sweep`, price every
(weight layout, activation layout) pair with `ffp8 hwcost --weight W --activation A --json`,
keep the pairs on or near the metric/area frontier, measure their top-1 with `ffp8 eval`
(fit bias per layer, as FFP8 does), add the fixed formats of prior work, and write the
accuracy/area frontier.

Metric of a pair: per-tensor SQNR from the sweep (fit bias per tensor, granularity "tensor"),
averaged in dB over a role's tensors; the pair's SQNR combines the two roles as independent
relative noise powers, S = -10 log10(10^(-Sw/10) + 10^(-Sa/10)). For an unsigned activation
layout s0eXmY, layer inputs that are not never negative (per `ffp8 inspect` of the activations:
any negative value) use its signed companion s1eXm(Y-1) in both the metric and the evaluation.

Area: `area_um2` of the fixed-layout PE (the bias is a run-time offset and does not change the
analytic area); `area_um2_flexible` is the run-time configurable PE (`--flexible`) for reference.

  /usr/bin/python3 experiments/accuracy_area/run.py [--config ...] [--model resnet_small] [--limit N]
      [--out DIR] [--work DIR] [--ffp8 PATH] [--max-candidates K]

Writes frontier.md/.csv, candidates.csv, pairs.csv and summary.json into --out; the recorded
activations (`ffp8 record`), the sweep, every eval and the eval cache into --work; nothing else.
`--limit 2000 --max-candidates 10 --out results/accuracy_area` regenerates the committed frontier.
"""
import math
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import ffp8x as X  # noqa: E402

HERE = Path(__file__).resolve().parent


def layout(sign, exp, width):
    return f"s{sign}e{exp}m{width - sign - exp}"


def combine_db(a, b):
    return -10.0 * math.log10(10 ** (-a / 10.0) + 10 ** (-b / 10.0))


def pareto(points, acc_key, area_key):
    """Indices of points not dominated in (max acc, min area)."""
    out = []
    for i, p in enumerate(points):
        dom = False
        for j, q in enumerate(points):
            if j != i and q[acc_key] >= p[acc_key] and q[area_key] <= p[area_key] and \
                    (q[acc_key] > p[acc_key] or q[area_key] < p[area_key]):
                dom = True
                break
        if not dom:
            out.append(i)
    return out


def main(argv=None):
    p = X.parser(__doc__)
    p.add_argument("--config", default=str(HERE / "config.json"), help="experiment config (model, layouts, candidates)")
    p.add_argument("--model", help="model name of the bundled zoo or a .h5 file (default: the config's)")
    p.add_argument("--max-candidates", type=int, help="pairs evaluated with ffp8 eval (default: the config's)")
    p.add_argument("--acts", help="HDF5 file with /activations/<node> already recorded (skips recording)")
    X.add_run_args(p, "accuracy_area", "folder of the frontier tables",
                   "folder of the recorded activations, the sweep, the evals and the eval cache "
                   "(default: build/experiments/accuracy_area/work/<model>)")
    a = p.parse_args(argv)

    cfg = X.load_json(a.config)
    if a.model:
        cfg["model"] = a.model
    if a.limit is not None:
        cfg["limit"] = a.limit
    if a.data:
        cfg["data"] = os.path.abspath(a.data)
    if a.max_candidates is not None:
        cfg["max_candidates"] = a.max_candidates
    out = Path(a.out)
    model = X.model_path(cfg["model"])
    mname = model.stem
    work = Path(a.work) if a.work else X.BUILD / "accuracy_area" / "work" / mname
    runner = X.Runner(X.ffp8_binary(a.ffp8), threads=a.threads or None, cache=X.eval_cache(work))
    data = X.ensure_data(X.ROOT / cfg["data"] if not os.path.isabs(cfg["data"]) else cfg["data"], runner)
    reuse = not a.no_reuse
    prov = X.provenance(cfg)
    W = cfg["width"]

    # The model's conv/linear nodes: a float32 eval on one image lists them (layers of eval.json).
    ref1 = X.cached_eval(runner, {"model": str(model), "data": str(data), "limit": 1, "batch": 1,
                                "formats": {"weight": "float32", "activation": "float32"}}, work / "nodes", reuse)
    nodes = [l["node"] for l in ref1["layers"]]
    info = runner.inspect(model)
    paths = {t["path"] for t in info["tensors"]}
    if all(f"/activations/{n}" in paths for n in nodes):
        acts, acts_note = model, "model file /activations"
    elif a.acts:
        acts, acts_note = Path(a.acts).resolve(), f"recorded float32 inputs in {X.rel(a.acts)} (ffp8 record)"
    else:
        acts = work / "activations.h5"
        if not (reuse and acts.exists() and acts.stat().st_mtime >= model.stat().st_mtime):
            runner.record(model, data, cfg["record"], acts)
        acts_note = f"recorded float32 inputs of {cfg['record']} images (ffp8 record)"
    ainfo = runner.inspect(acts)
    neg = {t["path"][len("/activations/"):]: t["stats"].get("neg_frac", 0) > 0 or t["stats"].get("min", 0) < 0
           for t in ainfo["tensors"] if t["path"].startswith("/activations/")}
    signed_nodes = [n for n in nodes if neg.get(n, True)]

    # One sweep over every weight and input tensor, fit bias per tensor, hardware columns on.
    sw = {
        "description": f"accuracy_area per-tensor sweep for {mname}",
        "inputs": [{"file": str(model), "tensors": [f"/params/{n}/weight" for n in nodes], "role": "weight"},
                   {"file": str(acts), "tensors": [f"/activations/{n}" for n in nodes], "role": "activation"}],
        "space": {"width": W, "sign": [0, 1], "exp": sorted(set(cfg["weight_exp"]) | set(cfg["activation_exp"])),
                  "bias": "fit", "specials": ["none"], "subnormals": [True], "rounding": [cfg["rounding"]]},
        "granularity": ["tensor"],
        "metrics": ["mse", "sqnr_db"],
        "objectives": [{"column": "sqnr_db", "goal": "max"}, {"column": "area_um2", "goal": "min"}],
        "selection": {"strategy": "none"},
        "hardware": {"accumulator": cfg["accumulator"]},
    }
    runner.sweep(sw, work / "sweep")
    import csv
    sq = {}  # (tensor, layout) -> sqnr_db
    with open(work / "sweep" / "points.csv") as f:
        for r in csv.DictReader(f):
            sq[(r["tensor"], layout(int(r["sign"]), int(r["exp"]), W))] = float(r["sqnr_db"])

    def role_db(role, lay):
        s, e = int(lay[1]), int(lay[3:lay.index("m")])
        vals = []
        for n in nodes:
            t = f"/params/{n}/weight" if role == "weight" else f"/activations/{n}"
            use = lay
            if role == "activation" and s == 0 and n in signed_nodes:
                use = layout(1, e, W)
            v = sq.get((t, use))
            if v is None:
                return None
            vals.append(min(v, 200.0))
        return sum(vals) / len(vals)

    wl = [layout(1, e, W) for e in cfg["weight_exp"] if W - 1 - e >= 0]
    al = [layout(s, e, W) for s in cfg["activation_sign"] for e in cfg["activation_exp"] if W - s - e >= (1 if s == 0 else 0)]
    pairs = []
    for w in wl:
        for act in al:
            sw_db, sa_db = role_db("weight", w), role_db("activation", act)
            if sw_db is None or sa_db is None:
                continue
            hw = runner.hwcost(w + "b0", act + "b0", cfg["accumulator"])
            pairs.append({"weight": w, "activation": act, "sqnr_w_db": sw_db, "sqnr_a_db": sa_db,
                          "sqnr_db": combine_db(sw_db, sa_db), "area_um2": hw["area_um2"],
                          "energy_pj_per_mac": hw["energy_pj_per_mac"], "feasible": hw.get("feasible", True)})
    pairs = [q for q in pairs if q["feasible"]]
    front = set(pareto(pairs, "sqnr_db", "area_um2"))
    for i, q in enumerate(pairs):
        best = max(r["sqnr_db"] for r in pairs if r["area_um2"] <= q["area_um2"])
        q["metric_frontier"] = i in front
        q["gap_db"] = best - q["sqnr_db"]
    # Candidates: the metric frontier, spread evenly over area when it has more points than the
    # budget, then the nearest off-frontier pairs (within near_db) while budget remains.
    K = cfg["max_candidates"]
    fr_idx = sorted((i for i in range(len(pairs)) if pairs[i]["metric_frontier"]), key=lambda i: pairs[i]["area_um2"])
    if len(fr_idx) > K:
        fr_idx = [fr_idx[round(j * (len(fr_idx) - 1) / max(1, K - 1))] for j in range(K)]
        fr_idx = list(dict.fromkeys(fr_idx))
    near = sorted((i for i in range(len(pairs)) if not pairs[i]["metric_frontier"] and pairs[i]["gap_db"] <= cfg["near_db"]),
                  key=lambda i: pairs[i]["gap_db"])
    chosen = (fr_idx + near)[:K]

    base = {"model": str(model), "data": str(data), "limit": cfg["limit"], "batch": cfg["batch"], "calib": cfg["calib"],
            "fold_bn": cfg["fold_bn"], "rounding": cfg["rounding"]}
    evaluated = []
    for i in chosen:
        q = pairs[i]
        over = {}
        if q["activation"].startswith("s0"):
            comp = "fit:" + layout(1, int(q["activation"][3:q["activation"].index("m")]), W)
            over = {n: {"activation": comp} for n in signed_nodes}
        c = dict(base, formats={"weight": "fit:" + q["weight"], "activation": "fit:" + q["activation"]})
        if over:
            c["formats"]["overrides"] = over
        ej = X.cached_eval(runner, c, work / f"eval-{q['weight']}-{q['activation']}", reuse)
        try:
            flex = runner.hwcost(q["weight"] + "b0", q["activation"] + "b0", cfg["accumulator"], flexible=True)
        except RuntimeError:  # e.g. an exponent width outside the flexible PE's range: infeasible
            flex = {"area_um2": ""}
        evaluated.append(dict(q, kind="ffp8", label=f"W {q['weight']} / A {q['activation']}", top1=ej["top1"],
                              top1_fp32=ej["top1_fp32"], agreement_fp32=ej["agreement_fp32"], count=ej["count"],
                              area_um2_flexible=flex["area_um2"],
                              weights=X.layer_formats_summary(ej["layers"], "weight"),
                              activations=X.layer_formats_summary(ej["layers"], "activation")))
    for spec in cfg["fixed"]:
        ej = X.cached_eval(runner, dict(base, formats={"weight": spec, "activation": spec}), work / f"eval-{spec}", reuse)
        hw = runner.hwcost(spec, spec, cfg["accumulator"])
        label = next((l for l, s, _ in X.FIXED_FORMATS if s == spec), spec)
        evaluated.append({"kind": "fixed", "label": f"{label} ({spec})", "weight": spec, "activation": spec,
                          "sqnr_w_db": "", "sqnr_a_db": "", "sqnr_db": "", "area_um2": hw["area_um2"],
                          "energy_pj_per_mac": hw["energy_pj_per_mac"], "area_um2_flexible": "",
                          "metric_frontier": "", "gap_db": "", "top1": ej["top1"], "top1_fp32": ej["top1_fp32"],
                          "agreement_fp32": ej["agreement_fp32"], "count": ej["count"],
                          "weights": X.layer_formats_summary(ej["layers"], "weight"),
                          "activations": X.layer_formats_summary(ej["layers"], "activation")})
    int8 = runner.hwcost_int8()
    acc_front = set(pareto(evaluated, "top1", "area_um2"))
    for i, q in enumerate(evaluated):
        q["accuracy_frontier"] = i in acc_front

    # Outputs.
    cols = ["kind", "label", "weight", "activation", "sqnr_w_db", "sqnr_a_db", "sqnr_db", "metric_frontier", "gap_db",
            "area_um2", "area_um2_flexible", "energy_pj_per_mac", "top1", "top1_fp32", "agreement_fp32", "count",
            "accuracy_frontier", "weights", "activations"]

    def fmt(v):
        return f"{v:.6g}" if isinstance(v, float) else v
    X.write_atomic(out / "pairs.csv", X.csv_text(
        ["weight", "activation", "sqnr_w_db", "sqnr_a_db", "sqnr_db", "area_um2", "energy_pj_per_mac",
         "metric_frontier", "gap_db", "evaluated"],
        [[q["weight"], q["activation"], fmt(q["sqnr_w_db"]), fmt(q["sqnr_a_db"]), fmt(q["sqnr_db"]), q["area_um2"],
          fmt(q["energy_pj_per_mac"]), int(q["metric_frontier"]), fmt(q["gap_db"]), int(i in chosen)]
         for i, q in enumerate(pairs)]))
    X.write_atomic(out / "candidates.csv", X.csv_text(cols, [[fmt(q[c]) for c in cols] for q in evaluated]))
    fr = sorted([q for q in evaluated if q["accuracy_frontier"]], key=lambda q: q["area_um2"])
    X.write_atomic(out / "frontier.csv", X.csv_text(cols, [[fmt(q[c]) for c in cols] for q in fr]))
    fp32 = evaluated[0]["top1_fp32"] if evaluated else float("nan")

    def mdrow(q):
        return [q["label"], q["weights"], q["activations"], f"{q['area_um2']:.0f}",
                f"{q['area_um2'] / int8['area_um2']:.2f}", "" if q["sqnr_db"] == "" else f"{q['sqnr_db']:.1f}",
                f"{100 * q['top1']:.2f}%", f"{100 * (fp32 - q['top1']):+.2f}", "yes" if q["accuracy_frontier"] else ""]
    hdr = ["point", "weights (per layer)", "activations (per layer)", "area_um2", "× INT8 MAC", "pair SQNR (dB)",
           "top1", "loss vs fp32 (pp)", "on frontier"]
    md = [f"# Accuracy versus PE area: {mname}", "",
          f"Model `{X.rel(model)}`, data `{X.rel(data)}` ({cfg['limit'] or 'all'} images; float32 top-1 "
          f"{100 * fp32:.2f}%), {cfg['calib']} calibration images, accumulator {cfg['accumulator']}, "
          f"tech {int8.get('tech', '?')}. INT8 MAC reference area {int8['area_um2']:.0f} um^2 "
          "(`ffp8 hwcost --int8`).", "",
          "## Accuracy frontier (non-dominated in top-1 up, area down)", "", X.md_table(hdr, [mdrow(q) for q in fr]),
          "## Every evaluated point", "", X.md_table(hdr, [mdrow(q) for q in sorted(evaluated, key=lambda q: q["area_um2"])]),
          "## Method", "",
          f"- `ffp8 sweep` over the {len(nodes)} conv/linear weight tensors and layer inputs ({acts_note}): width {W}, "
          "sign 0/1, exponent widths "
          f"{sw['space']['exp']}, fit bias per tensor; a role's SQNR for a layout is the mean over its tensors (dB).",
          "- Pair SQNR = -10 log10(10^(-Sw/10) + 10^(-Sa/10)); area from `ffp8 hwcost --weight W --activation A "
          "--json` (bias does not change area). Pairs on the SQNR/area frontier or within "
          f"{cfg['near_db']} dB of it (at most {cfg['max_candidates']}) are evaluated with `ffp8 eval` "
          "(`fit:LAYOUT` for both roles, fit bias per layer).",
          f"- Unsigned activation layouts: inputs with negative values ({', '.join(signed_nodes) or 'none'}) use the "
          "signed companion layout with the same exponent width (a PE that supports both needs sign-presence "
          "configuration; see `area_um2_flexible` in candidates.csv for the fully flexible PE).",
          "- Fixed formats: both roles in that format, one PE for that format.",
          f"- All {len(pairs)} priced pairs: `pairs.csv`; evaluated points: `candidates.csv`; frontier: `frontier.csv`.",
          "", X.provenance_md(prov, {"ffp8": X.rel(runner.ffp8)}), "Commands run:", "", "```"] + runner.commands + ["```", ""]
    X.write_atomic(out / "frontier.md", "\n".join(md))
    X.write_atomic(out / "summary.json", __import__("json").dumps(
        {"provenance": prov, "config": cfg, "model": X.rel(model), "int8_area_um2": int8["area_um2"],
         "signed_inputs": signed_nodes, "points": evaluated, "commands": runner.commands}, indent=1) + "\n")
    print(f"accuracy vs area: {X.rel(out / 'frontier.md')} ({len(evaluated)} points evaluated, {len(fr)} on the frontier)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
