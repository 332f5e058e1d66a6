"""Checking a ``--device`` string before any work starts."""

from __future__ import annotations

import torch


def check_device(spec: str) -> torch.device:
    """``"cpu"``, ``"cuda"`` or ``"cuda:N"`` as a usable :class:`torch.device`, else a clear error.

    >>> check_device("cpu")
    device(type='cpu')
    >>> check_device("gpu0")
    Traceback (most recent call last):
    ...
    ValueError: --device 'gpu0' is not a device; use cpu, cuda or cuda:N
    """
    try:
        device = torch.device(spec)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"--device {spec!r} is not a device; use cpu, cuda or cuda:N") from exc
    if device.type == "cpu":
        return device
    if device.type != "cuda":
        raise ValueError(f"--device {spec!r}: only cpu and cuda are supported")
    if not torch.cuda.is_available():
        build = torch.__version__
        raise ValueError(
            f"--device {spec!r}: CUDA is not available (PyTorch {build}"
            + (", a CPU-only build" if torch.version.cuda is None else ", no GPU visible")
            + "); use --device cpu"
        )
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        raise ValueError(
            f"--device {spec!r}: only {count} CUDA device(s), cuda:0..cuda:{count - 1}"
        )
    return device
