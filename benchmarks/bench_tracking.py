"""Tracking accuracy of a trained vsdmot model beside every peer (ByteTrack, OC-SORT,
BoT-SORT, SORT, DeepSORT) and vsdmot's original ``anchor`` association.

Every tracker sees the same proposals (each sequence's ``det/det.txt``), so
the comparison is about what the tracker does with them. Datasets:

- ``--data NAME=FOLDER`` (repeatable): folders of MOTChallenge sequences, e.g.
  held-out generated sequences, clean and degraded;
- ``--mot15 FOLDER``: the real MOT15 split, PETS09-S2L1 frames 601-795 (held
  out from ``mot15-cpu`` training) and TUD-Stadtmitte (never trained on).

Writes a markdown table (and JSON) with the exact command line.

    python benchmarks/bench_tracking.py --weights runs/x/model.pt \\
        --data clean=data/test --data mix3=data/test-lq
"""

from __future__ import annotations

import argparse
import functools
import json
import shlex
import sys
import tempfile
from pathlib import Path

from vsdmot.data.mot import write_mot
from vsdmot.data.sequence import MOTSequence, list_sequences
from vsdmot.eval import evaluate
from vsdmot.proposals import DetFileProposals
from vsdmot.tracking.peers import PEERS, build_peer
from vsdmot.tracking.query_tracker import QueryTracker
from vsdmot.tracking.run import track_frames
from vsdmot.tracking.weights import load_tracker_model
from vsdmot.utils.io import atomic_write

METRICS = ("HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW")


def _frames(seq: MOTSequence, first: int, last: int):
    for t in range(first, last + 1):
        yield t, seq.frame(t)


def score_dataset(
    name: str,
    gt_root: Path,
    seqs: list[tuple[Path, int, int]],
    trackers: dict[str, callable],
    work: Path,
    gt_format: str = "auto",
) -> dict[str, dict[str, float]]:
    """Track each ``(sequence, first, last)`` with each tracker and score it."""
    out: dict[str, dict[str, float]] = {}
    for tname, make in trackers.items():
        pred = work / name / tname
        per_seq = {}
        for seq_dir, first, last in seqs:
            seq = MOTSequence(seq_dir, gt_format=gt_format)  # type: ignore[arg-type]
            tracker = make(seq.info.frame_rate)
            run = track_frames(
                tracker, _frames(seq, first, last), DetFileProposals(seq.det_path),
                total=last - first + 1, desc=f"{name}/{seq.name}/{tname}",
            )  # fmt: skip
            write_mot(pred / f"{seq_dir.name}.txt", run.results, "result")
            per_seq[seq_dir.name] = (first, last)
        scores = []
        for seq_name, (first, last) in per_seq.items():
            full = (first, last) == (1, len(MOTSequence(gt_root / seq_name)))
            res = evaluate(
                gt_root, pred, sequences=[seq_name], gt_format=gt_format,  # type: ignore[arg-type]
                frame_range=None if full else (first, last), progress=False,
            )  # fmt: skip
            scores.append((seq_name, res))
        if len(scores) == 1:
            combined = scores[0][1].combined
        else:
            combined = evaluate(gt_root, pred, gt_format=gt_format, progress=False).combined  # type: ignore[arg-type]
        out[tname] = {m: float(getattr(combined, m)) for m in METRICS}
        for seq_name, res in scores:
            out[f"{tname} [{seq_name}]"] = {m: float(getattr(res.combined, m)) for m in METRICS}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", required=True, type=Path)
    ap.add_argument("--data", action="append", default=[], help="NAME=FOLDER")
    ap.add_argument("--mot15", type=Path, default=None)
    ap.add_argument("--input-size", type=int, default=None, help="default: as recorded")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/tracking.md"))
    args = ap.parse_args()

    loaded = load_tracker_model(args.weights)
    size = {}
    if args.input_size is not None:
        size = dict(input_short_side=args.input_size,
                    input_max_side=round(args.input_size * 5 / 3))  # fmt: skip
    params = loaded.tracker_params(**size)  # the settings recorded with the weights
    anchor = loaded.tracker_params(association="anchor", motion="velocity", **size)
    trackers = {
        "vsdmot": lambda fps: QueryTracker(loaded.model, params),
        "vsdmot (anchor)": lambda fps: QueryTracker(loaded.model, anchor),
        **{name: functools.partial(build_peer, name) for name in PEERS},
    }
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for spec in args.data:
            name, _, folder = spec.partition("=")
            seqs = [(s, 1, len(MOTSequence(s))) for s in list_sequences(folder)]
            results[name] = score_dataset(name, Path(folder), seqs, trackers, work)
        if args.mot15 is not None:
            pets = args.mot15 / "PETS09-S2L1"
            results["PETS09-S2L1 601-795"] = score_dataset(
                "pets", args.mot15, [(pets, 601, 795)], trackers, work, "mot15"
            )
            tud = args.mot15 / "TUD-Stadtmitte"
            results["TUD-Stadtmitte"] = score_dataset(
                "tud", args.mot15, [(tud, 1, len(MOTSequence(tud)))], trackers, work, "mot15"
            )

    command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
    lines = [
        "# Tracking accuracy: vsdmot vs every peer on the same proposals",
        "",
        f"Weights: {loaded.describe()}; settings {params}",
        "",
        f"Command: `{command}`",
        "",
        "| data | tracker | " + " | ".join(METRICS) + " |",
        "|---|---|" + "---|" * len(METRICS),
    ]
    for data, rows in results.items():
        for tname, vals in rows.items():
            cells = " | ".join(
                str(int(vals[m])) if m == "IDSW" else f"{vals[m]:.3f}" for m in METRICS
            )
            lines.append(f"| {data} | {tname} | {cells} |")
    with atomic_write(args.out) as f:
        f.write("\n".join(lines) + "\n")
    with atomic_write(args.out.with_suffix(".json")) as f:
        json.dump(results, f, indent=2)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
