#!/usr/bin/env bash
# Labelled degraded frames for the DSWR quality head: the generated training sequences
# degraded one type at a time (random-walk severity up to 5), gathered in one folder.
#
#   bash scripts/quality_data.sh SYNTH_DIR OUT_DIR
set -euo pipefail
SRC=${1:?usage: quality_data.sh SYNTH_DIR OUT_DIR}
OUT=${2:?usage: quality_data.sh SYNTH_DIR OUT_DIR}
V=${VSDMOT:-.venv/bin/vsdmot}
mkdir -p "$OUT/by-type"
seed=300
for ty in gaussian_noise shot_noise motion_blur defocus_blur jpeg low_light fog rain contrast \
  downscale codec mix; do
  [ -d "$OUT/by-type/$ty" ] || $V degrade "$SRC" "$OUT/by-type/$ty" --type "$ty" --severity 5 \
    --schedule random_walk --seed $seed --max-frames 50
  for seq in "$OUT/by-type/$ty"/*/; do
    name=$(basename "$seq")
    ln -sfn "../by-type/$ty/$name" "$OUT/all/$ty-$name" 2>/dev/null || {
      mkdir -p "$OUT/all" && ln -sfn "../by-type/$ty/$name" "$OUT/all/$ty-$name"
    }
  done
  seed=$((seed + 1))
done
echo "labelled frames: $OUT/all"
