#!/usr/bin/env bash
# The quickstart job (called by scripts/quickstart after set-up and build): a small version of the
# paper experiments on the default bundled model, written to results/quickstart/:
#   paper_table/    top-1 under float32, fixed 8-bit formats of prior work, FFP8 by the paper's
#                   methodology and FFP8 chosen by `ffp8 sweep` (table.md, table.csv, layers.csv)
#   accuracy_area/  accuracy versus PE area frontier (frontier.md/.csv, candidates.csv, pairs.csv)
#   plots/          accuracy_vs_area, max_magnitude_weights_vs_activations, histograms_<model>,
#                   sqnr_heatmap (PNG and SVG)
# Every number comes from build/bin/ffp8. About 1-3 minutes on 2 cores.
#
# Environment (all optional): FFP8 (binary, default build/bin/ffp8), QUICKSTART_MODEL (default
# resnet_small), QUICKSTART_LIMIT (images per evaluation, default 2000), QUICKSTART_OUT (default
# results/quickstart), QUICKSTART_WORK (intermediate files, default build/experiments/quickstart),
# QUICKSTART_DATA (data file, default build/data/fashion-mnist-test.h5, converted if missing),
# QUICKSTART_CONFIGS (folder with paper_table.json and accuracy_area.json, default this folder),
# FFP8_EVAL_CACHE (the evaluations' cache, default QUICKSTART_WORK/eval-cache).
# It writes only into QUICKSTART_OUT and QUICKSTART_WORK (and converts a missing data file).
set -euo pipefail
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 0
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
PY=/usr/bin/python3
export FFP8=${FFP8:-$ROOT/build/bin/ffp8}
MODEL=${QUICKSTART_MODEL:-resnet_small}
LIMIT=${QUICKSTART_LIMIT:-2000}
OUT=${QUICKSTART_OUT:-$ROOT/results/quickstart}
WORK=${QUICKSTART_WORK:-$ROOT/build/experiments/quickstart}
DATA=${QUICKSTART_DATA:-$ROOT/build/data/fashion-mnist-test.h5}
HERE=${QUICKSTART_CONFIGS:-$ROOT/experiments/quickstart}
start=$(date +%s)

if [ ! -x "$FFP8" ]; then
  echo "quickstart: $FFP8 not found; build first (scripts/setup) or set FFP8=/path/to/ffp8" >&2
  exit 1
fi
case "$MODEL" in
  *.h5) MODEL_FILE=$MODEL ;;
  *) MODEL_FILE=$ROOT/experiments/models/$MODEL.h5 ;;
esac
if [ ! -f "$MODEL_FILE" ]; then
  echo "quickstart: model file $MODEL_FILE not found (the bundled zoo is experiments/models/*.h5)" >&2
  exit 1
fi
MNAME=$(basename "$MODEL_FILE" .h5)
if [ ! -f "$DATA" ]; then
  echo "quickstart: converting the Fashion-MNIST test set into $DATA"
  mkdir -p "$(dirname "$DATA")"
  $PY tools/convert_data.py fashion-mnist --split test --out "$DATA"
fi
mkdir -p "$OUT" "$WORK"
export FFP8_EVAL_CACHE=${FFP8_EVAL_CACHE:-$WORK/eval-cache}  # shared by the paper table and the frontier

echo "quickstart: [1/4] paper table on $MNAME ($LIMIT images per run)"
$PY experiments/paper_table/run.py --config "$HERE/paper_table.json" --models "$MODEL_FILE" --limit "$LIMIT" \
  --data "$DATA" --out "$OUT/paper_table" --work "$WORK/paper_table"

# Float32 layer inputs of 256 images for the accuracy-area sweep and the plots, recorded by the
# engine (the paper table's sweep reads the model itself; these scripts read an /activations file).
ACTS=$WORK/$MNAME-activations.h5
if [ ! -f "$ACTS" ] || [ "$MODEL_FILE" -nt "$ACTS" ] || [ "$FFP8" -nt "$ACTS" ]; then
  "$FFP8" record "$MODEL_FILE" "$DATA" --count 256 --out "$ACTS" --quiet
fi

echo "quickstart: [2/4] accuracy versus area"
$PY experiments/accuracy_area/run.py --config "$HERE/accuracy_area.json" --model "$MODEL_FILE" --limit "$LIMIT" \
  --data "$DATA" --acts "$ACTS" --out "$OUT/accuracy_area" --work "$WORK/accuracy_area"

echo "quickstart: [3/4] SQNR sweep over exponent width and bias"
$PY experiments/plots/sqnr_heatmap.py --model "$MODEL_FILE" --acts "$ACTS" --out "$OUT/plots" --work "$WORK/sqnr_heatmap"

echo "quickstart: [4/4] plots"
$PY experiments/plots/plot_accuracy_area.py --in "$OUT/accuracy_area" --out "$OUT/plots"
$PY experiments/plots/plot_magnitudes.py --table "$OUT/paper_table" --out "$OUT/plots"
$PY experiments/plots/plot_histograms.py --model "$MODEL_FILE" --acts "$ACTS" --table "$OUT/paper_table" --out "$OUT/plots"

secs=$(( $(date +%s) - start ))
rel() { realpath --relative-to="$ROOT" "$1" 2>/dev/null || echo "$1"; }
cat <<EOF

quickstart: done in ${secs} s. Results in $(rel "$OUT")/:
  $(rel "$OUT/paper_table/table.md")        top-1: float32, fixed FP8 formats, FFP8 (methodology, sweep)
  $(rel "$OUT/accuracy_area/frontier.md")   accuracy versus PE area frontier
  $(rel "$OUT/plots")/                      accuracy_vs_area, max_magnitude_weights_vs_activations,
                                            histograms_$MNAME, sqnr_heatmap (.png and .svg)
EOF
$PY - "$OUT/paper_table/table.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"\n  {'model / variant':<56} {'top1':>7}  loss vs fp32 (pp)")
for r in rows:
    loss = "" if r["kind"] == "reference" else f"{float(r['top1_loss_pp']):+.2f}"
    print(f"  {r['model'] + ' / ' + r['variant']:<56} {100 * float(r['top1']):6.2f}%  {loss}")
PY
