"""Reading vsdmot weight files safely: ``model.pt`` (inference) and training checkpoints.

Files load with ``torch.load(weights_only=True)``: tensors and plain
containers only. A file that needs arbitrary unpickling (which could run code
on load) is refused before anything executes. The runtime reads weights
through here, without importing the training engine.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

TRAIN_FORMAT = "vsdmot-train-checkpoint"
MODEL_FORMAT = "vsdmot-model"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint is unreadable or does not fit the configured model. Names the file."""


class WrongFormatError(CheckpointError):
    """A readable checkpoint of another kind (e.g. a training checkpoint where a model
    file was expected)."""


def safe_load(path: Path, expected_format: str) -> dict[str, Any]:
    """The dict stored in ``path``, checked to be of ``expected_format``."""
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        lines = str(exc).splitlines()
        detail = next((ln.strip() for ln in lines if "Unsupported global" in ln), "")
        if not detail:  # not a pickle torch can read at all: damaged or another format
            raise CheckpointError(f"{path}: unreadable checkpoint ({exc})") from exc
        raise CheckpointError(
            f"{path}: refused: the file needs arbitrary unpickling (objects that are not "
            "tensors or plain containers), which could run code on load. vsdmot checkpoints "
            "never do; if this is an old vsdmot checkpoint from a trusted source, re-save it "
            f"with the current version. ({detail[:160]})"
        ) from exc
    except Exception as exc:  # truncated file, not a torch file, ...
        raise CheckpointError(f"{path}: unreadable checkpoint ({exc})") from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != expected_format:
        found = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise WrongFormatError(f"{path}: not a {expected_format} file (format: {found})")
    return ckpt


def load_model_file(path: str | Path) -> dict[str, Any]:
    """Read ``model.pt``: ``{"model": state_dict, "config": {"model": ..., "semantic": ...},
    "runtime": {...}}``.

    Training checkpoints are accepted too (their weights and model sections are used).
    """
    path = Path(path)
    try:
        return safe_load(path, MODEL_FORMAT)
    except WrongFormatError:
        pass
    ckpt = safe_load(path, TRAIN_FORMAT)
    try:
        config = ckpt["config"]
        return {
            "format": MODEL_FORMAT,
            "step": ckpt.get("step", 0),
            "model": ckpt["model"],
            "config": {"model": config["model"], "semantic": config.get("semantic", {})},
            "fingerprint": ckpt.get("fingerprint"),
            "runtime": ckpt.get("runtime", {}),
        }
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: incomplete training checkpoint (no {exc})") from exc


def init_from_file(model: torch.nn.Module, path: str | Path) -> list[str]:
    """Copy into ``model`` every tensor of the model or checkpoint at ``path`` whose name
    and shape match; return the names of the model's tensors left as initialised.

    A file that shares no tensor with the model is another architecture, refused.

    >>> import tempfile
    >>> src, dst = torch.nn.Linear(2, 3), torch.nn.Sequential()
    >>> dst.add_module("weight_only", torch.nn.Linear(2, 3))
    >>> p = Path(tempfile.mkdtemp()) / "model.pt"
    >>> torch.save({"format": MODEL_FORMAT, "model": {"weight_only." + k: v for k, v in
    ...             src.state_dict().items()}, "config": {}}, p)
    >>> init_from_file(dst, p), bool(torch.equal(dst.weight_only.weight, src.weight))
    ([], True)
    """
    from vsdmot.nn.weights import first_nonfinite

    path = Path(path)
    state = load_model_file(path)["model"]
    own = model.state_dict()
    fits = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not fits:
        raise CheckpointError(
            f"{path}: train.init_from: no tensor of the file fits this model (another "
            "architecture; its model section must match the config's)"
        )
    if (bad := first_nonfinite(fits)) is not None:
        raise CheckpointError(f"{path}: train.init_from: non-finite values in {bad}")
    model.load_state_dict(fits, strict=False)
    return sorted(set(own) - set(fits))
