"""One loader for the weight files a user can name (backbone, teacher, student trunk):
safe unpickling, a mapping of finite tensors, and a one-line error naming the file."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


class WeightsFileError(ValueError):
    """A weight file that cannot be used; the message names the file and the problem."""


def load_state_file(path: str | Path, what: str) -> dict[str, torch.Tensor]:
    """The tensors of a state-dict file (``{"state_dict": ...}`` unwrapped). Pickled
    objects are never run (``weights_only``); anything but finite tensors is refused.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "w.pt"
    >>> torch.save({"a": torch.tensor([float("nan")])}, p)
    >>> load_state_file(p, "backbone")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vsdmot.nn.weights.WeightsFileError: ...w.pt: backbone weights: non-finite values in a
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} weights not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors come in many types; all mean "not this"
        # torch's own text suggests loading unsafely: say what is wrong instead.
        raise WeightsFileError(
            f"{path}: {what} weights: not a readable weight file (a tensor file that loads "
            f"without running pickled code; {type(exc).__name__})"
        ) from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsFileError(f"{path}: {what} weights: not a mapping of tensor names to tensors")
    if (bad := first_nonfinite(state)) is not None:
        raise WeightsFileError(f"{path}: {what} weights: non-finite values in {bad}")
    return state


def first_nonfinite(state: dict[str, torch.Tensor]) -> str | None:
    """The name of the first floating-point tensor holding a NaN or an infinity."""
    return next((k for k, v in state.items() if v.is_floating_point() and not v.isfinite().all()),
                None)  # fmt: skip


def apply_state(module: nn.Module, state: dict[str, torch.Tensor], path: Path, what: str) -> None:
    """``module.load_state_dict(state, strict=True)`` with its error as one line naming
    the file (missing, unexpected or mis-shaped tensors)."""
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())[:240]
        raise WeightsFileError(f"{path}: {what} weights do not fit: {detail}") from None
