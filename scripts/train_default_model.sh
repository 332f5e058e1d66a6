#!/usr/bin/env bash
# The shipped model's recipe (docs/model-card.md): VSD-MOT trained on the proposals of
# the detector it runs with (YOLOv3-tiny), clean and degraded, on 2 CPU cores.
#
#   bash scripts/train_default_model.sh WORK_DIR [MOT15_DIR] [MOBILENET_WEIGHTS]
#
# WORK_DIR receives the data and runs/; resume by running the same command again.
set -euo pipefail
WORK=${1:?usage: train_default_model.sh WORK_DIR [MOT15_DIR] [MOBILENET_WEIGHTS]}
MOT15=${2:-../shared/data/mot15}
MOBILENET=${3:-../shared/weights/mobilenet_v2_imagenet_features.pt}
V=${VSDMOT:-.venv/bin/vsdmot}
D=$WORK/data
mkdir -p "$D"

# Generated pedestrian-like sequences and a degraded copy (detections simulated:
# YOLOv3-tiny finds few of the generated figures, so these keep their simulated detector).
[ -d "$D/synth-train" ] || $V synth "$D/synth-train" --sequences 8 --frames 100 --seed 100
[ -d "$D/synth-train-lq" ] || $V degrade "$D/synth-train" "$D/synth-train-lq" \
  --type mix --severity 4 --schedule random_walk --seed 101

# PETS09-S2L1 (frames 1-500 train, 501-600 validation, 601-795 test), clean and four
# degraded copies; YOLOv3-tiny runs on each copy's own (degraded) pixels.
# The clean copy is written the same way at severity 0 (frames 1-600, JPEG storage), so
# clean and degraded copies pair frame by frame for the teacher.
[ -d "$D/pets-clean" ] || $V degrade "$MOT15/PETS09-S2L1" "$D/pets-clean" --type jpeg \
  --severity 0 --max-frames 600
seed=102
for ty in mix low_light gaussian_noise motion_blur; do
  [ -d "$D/pets-$ty" ] || $V degrade "$MOT15/PETS09-S2L1" "$D/pets-$ty" --type "$ty" \
    --severity 4 --schedule random_walk --seed $seed --max-frames 600
  seed=$((seed + 1))
done
for folder in pets-clean pets-mix pets-low_light pets-gaussian_noise pets-motion_blur; do
  [ -f "$D/$folder/PETS09-S2L1/det/det_original.txt" ] || $V detect "$D/$folder" -p yolo
done

$V train --config tiny-cpu --out "$WORK/runs/default" \
  "data.train=[$D/synth-train,$D/synth-train-lq,$D/pets-clean,$D/pets-mix,$D/pets-low_light,$D/pets-gaussian_noise,$D/pets-motion_blur]" \
  "data.train_frames.PETS09-S2L1=[1,500]" \
  "data.clean_pairs=[{degraded: $D/synth-train-lq, clean: $D/synth-train},{degraded: $D/pets-mix, clean: $D/pets-clean},{degraded: $D/pets-low_light, clean: $D/pets-clean},{degraded: $D/pets-gaussian_noise, clean: $D/pets-clean},{degraded: $D/pets-motion_blur, clean: $D/pets-clean}]" \
  data.proposals.score_threshold=0.1 \
  model.backbone_weights="$MOBILENET" \
  train.steps=1100 optim.lr=1e-3 optim.grad_clip=1.0 \
  model.embed_dim=64 model.object_distill=both \
  data.clip_length=4 data.max_interval=2 "data.augment.scales=[256,288,320]" \
  data.augment.max_size=512 data.input_size=288 data.max_size=512 \
  semantic.semantics=student semantic.dswr=on semantic.distill=both \
  semantic.teacher.kind=mobilenet_v2 semantic.teacher.weights="$MOBILENET"
echo "trained: $WORK/runs/default/model.pt"

# The DSWR quality head is detached from the tracking loss, so it is refitted on more
# varied degradations (one type per copy of the generated sequences, severity up to 5).
bash scripts/quality_data.sh "$D/synth-train" "$WORK/qdata"
[ -f "$WORK/quality_head.pt" ] || .venv/bin/python benchmarks/bench_quality.py \
  --train "$WORK/qdata/all" --train-stride 1 --steps 1500 --save-head "$WORK/quality_head.pt"

# Validation data for the runtime settings (never trained on): generated sequences, clean
# and degraded, beside PETS09-S2L1 frames 501-600 of the copies above.
[ -d "$D/synth-val" ] || $V synth "$D/synth-val" --sequences 3 --frames 100 --seed 900
[ -d "$D/synth-val-mix" ] || $V degrade "$D/synth-val" "$D/synth-val-mix" --type mix \
  --severity 3 --schedule random_walk --seed 901
[ -d "$D/synth-val-noise" ] || $V degrade "$D/synth-val" "$D/synth-val-noise" \
  --type gaussian_noise --severity 3 --schedule constant --seed 902

# Runtime settings chosen on that validation data (with benchmarks/select_thresholds.py,
# since replaced by `vsdmot tune`; BENCHMARKS-HISTORY.md), recorded with the weights.
.venv/bin/python scripts/export_weights.py "$WORK/runs/default/model.pt" \
  vsdmot/weights/vsdmot-default.pt --quality-head "$WORK/quality_head.pt" \
  --runtime birth_thresh=0.2 --runtime keep_thresh=0.4 --runtime anchor_iou=0.2 \
  --runtime proposal_min_score=0.1 --runtime input_short_side=288 \
  --runtime input_max_side=512 --runtime association=fused --runtime motion=kalman \
  --runtime high_thresh=0.3 --runtime match_iou=0.2 --runtime query_keep=0.8 \
  --runtime dedup_iou=0.4 --runtime miss_tolerance=10 --runtime appearance_weight=0.3 \
  --runtime appearance_dswr=off

# Later changes to the shipped file, each measured in BENCHMARKS.md: the version-2 quality
# head fitted on real frames (benchmarks/reproduce.py quality_real, then
# scripts/install_quality_head.py), semantic fusion off (section semantic_fusion), and the
# association settings chosen leave-one-scene-out among candidates on the default
# detector's proposals (section default_robust): BoT-SORT's core with the model's
# objectness blended into the detector's scores and the distilled crop embedder.
.venv/bin/python scripts/export_weights.py vsdmot/weights/vsdmot-default.pt \
  vsdmot/weights/vsdmot-default.pt --runtime semantic_fusion=off \
  --runtime association=botsort --runtime birth_thresh=0.4 --runtime high_thresh=0.4 \
  --runtime min_hits=2 --runtime miss_tolerance=30 --runtime query_keep=0.99 \
  --runtime appearance_weight=0.19 --runtime appearance_embedder=reid --runtime rescore=0.3
