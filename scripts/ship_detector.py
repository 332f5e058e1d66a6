"""Copy an adapted detector into the package as the shipped ``yolo:weights=robust``.

    python scripts/ship_detector.py runs/robust-zoom/detector.pt
    python scripts/ship_detector.py runs/robust-mix/detector.pt \
        --recipe "bash scripts/adapt_detector_runs.sh WORK mix  (run robust-mix)"

The weights are unchanged; the metadata is rewritten to name no local path and to
carry provenance and licence.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vsdmot.detection.files import read_detector_file, robust_detector_path, save_detector_file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("detector", type=Path)
    ap.add_argument("--recipe", default="bash scripts/adapt_detector_runs.sh WORK main  "
                    "(run robust-zoom)", help="the command that trains it, for the model card")
    args = ap.parse_args()
    payload = read_detector_file(args.detector)
    meta = payload["meta"]
    shipped = {
        "name": "yolov3-tiny-robust",
        "teacher": "yolov3-tiny.weights (Darknet, COCO; sha256 dccea06f59b7)",
        "recipe": args.recipe,
        # A detector trained on from another (--init) names it; a path would name a folder.
        **({"init": meta["init"]} if meta.get("init_sha256") else {}),
        "training_data": "PETS09-S2L1 frames 1-600 (MOT15), degraded on the fly",
        "config": meta.get("config"),
        "train_types": meta.get("train_types"),
        "steps": meta.get("steps"),
        "licence": "weights derived from the public-domain Darknet YOLOv3-tiny; trained on "
        "MOT15 annotations (CC BY-NC-SA 3.0: research, non-commercial)",
    }
    save_detector_file(robust_detector_path(), payload["state_dict"], payload["cfg"],
                       tuple(payload["names"]), shipped)  # fmt: skip
    print(f"{robust_detector_path()} written")


if __name__ == "__main__":
    main()
