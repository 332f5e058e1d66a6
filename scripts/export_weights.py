"""Export a trained ``model.pt`` as a compact release file (float16 tensors).

    python scripts/export_weights.py runs/default/model.pt vsdmot/weights/vsdmot-default.pt \\
        [--runtime birth_thresh=0.3 --runtime keep_thresh=0.4 ...]

``vsdmot.tracking.weights.load_tracker_model`` casts the tensors back to float32.
Absolute paths recorded in the config (pretrained backbone, teacher weights: needed
only to start training) are reduced to file names so no local path ships.
``--runtime KEY=VALUE`` records runtime tracker settings (``TrackerParams`` fields,
e.g. thresholds chosen on validation data) that ``vsdmot track`` then applies
unless the user overrides them. ``--quality-head HEAD.pt`` swaps in a quality head
fitted separately (``benchmarks/bench_quality.py --save-head``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from vsdmot.config import fingerprint
from vsdmot.models.files import load_model_file
from vsdmot.tracking.params import read_runtime_block, runtime_block, setting_types
from vsdmot.utils.io import atomic_write
from vsdmot.utils.specs import coerce


def _strip_paths(value):
    if isinstance(value, dict):
        return {k: _strip_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_paths(v) for v in value]
    if isinstance(value, str) and value.startswith("/"):
        return Path(value).name
    return value


def _runtime(recorded: object, items: list[str], where: str) -> dict[str, object]:
    """The recorded block updated with ``--runtime`` items, as a versioned block."""
    types = setting_types()
    try:
        out = read_runtime_block(recorded, where)
        for item in items:
            key, _, value = item.partition("=")
            key = key.strip().replace("-", "_")
            if key not in types:
                raise ValueError(f"{item!r}: unknown setting; valid: {', '.join(sorted(types))}")
            out[key] = coerce(value, types[key], key)
        return runtime_block(out)
    except ValueError as exc:
        raise SystemExit(f"--runtime: {exc}") from None


QUALITY_PREFIX = "semantic_branch.quality_head."


def _replace_quality_head(model: dict[str, torch.Tensor], path: str) -> None:
    """Swap the quality head's tensors for those of a head file (``bench_quality.py
    --save-head``); the head is detached from the tracking loss, so it can be refitted
    on more varied degradations without retraining the tracker."""
    head = torch.load(path, map_location="cpu", weights_only=True)
    head = head.get("state_dict", head)
    old = {k for k in model if k.startswith(QUALITY_PREFIX)}
    new = {QUALITY_PREFIX + k for k in head}
    if not old:
        raise SystemExit(f"--quality-head {path}: the model has no quality head")
    if old != new:
        raise SystemExit(f"--quality-head {path}: its tensors do not fit the model's head")
    for k, v in head.items():
        if model[QUALITY_PREFIX + k].shape != v.shape:
            raise SystemExit(f"--quality-head {path}: {k} has shape {tuple(v.shape)}")
        model[QUALITY_PREFIX + k] = v


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--runtime", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--quality-head", help="replace the quality head (bench_quality --save-head)")
    args = ap.parse_args()
    blob = load_model_file(args.src)
    if args.quality_head:
        _replace_quality_head(blob["model"], args.quality_head)
        blob["quality_head_from"] = Path(args.quality_head).name
    blob["config"] = _strip_paths(blob["config"])
    blob["fingerprint"] = fingerprint(blob["config"])
    blob["model"] = {k: v.half() if v.is_floating_point() else v for k, v in blob["model"].items()}
    blob["runtime"] = _runtime(blob.get("runtime"), args.runtime, args.src)
    # Re-exporting a release file (new runtime settings) keeps the training run it came from.
    blob["exported_from"] = blob.get("exported_from") or Path(args.src).name
    with atomic_write(args.dst, "wb") as f:
        torch.save(blob, f)
    print(f"wrote {args.dst}; runtime settings {blob['runtime']}")


if __name__ == "__main__":
    main()
