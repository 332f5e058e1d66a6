#!/usr/bin/env bash
# CUDA check of vsdmot (see cuda_check.py). On the GPU machine, from the repo root:
#   bash benchmarks/gpu/run.sh                 # writes $OUT/cuda_check.json and $OUT/log.txt
# CPU dry run here:
#   PY=.venv/bin/python OUT=/tmp/cc_out bash benchmarks/gpu/run.sh --smoke --budget 900 ...
# Missing pure-python packages (omegaconf) travel as wheels in .whl/ (carry=[".whl"]).
set -o pipefail
OUT=${OUT:-/tmp/cuda_check_out}
PY=${PY:-python3}
mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
{
  nvidia-smi 2>&1 | head -20
  df -h /dev/shm 2>&1
  "$PY" benchmarks/gpu/cuda_check.py all --out "$OUT" "$@"
} 2>&1 | tee "$OUT/log.txt"
