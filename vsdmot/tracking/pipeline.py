"""Track a whole source end to end: frames + proposals -> tracker -> files.

This is what ``vsdmot track`` runs; it is a plain function of a :class:`TrackJob` so
that notebooks and scripts get the same behaviour.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from vsdmot.data.mot import write_mot
from vsdmot.data.sources import open_source
from vsdmot.tracking.base import FrameTracks
from vsdmot.tracking.registry import build_tracker, describe_tracker
from vsdmot.tracking.run import TrackingRun, track_frames
from vsdmot.utils.io import atomic_write

log = logging.getLogger(__name__)

OutputFormat = Literal["mot", "jsonl"]


@dataclass(frozen=True)
class TrackJob:
    """What to track, with what, and where the results go.

    ``tracker`` is a spec of the registry (``vsdmot``, ``bytetrack:lost_track_buffer=10``,
    ...); ``proposals`` a proposal spec (default: :func:`default_proposal_spec`).
    """

    source: str
    out: Path
    tracker: str = "vsdmot"
    proposals: str | None = None
    min_score: float = 0.0
    output_format: OutputFormat = "mot"
    video: Path | None = None
    show: bool = False
    device: str = "cpu"
    max_frames: int | None = None
    cache_dir: Path | None = None
    progress: bool = True
    threads: int | None = None
    """Torch threads of the tracker (default: every core but the detector worker's)."""
    overlap: bool = True
    """Decode and detect in a worker thread beside the tracker."""

    @property
    def sequence(self) -> str | None:
        """The source as a MOTChallenge sequence folder, if it is one."""
        return self.source if (Path(self.source) / "seqinfo.ini").is_file() else None


@dataclass
class TrackOutputs:
    """Where ``track_source`` wrote things, and what it tracked."""

    results: Path
    per_frame: Path
    video: Path | None
    run: TrackingRun
    weights: str
    proposals: str
    extra: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [
            f"tracked {self.run.frames} frames, {self.run.num_tracks} tracks, "
            f"{self.run.fps:.1f} frames/s",
            f"tracker:   {self.weights}",
            f"proposals: {self.proposals}",
            f"results:   {self.results}",
            f"per-frame: {self.per_frame}",
        ]
        if self.video is not None:
            lines.append(f"video:     {self.video}")
        if self.run.interrupted:
            lines.append("interrupted (Ctrl-C): the files hold the frames tracked before it")
        if self.run.skipped:
            lines.append(f"skipped {len(self.run.skipped)} unreadable frame(s)")
        return "\n".join(lines)


def default_proposal_spec(source: str) -> str:
    """``det`` for a sequence folder with public detections, else YOLOv3-tiny people (the
    robust weights shipped with vsdmot).

    Without the detector's weights installed: one warning, then the HOG people detector.
    """
    path = Path(source)
    if (path / "seqinfo.ini").is_file() and (path / "det" / "det.txt").is_file():
        return "det"
    from vsdmot.proposals.yolo import DEFAULT_WEIGHTS, yolo_weights_available

    if yolo_weights_available():
        return "yolo"
    from vsdmot.detection.files import INSTALL_HINT, robust_detector_path

    hint = (
        f"{robust_detector_path()} is missing from the vsdmot install (reinstall vsdmot)"
        if DEFAULT_WEIGHTS == "robust"
        else INSTALL_HINT
    )
    log.warning("YOLOv3-tiny weights are not installed, using HOG proposals instead; %s", hint)
    return "hog"


def track_source(job: TrackJob) -> TrackOutputs:
    """Track ``job.source`` (video, image folder, sequence folder, glob, camera, URL).

    Writes the results (MOTChallenge txt or JSON lines) to ``job.out`` and, beside
    it, ``<out stem>.frames.csv`` with per-frame track counts and, when the
    semantic branch is on, the quality q_t and mean fusion weight w_t. With
    ``job.video`` a rendered MP4 is written. A stream that drops ends the run
    cleanly with everything tracked so far written.
    """
    from vsdmot.proposals import build_proposal_source

    frames = open_source(job.source)
    spec = job.proposals or default_proposal_spec(job.source)
    prop_source = build_proposal_source(
        spec,
        sequence=job.sequence,
        min_score=job.min_score,
        cache_dir=job.cache_dir,
        video=job.source if job.cache_dir is not None else None,
    )
    tracker = build_tracker(job.tracker, frame_rate=frames.fps, device=job.device)
    with contextlib.ExitStack() as stack:
        stack.callback(frames.close)
        if hasattr(prop_source, "close"):
            stack.callback(prop_source.close)
        view = stack.enter_context(_View(job, frames.fps))
        stack.enter_context(_threads(job.threads or max(1, (os.cpu_count() or 2) - 1)))
        total = frames.length
        if job.max_frames is not None:
            total = min(job.max_frames, total or job.max_frames)
        run = track_frames(tracker, view.limit(frames, job.max_frames), prop_source,
                           total=total, on_frame=view.on_frame, progress=job.progress,
                           overlap=job.overlap)  # fmt: skip
        run.skipped = sorted(set(run.skipped) | set(frames.skipped))
    return _write_outputs(job, run, describe_tracker(tracker), _describe(prop_source, spec))


def _write_outputs(job: TrackJob, run: TrackingRun, tracker: str, proposals: str) -> TrackOutputs:
    out = Path(job.out)
    if job.output_format == "mot":
        write_mot(out, run.results, "result")
    else:
        _write_jsonl(out, run)
    per_frame = out.with_name(out.stem + ".frames.csv")
    _write_per_frame(per_frame, run)
    video = Path(job.video) if job.video is not None else None
    return TrackOutputs(out, per_frame, video, run, tracker, proposals)


class _View:
    """The rendered video and the live window of a job (both optional)."""

    def __init__(self, job: TrackJob, fps: float) -> None:
        from vsdmot.render import LiveWindow, TrackRenderer

        self.job, self.fps = job, fps
        self.renderer = TrackRenderer() if (job.video is not None or job.show) else None
        self.window = LiveWindow() if job.show else None
        self.writer = None
        self.stop = False

    def __enter__(self) -> _View:
        if self.job.video is not None:
            from vsdmot.render import VideoWriter

            self.writer = VideoWriter(self.job.video, fps=self.fps).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.writer is not None:
            self.writer.__exit__(*exc)
        if self.window is not None:
            self.window.close()

    def limit(self, frames, max_frames: int | None):
        """The frames, until ``max_frames`` or until the window is closed."""
        for i, item in enumerate(frames, start=1):
            if self.stop or (max_frames is not None and i > max_frames):
                return
            yield item

    def on_frame(self, t: int, frame: np.ndarray, tracks: FrameTracks) -> None:
        if self.renderer is None:
            return
        canvas = self.renderer.draw(
            frame, t, tracks.xyxy, tracks.tracker_ids, scores=tracks.tracker_confidences,
            quality=tracks.extras.get("quality"),  # type: ignore[arg-type]
            weight=tracks.extras.get("weight"),  # type: ignore[arg-type]
        )  # fmt: skip
        if self.writer is not None:
            self.writer.write(canvas)
        if self.window is not None and not self.window.show(canvas):
            self.stop = True


def _describe(source: object, spec: str) -> str:
    inner = getattr(source, "source", source)  # a cache wraps the detector
    describe = getattr(inner, "describe", None)
    return describe() if callable(describe) else getattr(source, "name", spec)


@contextlib.contextmanager
def _threads(torch_threads: int):
    """Torch threads for the model; one OpenCV thread, since the detector runs in its own
    worker beside the model (OpenCV's pool is process-wide: a 2-thread OpenCV detector
    would take the model's core)."""
    import cv2
    import torch

    before = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(max(1, int(torch_threads)))
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])


