#!/usr/bin/python3
"""Paper reproduction table: top-1 of every bundled model under float32, the fixed 8-bit formats
of prior work, FFP8 by the paper's methodology, and FFP8 as chosen by `ffp8 sweep`.

Every number comes from `ffp8 eval` (accuracy), `ffp8 sweep` (the sweep's choices) and
`ffp8 inspect`; this script only writes configs, runs the binary and tabulates its outputs.

FFP8 by the methodology (per model):
  1. probe: `ffp8 eval` with weights fit:s1e4m3 and every activation fit:s0e4m4 (unsigned) on
     `probe_limit` images; eval.json reports per layer `activation_neg_clipped_frac` (share of
     the layer's inputs that were negative and clipped) and the calibration range
     (`activation_max_abs` vs `activation_max_positive`).
  2. a layer input is "never negative" when the probe clipped nothing and its calibration
     max|x| equals its max positive value; those keep fit:s0e4m4, the others get
     per-node overrides fit:s1e4m3 (signed, fit bias). Weights: fit:s1e4m3 per layer.
  3. `ffp8 eval` of that assignment on the full set (its eval.json re-reports the clipped
     share on every image, which the table shows).

FFP8 by the sweep: `ffp8 sweep` over every conv/linear weight tensor and every layer input
(sign 0/1, exp 2..5, width 8, fit bias, selection "ffp8_paper" by MSE); its per-tensor choices
become fixed per-node formats of an eval config.

  /usr/bin/python3 experiments/paper_table/run.py [--config experiments/paper_table/config.json]
      [--models resnet_small,...] [--limit N] [--out results/paper_table] [--ffp8 PATH]
"""
import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import ffp8x as X  # noqa: E402

HERE = Path(__file__).resolve().parent


def eval_config(cfg, model, data, weight, activation, overrides=None, limit=None):
    c = {
        "model": str(model),
        "data": str(data),
        "limit": cfg["limit"] if limit is None else limit,
        "batch": cfg["batch"],
        "calib": cfg["calib"],
        "fold_bn": cfg["fold_bn"],
        "rounding": cfg["rounding"],
        "formats": {"weight": weight, "activation": activation},
    }
    if overrides:
        c["formats"]["overrides"] = overrides
    return c


def signed_layers(probe):
    """Nodes whose input is not never-negative, from a probe eval.json run with unsigned activations."""
    out = {}
    for l in probe["layers"]:
        neg = l.get("activation_neg_clipped_frac", 0.0)
        mabs, mpos = l.get("activation_max_abs"), l.get("activation_max_positive")
        has_neg = neg > 0 or (mabs is not None and mpos is not None and mabs > mpos)
        out[l["node"]] = {"signed": has_neg, "neg_clipped_frac": neg, "max_abs": mabs, "max_positive": mpos}
    return out


def role_text(layers, key):
    return X.layer_formats_summary(layers, key)


