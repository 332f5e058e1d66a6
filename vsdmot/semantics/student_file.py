"""The ``student.pt`` file of ``vsdmot distill``: the student and the quality head.

Joint training (``semantic.student_weights=RUN/student.pt``) starts its semantic
branch from it. The file records the student and quality-head configs and the
embedding size, so loading it into a branch built differently fails with the
file and the differing keys named instead of a wall of ``state_dict`` errors.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vsdmot.semantics.config import QualityConfig, SemanticConfig, StudentConfig
from vsdmot.utils.io import atomic_write

log = logging.getLogger(__name__)

STUDENT_FORMAT = "vsdmot-student"
VERSION = 1


class StudentFileError(ValueError):
    """A student file is missing, unreadable or does not fit the branch. Names the file."""


def _shape_keys(cfg: StudentConfig | QualityConfig) -> dict[str, Any]:
    """The config fields that decide parameter shapes (``pretrained`` is an init only)."""
    values = dataclasses.asdict(cfg)
    values.pop("pretrained", None)
    values.pop("ema", None)  # inference smoothing, no parameter
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def save_student(
    path: str | os.PathLike[str],
    *,
    student: nn.Module,
    quality_head: nn.Module | None,
    cfg: SemanticConfig,
    embed_dim: int,
    teacher_id: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write the student (+ quality head) atomically: never a half-written file."""
    blob = {
        "format": STUDENT_FORMAT,
        "version": VERSION,
        "student": {k: v.detach().cpu() for k, v in student.state_dict().items()},
        "quality_head": None
        if quality_head is None
        else {k: v.detach().cpu() for k, v in quality_head.state_dict().items()},
        "student_config": _shape_keys(cfg.student),
        "quality_config": _shape_keys(cfg.quality),
        "embed_dim": int(embed_dim),
        "teacher_id": teacher_id,
        "teacher": dataclasses.asdict(cfg.teacher),
        "distill": cfg.distill,
        "extra": extra or {},
    }
    with atomic_write(Path(path), "wb") as fh:
        torch.save(blob, fh)


def load_student_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``student.pt``; raise :class:`StudentFileError` naming it when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise StudentFileError(
            f"{path}: student weights not found (semantic.student_weights must point at the "
            "student.pt that `vsdmot distill` wrote)"
        )
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated file, not a torch file, pickled objects ...
        raise StudentFileError(f"{path}: unreadable student file ({exc})") from exc
    if not isinstance(blob, dict) or blob.get("format") != STUDENT_FORMAT:
        found = blob.get("format") if isinstance(blob, dict) else type(blob).__name__
        raise StudentFileError(f"{path}: not a {STUDENT_FORMAT} file (format: {found})")
    return blob


def _differences(stored: dict[str, Any], wanted: dict[str, Any], prefix: str) -> list[str]:
    keys = sorted(set(stored) | set(wanted))
    return [
        f"{prefix}.{k} (file {stored.get(k)!r}, config {wanted.get(k)!r})"
        for k in keys
        if stored.get(k) != wanted.get(k)
    ]


def load_student_into_branch(branch: nn.Module, path: str | os.PathLike[str]) -> None:
    """Load a ``student.pt`` into a :class:`~vsdmot.semantics.branch.SemanticBranch`.

    The student is loaded when the branch has one (``semantics: student``), the quality
    head when the branch has one (``dswr: on``) and the file holds it. Shapes must match
    the branch's config exactly.
    """
    path = Path(path)
    blob = load_student_file(path)
    cfg: SemanticConfig = branch.config  # type: ignore[assignment]
    student = getattr(branch, "student", None)
    head = getattr(branch, "quality_head", None)
    problems: list[str] = []
    if student is not None:
        problems += _differences(blob["student_config"], _shape_keys(cfg.student), "student")
        if blob["embed_dim"] != branch.embed_dim:
            problems.append(
                f"embed_dim (file {blob['embed_dim']}, branch {branch.embed_dim}: another teacher)"
            )
    if head is not None and blob["quality_head"] is not None:
        # Files written before the head had versions and members hold one version-1 network.
        stored = {"version": 1, "members": 1, **blob["quality_config"]}
        problems += _differences(stored, _shape_keys(cfg.quality), "quality")
    if problems:
        raise StudentFileError(
            f"{path}: the distilled weights do not fit semantic config: {'; '.join(problems)}"
        )
    loaded = []
    if student is not None:
        student.load_state_dict(blob["student"], strict=True)
        loaded.append("student")
    else:
        log.warning("%s: semantics=%s has no student; only the quality head is used",
                    path, cfg.semantics)  # fmt: skip
    if head is not None:
        if blob["quality_head"] is None:
            log.warning("%s holds no quality head: the DSWR head starts untrained", path)
        else:
            head.load_state_dict(blob["quality_head"], strict=True)
            loaded.append("quality head")
    log.info("loaded %s from %s (teacher %s)", " + ".join(loaded) or "nothing", path,
             blob.get("teacher_id"))  # fmt: skip
