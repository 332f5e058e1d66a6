"""Tracking accuracy of a trained vsdmot model beside every peer (ByteTrack, OC-SORT,
BoT-SORT, SORT, DeepSORT) and vsdmot's original ``anchor`` association.

Every tracker sees the same proposals (each sequence's ``det/det.txt``: the experiment
runner's ``fixed`` protocol), so the comparison is about what the tracker does with them.
Datasets:

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
import tempfile
from pathlib import Path

from common import command, table, write_report

from vsdmot.experiments.grid import GridSpec
from vsdmot.experiments.runner import METRICS, RunConfig, SequenceRange, run_grid
from vsdmot.tracking.registry import build_tracker, describe_tracker, parse_tracker

PEERS = {"bytetrack": "bytetrack", "ocsort": "ocsort", "botsort": "botsort", "sort": "sort",
         "deepsort": "deepsort"}  # fmt: skip
MOT15_SPLIT = {"PETS09-S2L1": ("PETS09-S2L1 601-795", 601, 795),
               "TUD-Stadtmitte": ("TUD-Stadtmitte", 1, None)}  # fmt: skip


def score_datasets(
    trackers: dict[str, str], data: list[str], mot15: dict[str, Path | None]
) -> dict[str, dict[str, dict[str, float]]]:
    """``{dataset: {row: metrics}}`` of each tracker spec (rows named by ``trackers``' keys)
    on every ``NAME=FOLDER`` data set (all its sequences; per-sequence rows ``ROW [SEQ]``
    too) and, for each ``{tag: MOT15 root}``, the two held-out MOT15 splits."""
    labels = {parse_tracker(spec).label: row for row, spec in trackers.items()}
    jobs = [(name, Path(folder), ()) for name, _, folder in (d.partition("=") for d in data)]
    ranges = tuple(SequenceRange(s, a, b) for s, (_, a, b) in MOT15_SPLIT.items())
    jobs += [(tag, root, ranges) for tag, root in mot15.items() if root is not None]
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, root, seqs) in enumerate(jobs):
            cfg = RunConfig(root, Path(tmp) / str(i), GridSpec(protocol="fixed"),
                            tuple(trackers.values()), sequences=seqs)  # fmt: skip
            for cell in run_grid(cfg, progress=False):
                if cell.scores is None:
                    raise RuntimeError(f"{cell.tracker} on {name}: {cell.error}")
                row, per_seq = labels[cell.tracker], cell.scores["sequences"]
                if seqs:  # MOT15: each split is a data set of its own
                    for seq, scores in per_seq.items():
                        split = f"{MOT15_SPLIT[seq][0]}{name}"
                        results.setdefault(split, {})[row] = scores
                        results[split][f"{row} [{seq}]"] = scores
                    continue
                results.setdefault(name, {})[row] = cell.scores["combined"]
                for seq, scores in per_seq.items():
                    results[name][f"{row} [{seq}]"] = scores
    return results


def sized(spec: str, size: int | None) -> str:
    """``spec`` with the model's input short side ``size`` (longer side at most 5/3 of it)."""
    if size is None:
        return spec
    return f"{spec},input_short_side={size},input_max_side={round(size * 5 / 3)}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", required=True, type=Path)
    ap.add_argument("--data", action="append", default=[], help="NAME=FOLDER")
    ap.add_argument("--mot15", type=Path, default=None)
    ap.add_argument("--input-size", type=int, default=None, help="default: as recorded")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/tracking.md"))
    args = ap.parse_args()

    spec = sized(f"vsdmot:weights={args.weights}", args.input_size)
    trackers = {"vsdmot": spec, "vsdmot (anchor)": f"{spec},association=anchor,motion=velocity",
                **PEERS}  # fmt: skip
    results = score_datasets(trackers, args.data, {"": args.mot15})
    vsdmot = build_tracker(spec)
    fmt = lambda v, m: str(int(v[m])) if m == "IDSW" else f"{v[m]:.3f}"  # noqa: E731
    lines = [
        "# Tracking accuracy: vsdmot vs every peer on the same proposals",
        "",
        f"Weights: {describe_tracker(vsdmot)}; settings {vsdmot.params}",  # type: ignore[attr-defined]
        "",
        f"Command: `{command()}`",
        "",
        *table(["data", "tracker", *METRICS], [[d, t, *(fmt(v, m) for m in METRICS)]
               for d, rows in results.items() for t, v in rows.items()]),
    ]  # fmt: skip
    write_report(args.out, lines, results)


if __name__ == "__main__":
    main()
