"""Export a trained ``model.pt`` as a compact release file (float16 tensors).

    python scripts/export_weights.py runs/default/model.pt vsdmot/weights/vsdmot-default.pt \\
        [--runtime birth_thresh=0.3 --runtime keep_thresh=0.4 ...]

``vsdmot.tracking.weights.load_tracker_model`` casts the tensors back to float32.
Absolute paths recorded in the config (pretrained backbone, teacher weights: needed
only to start training) are reduced to file names so no local path ships.
``--runtime KEY=VALUE`` records runtime tracker settings (``TrackerParams`` fields,
e.g. thresholds chosen on validation data) that ``vsdmot track`` then applies
unless the user overrides them.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch

from vsdmot.config import fingerprint
from vsdmot.models.files import load_model_file
from vsdmot.tracking.query_tracker import TrackerParams
from vsdmot.utils.io import atomic_write


def _strip_paths(value):
    if isinstance(value, dict):
        return {k: _strip_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_paths(v) for v in value]
    if isinstance(value, str) and value.startswith("/"):
        return Path(value).name
    return value


def _runtime(items: list[str]) -> dict[str, float | int]:
    fields = {f.name: f.type for f in dataclasses.fields(TrackerParams)}
    out: dict[str, float | int] = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in fields:
            raise SystemExit(f"--runtime {item}: {key} is not a TrackerParams field")
        out[key] = int(value) if fields[key] in ("int", int) else float(value)
    TrackerParams(**out)  # validates the values
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--runtime", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    blob = load_model_file(args.src)
    blob["config"] = _strip_paths(blob["config"])
    blob["fingerprint"] = fingerprint(blob["config"])
    blob["model"] = {k: v.half() if v.is_floating_point() else v for k, v in blob["model"].items()}
    blob["runtime"] = {**blob.get("runtime", {}), **_runtime(args.runtime)}
    blob["exported_from"] = Path(args.src).name
    with atomic_write(args.dst, "wb") as f:
        torch.save(blob, f)
    print(f"wrote {args.dst}; runtime settings {blob['runtime']}")


if __name__ == "__main__":
    main()
