#!/bin/sh
# Writes the small example tensors the configs in this folder read (configs/data/w.h5 and
# configs/data/a.h5): seeded pseudo-random weights (signed, conv/fc shapes) and activations
# (post-ReLU, never negative, with outliers; plus a signed network input). Needs python3 and
# h5import (Debian package hdf5-tools); no binary files are committed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/data"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# gen NAME COUNT KIND SEED: KIND is weight (normal), relu (rectified, heavy tail) or input.
gen() {
  python3 - "$tmp/$1.txt" "$2" "$3" "$4" <<'PY'
import random, sys
path, n, kind, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rng = random.Random(seed)
vals = []
for i in range(n):
    if kind == "weight":
        v = rng.gauss(0.0, 0.05)
    elif kind == "relu":
        v = max(0.0, rng.gauss(0.2, 1.0)) * (8.0 if rng.random() < 0.002 else 1.0)
    else:
        v = rng.gauss(0.0, 1.0)
    vals.append("%.9g" % v)
open(path, "w").write(" ".join(vals) + "\n")
PY
}

# conf NAME PATH DIMS...
conf() {
  name=$1; path=$2; shift 2
  {
    echo "PATH $path"
    echo "INPUT-CLASS TEXTFP"
    echo "RANK $#"
    echo "DIMENSION-SIZES $*"
    echo "OUTPUT-CLASS FP"
    echo "OUTPUT-SIZE 32"
    echo "OUTPUT-ARCHITECTURE IEEE"
    echo "OUTPUT-BYTE-ORDER LE"
  } > "$tmp/$name.conf"
}

gen conv1 432 weight 1;  conf conv1 /weights/conv1 16 27
gen conv2 4608 weight 2; conf conv2 /weights/conv2 32 144
gen fc 1280 weight 3;    conf fc /weights/fc 10 128
gen input 3072 input 4;  conf input /activations/input 3 32 32
gen act1 8192 relu 5;    conf act1 /activations/relu1 16 512
gen act2 4096 relu 6;    conf act2 /activations/relu2 32 128

rm -f "$out/w.h5" "$out/a.h5"
h5import "$tmp/conv1.txt" -c "$tmp/conv1.conf" "$tmp/conv2.txt" -c "$tmp/conv2.conf" \
         "$tmp/fc.txt" -c "$tmp/fc.conf" -o "$out/w.h5"
h5import "$tmp/input.txt" -c "$tmp/input.conf" "$tmp/act1.txt" -c "$tmp/act1.conf" \
         "$tmp/act2.txt" -c "$tmp/act2.conf" -o "$out/a.h5"
echo "wrote $out/w.h5 and $out/a.h5"
