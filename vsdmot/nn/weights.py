"""One loader for the weight files a user can name (backbone, teacher, student trunk):
safe reading (``torch.save`` files, safetensors, TorchScript archives read as data), a
mapping of finite tensors, and a one-line error naming the file."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vsdmot.nn.torchscript_state import (
    RefusedGlobalError,
    is_torchscript_archive,
    read_torchscript_state,
)


class WeightsFileError(ValueError):
    """A weight file that cannot be used; the message names the file and the problem."""


def load_state_file(path: str | Path, what: str) -> dict[str, torch.Tensor]:
    """The tensors of a weight file (``{"state_dict": ...}`` unwrapped): a ``torch.save``
    state dict, a ``.safetensors`` file or a TorchScript archive. Pickled objects are
    never run (``weights_only``, or a restricted unpickler for TorchScript archives);
    anything but finite tensors is refused.

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
    read = next(reader for sniff, reader in _READERS if sniff(path))
    state = read(path, what)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsFileError(f"{path}: {what} weights: not a mapping of tensor names to tensors")
    if (bad := first_nonfinite(state)) is not None:
        raise WeightsFileError(f"{path}: {what} weights: non-finite values in {bad}")
    return state


def is_safetensors_file(path: Path) -> bool:
    """A safetensors file starts with its JSON header's length (8 bytes) and ``{``."""
    with open(path, "rb") as f:
        head = f.read(9)
    if len(head) < 9 or head[8:9] != b"{":
        return False
    return int.from_bytes(head[:8], "little") < path.stat().st_size


def _read_safetensors(path: Path, what: str) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        detail = f"unreadable safetensors file ({exc})"
        raise WeightsFileError(f"{path}: {what} weights: {detail}") from None


def _read_torchscript(path: Path, what: str) -> dict[str, torch.Tensor]:
    try:
        return read_torchscript_state(path)
    except RefusedGlobalError as exc:
        raise WeightsFileError(
            f"{path}: {what} weights: refused: the TorchScript archive's pickle holds more "
            f"than tensors and modules ({exc}); it could run code on load"
        ) from None
    except (ValueError, zipfile.BadZipFile, OSError) as exc:
        raise WeightsFileError(f"{path}: {what} weights: {exc}") from None


def _read_torch(path: Path, what: str) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors come in many types; all mean "not this"
        # torch's own text suggests loading unsafely: say what is wrong instead.
        raise WeightsFileError(
            f"{path}: {what} weights: not a readable weight file (a tensor file that loads "
            f"without running pickled code; {type(exc).__name__})"
        ) from None


#: Which reader takes a file: the first whose test accepts it.
_READERS: tuple[tuple[Callable[[Path], bool], Callable[[Path, str], Any]], ...] = (
    (is_safetensors_file, _read_safetensors),
    (is_torchscript_archive, _read_torchscript),
    (lambda _path: True, _read_torch),
)


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
