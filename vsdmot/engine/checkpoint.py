"""Training checkpoints (resumable) and the final model file, written atomically.

A training checkpoint holds the model, optimiser, scheduler and grad-scaler
states, the step, every RNG state (python, numpy, torch CPU/CUDA), the full
config as a dict and a fingerprint of its ``model`` + ``semantic`` sections.
Loading it into a run whose model sections differ fails with the file and
the differing keys named, instead of a wall of ``state_dict`` key errors.

The final ``model.pt`` holds only the weights and the model sections: it is
what ``vsdmot track`` loads.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vsdmot.config import (
    TrainConfig,
    config_to_dict,
    diff_keys,
    fingerprint,
    flatten,
    model_sections,
)
from vsdmot.models.files import (
    MODEL_FORMAT,
    TRAIN_FORMAT,
    VERSION,
    CheckpointError,
    load_model_file,
    safe_load,
)
from vsdmot.tracking.params import runtime_block
from vsdmot.utils.io import atomic_write

__all__ = [
    "MODEL_FORMAT",
    "TRAIN_FORMAT",
    "CheckpointError",
    "load_checkpoint",
    "load_model_file",
    "save_checkpoint",
    "save_model",
]


def module_generators(model: nn.Module | None) -> dict[str, torch.Generator]:
    """``torch.Generator`` attributes of the model's modules, by dotted name.

    Modules that own a generator (e.g. for track-query augmentation) keep it
    outside ``state_dict``; resuming exactly needs its state too.
    """
    if model is None:
        return {}
    return {
        f"{mod_name}.{attr}" if mod_name else attr: value
        for mod_name, module in model.named_modules()
        for attr, value in vars(module).items()
        if isinstance(value, torch.Generator)
    }


def rng_state(model: nn.Module | None = None) -> dict[str, Any]:
    """Every RNG state a training step can consume: global ones and the model's generators."""
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": _numpy_state_to_plain(np.random.get_state()),
        "torch": torch.get_rng_state(),
        "generators": {k: g.get_state() for k, g in module_generators(model).items()},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any], model: nn.Module | None = None) -> None:
    random.setstate(_as_tuples(state["python"]))
    np.random.set_state(_numpy_state_from_plain(state["numpy"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    gens = module_generators(model)
    for key, gen_state in state.get("generators", {}).items():
        if key in gens:
            gens[key].set_state(gen_state)


def _numpy_state_to_plain(state: tuple) -> tuple:
    """numpy's legacy RNG state with its key array as a tensor: loadable with ``weights_only``."""
    name, keys, pos, has_gauss, cached = state
    return (name, torch.from_numpy(np.asarray(keys, dtype=np.int64)), pos, has_gauss, cached)


def _numpy_state_from_plain(state: tuple) -> tuple:
    name, keys, pos, has_gauss, cached = state
    return (name, np.asarray(keys, dtype=np.uint32), int(pos), int(has_gauss), float(cached))


def _as_tuples(value: Any) -> Any:
    """``random.setstate`` wants tuples; a round trip may give lists."""
    if isinstance(value, (list, tuple)):
        return tuple(_as_tuples(v) for v in value)
    return value


def _save(obj: dict[str, Any], path: Path) -> None:
    with atomic_write(path, "wb") as f:
        torch.save(obj, f)


def save_checkpoint(
    path: str | Path,
    *,
    cfg: TrainConfig,
    step: int,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler | None = None,
    rng_states: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write a resumable checkpoint (temp file + rename: never half-written).

    ``rng_states`` holds one entry per rank (default: this process's state only).
    """
    sections = model_sections(cfg)
    _save(
        {
            "format": TRAIN_FORMAT,
            "version": VERSION,
            "step": step,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "scaler": scaler.state_dict() if scaler is not None else None,
            "rng": rng_states if rng_states is not None else [rng_state(model)],
            "config": config_to_dict(cfg),
            "fingerprint": fingerprint(sections),
            "extra": extra or {},
        },
        Path(path),
    )


def check_compatible(path: Path, stored: dict[str, Any], sections: dict[str, Any]) -> None:
    """Raise naming ``path`` and the differing keys when the model sections differ."""
    if fingerprint(stored) == fingerprint(sections):
        return
    keys = diff_keys(stored, sections)
    shown = ", ".join(keys[:12]) + (f" (+{len(keys) - 12} more)" if len(keys) > 12 else "")
    raise CheckpointError(
        f"{path}: checkpoint was trained with a different model config; differing keys: {shown}"
    )


def _plain(value: Any) -> Any:
    """Tuples as the lists a saved config holds, at any depth."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def changed_settings(
    stored: dict[str, Any], current: dict[str, Any], allowed: Collection[str] = ()
) -> list[str]:
    """``"key: then -> now"`` for each setting a resumed run changes from its checkpoint's.

    Keys are dotted (``optim.lr``). Those in ``allowed`` are not compared, nor those the
    checkpoint does not know (added in a later version); a tuple equals the list it was
    saved as.

    >>> changed_settings({"a": 1, "b": {"c": (1, 2)}}, {"a": 2, "b": {"c": [1, 2]}, "d": 0})
    ['a: 1 -> 2']
    >>> changed_settings({"steps": 2}, {"steps": 4}, allowed=("steps",))
    []
    """
    then, now = flatten(_plain(stored)), flatten(_plain(current))
    return [
        f"{k}: {then[k]!r} -> {now[k]!r}"
        for k in sorted(now)
        if k not in allowed and k in then and then[k] != now[k]
    ]


def load_checkpoint(path: str | Path, cfg: TrainConfig) -> dict[str, Any]:
    """Read a training checkpoint and check it fits ``cfg``'s model sections."""
    path = Path(path)
    ckpt = safe_load(path, TRAIN_FORMAT)
    stored = {k: ckpt["config"].get(k, {}) for k in ("model", "semantic")}
    check_compatible(path, stored, model_sections(cfg))
    return ckpt


def runtime_settings(cfg: TrainConfig) -> dict[str, Any]:
    """What the runtime tracker should do as the model was trained: the input size and the
    lowest proposal score it saw, as the versioned block of
    :func:`vsdmot.tracking.params.runtime_block` (applied unless the user overrides it)."""
    return runtime_block(
        {
            "input_short_side": cfg.data.input_size,
            "input_max_side": cfg.data.max_size,
            "proposal_min_score": cfg.data.proposals.score_threshold,
        }
    )


def save_model(path: str | Path, model: nn.Module, cfg: TrainConfig, step: int) -> None:
    """The final weights + model sections + runtime settings (what inference needs)."""
    sections = model_sections(cfg)
    _save(
        {
            "format": MODEL_FORMAT,
            "version": VERSION,
            "step": step,
            "model": model.state_dict(),
            "config": sections,
            "fingerprint": fingerprint(sections),
            "runtime": runtime_settings(cfg),
        },
        Path(path),
    )
