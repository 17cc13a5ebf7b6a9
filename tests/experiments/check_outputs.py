#!/usr/bin/python3
"""check_outputs.py OUT MODEL LIMIT: the quickstart outputs under OUT exist and parse, and the
numbers in them are sane (top-1 in [0, 1], counts equal to LIMIT, the expected rows present)."""
import csv
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

out, model, limit = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)


def rows(path):
    check(path.is_file(), f"{path} is missing")
    if not path.is_file():
        return []
    r = list(csv.DictReader(open(path)))
    check(len(r) > 0, f"{path} has no data rows")
    return r


# Paper table.
t = rows(out / "paper_table" / "table.csv")
variants = {r["variant"] for r in t}
for want in ("float32", "INT8 per-tensor", "FFP8 methodology", "FFP8 sweep best", "OCP E4M3 (e4m3fn)", "OCP E5M2 (e5m2)",
             "FP8 (1,5,2) IEEE bias (s1e5m2b15)", "FP8 (1,4,3) bias 7 (s1e4m3b7)", "E3M4 (e3m4)"):
    check(want in variants, f"table.csv lacks the row '{want}' (has {sorted(variants)})")
for r in t:
    check(r["model"] == model, f"table.csv row for unexpected model {r['model']}")
    check(0.0 <= float(r["top1"]) <= 1.0, f"table.csv top1 out of range: {r}")
    check(int(r["images"]) == limit, f"table.csv images {r['images']} != {limit}")
    check(abs(float(r["top1_fp32"]) - float(r["top1"]) - float(r["top1_loss_pp"]) / 100) < 1e-6, f"loss mismatch: {r}")
fp = [r for r in t if r["variant"] == "float32"]
check(len(fp) == 1 and float(fp[0]["top1"]) > 0.5, "float32 top-1 of a trained model should exceed 50%")
md = (out / "paper_table" / "table.md")
check(md.is_file() and "git_commit" in md.read_text() and "config_hash" in md.read_text(),
      "table.md lacks its provenance block")
layers = rows(out / "paper_table" / "layers.csv")
check(any(r["variant"] == "FFP8 methodology" and r["w_sign"] == "1" for r in layers), "layers.csv lacks FFP8 weights")
check(any(r["variant"] == "FFP8 methodology" and r["a_sign"] == "0" for r in layers),
      "no unsigned activation layer in the FFP8 methodology rows")
d = json.load(open(out / "paper_table" / "details.json"))
check(model in d["models"] and "never_negative" in d["models"][model], "details.json lacks never_negative")

# Accuracy versus area.
c = rows(out / "accuracy_area" / "candidates.csv")
check(any(r["kind"] == "ffp8" for r in c) and any(r["kind"] == "fixed" for r in c), "candidates.csv lacks a kind")
for r in c:
    check(float(r["area_um2"]) > 0, f"candidates.csv area not positive: {r}")
    check(0.0 <= float(r["top1"]) <= 1.0, f"candidates.csv top1 out of range: {r}")
f = rows(out / "accuracy_area" / "frontier.csv")
check(all(r["accuracy_frontier"] == "True" for r in f), "frontier.csv holds a point off the frontier")
rows(out / "accuracy_area" / "pairs.csv")
check((out / "accuracy_area" / "frontier.md").is_file(), "frontier.md is missing")

# Plots: PNG signature and SVG that parses.
for name in ("accuracy_vs_area", "max_magnitude_weights_vs_activations", f"histograms_{model}", "sqnr_heatmap"):
    png, svg = out / "plots" / f"{name}.png", out / "plots" / f"{name}.svg"
    check(png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{png} missing or not a PNG")
    try:
        ET.parse(svg)
    except (OSError, ET.ParseError) as e:
        errors.append(f"{svg}: {e}")

if errors:
    print("\n".join("FAIL: " + e for e in errors))
    sys.exit(1)
print(f"ok: quickstart outputs under {out} exist and parse")
