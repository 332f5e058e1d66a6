"""ClipDataset / collate_clips / ClipSampler on a tiny sequence written here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.sequences import COLOURS, write_tiny_sequence

from vsdmot.config import AugmentConfig, CleanPair, DataConfig, ProposalConfig
from vsdmot.data.clips import (
    ClipDataset,
    ClipSampler,
    build_clip_dataset,
    collate_clips,
    make_loader,
    resolve_entries,
    training_gt,
)
from vsdmot.data.mot import MOTAnnotations, MOTFormatError
from vsdmot.nn.imagenet import IMAGENET_MEAN, IMAGENET_STD


def to_rgb(img: torch.Tensor) -> np.ndarray:
    """Normalised (3, H, W) tensor -> RGB float (H, W, 3) in [0, 1]."""
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    return (img * std + mean).permute(1, 2, 0).numpy()


def data_cfg(root: Path, **kw) -> DataConfig:
    aug = AugmentConfig(
        scales=[48, 64, 80], max_size=200, hflip=0.5, crop=0.7, crop_min=0.6,
        brightness=0.0, contrast=0.0, saturation=0.0, min_box_size=2.0,
    )  # fmt: skip
    props = ProposalConfig(source="det", score_threshold=0.3, jitter=0.0, drop=0.0,
                           false_positives=0.0)  # fmt: skip
    base = dict(train=[str(root)], clip_length=3, max_interval=2, augment=aug, proposals=props)
    base.update(kw)
    return DataConfig(**base)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    write_tiny_sequence(tmp_path / "ds", quality=True)
    return tmp_path / "ds"


def test_boxes_stay_on_their_rectangles_after_augmentation(tiny: Path) -> None:
    ds = build_clip_dataset(data_cfg(tiny), "train", seed=3)
    flips = crops = 0
    for draw in range(24):
        s = ds[(draw % len(ds), draw)]
        flips += s.meta["flip"]
        crops += s.meta["crop"] != [0, 0, 96, 72]
        _, _, h, w = s.images.shape
        assert [w, h] == s.meta["size"]
        for k, tgt in enumerate(s.targets):
            rgb = to_rgb(s.images[k])
            assert tgt.quality == pytest.approx(s.meta["frames"][k] / 9, abs=1e-4)
            for box, tid in zip(tgt.boxes.numpy(), tgt.ids.tolist(), strict=True):
                cx, cy, bw, bh = box * [w, h, w, h]
                x1, x2, y1, y2 = cx - bw / 2, cx + bw / 2, cy - bh / 2, cy + bh / 2
                inner = rgb[int(np.ceil(y1)) + 1 : int(y2) - 1, int(np.ceil(x1)) + 1 : int(x2) - 1]
                if inner.size == 0:
                    continue
                want = np.array(COLOURS[tid][::-1]) / 255.0
                assert np.abs(inner.mean((0, 1)) - want).max() < 0.08, (draw, k, tid)
                # The box is tight: a 2 px band beyond each edge (inside the image) is not it.
                for band in (
                    rgb[int(y1) : int(y2), max(int(x1) - 3, 0) : max(int(x1) - 1, 0)],
                    rgb[int(y1) : int(y2), int(np.ceil(x2)) + 1 : int(np.ceil(x2)) + 3],
                ):
                    if band.size:
                        assert np.abs(band.mean((0, 1)) - want).max() > 0.2, (draw, k, tid)
    assert 0 < flips < 24 and crops > 0


def test_ids_consistent_and_proposals_follow_detections(tiny: Path) -> None:
    cfg = data_cfg(tiny)
    cfg.augment.crop = 0.0
    ds = ClipDataset(resolve_entries(cfg.train, {}), cfg, train=True, seed=0)
    s = ds[(0, 5)]
    for tgt, props in zip(s.targets, s.proposals, strict=True):
        assert tgt.ids.tolist() == [1, 2, 3]
        # det scores 0.9, 0.7, 0.5 (all >= 0.3); det boxes are gt shifted by (+1, -1) px
        assert props[:, 4].tolist() == pytest.approx([0.9, 0.7, 0.5])
        sign = -1.0 if s.meta["flip"] else 1.0
        shift = props[:, :2] - tgt.boxes[:, :2]
        assert shift[:, 0].tolist() == pytest.approx([sign / 96] * 3, abs=1e-5)
        assert shift[:, 1].tolist() == pytest.approx([-1 / 72] * 3, abs=1e-5)
        assert torch.allclose(props[:, 2:4], tgt.boxes[:, 2:])


def test_mot16_gt_keeps_active_pedestrians_only() -> None:
    gt = MOTAnnotations.from_rows(
        [
            [1, 1, 0, 0, 5, 5, 1, 1, 1.0],
            [1, 2, 0, 0, 5, 5, 0, 1, 1.0],
            [1, 3, 0, 0, 5, 5, 1, 7, 1.0],
        ]
    )
    assert training_gt(gt).track_id.tolist() == [1]
    mot15 = MOTAnnotations.from_rows([[1, 1, 0, 0, 5, 5, 1], [1, 2, 0, 0, 5, 5, 1]])
    assert len(training_gt(mot15)) == 2


def test_collate_pads_and_masks_b2(tiny: Path) -> None:
    ds = build_clip_dataset(data_cfg(tiny), "train", seed=0)
    samples, sizes = [], set()
    for draw in range(40):
        s = ds[(draw % len(ds), draw)]
        if tuple(s.meta["size"]) not in sizes:
            sizes.add(tuple(s.meta["size"]))
            samples.append(s)
        if len(samples) == 2:
            break
    assert len(samples) == 2
    batch = collate_clips(samples)
    hmax = max(s.images.shape[2] for s in samples)
    wmax = max(s.images.shape[3] for s in samples)
    assert batch.images.shape == (2, 3, 3, hmax, wmax)
    assert batch.masks.shape == (2, 3, hmax, wmax) and batch.masks.dtype == torch.bool
    for i, s in enumerate(samples):
        h, w = s.images.shape[2:]
        assert not batch.masks[i, :, :h, :w].any()
        assert batch.masks[i].sum() == 3 * (hmax * wmax - h * w)
        assert torch.equal(batch.images[i, :, :, :h, :w], s.images)
        assert batch.images[i][batch.masks[i].unsqueeze(1).expand(-1, 3, -1, -1)].abs().sum() == 0
    assert batch.clean_images is None and batch.batch_size == 2 and batch.clip_length == 3


def _stream(loader, n: int) -> list[tuple]:
    out = []
    for _, b in zip(range(n), loader, strict=False):
        out.append((tuple(m["draw"] for m in b.meta), b.images.sum().item(),
                    [p.sum().item() for clip in b.proposals for p in clip]))  # fmt: skip
    return out


def test_loader_is_reproducible_and_resumable(tiny: Path) -> None:
    cfg = data_cfg(tiny)
    cfg.proposals = ProposalConfig(source="gt", jitter=0.05, drop=0.2, false_positives=1.0)
    ds = build_clip_dataset(cfg, "train", seed=7)
    a = _stream(make_loader(ds, 2, seed=7), 4)
    assert a == _stream(make_loader(ds, 2, seed=7), 4)
    # Resuming at step 2 continues the same stream.
    assert a[2:] == _stream(make_loader(ds, 2, seed=7, start_step=2), 2)
    # A worker process produces the same clips as the main process.
    assert a == _stream(make_loader(ds, 2, seed=7, num_workers=1), 4)
    other = build_clip_dataset(cfg, "train", seed=8)
    assert a != _stream(make_loader(other, 2, seed=8), 4)


def test_sampler_shards_ranks_and_covers_epoch() -> None:
    n = 10
    r0 = ClipSampler(n, seed=1, rank=0, world_size=2)
    r1 = ClipSampler(n, seed=1, rank=1, world_size=2)
    k0 = [k for _, k in zip(range(5), r0, strict=False)]
    k1 = [k for _, k in zip(range(5), r1, strict=False)]
    assert sorted(i for i, _ in k0 + k1) == list(range(n))  # one epoch, disjoint
    assert [g for _, g in k0] == [0, 2, 4, 6, 8] and [g for _, g in k1] == [1, 3, 5, 7, 9]


def test_clean_pairs_give_the_clean_frames(tmp_path: Path) -> None:
    clean_ds = tmp_path / "clean"
    deg_ds = tmp_path / "deg"
    write_tiny_sequence(clean_ds)
    seq = write_tiny_sequence(deg_ds, darken=0.5)
    (seq / "degradation.json").write_text(json.dumps({"type": "low_light"}))
    cfg = data_cfg(deg_ds, clean_pairs=[CleanPair(str(deg_ds), str(clean_ds))])
    deg = build_clip_dataset(cfg, "train", seed=1)
    ref = build_clip_dataset(data_cfg(clean_ds), "train", seed=1)
    s, r = deg[(2, 11)], ref[(2, 11)]
    assert s.clean_images is not None
    assert torch.equal(s.clean_images, r.images)
    assert to_rgb(s.images[0]).mean() < 0.7 * to_rgb(s.clean_images[0]).mean()
    batch = collate_clips([s, ref[(0, 3)]])
    assert batch.clean_images is not None
    # A clip from a clean sequence is its own clean version.
    h, w = ref[(0, 3)].images.shape[2:]
    assert torch.equal(batch.clean_images[1, :, :, :h, :w], batch.images[1, :, :, :h, :w])


def test_clear_errors(tmp_path: Path, tiny: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(MOTFormatError, match="empty: no sequence folders"):
        build_clip_dataset(data_cfg(tmp_path / "empty"))
    with pytest.raises(MOTFormatError, match="data.train lists no dataset"):
        build_clip_dataset(data_cfg(tiny, train=[]))
    with pytest.raises(MOTFormatError, match="NOPE"):
        build_clip_dataset(data_cfg(tiny, train_frames={"NOPE": [1, 3]}))
    with pytest.raises(MOTFormatError, match="only 8 frames"):
        build_clip_dataset(data_cfg(tiny, train_frames={"TINY-01": [1, 30]}))
    (tiny / "TINY-01" / "det" / "det.txt").unlink()
    with pytest.raises(MOTFormatError, match=r"det\.txt.*source=det"):
        build_clip_dataset(data_cfg(tiny))
    (tiny / "TINY-01" / "quality.csv").write_text("frame,q\n1,0.5\n")
    with pytest.raises(MOTFormatError, match=r"quality\.csv: no 'quality' column"):
        build_clip_dataset(data_cfg(tiny, proposals=ProposalConfig(source="gt")))


def test_frame_range_and_eval_split(tiny: Path) -> None:
    cfg = data_cfg(tiny, train_frames={"TINY-01": [1, 5]}, val=[str(tiny)],
                   val_frames={"TINY-01": [6, 8]}, input_size=36)  # fmt: skip
    train = build_clip_dataset(cfg, "train")
    val = build_clip_dataset(cfg, "val")
    assert len(train) == 3 and len(val) == 1  # starts 1..3 and 6
    for draw in range(10):
        assert max(train[(draw % 3, draw)].meta["frames"]) <= 5
    v = val[0]
    assert v.meta["frames"] == [6, 7, 8] and v.meta["size"] == [48, 36]
    assert v.targets[0].boxes[0].tolist() == pytest.approx(
        [(4 + 18 + 8) / 96, (10 + 15) / 72, 16 / 96, 30 / 72], abs=1e-5
    )
