"""Load a trained tracker (``model.pt`` or a training checkpoint) for inference."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import torch
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from vsdmot.models.config import ModelConfig
from vsdmot.models.factory import build_vsdmot
from vsdmot.models.files import CheckpointError, load_model_file
from vsdmot.models.tracker import VSDMOT
from vsdmot.nn.weights import first_nonfinite
from vsdmot.semantics.config import SemanticConfig
from vsdmot.tracking.params import TrackerParams, read_runtime_block

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_WEIGHTS_NAME = "vsdmot-default.pt"


class WeightsError(ValueError):
    """Weights cannot be loaded. The message names the file and what is wrong."""


def default_weights_path() -> Path:
    """The checkpoint shipped inside the package (see docs/model-card.md)."""
    return Path(str(resources.files("vsdmot") / "weights" / DEFAULT_WEIGHTS_NAME))


@dataclass
class LoadedModel:
    model: VSDMOT
    path: Path
    model_config: ModelConfig
    semantic_config: SemanticConfig
    step: int
    runtime: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Runtime tracker settings recorded with the weights (validated flat names)."""

    def tracker_params(self, **overrides: Any) -> TrackerParams:
        """Runtime settings: the defaults, then what the weights record, then
        ``overrides`` (the user's)."""
        return TrackerParams(**{**self.runtime, **overrides})

    def describe(self) -> str:
        sem = self.semantic_config
        semantics = f"semantics={sem.semantics}"
        if sem.semantics != "none":
            semantics += f", dswr={sem.dswr}"
        return (
            f"{self.path} (step {self.step}, d_model={self.model_config.d_model}, "
            f"backbone={self.model_config.backbone}, {semantics})"
        )


def _to_dataclass(cls: type[T], values: dict[str, Any], path: Path, section: str) -> T:
    try:
        merged = OmegaConf.merge(OmegaConf.structured(cls), values)
        return OmegaConf.to_object(merged)  # type: ignore[return-value]
    except OmegaConfBaseException as exc:
        raise WeightsError(
            f"{path}: its '{section}' config does not fit this version of vsdmot ({exc.msg})"
        ) from exc


@contextlib.contextmanager
def _quiet(logger_name: str):
    logger = logging.getLogger(logger_name)
    before = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(before)


def load_tracker_model(path: str | Path | None = None, device: str = "cpu") -> LoadedModel:
    """Build the model recorded in the file and load its weights (strictly).

    ``path=None`` loads the shipped default. A missing, corrupt or mismatching
    file raises :class:`WeightsError` naming it.
    """
    path = Path(path) if path is not None else default_weights_path()
    if not path.is_file():
        hint = (
            " (the default weights are missing from this install)"
            if path.name == (DEFAULT_WEIGHTS_NAME)
            else ""
        )
        raise WeightsError(f"{path}: weights file not found{hint}")
    try:
        blob = load_model_file(path)
    except CheckpointError as exc:
        raise WeightsError(str(exc)) from exc
    config = blob.get("config", {})
    if "model" not in config:
        raise WeightsError(f"{path}: no model config recorded; not a vsdmot checkpoint")
    model_cfg = _to_dataclass(ModelConfig, config["model"], path, "model")
    sem_cfg = _to_dataclass(SemanticConfig, config.get("semantic", {}), path, "semantic")
    with _quiet("vsdmot.models"):  # "randomly initialised" would mislead: weights load next
        model = build_vsdmot(model_cfg, sem_cfg, initial_weights=False)
    state = {k: v.float() if v.is_floating_point() else v for k, v in blob["model"].items()}
    if (bad := first_nonfinite(state)) is not None:
        raise WeightsError(f"{path}: non-finite weights (NaN or inf) in {bad}")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise WeightsError(f"{path}: weights do not match the recorded config: {first}") from exc
    model.to(torch.device(device)).eval()
    try:
        runtime = read_runtime_block(blob.get("runtime"), str(path))
    except ValueError as exc:
        raise WeightsError(str(exc)) from exc
    return LoadedModel(model, path, model_cfg, sem_cfg, int(blob.get("step", 0)), runtime)
