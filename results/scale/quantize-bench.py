#!/usr/bin/python3
"""ffp8 quantize of 2^24 float32 values (e4m3fn, 1 thread) with and without --compress, against an
uncompressed h5py read plus write of the same dataset, 3 interleaved rounds, in one run:
    /usr/bin/python3 results/scale/quantize-bench.py build/bin/ffp8   (scratch files in /tmp/speed-q)
Prints JSON: h5py seconds, and (wall seconds, ffp8's --json seconds) per ffp8 run."""
import h5py, numpy as np, time, subprocess, json, sys, os
ffp8 = sys.argv[1]
d = "/tmp/speed-q"
os.makedirs(d, exist_ok=True)
x = np.random.default_rng(0).standard_normal(1 << 24).astype(np.float32)
with h5py.File(f"{d}/in.h5", "w") as f:
    f.create_dataset("x", data=x)
def h5py_rw():
    if os.path.exists(f"{d}/copy.h5"): os.remove(f"{d}/copy.h5")
    t = time.perf_counter()
    with h5py.File(f"{d}/in.h5", "r") as f:
        y = f["x"][()]
    with h5py.File(f"{d}/copy.h5", "w") as f:
        f.create_dataset("x", data=y)
    return time.perf_counter() - t
def q(extra):
    if os.path.exists(f"{d}/out.h5"): os.remove(f"{d}/out.h5")
    t = time.perf_counter()
    out = subprocess.run([ffp8, "quantize", "--format", "e4m3fn", "--json", "--threads", "1"] + extra + [f"{d}/in.h5:/x", f"{d}/out.h5:/q"], capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - t, json.loads(out)
res = {"h5py": [], "plain": [], "compress": []}
for _ in range(3):
    res["h5py"].append(h5py_rw())
    w, j = q([]); res["plain"].append((w, j["seconds"]))
    w, j = q(["--compress"]); res["compress"].append((w, j["seconds"]))
print(json.dumps(res, indent=1))
