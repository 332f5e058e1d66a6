#!/usr/bin/env bash
# The robust-detector runs behind BENCHMARKS.md: the shipped recipe and its ablations,
# all on PETS09-S2L1 frames 1-600 (evaluation uses 601-795 and TUD-Stadtmitte).
# Each run is resumable: rerun the script after an interruption.
#
#   bash scripts/adapt_detector_runs.sh WORK [main|ablation|mix]
set -euo pipefail
WORK=${1:?usage: adapt_detector_runs.sh WORK [main|ablation|mix]}
WHAT=${2:-main}
V=${VSDMOT:-.venv/bin/vsdmot}
DATA=${DATA:-../shared/data/mot15/PETS09-S2L1}
run() {  # run NAME STEPS [--set ...]
  local name=$1 steps=$2
  shift 2
  $V adapt-detector "$DATA" --frames 1-600 --out "$WORK/$name" --steps "$steps" \
    --threads "${THREADS:-1}" --set checkpoint_every=25 --no-progress "$@"
}
if [ "$WHAT" = main ]; then
  run robust-zoom 500                       # (a) + (b) + (c) + (d), zoom crops
  run robust-zoom-nolabels 500 --set detection=0
  run robust 600 --set zoom=0               # the first recipe, without zoom crops
elif [ "$WHAT" = mix ]; then
  # Trains the shipped detector on with twice the share of stacked degradations (see
  # docs/detector.md, "Compound degradation"); the teacher stays the original YOLOv3-tiny.
  run robust-mix 1100 --init robust --set stack_prob=0.6 --set seed=1
else
  # Short runs (250 steps, 320 px) that differ in one term each.
  short=(--set size=320)
  run abl-full 250 "${short[@]}"
  run abl-no-detection 250 "${short[@]}" --set detection=0
  run abl-no-response 250 "${short[@]}" --set response=0
  run abl-no-features 250 "${short[@]}" --set feature_align=0 --set feature_struct=0
  run abl-constant 250 "${short[@]}" --set weighting=constant
fi
