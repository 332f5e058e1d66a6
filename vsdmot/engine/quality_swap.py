"""Put a separately fitted quality head into a model file, as a new file.

The DSWR head is detached from the tracking loss, so a head fitted alone
(:mod:`vsdmot.engine.quality_fit`) can replace the one inside a trained model: its tensors
replace ``semantic_branch.quality_head.*``, the model's ``semantic.quality`` takes the
head's shape (``version``, ``members``, ``input_size``, ``channels``; ``ema`` and
``gate_hidden`` stay, since the gate that reads ``q_t`` is not replaced), the fingerprint
is recomputed, and the file records where the head came from. The result is loaded back
before it is written.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import torch

from vsdmot.config import fingerprint
from vsdmot.models.files import load_model_file
from vsdmot.semantics.quality_file import head_config, load_quality_head
from vsdmot.utils.io import atomic_write

QUALITY_PREFIX = "semantic_branch.quality_head."


class QualitySwapError(ValueError):
    """The model file cannot take the head (it has none, or it is not a model file)."""


def install_quality_head(model_path: Path, head_path: Path, out_path: Path) -> dict[str, Any]:
    """Write ``out_path``: the model at ``model_path`` with the head at ``head_path``.

    Tensors take the dtype the model file stores (float16 in a released file). Returns
    the provenance record written into the file (``quality_head``).
    """
    model_path, head_path, out_path = Path(model_path), Path(head_path), Path(out_path)
    if out_path.resolve() in (model_path.resolve(), head_path.resolve()):
        raise QualitySwapError(f"{out_path}: write the new model to another file")
    blob = load_model_file(model_path)
    head, provenance = load_quality_head(head_path)
    old = {k for k in blob["model"] if k.startswith(QUALITY_PREFIX)}
    if not old:
        raise QualitySwapError(f"{model_path}: the model has no quality head (semantic.dswr off "
                               "or no semantic branch)")  # fmt: skip
    dtype = blob["model"][next(iter(sorted(old)))].dtype
    model = {k: v for k, v in blob["model"].items() if k not in old}
    model |= {QUALITY_PREFIX + k: v.to(dtype) for k, v in head.state_dict().items()}
    semantic = blob["config"].setdefault("semantic", {})
    semantic["quality"] = {**semantic.get("quality", {}), **head_config(head.config)}
    record = {"file": head_path.name, "sha256": _sha256(head_path),
              "replaced_in": model_path.name, "provenance": provenance}  # fmt: skip
    blob |= {"model": model, "fingerprint": fingerprint(blob["config"]), "quality_head": record}
    _write_checked(blob, out_path)
    return record


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_checked(blob: dict[str, Any], out_path: Path) -> None:
    """Write ``blob`` once it loads as a tracker (strictly: every tensor fits its config)."""
    from vsdmot.tracking.weights import load_tracker_model

    buffer = io.BytesIO()
    torch.save(blob, buffer)
    check = out_path.with_name(f".{out_path.name}.check")
    check.write_bytes(buffer.getvalue())
    try:
        load_tracker_model(check)
    finally:
        check.unlink(missing_ok=True)
    with atomic_write(out_path, "wb") as f:
        f.write(buffer.getvalue())
