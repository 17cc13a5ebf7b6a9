#!/usr/bin/env bash
# Per-unit costs of sweeps and evaluations on this machine, in CPU seconds of one thread
# (`--threads 1`, user time: robust to other load on a shared machine), for docs/scaling.md:
#   stats pass per element, stats-path scoring per (group, format) for tensor and channel groups,
#   channel-group overhead, direct path per (element, format), the activations of a ResNet-50
#   (224x224) per calibration image (one forward pass with every activation's statistics, the
#   pass units' cost), and an eval candidate per image.
# Inputs are made in a temp folder: seeded normal tensors (8 x 1024 x 16384) and a randomly
# initialised torchvision ResNet-50 (tools/export.py: never downloads weights) with random images.
#   experiments/scaling/measure.sh [build/bin/ffp8]     (about 3 minutes; needs /usr/bin/python3 with torch)
set -euo pipefail
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 0
fi
cd "$(dirname "$0")/../.."
FFP8=$(realpath "${1:-build/bin/ffp8}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3

"$PY" - "$T" <<'PY'
import sys, h5py, numpy as np
t = sys.argv[1]
r = np.random.default_rng(1)
with h5py.File(f"{t}/big8.h5", "w") as f:
    for i in range(8):
        f.create_dataset(f"/weights/w{i}", data=(0.05 * (i + 1) * r.standard_normal((1024, 16384))).astype(np.float32))
with h5py.File(f"{t}/img.h5", "w") as f:
    f.create_dataset("images", data=r.standard_normal((16, 3, 224, 224), dtype=np.float32)).attrs["role"] = "image"
    f.create_dataset("labels", data=r.integers(0, 1000, 16).astype(np.int64)).attrs["role"] = "label"
PY
"$PY" tools/export.py torchvision:resnet50 --out "$T/resnet50.h5" >/dev/null

# cpu NAME CONFIG...: user CPU seconds of one `ffp8 sweep` (or eval) with one thread.
cpu() {
  local cmd=$1 cfg=$2
  /usr/bin/time -f "%U" -o "$T/time" "$FFP8" "$cmd" "$cfg" --out "$T/out-$(basename "$cfg" .json)" --threads 1 -q >/dev/null
  cat "$T/time"
}
IN='"inputs": [{"file": "big8.h5", "tensors": ["/weights/*"], "role": "weight"}], "metrics": ["mse", "sqnr_db"], "selection": {"strategy": "none"}'
ALL='"width": 8, "sign": [0, 1], "exp": [1, 2, 3, 4, 5, 6, 7]'
echo "{$IN, \"space\": {\"width\": 8, \"sign\": 1, \"exp\": 4, \"bias\": \"fit\"}}" >"$T/one.json"
echo "{$IN, \"space\": {$ALL, \"bias\": {\"min\": -20, \"max\": 40}}}" >"$T/many.json"
echo "{$IN, \"space\": {\"width\": 8, \"sign\": 1, \"exp\": 4, \"bias\": \"fit\"}, \"granularity\": \"channel\"}" >"$T/chan1.json"
echo "{$IN, \"space\": {$ALL, \"bias\": \"fit\"}, \"granularity\": \"channel\"}" >"$T/chan.json"
echo "{$IN, \"space\": {\"width\": 8, \"sign\": 1, \"exp\": [2, 3, 4, 5], \"bias\": \"fit\"}, \"direct_only\": true}" >"$T/direct.json"
cat >"$T/act.json" <<'J'
{"inputs": [{"model": "resnet50.h5", "data": "img.h5", "calib": 16, "batch": 4, "weights": false}],
 "space": {"width": 8, "sign": [0, 1], "exp": [2, 3, 4, 5], "bias": "fit"}, "selection": {"strategy": "none"}}
J
cat >"$T/eval.json" <<'J'
{"model": "resnet50.h5", "data": "img.h5", "limit": 16, "batch": 8, "calib": 0,
 "formats": {"weight": "e4m3fn", "activation": "e4m3fn"}}
J
sed 's/"e4m3fn"/"float32"/g' "$T/eval.json" >"$T/eval32.json"   # all float32: eval runs one engine
one=$(cpu sweep "$T/one.json"); many=$(cpu sweep "$T/many.json"); chan1=$(cpu sweep "$T/chan1.json")
chan=$(cpu sweep "$T/chan.json"); direct=$(cpu sweep "$T/direct.json"); act=$(cpu sweep "$T/act.json")
ev=$(cpu eval "$T/eval.json"); ev32=$(cpu eval "$T/eval32.json")
"$PY" - "$one" "$many" "$chan1" "$chan" "$direct" "$act" "$ev" "$ev32" <<'PY'
import sys
one, many, chan1, chan, direct, act, ev, ev32 = map(float, sys.argv[1:])
n = 8 * 1024 * 16384                      # elements of big8.h5
print(f"uptime: {open('/proc/loadavg').read().split()[0]} load; CPU seconds of one thread:")
print(f"  one format, 8 tensors:            {one:.2f} s  -> stats pass {one / n * 1e9:.2f} ns/element")
print(f"  854 formats x 8 tensor groups:    {many:.2f} s  -> {(many - one) / (8 * 853) * 1e6:.1f} us per (tensor group, format)")
print(f"  8192 channel groups, one format:  {chan1:.2f} s  -> {(chan1 - one) / 8192 * 1e6:.0f} us per channel group (16384 elements)")
print(f"  8192 channel groups x 14 formats: {chan:.2f} s  -> {(chan - chan1) / (8192 * 13) * 1e6:.1f} us per (channel group, format)")
print(f"  direct path, 4 formats:           {direct:.2f} s  -> {(direct - one) / (4 * n) * 1e9:.2f} ns per (element, format)")
print(f"  ResNet-50 activations, calib 16:  {act:.2f} s  -> {act / 16:.3f} s per image (forward + 54 activations' statistics)")
print(f"  ResNet-50 eval e4m3fn, 16 images: {ev:.2f} s  -> {ev / 16:.3f} s per image (quantized + float32 engines)")
print(f"  ResNet-50 eval float32, 16 images: {ev32:.2f} s  -> {ev32 / 16:.3f} s per image forward (one float32 engine)")
PY