def run_sweep_best(runner, cfg, model, data, info, layers, work, reuse):
    """`ffp8 sweep` choices per tensor -> per-node fixed formats. Returns (overrides, summary, acts file)."""
    nodes = [l["node"] for l in layers]
    tensor_paths = {t["path"] for t in info["tensors"]}
    weights = [f"/params/{n}/weight" for n in nodes]
    missing = [w for w in weights if w not in tensor_paths]
    if missing:
        raise RuntimeError(f"{model}: weight tensors {missing} not found by ffp8 inspect")
    has_acts = all(f"/activations/{n}" in tensor_paths for n in nodes)
    if has_acts:
        acts_file, acts_note = model, "model file /activations"
    else:
        acts_file = work / "activations.h5"
        if not (reuse and acts_file.exists() and acts_file.stat().st_mtime >= Path(model).stat().st_mtime):
            cmd = [X.PYTHON, str(X.ROOT / "experiments" / "lib" / "record_activations.py"), str(model), str(data),
                   "--count", str(cfg["sweep"]["record"]), "--out", str(acts_file)]
            runner.run(cmd)
        acts_note = (f"recorded float32 inputs of {cfg['sweep']['record']} images "
                     "(experiments/lib/record_activations.py; the model file has no /activations)")
    sw = {
        "description": f"paper_table sweep-best for {Path(model).stem}",
        "inputs": [
            {"file": str(model), "tensors": weights, "role": "weight"},
            {"file": str(acts_file), "tensors": [f"/activations/{n}" for n in nodes], "role": "activation"},
        ],
        "space": {"width": cfg["sweep"]["width"], "sign": [0, 1], "exp": cfg["sweep"]["exp"], "bias": "fit",
                  "specials": ["none"], "subnormals": [True], "rounding": [cfg["rounding"]]},
        "granularity": ["tensor"],
        "metrics": ["mse", "sqnr_db"],
        "objectives": [{"column": "mse", "goal": "min"}, {"column": "exp", "goal": "min"}],
        "selection": {"strategy": "ffp8_paper", "metric": cfg["sweep"]["metric"]},
    }
    summary = runner.sweep(sw, work / "sweep")
    overrides = {n: {} for n in nodes}
    for ch in summary["selection"]["per_tensor"]:
        t = ch["tensor"]
        if t.startswith("/params/") and t.endswith("/weight"):
            overrides[t[len("/params/"):-len("/weight")]]["weight"] = ch["format"]
        elif t.startswith("/activations/"):
            overrides[t[len("/activations/"):]]["activation"] = ch["format"]
    incomplete = [n for n, o in overrides.items() if set(o) != {"weight", "activation"}]
    if incomplete:
        raise RuntimeError(f"{model}: the sweep chose no format for {incomplete}")
    return overrides, summary, acts_note


