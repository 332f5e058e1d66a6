"""Degrade a folder of MOTChallenge sequences into a new dataset of the same layout.

Each output sequence holds::

    SEQ/seqinfo.ini          (imDir=img1, seqLength = frames written)
    SEQ/img1/000001.jpg ...  (JPEG quality 95, or PNG)
    SEQ/gt/ ...              (copied verbatim; rows past --max-frames dropped)
    SEQ/det/det.txt          (copied, or re-simulated on generated data, see below)
    SEQ/det/det_clean.txt    (the original detections, when re-simulated)
    SEQ/quality.csv          frame,types,severity,quality,psnr,ssim
    SEQ/degradation.json     type, severity, schedule, seed, fixed per-sequence params

A sequence is written into a hidden temporary folder beside its final place
and renamed when complete, so a crash never leaves a half-written sequence.

PSNR / SSIM in ``quality.csv`` compare the degraded frame with the clean one
before the frame is stored (JPEG storage adds a small further loss; use PNG
for lossless storage).

Generated sequences (those with ``synth.json``) carry simulated detections;
their detection errors should grow with the degradation, so by default
``det/det.txt`` is re-simulated from the ground truth with the per-frame
severities (``vsdmot.data.synth.detector.simulate_detections``).
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from vsdmot.data.mot import MOTAnnotations, SeqInfo, write_mot, write_seqinfo
from vsdmot.data.sequence import DEFAULT_MOT17_DETECTOR, MOTSequence, list_sequences
from vsdmot.degrade.base import check_severity, detector_rng, schedule_rng, sequence_key
from vsdmot.degrade.degrader import Degrader
from vsdmot.degrade.quality import psnr, ssim
from vsdmot.degrade.registry import create
from vsdmot.degrade.schedules import make_schedule, schedule_params
from vsdmot.utils.io import atomic_replace_dir, atomic_write, make_temp_dir

log = logging.getLogger(__name__)

IMAGE_EXTS = (".jpg", ".png")
JPEG_QUALITY = 95
QUALITY_COLUMNS = ("frame", "types", "severity", "quality", "psnr", "ssim")


@dataclass(frozen=True)
class SequenceReport:
    """What was written for one sequence."""

    name: str
    path: Path
    frames: int
    mean_quality: float
    mean_psnr: float
    mean_ssim: float
    redetected: bool


@dataclass(frozen=True)
class DegradeJob:
    """What to do to every sequence: the degradation, its schedule and how frames are stored.

    ``severity`` is the peak severity of ``schedule`` (see :mod:`vsdmot.degrade.schedules`).
    ``redetect`` re-simulates detections on generated sequences (``None``: when
    ``synth.json`` is present). ``max_frames`` keeps only the first frames (for quick
    checks).
    """

    type: str
    severity: float = 3.0
    schedule: str = "constant"
    seed: int = 0
    image_ext: str = ".jpg"
    redetect: bool | None = None
    max_frames: int | None = None

    def check(self) -> None:
        """Fail on bad settings before anything is read or written."""
        create(self.type)
        check_severity(self.severity)
        schedule_params(self.schedule, self.severity)
        if self.image_ext not in IMAGE_EXTS:
            raise ValueError(
                f"image_ext must be one of {', '.join(IMAGE_EXTS)}, got {self.image_ext!r}"
            )
        if self.max_frames is not None and self.max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {self.max_frames}")


def degrade_dataset(
    src: str | Path,
    out: str | Path,
    job: DegradeJob,
    *,
    overwrite: bool = False,
    progress: bool = True,
    mot17_detector: str = DEFAULT_MOT17_DETECTOR,
) -> list[SequenceReport]:
    """Write a degraded copy of every sequence under ``src`` (or of ``src`` itself) into
    ``out``; of MOT17's detector copies, ``mot17_detector``'s (or ``all``)."""
    job.check()
    src, out = Path(src), Path(out)
    if not src.exists():
        raise FileNotFoundError(f"{src}: source dataset not found")
    seq_dirs = list_sequences(src, mot17_detector=mot17_detector)
    _check_output_outside(seq_dirs, out)
    out.mkdir(parents=True, exist_ok=True)
    reports = []
    for seq_dir in seq_dirs:
        target = out / seq_dir.name
        if target.exists() and not overwrite:
            raise ValueError(f"{target}: already exists (pass overwrite=True / --overwrite)")
        reports.append(degrade_sequence(seq_dir, target, job, progress=progress))
    return reports


def _check_output_outside(seq_dirs: list[Path], out: Path) -> None:
    """Refuse an output folder that would land inside, or replace, a source sequence."""
    out_res = out.resolve()
    for seq_dir in seq_dirs:
        if out_res == seq_dir.resolve() or seq_dir.resolve() in out_res.parents:
            raise ValueError(f"{out}: output folder lies inside source sequence {seq_dir}")
        if (out_res / seq_dir.name) == seq_dir.resolve():
            # `degrade data data --overwrite` would replace the clean source with its copy.
            raise ValueError(f"{out}: the output would replace source sequence {seq_dir}")


def degrade_sequence(
    seq_dir: str | Path, target: str | Path, job: DegradeJob, *, progress: bool = True
) -> SequenceReport:
    """Degrade one sequence folder into ``target`` (replaced atomically when complete)."""
    seq = MOTSequence(seq_dir)
    target = Path(target)
    n = len(seq) if job.max_frames is None else min(len(seq), job.max_frames)
    key = sequence_key(seq.name)
    degrader = Degrader(job.type, seq.frames.size, seed=job.seed, key=key)
    severities = make_schedule(job.schedule, n, job.severity, schedule_rng(job.seed, key))
    do_redetect = _want_redetect(seq.root, job.redetect)
    tmp = make_temp_dir(target)
    try:
        rows = _write_frames(seq, degrader, severities, tmp / "img1", job.image_ext, progress)
        _write_annotations(seq, tmp, n, job.image_ext)
        if do_redetect:
            _redetect(seq, tmp, n, severities, detector_rng(job.seed, key))
        _write_quality_csv(tmp / "quality.csv", rows)
        meta = _degradation_meta(job, degrader, seq, n, do_redetect)
        with atomic_write(tmp / "degradation.json") as f:
            json.dump(meta, f, indent=2)
            f.write("\n")
        atomic_replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        seq.frames.close()
    log.info("%s: %d frames degraded (%s) -> %s", seq.name, n, job.type, target)
    return SequenceReport(
        name=seq.name,
        path=target,
        frames=n,
        mean_quality=float(np.array([r["quality"] for r in rows]).mean()),
        mean_psnr=float(np.mean([r["psnr"] for r in rows])),
        mean_ssim=float(np.mean([r["ssim"] for r in rows])),
        redetected=do_redetect,
    )


def _write_annotations(seq: MOTSequence, tmp: Path, n: int, image_ext: str) -> None:
    """seqinfo.ini for ``n`` frames, gt/ and det/ cut to them, and synth.json."""
    info = seq.info
    write_seqinfo(
        tmp / "seqinfo.ini",
        SeqInfo(info.name, n, info.frame_rate, info.im_width, info.im_height, "img1", image_ext),
    )
    for sub in ("gt", "det"):
        if (seq.root / sub).is_dir():
            _copy_annotations(seq.root / sub, tmp / sub, n, keep_all=n == len(seq))
    if (seq.root / "synth.json").is_file():
        shutil.copy2(seq.root / "synth.json", tmp / "synth.json")


def _degradation_meta(
    job: DegradeJob, degrader: Degrader, seq: MOTSequence, n: int, redetected: bool
) -> dict[str, Any]:
    """What ``degradation.json`` records: enough to regenerate the sequence."""
    _, sched_params = schedule_params(job.schedule, job.severity)
    return {
        "type": job.type,
        "types": degrader.types,
        "severity": float(job.severity),
        "schedule": job.schedule.split(":")[0],
        "schedule_params": sched_params,
        "seed": int(job.seed),
        "sequence_key": sequence_key(seq.name),
        "source": str(seq.root),
        "frames": n,
        "image_ext": job.image_ext,
        "params": degrader.params,
        "redetected": redetected,
    }


def _write_frames(
    seq: MOTSequence,
    degrader: Degrader,
    severities: np.ndarray,
    img_dir: Path,
    image_ext: str,
    progress: bool,
) -> list[dict[str, Any]]:
    img_dir.mkdir(parents=True)
    n = len(severities)
    # A video codec returns frames with a delay: keep the clean ones until their turn.
    clean_queue: deque[np.ndarray] = deque()

    def clean_frames() -> Iterator[np.ndarray]:
        for t in range(1, n + 1):
            img = seq.frame(t)
            clean_queue.append(img)
            yield img

    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if image_ext == ".jpg" else []
    types = "+".join(degrader.types)
    rows: list[dict[str, Any]] = []
    stream = degrader.stream(clean_frames(), severities)
    for i, img in enumerate(tqdm(stream, total=n, desc=seq.name, disable=not progress)):
        t = i + 1
        clean = clean_queue.popleft()
        path = img_dir / f"{t:06d}{image_ext}"
        if not cv2.imwrite(str(path), img, params):
            raise OSError(f"{path}: could not write image")
        rows.append(
            {
                "frame": t,
                "types": types,
                "severity": float(severities[i]),
                "quality": degrader.quality(float(severities[i])),
                "psnr": psnr(clean, img),
                "ssim": ssim(clean, img),
            }
        )
    if len(rows) != n:
        raise RuntimeError(f"{seq.root}: degraded {len(rows)} frames, expected {n}")
    return rows


def _write_quality_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with atomic_write(path, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(QUALITY_COLUMNS)
        for r in rows:
            writer.writerow(
                [
                    r["frame"],
                    r["types"],
                    f"{r['severity']:.4f}",
                    f"{r['quality']:.4f}",
                    f"{r['psnr']:.3f}",
                    f"{r['ssim']:.5f}",
                ]
            )


def read_quality_csv(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a ``quality.csv`` with numeric columns parsed."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: quality.csv not found")
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != QUALITY_COLUMNS:
            raise ValueError(f"{path}: expected columns {','.join(QUALITY_COLUMNS)}")
        try:
            return [
                {
                    "frame": int(r["frame"]),
                    "types": r["types"],
                    **{k: float(r[k]) for k in ("severity", "quality", "psnr", "ssim")},
                }
                for r in reader
            ]
        except ValueError as exc:
            raise ValueError(f"{path}: non-numeric value ({exc})") from exc


def _copy_annotations(src: Path, dst: Path, n: int, keep_all: bool) -> None:
    """Copy an annotation folder; when frames were cut, drop rows past frame ``n``."""
    dst.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.iterdir()):
        if not f.is_file():
            continue
        if keep_all or f.suffix != ".txt":
            shutil.copy2(f, dst / f.name)
            continue
        kept = [
            line
            for line in f.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
            if not line.strip() or _frame_of(line) <= n
        ]
        (dst / f.name).write_text("".join(kept), encoding="utf-8")


def _frame_of(line: str) -> float:
    first = line.replace(" ", ",").replace("\t", ",").split(",")[0]
    try:
        return float(first)
    except ValueError:
        return float("inf")  # malformed rows are dropped with the cut; readers would reject them


def _want_redetect(root: Path, redetect: bool | None) -> bool:
    """Decide whether to re-simulate detections; explicit requests fail loudly."""
    has_synth = (root / "synth.json").is_file()
    if redetect is False or (redetect is None and not has_synth):
        return False
    if not has_synth:
        raise ValueError(
            f"{root}: --redetect needs a generated sequence (synth.json); real footage keeps "
            "its detections"
        )
    try:
        import vsdmot.data.synth.detector  # noqa: F401
    except ImportError as exc:
        if redetect is None:
            log.warning(
                "%s: keeping the original det.txt: vsdmot.data.synth.detector is not "
                "available (%s)",
                root,
                exc,
            )
            return False
        raise ValueError(
            f"{root}: re-simulating detections needs vsdmot.data.synth.detector, which is "
            f"not available ({exc}); pass --no-redetect to keep the original det.txt"
        ) from exc
    return True


def _redetect(
    seq: MOTSequence, tmp: Path, n: int, severities: np.ndarray, rng: np.random.Generator
) -> None:
    from vsdmot.data.synth.detector import simulate_detections

    gt = seq.gt
    if gt is None:
        raise ValueError(f"{seq.root}: cannot re-simulate detections without gt/gt.txt")
    gt = gt.select(gt.frame <= n)
    dets: MOTAnnotations = simulate_detections(
        gt, (seq.info.im_width, seq.info.im_height), rng, severity=severities
    )
    det_dir = tmp / "det"
    det_dir.mkdir(exist_ok=True)
    if (det_dir / "det.txt").is_file():
        (det_dir / "det.txt").replace(det_dir / "det_clean.txt")
    write_mot(det_dir / "det.txt", dets, "det")
