"""Export a trained ``model.pt`` as a compact release file (float16 tensors).

    python scripts/export_weights.py runs/default/model.pt vsdmot/weights/vsdmot-default.pt

``vsdmot.tracking.weights.load_tracker_model`` casts the tensors back to float32.
Absolute paths recorded in the config (pretrained backbone, teacher weights: needed
only to start training) are reduced to file names so no local path ships.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from vsdmot.config import fingerprint
from vsdmot.utils.io import atomic_write


def _strip_paths(value):
    if isinstance(value, dict):
        return {k: _strip_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_paths(v) for v in value]
    if isinstance(value, str) and value.startswith("/"):
        return Path(value).name
    return value


def main(src: str, dst: str) -> None:
    blob = torch.load(src, map_location="cpu", weights_only=False)
    blob["config"] = _strip_paths(blob["config"])
    blob["fingerprint"] = fingerprint(blob["config"])
    blob["model"] = {
        k: v.half() if v.is_floating_point() else v for k, v in blob["model"].items()
    }
    blob["exported_from"] = Path(src).name
    with atomic_write(dst, "wb") as f:
        torch.save(blob, f)


if __name__ == "__main__":
    main(*sys.argv[1:3])
