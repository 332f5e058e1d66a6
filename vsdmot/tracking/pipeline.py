"""Track a whole source end to end: frames + proposals -> tracker -> files.

This is what ``vsdmot track`` and ``vsdmot demo`` run; it is a plain function so
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
from vsdmot.tracking.base import FrameTracks, Tracker
from vsdmot.tracking.run import TrackingRun, track_frames
from vsdmot.utils.io import atomic_write

log = logging.getLogger(__name__)

OutputFormat = Literal["mot", "jsonl"]
TrackerKind = Literal["vsdmot", "bytetrack", "ocsort", "botsort", "sort", "deepsort"]


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
            f"weights:   {self.weights}",
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


def build_tracker(
    kind: TrackerKind,
    *,
    weights: str | Path | None = None,
    device: str = "cpu",
    frame_rate: float = 30.0,
    params: dict | None = None,
) -> tuple[Tracker, str]:
    """The tracker and a description of its weights."""
    if kind == "vsdmot":
        from vsdmot.tracking.query_tracker import QueryTracker
        from vsdmot.tracking.weights import load_tracker_model

        loaded = load_tracker_model(weights, device=device)
        tracker = QueryTracker(loaded.model, loaded.tracker_params(**(params or {})), device=device)
        return tracker, loaded.describe()
    from vsdmot.tracking.peers import build_peer

    peer = build_peer(kind, frame_rate=frame_rate, **(params or {}))
    return peer, peer.describe()


def track_source(
    source: str,
    out: str | Path,
    *,
    tracker: TrackerKind = "vsdmot",
    weights: str | Path | None = None,
    proposals: str | None = None,
    min_score: float = 0.0,
    output_format: OutputFormat = "mot",
    video: str | Path | None = None,
    show: bool = False,
    device: str = "cpu",
    tracker_params: dict | None = None,
    max_frames: int | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    threads: int | None = None,
    overlap: bool = True,
) -> TrackOutputs:
    """Track ``source`` (video, image folder, sequence folder, glob, camera, URL).

    Writes the results (MOTChallenge txt or JSON lines) to ``out`` and, beside
    it, ``<out stem>.frames.csv`` with per-frame track counts and, when the
    semantic branch is on, the quality q_t and mean fusion weight w_t. With
    ``video`` a rendered MP4 is written. A stream that drops ends the run
    cleanly with everything tracked so far written.

    Decoding and proposals run in a worker thread beside the tracker
    (``overlap``); ``threads`` sets the tracker's torch threads (default:
    every core but the one the detector worker uses).
    """
    from vsdmot.proposals import build_proposal_source
    from vsdmot.render import LiveWindow, TrackRenderer, VideoWriter

    out = Path(out)
    frames = open_source(source)
    spec = proposals or default_proposal_spec(source)
    prop_source = build_proposal_source(
        spec,
        sequence=source if (Path(source) / "seqinfo.ini").is_file() else None,
        min_score=min_score,
        cache_dir=cache_dir,
        video=source if cache_dir is not None else None,
    )
    trk, weights_desc = build_tracker(
        tracker, weights=weights, device=device, frame_rate=frames.fps, params=tracker_params
    )
    renderer = TrackRenderer() if (video is not None or show) else None
    window = LiveWindow() if show else None

    with contextlib.ExitStack() as stack:
        stack.callback(frames.close)
        if hasattr(prop_source, "close"):
            stack.callback(prop_source.close)
        writer = (
            stack.enter_context(VideoWriter(video, fps=frames.fps)) if video is not None else None
        )
        stop = False

        def on_frame(t: int, frame: np.ndarray, tracks: FrameTracks) -> None:
            nonlocal stop
            if renderer is None:
                return
            canvas = renderer.draw(
                frame,
                t,
                tracks.xyxy,
                tracks.tracker_ids,
                scores=tracks.tracker_confidences,
                quality=tracks.extras.get("quality"),  # type: ignore[arg-type]
                weight=tracks.extras.get("weight"),  # type: ignore[arg-type]
            )
            if writer is not None:
                writer.write(canvas)
            if window is not None and not window.show(canvas):
                stop = True

        def limited():
            for i, item in enumerate(frames, start=1):
                if stop or (max_frames is not None and i > max_frames):
                    return
                yield item

        total = frames.length
        if max_frames is not None:
            total = min(max_frames, total or max_frames)
        stack.enter_context(_threads(threads or max(1, (os.cpu_count() or 2) - 1)))
        run = track_frames(
            trk,
            limited(),
            prop_source,
            total=total,
            on_frame=on_frame,
            progress=progress,
            overlap=overlap,
        )
        run.skipped = sorted(set(run.skipped) | set(frames.skipped))
        if window is not None:
            window.close()

    if output_format == "mot":
        write_mot(out, run.results, "result")
    else:
        _write_jsonl(out, run)
    per_frame = out.with_name(out.stem + ".frames.csv")
    _write_per_frame(per_frame, run)
    return TrackOutputs(
        results=out,
        per_frame=per_frame,
        video=Path(video) if video is not None else None,
        run=run,
        weights=weights_desc,
        proposals=_describe(prop_source, spec),
    )


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


def _write_jsonl(path: Path, run: TrackingRun) -> None:
    res = run.results
    with atomic_write(path) as f:
        for t in np.unique(res.frame):
            rows = res.for_frame(int(t))
            tracks = [
                {"id": int(i), "ltwh": [round(float(v), 2) for v in b], "score": round(float(s), 4)}
                for i, b, s in zip(rows.track_id, rows.boxes, rows.score, strict=True)
            ]
            f.write(json.dumps({"frame": int(t), "tracks": tracks}) + "\n")


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
