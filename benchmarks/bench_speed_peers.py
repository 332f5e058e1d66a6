"""End-to-end ``vsdmot track VIDEO`` speed against the peers, same default detector, one run.

Usage (from the project root)::

    python benchmarks/bench_speed_peers.py [--rounds 3] [--trackers vsdmot,...]

The video is PETS09-S2L1 frames 601-795 (768x576) written as an MP4. Every tracker
runs :func:`vsdmot.tracking.pipeline.track_source` exactly as ``vsdmot track`` does
(decode + the default YOLOv3-tiny in the worker thread + tracker + writing),
rounds interleaved (A B C, A B C, ...) so that a slow spell of a shared machine falls
on every tracker alike. Reported per tracker: the median over rounds of the wall time
of the whole call (model and detector loading included) and of the process CPU time,
each also as a ratio to ByteTrack's, and HOTA / IDF1 of the result.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from common import MOT15, ROOT, command, table, write_report

from vsdmot.bench.clips import write_clip_sequence
from vsdmot.eval import evaluate
from vsdmot.tracking.pipeline import TrackJob, track_source
from vsdmot.utils.specs import split_specs

FIRST, LAST = 601, 795
TRACKERS = "vsdmot,vsdmot-botsort,bytetrack,botsort,ocsort"


def run(clip: Path, out: Path, tracker: str, proposals: str) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    job = TrackJob(str(clip / "clip.mp4"), out / f"{clip.name}.txt", tracker=tracker,
                   proposals=proposals, progress=False)  # fmt: skip
    result = track_source(job)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    scores = evaluate(clip, out, gt_format="mot15", progress=False).combined
    return {"wall_s": wall, "cpu_s": cpu, "loop_fps": result.run.fps, "frames": result.run.frames,
            "HOTA": float(scores.HOTA), "IDF1": float(scores.IDF1)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--trackers", default=TRACKERS)
    ap.add_argument("--proposals", default="yolo", help="detector spec for every tracker "
                    "(default: the default detector), e.g. yolo:weights=robust")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/speed_peers.md")
    args = ap.parse_args(argv)
    trackers = split_specs(args.trackers)
    runs: dict[str, list[dict]] = {t: [] for t in trackers}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clip = write_clip_sequence(MOT15 / "PETS09-S2L1", FIRST, LAST, work / "PETS09-S2L1-test",
                                   frame_rate=7)  # fmt: skip
        # imports, detector session, page cache
        run(clip, work / "warmup", "bytetrack", args.proposals)
        for r in range(args.rounds):
            for i, t in enumerate(trackers):
                runs[t].append(run(clip, work / f"r{r}-{i}", t, args.proposals))
                print(t, runs[t][-1], flush=True)
    med = {t: {k: statistics.median(x[k] for x in rs) for k in rs[0]} for t, rs in runs.items()}
    base = med.get("bytetrack")

    def ratio(m: dict, key: str) -> str:
        return f"{m[key] / base[key]:.2f}x" if base else ""

    rows = [[f"`{t}`", f"{m['frames'] / m['wall_s']:.1f}", ratio(m, "wall_s"), f"{m['cpu_s']:.1f}",
             ratio(m, "cpu_s"), f"{m['HOTA']:.3f}", f"{m['IDF1']:.3f}"]
            for t, m in med.items()]  # fmt: skip
    cmd = command("benchmarks/bench_speed_peers.py")
    lines = [
        "# End to end against the peers: `vsdmot track video.mp4` at 768x576", "",
        f"Command: `{cmd}`", "",
        f"PETS09-S2L1 frames {FIRST}-{LAST} as a 768x576 MP4 (7 fps, {LAST - FIRST + 1} "
        f"frames), the detector `{args.proposals}` (in the worker thread) for every "
        "tracker, each tracker's defaults; whole call (loading, decoding, detecting, tracking, "
        f"writing); median of {args.rounds} interleaved rounds on this machine.", "",
        *table(["tracker", "frames/s", "wall vs ByteTrack", "CPU s", "CPU vs ByteTrack",
                "HOTA", "IDF1"], rows, "---:|"),
    ]  # fmt: skip
    write_report(args.out, lines, {"command": cmd, "runs": runs, "median": med})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
