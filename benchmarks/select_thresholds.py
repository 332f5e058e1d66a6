"""Pick the runtime thresholds of a trained model on validation data only.

Usage (from the project root)::

    python benchmarks/select_thresholds.py --weights runs/default/model.pt \\
        --val DATASET[:FIRST-LAST] [--val ...] [--grid birth_thresh=0.1,0.2 --grid ...]

Each ``--val`` is a folder of MOTChallenge sequences (or one sequence) with
the proposals the model will run with in ``det/det.txt`` (``vsdmot detect``)
and an optional frame range. Every combination of the ``--grid`` values
(``TrackerParams`` fields; other fields as recorded with the weights) tracks
every validation set; the one with the best mean HOTA wins. Nothing of the
test data is read.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shlex
import statistics
import sys
import tempfile
from pathlib import Path

import torch

from vsdmot.data.mot import write_mot
from vsdmot.data.sequence import MOTSequence, list_sequences
from vsdmot.eval import evaluate
from vsdmot.proposals import DetFileProposals
from vsdmot.tracking.peers import build_peer
from vsdmot.tracking.query_tracker import QueryTracker, parse_setting
from vsdmot.tracking.run import track_frames
from vsdmot.tracking.weights import load_tracker_model
from vsdmot.utils.io import atomic_write


def parse_val(spec: str) -> tuple[Path, tuple[int, int] | None]:
    path, _, rng = spec.partition(":")
    if not rng:
        return Path(path), None
    first, last = (int(v) for v in rng.split("-"))
    return Path(path), (first, last)


def parse_grid(items: list[str]) -> dict[str, list[object]]:
    """``["birth_thresh=0.1,0.2", "association=anchor,fused"]`` -> ``{name: values}``,
    typed by the ``TrackerParams`` fields."""
    grid: dict[str, list[object]] = {}
    for item in items:
        name, _, values = item.partition("=")
        grid[name] = [parse_setting(f"{name}={v}")[1] for v in values.split(",")]
    return grid


def score(tracker, frames, props, seq_dir: Path, rng, pred: Path):
    """Track the validation frames, write the results under ``pred`` and score them."""
    run = track_frames(tracker, iter(frames), props, progress=False, overlap=False)
    write_mot(pred / f"{seq_dir.name}.txt", run.results, "result")
    return evaluate(seq_dir, pred, frame_range=rng, progress=False).combined


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, required=True)
    ap.add_argument("--val", action="append", required=True)
    ap.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="FIELD=V1,V2,...",
        help="TrackerParams field and values (repeatable) "
        "[default: birth_thresh=0.1,0.2,0.3,0.4 keep_thresh=0.3,0.4,0.5]",
    )
    ap.add_argument(
        "--peer", action="append", default=[], help="also run this peer (reference rows)"
    )
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/thresholds.md"))
    ap.add_argument("--title", default="", help="added to the report's heading")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    loaded = load_tracker_model(args.weights)
    axes = parse_grid(args.grid or ["birth_thresh=0.1,0.2,0.3,0.4", "keep_thresh=0.3,0.4,0.5"])
    names = list(axes)
    grid = list(itertools.product(*axes.values()))

    def settings(values: tuple[object, ...]) -> dict[str, object]:
        return dict(zip(names, values, strict=True))

    scores: dict[tuple[object, ...], list[float]] = {g: [] for g in grid}
    details: dict[tuple[object, ...], list[tuple[float, float, float]]] = {g: [] for g in grid}
    peers: dict[str, list[tuple[float, float, float, float]]] = {p: [] for p in args.peer}
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.val:
            root, rng = parse_val(spec)
            for seq_dir in list_sequences(root):
                seq = MOTSequence(seq_dir)
                first, last = rng or (1, len(seq))
                frames = [(t, seq.frame(t)) for t in range(first, last + 1)]
                props = DetFileProposals(seq.det_path)

                where = Path(tmp) / f"{root.name}-{seq_dir.name}"
                for values in grid:
                    params = loaded.tracker_params(**settings(values))
                    c = score(
                        QueryTracker(loaded.model, params), frames, props, seq_dir, rng,
                        Path(f"{where}-{'-'.join(map(str, values))}"),
                    )  # fmt: skip
                    scores[values].append(float(c.HOTA))
                    details[values].append((float(c.DetA), float(c.AssA), float(c.IDSW)))
                for name in args.peer:
                    peer = build_peer(name, frame_rate=seq.info.frame_rate)
                    c = score(peer, frames, props, seq_dir, rng, Path(f"{where}-peer-{name}"))
                    peers[name].append((float(c.HOTA), float(c.DetA), float(c.AssA), c.IDSW))
                print(spec, seq_dir.name, "done", flush=True)
    mean = {g: statistics.fmean(v) for g, v in scores.items()}
    best = max(mean, key=mean.get)  # type: ignore[arg-type]
    command = "python " + " ".join(
        shlex.quote(a) for a in ["benchmarks/select_thresholds.py", *sys.argv[1:]]
    )
    lines = [
        "# Runtime settings chosen on validation data" + (f" ({args.title})" if args.title else ""),
        "",
        f"Command: `{command}`",
        "",
        f"Model: {loaded.describe()}; other settings as recorded with it: "
        f"{loaded.tracker_params()}. Mean HOTA over the sequences of {len(args.val)} "
        "validation set(s).",
        "",
        "| " + " | ".join(names) + " | mean HOTA | DetA | AssA | IDSW | per set |",
        "|" + "---:|" * len(names) + "---:|---:|---:|---:|---|",
    ]
    for g in grid:
        mark = " **best**" if g == best else ""
        per = ", ".join(f"{v:.3f}" for v in scores[g])
        cells = " | ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in g)
        det = statistics.fmean(d[0] for d in details[g])
        ass = statistics.fmean(d[1] for d in details[g])
        idsw = sum(d[2] for d in details[g])
        lines.append(
            f"| {cells} | {mean[g]:.3f}{mark} | {det:.3f} | {ass:.3f} | {idsw:.0f} | {per} |"
        )
    for name, rows in peers.items():
        cells = " | ".join([f"peer: {name}"] + [""] * (len(names) - 1))
        per = ", ".join(f"{r[0]:.3f}" for r in rows)
        lines.append(
            f"| {cells} | {statistics.fmean(r[0] for r in rows):.3f} | "
            f"{statistics.fmean(r[1] for r in rows):.3f} | "
            f"{statistics.fmean(r[2] for r in rows):.3f} | {sum(r[3] for r in rows):.0f} | {per} |"
        )
    text = "\n".join(lines) + "\n"
    with atomic_write(args.out) as f:
        f.write(text)
    with atomic_write(args.out.with_suffix(".json")) as f:
        json.dump(
            {"command": command, "names": names, "best": settings(best),
             "mean": {str(k): v for k, v in mean.items()}},
            f,
        )  # fmt: skip
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