#: The ``quality`` object of a JSON-lines record: its field, and the per-frame value
#: (:attr:`TrackingRun.per_frame`) it is read from.
QUALITY_FIELDS = {"q": "quality", "semantic_weight": "weight",
                  "appearance_weight": "appearance_weight"}  # fmt: skip


def quality_record(row: dict[str, float]) -> dict[str, float | None] | None:
    """The ``quality`` object of one frame's JSON-lines record: ``q`` (q_t),
    ``semantic_weight`` (w_t, the mean fusion weight) and ``appearance_weight`` (the
    weight appearance got in association); a field the tracker did not report is null,
    and the object is null when it reported none of them.

    >>> quality_record({"frame": 3.0, "tracks": 2.0, "quality": 0.81234, "weight": 0.5})
    {'q': 0.8123, 'semantic_weight': 0.5, 'appearance_weight': None}
    >>> quality_record({"frame": 3.0, "tracks": 2.0}) is None
    True
    """
    record = {k: round(float(row[src]), 4) if src in row else None
              for k, src in QUALITY_FIELDS.items()}  # fmt: skip
    return record if any(v is not None for v in record.values()) else None


def _write_jsonl(path: Path, run: TrackingRun) -> None:
    """One line per tracked frame (frames without tracks too), in frame order."""
    res = run.results
    rows = {int(r["frame"]): r for r in run.per_frame}
    frames = sorted(set(rows) | {int(t) for t in np.unique(res.frame)})
    with atomic_write(path) as f:
        for t in frames:
            got = res.for_frame(t)
            tracks = [
                {"id": int(i), "ltwh": [round(float(v), 2) for v in b], "score": round(float(s), 4)}
                for i, b, s in zip(got.track_id, got.boxes, got.score, strict=True)
            ]
            record = {"frame": t, "tracks": tracks, "quality": quality_record(rows.get(t, {}))}
            f.write(json.dumps(record) + "\n")


def _write_per_frame(path: Path, run: TrackingRun) -> None:
    keys = sorted({k for row in run.per_frame for k in row} - {"frame", "tracks"})
    with atomic_write(path, newline="") as f:
        w = csv.writer(f)
        w.writerow(["frame", "tracks", *keys])
        for row in run.per_frame:
            w.writerow(
                [int(row["frame"]), int(row["tracks"])]
                + [f"{row[k]:.4f}" if k in row else "" for k in keys]
            )
