"""Small MOTChallenge folders written on the fly: a tiny sequence of moving rectangles,
GT / result folders for the evaluation tests, and a generated clean / degraded pair."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vsdmot.data.mot import MOTAnnotations, SeqInfo, write_mot, write_seqinfo

# -- a tiny sequence of moving rectangles (clips and engine tests) ------------------------

#: BGR colours of the objects, by track id.
COLOURS = {1: (0, 0, 255), 2: (0, 255, 0), 3: (255, 0, 0)}
BACKGROUND = 128


def object_boxes(t: int, width: int, height: int) -> dict[int, tuple[int, int, int, int]]:
    """Integer ``left, top, w, h`` of each object in frame ``t`` (1-based)."""
    return {
        1: (4 + 3 * t, 10, 16, 30),
        2: (width - 30 - 2 * t, height - 36, 14, 28),
        3: (width // 2 - 6, 6 + t, 12, 12),
    }


def write_tiny_sequence(
    root: Path,
    *,
    name: str = "TINY-01",
    n_frames: int = 8,
    width: int = 96,
    height: int = 72,
    darken: float = 1.0,
    quality: bool = False,
) -> Path:
    """A sequence of filled rectangles moving on grey, with gt, det and quality files."""
    seq = root / name
    (seq / "img1").mkdir(parents=True, exist_ok=True)
    gt_rows, det_rows = [], []
    for t in range(1, n_frames + 1):
        img = np.full((height, width, 3), BACKGROUND, np.uint8)
        for tid, (x, y, w, h) in object_boxes(t, width, height).items():
            img[y : y + h, x : x + w] = COLOURS[tid]
            gt_rows.append([t, tid, x, y, w, h, 1, -1, -1, -1])
            det_rows.append([t, -1, x + 1, y - 1, w, h, 0.9 - 0.2 * (tid - 1)])
        img = (img.astype(np.float32) * darken).astype(np.uint8)
        cv2.imwrite(str(seq / "img1" / f"{t:06d}.png"), img)
    write_seqinfo(seq / "seqinfo.ini", SeqInfo(name, n_frames, 10.0, width, height, "img1", ".png"))
    write_mot(seq / "gt" / "gt.txt", MOTAnnotations.from_rows(gt_rows), "gt", fmt="mot15")
    det = MOTAnnotations.from_rows(det_rows)
    write_mot(seq / "det" / "det.txt", det, "det")
    if quality:
        lines = ["frame,quality"] + [
            f"{t},{t / (n_frames + 1):.4f}" for t in range(1, n_frames + 1)
        ]
        (seq / "quality.csv").write_text("\n".join(lines) + "\n")
    return seq


# -- small MOTChallenge GT / result folders (evaluation tests) ----------------------------

#: Two people far apart (no overlap), 20x40 boxes, moving right 2 px a frame.
X0 = {1: 10.0, 2: 300.0}


def track_rows(
    tid_of: dict[int, int], frames: range, *, extra: list[float] | None = None
) -> list[list[float]]:
    """Rows ``frame, id, l, t, w, h, 1[, extra]``; object ``obj`` gets id ``tid_of[obj]``."""
    rows = []
    for f in frames:
        for obj, tid in tid_of.items():
            rows.append([f, tid, X0[obj] + 2 * f, 50.0, 20.0, 40.0, 1.0, *(extra or [])])
    return rows


def make_seq(
    root: Path, name: str, gt_rows: list[list[float]], num_frames: int, fmt: str = "mot16"
) -> Path:
    """``root/name/seqinfo.ini`` and ``root/name/gt/gt.txt`` (rows as given)."""
    folder = root / name
    write_seqinfo(folder / "seqinfo.ini", SeqInfo(name, num_frames, 25.0, 640, 480))
    ann = MOTAnnotations.from_rows(np.asarray(gt_rows, dtype=float))
    write_mot(folder / "gt" / "gt.txt", ann, "gt", fmt=fmt)  # type: ignore[arg-type]
    return folder


def write_pred(pred_dir: Path, name: str, rows: list[list[float]]) -> Path:
    path = pred_dir / f"{name}.txt"
    ann = MOTAnnotations.from_rows(np.asarray(rows, dtype=float).reshape(len(rows), -1))
    write_mot(path, ann, "result")
    return path


# -- a generated clean sequence and its degraded copy (joint-training tests) --------------


def make_lq_pair(
    root: Path, *, objects: tuple[int, int], seed: int, schedule: str
) -> tuple[Path, Path]:
    """A generated clean sequence and its Gaussian-noise copy (quality.csv, degradation.json)."""
    from vsdmot.data.synth.generate import generate_sequence
    from vsdmot.data.synth.scene import SynthConfig
    from vsdmot.degrade.dataset import DegradeJob, degrade_dataset

    synth = SynthConfig(width=160, height=120, n_frames=8, objects=objects)
    generate_sequence(root / "clean" / "SYN-A", synth, seed=seed)
    job = DegradeJob("gaussian_noise", severity=3.0, schedule=schedule, seed=0)
    degrade_dataset(root / "clean", root / "lq", job, progress=False)
    return root / "clean", root / "lq"


def generated_dataset(root: Path, sequences: int = 2, frames: int = 20) -> Path:
    """``root`` with small generated sequences ``SYNTH-0000``... (160 x 120, seeds 0..)."""
    from vsdmot.data.synth import SynthConfig, generate_sequence

    cfg = SynthConfig(width=160, height=120, n_frames=frames)
    for k in range(sequences):
        generate_sequence(root / f"SYNTH-{k:04d}", cfg, seed=k)
    return root
