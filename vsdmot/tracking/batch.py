"""``vsdmot track --batch``: many videos, one result each, resumable, on any executor.

A batch is a folder (its video files, and its sub-folders that hold a sequence or image
frames) or a list file (one source per line, as ``vsdmot track`` takes it; blank lines
and ``#`` comments skipped; relative paths are relative to the list). Each video is one
task that writes ``OUT/<name>.txt`` (or ``.jsonl``), ``OUT/<name>.frames.csv`` and,
last, ``OUT/<name>.job.json``: what was tracked with what. A video whose record
matches the job is done and skipped when the batch runs again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vsdmot.data.sources import IMAGE_EXTS, VIDEO_EXTS, FrameSourceError, natural_key
from vsdmot.executors import Executor, ProgressBar, Scheduler, Task
from vsdmot.tracking.pipeline import TrackJob, track_source
from vsdmot.utils.io import atomic_write
from vsdmot.utils.outputs import default_stem

log = logging.getLogger(__name__)


def batch_sources(path: str | Path) -> list[str]:
    """The sources a batch names: a folder's videos and frame folders, or a list file's lines.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> for name in ("b.mp4", "a10.avi", "a9.mkv", "notes.txt"):
    ...     _ = (d / name).write_bytes(b"")
    >>> [Path(s).name for s in batch_sources(d)]
    ['a9.mkv', 'a10.avi', 'b.mp4']
    >>> _ = (d / "list.txt").write_text("# clips\\nb.mp4\\n\\nrtsp://cam/1\\n")
    >>> [s if "://" in s else Path(s).name for s in batch_sources(d / "list.txt")]
    ['b.mp4', 'rtsp://cam/1']
    """
    path = Path(path)
    if path.is_dir():
        entries = sorted(path.iterdir(), key=lambda p: natural_key(p.name))
        found = [str(p) for p in entries if _is_video(p) or _is_frames_folder(p)]
        if not found:
            raise FrameSourceError(f"{path}: no video files, sequence or image folders in it")
        return found
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such batch folder or list file")
    lines = [ln.strip() for ln in path.read_text().splitlines()]
    found = [_relative_to(path.parent, ln) for ln in lines if ln and not ln.startswith("#")]
    if not found:
        raise ValueError(f"{path}: the list names no sources")
    return found


def _is_video(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_EXTS


def _is_frames_folder(path: Path) -> bool:
    if not path.is_dir():
        return False
    if (path / "seqinfo.ini").is_file():
        return True
    return any(p.suffix.lower() in IMAGE_EXTS for p in path.iterdir())


def _relative_to(folder: Path, source: str) -> str:
    """A list line: paths relative to the list's folder; cameras and streams as written."""
    if source.isdigit() or "://" in source or Path(source).is_absolute():
        return source
    return str(folder / source)


def batch_jobs(sources: list[str], out_dir: Path, template: TrackJob) -> list[TrackJob]:
    """One job per source, each writing ``out_dir/<source name>.<txt|jsonl>``; two sources
    with the same name are refused (one would overwrite the other).

    >>> jobs = batch_jobs(["a/walk.mp4", "b/run.mp4"], Path("out"), TrackJob("", Path()))
    >>> [str(j.out) for j in jobs]
    ['out/walk.txt', 'out/run.txt']
    >>> batch_jobs(["a/walk.mp4", "b/walk.avi"], Path("out"), TrackJob("", Path()))
    Traceback (most recent call last):
    ...
    ValueError: b/walk.avi and a/walk.mp4 would both write out/walk.txt: give them other names
    """
    ext = "txt" if template.output_format == "mot" else "jsonl"
    by_out: dict[Path, str] = {}
    for source in sources:
        out = out_dir / f"{default_stem(source)}.{ext}"
        if out in by_out:
            raise ValueError(f"{source} and {by_out[out]} would both write {out}: "
                             "give them other names")  # fmt: skip
        by_out[out] = source
    return [replace(template, source=s, out=o) for o, s in by_out.items()]


def record_path(job: TrackJob) -> Path:
    """``<out stem>.job.json``, written after the results: its presence marks the video done."""
    return job.out.with_name(job.out.stem + ".job.json")


def job_record(job: TrackJob) -> dict[str, Any]:
    """What decides a video's results: a stored record that differs is redone."""
    return {"source": job.source, "tracker": job.tracker, "proposals": job.proposals,
            "min_score": job.min_score, "max_frames": job.max_frames,
            "format": job.output_format}  # fmt: skip


def is_done(job: TrackJob) -> bool:
    """The video's results are complete and were made by the same job."""
    path = record_path(job)
    if not (path.is_file() and job.out.is_file()):
        return False
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return stored.get("job") == job_record(job)


def track_video(job: TrackJob) -> dict[str, Any]:
    """One video of a batch (a task): track it, then write its record."""
    result = track_source(job)
    run = {"frames": result.run.frames, "tracks": result.run.num_tracks,
           "fps": result.run.fps, "interrupted": result.run.interrupted}  # fmt: skip
    if not result.run.interrupted:
        with atomic_write(record_path(job)) as f:
            json.dump({"job": job_record(job), "run": run}, f, indent=1)
    return run


@dataclass
class BatchReport:
    """What a batch did: videos tracked now, found done, failed (source -> error)."""

    tracked: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False

    def summary(self) -> str:
        total = len(self.tracked) + len(self.skipped) + len(self.failed)
        return (f"{total} videos ({len(self.tracked)} tracked now, {len(self.skipped)} "
                f"already done, {len(self.failed)} failed)")  # fmt: skip


def run_batch(jobs: list[TrackJob], executor: Executor, *, progress: bool = True) -> BatchReport:
    """Track every job not done yet, as tasks on ``executor`` (each with its threads); a
    video that fails twice is reported, the others go on."""
    report = BatchReport(skipped=[j.source for j in jobs if is_done(j)])
    with ProgressBar(len(jobs), "videos", "video", enabled=progress) as bar:
        for _ in report.skipped:
            bar.finished()
        sched = Scheduler(executor, on_running=bar.set_running)
        threads = executor.threads
        for job in jobs:
            if job.source not in report.skipped:
                task_job = replace(job, progress=False, threads=threads or job.threads)
                sched.submit(Task(job.source, track_video, (task_job,)))
        for outcome in sched:
            source = str(outcome.task.key)
            if not outcome.ok:
                report.failed[source] = outcome.error or "failed"
            elif outcome.value["interrupted"]:
                report.interrupted = True
                break
            else:
                report.tracked.append(source)
            bar.finished(failed=not outcome.ok)
    return report