def main(argv=None):
    p = argparse.ArgumentParser(description="FFP8 paper reproduction table (runs build/bin/ffp8).")
    p.add_argument("--config", default=str(HERE / "config.json"))
    p.add_argument("--models", help="comma-separated model names or .h5 files (default: the config's)")
    p.add_argument("--limit", type=int, help="images per evaluation (default: the config's; 0 = all)")
    p.add_argument("--out", default=str(X.ROOT / "results" / "paper_table"))
    p.add_argument("--work", help="folder of the per-run eval.json files (default: build/experiments/<out name>)")
    p.add_argument("--data", help="data file (default: the config's; converted from Fashion-MNIST if missing)")
    p.add_argument("--ffp8", help="ffp8 binary (default: $FFP8 or build/bin/ffp8)")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--no-sweep", action="store_true", help="skip the sweep-best row")
    p.add_argument("--no-reuse", action="store_true", help="re-run evaluations even when cached")
    a = p.parse_args(argv)

    cfg = X.load_json(a.config)
    if a.models:
        cfg["models"] = a.models.split(",")
    if a.limit is not None:
        cfg["limit"] = a.limit
    if a.data:
        cfg["data"] = os.path.abspath(a.data)
    if a.no_sweep:
        cfg["sweep"]["enabled"] = False
    out = Path(a.out)
    work = Path(a.work) if a.work else X.ROOT / "build" / "experiments" / out.name
    runner = X.Runner(X.ffp8_binary(a.ffp8), threads=a.threads or None)
    data = X.ensure_data(X.ROOT / cfg["data"] if not os.path.isabs(cfg["data"]) else cfg["data"], runner)
    reuse = not a.no_reuse
    prov = X.provenance(cfg)

    rows, layer_rows, notes, details = [], [], [], {}
    # INT8 per-tensor symmetric: run only if the engine accepts it (a one-image probe).
    int8_ok, int8_msg = False, ""
    try:
        runner.eval(eval_config(cfg, X.model_path(cfg["models"][0]), data, "int8", "int8", limit=1), work / "int8-probe")
        int8_ok = True
    except RuntimeError as e:
        int8_msg = str(e).strip().splitlines()[-1]
        int8_msg = int8_msg[int8_msg.find("format name"):][:80] if "format name" in int8_msg else int8_msg[-160:]
        notes.append("INT8 per-tensor symmetric: not measured; `ffp8 eval` does not accept \"int8\" as a format "
                     f"choice (it answered: {int8_msg}). `ffp8 hwcost --int8` prices the INT8 MAC only.")

    for name in cfg["models"]:
        model = X.model_path(name)
        mname = model.stem
        if not model.exists():
            notes.append(f"{mname}: model file {X.rel(model)} not found; skipped")
            X.log(f"skipping {mname}: {model} not found")
            continue
        X.log(f"== {mname}")
        mw = work / mname
        info = runner.inspect(model)
        d = details[mname] = {"model": X.rel(model)}

        def add(variant, ej, kind, run_dir, extra=""):
            fp = ref["top1"]
            loss = (fp - ej["top1"]) * 100.0
            rows.append({
                "model": mname, "variant": variant, "kind": kind,
                "weights": role_text(ej["layers"], "weight"), "activations": role_text(ej["layers"], "activation"),
                "top1": ej["top1"], "top1_fp32": fp, "loss_pp": loss, "agreement_fp32": ej["agreement_fp32"],
                "top5": ej["top5"], "count": ej["count"], "note": extra,
            })
            for l in ej["layers"]:
                w = l["weight"] if isinstance(l["weight"], str) else "per-channel"
                pw, pa = X.parse_format(w), X.parse_format(l["activation"])
                layer_rows.append([mname, variant, l["node"], l["op"], w, *(pw[:4] if pw else ("", "", "", "")),
                                   l["activation"], *(pa[:4] if pa else ("", "", "", "")),
                                   l.get("weight_max_abs", ""), l.get("activation_max_abs", ""),
                                   l.get("activation_max_positive", ""), l.get("activation_neg_clipped_frac", ""),
                                   l.get("activation_overflow_frac", ""), l.get("activation_underflow_frac", "")])
            d[variant] = {"top1": ej["top1"], "eval_json": X.rel(Path(run_dir) / "eval.json")}

        ref = X.cached_eval(runner, eval_config(cfg, model, data, "float32", "float32"), mw / "float32", reuse)
        add("float32", ref, "reference", mw / "float32")
        if int8_ok:
            add("INT8 per-tensor", X.cached_eval(runner, eval_config(cfg, model, data, "int8", "int8"), mw / "int8", reuse),
                "context", mw / "int8")
        for spec in cfg["fixed"]:
            label = next((l for l, s, _ in X.FIXED_FORMATS if s == spec), spec)
            ej = X.cached_eval(runner, eval_config(cfg, model, data, spec, spec), mw / slug(spec), reuse)
            add(f"{label} ({spec})", ej, "fixed", mw / slug(spec))

        f = cfg["ffp8"]
        probe = X.cached_eval(runner, eval_config(cfg, model, data, f["weight"], f["activation_unsigned"],
                                                limit=f["probe_limit"]), mw / "probe", reuse)
        sign = signed_layers(probe)
        overrides = {n: {"activation": f["activation_signed"]} for n, s in sign.items() if s["signed"]}
        d["never_negative"] = {n: not s["signed"] for n, s in sign.items()}
        d["probe"] = sign
        ej = X.cached_eval(runner, eval_config(cfg, model, data, f["weight"], f["activation_unsigned"], overrides),
                         mw / "ffp8-methodology", reuse)
        signed = [n for n, s in sign.items() if s["signed"]]
        add("FFP8 methodology", ej, "ffp8", mw / "ffp8-methodology",
            f"signed inputs: {', '.join(signed) if signed else 'none'}")
        d["FFP8 methodology"]["overrides"] = overrides

        # Variants of the methodology with other layouts (same never-negative probe, fit bias per layer).
        for v in cfg.get("ffp8_variants", []):
            vov = {n: {"activation": v["activation_signed"]} for n, s in sign.items() if s["signed"]}
            vd = mw / ("ffp8-" + slug(v["label"]))
            vj = X.cached_eval(runner, eval_config(cfg, model, data, v["weight"], v["activation_unsigned"], vov), vd, reuse)
            add(v["label"], vj, "ffp8-variant", vd, f"weights {v['weight']}, inputs {v['activation_unsigned']} / "
                f"{v['activation_signed']} (signed)")

        meth_loss = (ref["top1"] - ej["top1"]) * 100.0
        if f.get("ablate_on_miss", True) and meth_loss > cfg.get("goal_top1_loss_pp", 0.3):
            # Which role costs the accuracy: each half of the methodology's assignment alone.
            wo = X.cached_eval(runner, eval_config(cfg, model, data, f["weight"], "float32"), mw / "ffp8-weights-only", reuse)
            add("FFP8 methodology: weights only", wo, "ablation", mw / "ffp8-weights-only",
                "activations float32 (diagnostic of the miss)")
            ao = X.cached_eval(runner, eval_config(cfg, model, data, "float32", f["activation_unsigned"], overrides),
                               mw / "ffp8-activations-only", reuse)
            add("FFP8 methodology: activations only", ao, "ablation", mw / "ffp8-activations-only",
                "weights float32 (diagnostic of the miss)")

        if cfg["sweep"]["enabled"]:
            try:
                ov, summary, acts_note = run_sweep_best(runner, cfg, model, data, info, probe["layers"], mw, reuse)
                ej = X.cached_eval(runner, eval_config(cfg, model, data, f["weight"], f["activation_unsigned"], ov),
                                 mw / "ffp8-sweep", reuse)
                add("FFP8 sweep best", ej, "ffp8", mw / "ffp8-sweep",
                    f"sweep ffp8_paper/{cfg['sweep']['metric']}; activations: {acts_note}")
                d["FFP8 sweep best"]["sweep_summary"] = X.rel(mw / "sweep" / "summary.json")
                d["FFP8 sweep best"]["config_hash"] = summary.get("provenance", {}).get("config_hash")
            except RuntimeError as e:
                notes.append(f"{mname}: sweep-best row missing: {e}")
        write_outputs(out, cfg, rows, layer_rows, notes, details, prov, runner)
    write_outputs(out, cfg, rows, layer_rows, notes, details, prov, runner)
    print(f"paper table: {X.rel(out / 'table.md')} and {X.rel(out / 'table.csv')}")
    return 0


