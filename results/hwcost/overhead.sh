#!/usr/bin/env bash
# Area of the run-time configurable (flexible) FFP8 PE versus fixed-format FP8 PEs, from
# synthesis (Yosys + ABC, osu018) and from the calibrated model. Prints a Markdown table.
# Usage: results/hwcost/overhead.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
ffp8="${1:-$root/build}/bin/ffp8"
run() { "$ffp8" hwcost "$@" --synth --json; }
{
  echo "fixed e4m3fn fp32|$(run --format e4m3fn --accumulator fp32)"
  echo "flexible e2..5 fp32|$(run --format e4m3fn --accumulator fp32 --flexible)"
  echo "flexible e3..4 fp32|$(run --format e4m3fn --accumulator fp32 --flexible --flex-exp-min 3 --flex-exp-max 4)"
  echo "fixed e4m3fn kulisch|$(run --format e4m3fn --accumulator kulisch)"
  echo "fixed e5m2 kulisch|$(run --format e5m2 --accumulator kulisch)"
  echo "flexible e2..5 kulisch|$(run --format e4m3fn --accumulator kulisch --flexible)"
  echo "flexible e3..4 kulisch|$(run --format e4m3fn --accumulator kulisch --flexible --flex-exp-min 3 --flex-exp-max 4)"
  echo "int8 (32-bit acc)|$(run --int8)"
} | /usr/bin/python3 -c '
import json, sys
rows = [(l.split("|", 1)[0], json.loads(l.split("|", 1)[1])) for l in sys.stdin if l.strip()]
ref = {"fp32": rows[0][1], "kulisch": rows[3][1]}
print("| design | synth um^2 | cells | model um^2 | model err | synth vs fixed e4m3fn | model vs fixed e4m3fn | synth vs int8 |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
i8 = rows[-1][1]["synthesis"]["area_um2"]
for name, j in rows:
    s, m = j["synthesis"]["area_um2"], j["area_um2"]
    acc = j.get("accumulator")
    if acc in ref:
        rs, rm = ref[acc]["synthesis"]["area_um2"], ref[acc]["area_um2"]
        vs = "%+.0f%%" % (100 * (s / rs - 1)); vm = "%+.0f%%" % (100 * (m / rm - 1))
    else:
        vs = vm = "-"
    print("| %s | %.0f | %d | %.0f | %+.1f%% | %s | %s | %.2fx |" % (name, s, j["synthesis"]["cell_count"], m,
          100 * (m / s - 1), vs, vm, s / i8))
'
