#!/usr/bin/env bash
# run_pipeline.sh FFP8 WORKDIR: the quickstart on 200 images into WORKDIR, then check_outputs.py.
set -euo pipefail
FFP8=$1
WORK=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
MODEL=${EXPERIMENTS_TEST_MODEL:-resnet_small}
if [ ! -f "$ROOT/experiments/models/$MODEL.h5" ]; then
  echo "skip: experiments/models/$MODEL.h5 is not there"; exit 77
fi
if ! $PY -c "import h5py, numpy, matplotlib, torch" 2>/dev/null; then
  echo "skip: /usr/bin/python3 lacks h5py, numpy, matplotlib or torch"; exit 77
fi
rm -rf "$WORK"
mkdir -p "$WORK"
# A small data file of its own (the first 300 test images), so the test does not depend on build/data.
$PY "$ROOT/tools/convert_data.py" fashion-mnist --split test --limit 300 --out "$WORK/data.h5" >/dev/null
FFP8=$FFP8 QUICKSTART_CONFIGS=$(cd "$(dirname "$0")" && pwd) FFP8_EVAL_CACHE=$WORK/eval-cache QUICKSTART_MODEL=$MODEL QUICKSTART_LIMIT=200 QUICKSTART_OUT=$WORK/out QUICKSTART_WORK=$WORK/work \
  QUICKSTART_DATA=$WORK/data.h5 bash "$ROOT/experiments/quickstart/run.sh"
$PY "$(dirname "$0")/check_outputs.py" "$WORK/out" "$MODEL" 200