def slug(text):
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text).strip("-").lower()


def write_outputs(out, cfg, rows, layer_rows, notes, details, prov, runner):
    goal = cfg.get("goal_top1_loss_pp", 0.3)
    headers = ["model", "variant", "weights (s,e,m,b per layer)", "activations (s,e,m,b per layer)", "top1",
               "top1 loss vs fp32 (pp)", "agreement fp32", "images", "note"]
    md_rows, csv_rows = [], []
    for r in rows:
        md_rows.append([r["model"], r["variant"], r["weights"], r["activations"], f"{100 * r['top1']:.2f}%",
                        "" if r["kind"] == "reference" else f"{r['loss_pp']:+.2f}", f"{100 * r['agreement_fp32']:.2f}%",
                        r["count"], r["note"]])
        csv_rows.append([r["model"], r["variant"], r["kind"], r["weights"], r["activations"], f"{r['top1']:.6f}",
                         f"{r['top1_fp32']:.6f}", f"{r['loss_pp']:.4f}", f"{r['agreement_fp32']:.6f}",
                         f"{r['top5']:.6f}", r["count"], r["note"]])
    verdict = []
    for r in rows:
        if r["variant"] == "FFP8 methodology":
            ok = r["loss_pp"] <= goal
            line = (f"- {r['model']}: top-1 {100 * r['top1']:.2f}% vs float32 {100 * r['top1_fp32']:.2f}%, "
                    f"loss {r['loss_pp']:+.2f} pp on {r['count']} images: {'meets' if ok else 'MISSES'} the {goal} pp goal")
            # Paired standard error of the top-1 difference: sqrt(disagreeing images) / N, an upper bound.
            se = 100.0 * ((1.0 - r["agreement_fp32"]) * r["count"]) ** 0.5 / max(1, r["count"])
            line += f" (±{se:.2f} pp: square root of the {round((1 - r['agreement_fp32']) * r['count'])} images whose class changed, / N)"
            abl = {x["variant"]: x for x in rows if x["model"] == r["model"] and x["kind"] == "ablation"}
            if abl:
                line += "; " + ", ".join(f"{k.split(': ')[1]}: {v['loss_pp']:+.2f} pp" for k, v in abl.items())
            for x in rows:
                if x["model"] == r["model"] and x["kind"] == "ffp8-variant":
                    line += f"; {x['variant']}: {x['loss_pp']:+.2f} pp"
            sw = [x for x in rows if x["model"] == r["model"] and x["variant"] == "FFP8 sweep best"]
            if sw:
                line += f"; FFP8 sweep best: {sw[0]['loss_pp']:+.2f} pp"
            verdict.append(line)
    md = ["# FFP8 paper reproduction: top-1 under 8-bit formats", "",
          f"Data: `{X.rel(cfg['data']) if os.path.isabs(cfg['data']) else cfg['data']}` ({'all' if not cfg['limit'] else cfg['limit']} images), batch {cfg['batch']}, "
          f"{cfg['calib']} calibration images for fit biases, rounding {cfg['rounding']}, "
          f"fold_bn {str(cfg['fold_bn']).lower()} (BatchNorm stays float32; only conv2d/linear weights and inputs "
          "are quantized). Loss is float32 top-1 minus quantized top-1 in percentage points (positive = worse).",
          "", "Formats are written `sSeEmMbB` (sign bit, exponent bits, mantissa bits, bias); a range `b5..9` means "
          "the fit bias differs per layer; `×N` counts layers. Per-layer formats: `layers.csv`.", "",
          X.md_table(headers, md_rows), "## Paper goal (FFP8 by the methodology within "
          f"{goal} pp of float32)", "", "\n".join(verdict) or "- no FFP8 rows", "",
          "## Method", "",
          "- Fixed formats: every conv2d/linear weight and input in the same format (`formats.weight` = "
          "`formats.activation` = the spec).",
          f"- FFP8 methodology: weights `{cfg['ffp8']['weight']}` (fit bias per layer); layer inputs "
          f"`{cfg['ffp8']['activation_unsigned']}` where never negative, `{cfg['ffp8']['activation_signed']}` "
          "otherwise. Never-negative inputs are found from the engine: a probe `ffp8 eval` with every input "
          f"unsigned on {cfg['ffp8']['probe_limit']} images reports per layer the share of negative (clipped) "
          "inputs and the calibration max|x| vs max x; a layer with no clipped value and max|x| = max x stays "
          "unsigned, the others get a per-node override (`details.json`: `never_negative`, `probe`).",
          "- FFP8 sweep best: `ffp8 sweep` over each layer's weight tensor and input tensor (sign 0/1, exp "
          f"{cfg['sweep']['exp']}, width {cfg['sweep']['width']}, fit bias, selection `ffp8_paper` by "
          f"{cfg['sweep']['metric']}); the per-tensor choices become fixed per-node formats.",
          "- Methodology variants (`ffp8_variants` in the config): the same procedure with other layouts.",
          "- When the methodology misses the goal, two diagnostic rows quantize only its weights or only its "
          "layer inputs (the other role float32), to show which role costs the accuracy.", ""]
    if notes:
        md += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    md += [X.provenance_md(prov, {"ffp8": X.rel(runner.ffp8)}), "Commands run (in order):", "", "```"]
    md += runner.commands + ["```", ""]
    X.write_atomic(out / "table.md", "\n".join(md))
    X.write_atomic(out / "table.csv", X.csv_text(
        ["model", "variant", "kind", "weights", "activations", "top1", "top1_fp32", "top1_loss_pp",
         "agreement_fp32", "top5", "images", "note"], csv_rows))
    X.write_atomic(out / "layers.csv", X.csv_text(
        ["model", "variant", "node", "op", "weight_format", "w_sign", "w_exp", "w_man", "w_bias", "activation_format",
         "a_sign", "a_exp", "a_man", "a_bias", "weight_max_abs", "activation_max_abs", "activation_max_positive",
         "activation_neg_clipped_frac", "activation_overflow_frac", "activation_underflow_frac"], layer_rows))
    X.write_atomic(out / "details.json", json.dumps({"provenance": prov, "config": cfg, "notes": notes,
                                                     "models": details, "commands": runner.commands}, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
