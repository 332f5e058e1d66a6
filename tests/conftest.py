"""Fixtures and helpers shared by the test modules.

Fixtures here are visible to every test module; plain helpers are imported with
``from conftest import name`` (pytest puts ``tests/`` on ``sys.path``). Groups:

* real data and weights beside the project, and a one-thread switch;
* ``offline_hub`` and ``tiny_clip``: no hub access, a tiny CLIP teacher saved on disk;
* ``write_tiny_sequence``: a small MOTChallenge sequence of moving rectangles;
* ``ToyTracker`` / ``toy_config``: a small stand-in model for the engine tests;
* ``make_seq`` / ``track_rows`` / ``write_pred``: GT and result folders for the eval tests;
* ``make_frame`` / ``degrade`` / ``to_tensor``: textured frames and degradations.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch import Tensor, nn

from vsdmot.config import TrainConfig, compose_config
from vsdmot.data.mot import MOTAnnotations, SeqInfo, write_mot, write_seqinfo
from vsdmot.models.batch import ClipBatch

# -- real data and weights beside the project; threads -----------------------------------

SHARED = Path(__file__).resolve().parents[2] / "shared"
MOT15 = SHARED / "data" / "mot15"
MOBILENET_WEIGHTS = SHARED / "weights" / "mobilenet_v2_imagenet_features.pt"


def require_shared(path: Path, what: str) -> Path:
    """``path`` under ../shared, or skip saying what is missing. A user's clone has no
    ../shared, so those tests skip; where ../shared exists (here, CI), a missing file is a
    failure, so real-data tests can never pass by skipping unnoticed."""
    if path.exists():
        return path
    message = f"{what} not found at {path} (../shared lies beside the project, not in the repo)"
    if SHARED.is_dir():
        pytest.fail(f"{message}, although {SHARED} exists")
    pytest.skip(message)


@pytest.fixture
def mot15_dir() -> Path:
    """The two real MOT15 sequences beside the project (skips when ../shared is absent)."""
    require_shared(MOT15 / "PETS09-S2L1" / "seqinfo.ini", "real MOT15 sequences")
    return MOT15


@pytest.fixture
def mobilenet_weights() -> Path:
    return require_shared(MOBILENET_WEIGHTS, "pretrained MobileNetV2 weights")


@pytest.fixture
def one_thread():
    """Run a test with one torch thread: for tiny networks intra-op threads only add
    synchronisation, which on a busy machine costs far more than the work itself."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# -- offline hub and a tiny CLIP teacher (semantics, distill, joint tests) ----------------


@pytest.fixture
def offline_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing may reach the hub: loading is tested on models saved in tmp.

    Not autouse: modules that need it say ``pytest.mark.usefixtures("offline_hub")``.
    """
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer CLIP vision tower (hidden 32, patch 8, image 32, projection 16) on disk."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    folder = tmp_path_factory.mktemp("tiny_clip")
    torch.manual_seed(0)
    config = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        patch_size=8,
        image_size=32,
        projection_dim=16,
    )
    CLIPVisionModelWithProjection(config).save_pretrained(folder)
    CLIPImageProcessor(
        size={"shortest_edge": 32},
        crop_size={"height": 32, "width": 32},
        image_mean=[0.5, 0.4, 0.3],
        image_std=[0.2, 0.25, 0.3],
    ).save_pretrained(folder)
    return folder


# -- a tiny sequence of moving rectangles (clips and engine tests) ------------------------

#: BGR colours of the objects, by track id.
COLOURS = {1: (0, 0, 255), 2: (0, 255, 0), 3: (255, 0, 0)}
BACKGROUND = 128


def object_boxes(t: int, width: int, height: int) -> dict[int, tuple[int, int, int, int]]:
    """Integer ``left, top, w, h`` of each object in frame ``t`` (1-based)."""
    return {
        1: (4 + 3 * t, 10, 16, 30),
        2: (width - 30 - 2 * t, height - 36, 14, 28),
        3: (width // 2 - 6, 6 + t, 12, 12),
    }


def write_tiny_sequence(
    root: Path,
    *,
    name: str = "TINY-01",
    n_frames: int = 8,
    width: int = 96,
    height: int = 72,
    darken: float = 1.0,
    quality: bool = False,
) -> Path:
    """A sequence of filled rectangles moving on grey, with gt, det and quality files."""
    seq = root / name
    (seq / "img1").mkdir(parents=True, exist_ok=True)
    gt_rows, det_rows = [], []
    for t in range(1, n_frames + 1):
        img = np.full((height, width, 3), BACKGROUND, np.uint8)
        for tid, (x, y, w, h) in object_boxes(t, width, height).items():
            img[y : y + h, x : x + w] = COLOURS[tid]
            gt_rows.append([t, tid, x, y, w, h, 1, -1, -1, -1])
            det_rows.append([t, -1, x + 1, y - 1, w, h, 0.9 - 0.2 * (tid - 1)])
        img = (img.astype(np.float32) * darken).astype(np.uint8)
        cv2.imwrite(str(seq / "img1" / f"{t:06d}.png"), img)
    write_seqinfo(seq / "seqinfo.ini", SeqInfo(name, n_frames, 10.0, width, height, "img1", ".png"))
    write_mot(seq / "gt" / "gt.txt", MOTAnnotations.from_rows(gt_rows), "gt", fmt="mot15")
    det = MOTAnnotations.from_rows(det_rows)
    write_mot(seq / "det" / "det.txt", det, "det")
    if quality:
        lines = ["frame,quality"] + [
            f"{t},{t / (n_frames + 1):.4f}" for t in range(1, n_frames + 1)
        ]
        (seq / "quality.csv").write_text("\n".join(lines) + "\n")
    return seq


# -- a toy tracker for the engine tests (also imported by the DDP worker script) ----------


class ToyTracker(nn.Module):
    """Regresses each frame's mean target box from pooled features and proposals.

    It has a backbone (for the lr multiplier), norms and biases (no weight decay),
    dropout (consumes the global torch RNG), a private generator (like the real
    model's track-query augmentation) and a head that never gets gradients (DDP).
    """

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__()
        torch.manual_seed(cfg.model.seed)
        self.config = cfg.model
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, stride=4), nn.GroupNorm(2, 8), nn.ReLU())
        self.head = nn.Sequential(
            nn.Linear(8 + 4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 4)
        )
        self.unused = nn.Linear(3, 3)
        self.fail_at: int | None = None
        self._calls = 0
        self._gen = torch.Generator().manual_seed(cfg.model.seed)

    def training_step(self, batch: ClipBatch) -> dict[str, Tensor]:
        self._calls += 1
        feats = self.backbone(batch.images.flatten(0, 1)).mean((2, 3))
        props = torch.stack([p[:, :4].mean(0) if len(p) else torch.zeros(4)
                             for clip in batch.proposals for p in clip])  # fmt: skip
        noise = 0.01 * torch.randn(props.shape, generator=self._gen)
        pred = self.head(torch.cat([feats, props + noise], 1)).sigmoid()
        target = torch.stack([t.boxes.mean(0) for clip in batch.targets for t in clip])
        l1 = (pred - target).abs().mean()
        loss = l1 * (float("nan") if self._calls == self.fail_at else 1.0)
        return {"loss": loss, "loss_l1": l1.detach(), "num_gt": torch.tensor(float(len(target)))}


def toy_config(data: Path, *extra: str) -> TrainConfig:
    return compose_config(
        None,
        [
            f"data.train=[{data}]",
            "data.clip_length=2",
            "data.augment.scales=[48,64]",
            "data.proposals.source=gt",
            "semantic.semantics=none",
            "optim.lr=3e-3",
            "optim.schedule=cosine",
            "optim.warmup_steps=2",
            "optim.grad_clip=1.0",
            "train.steps=6",
            "train.batch_size=2",
            "train.log_every=2",
            "train.ckpt_every=3",
            "train.tensorboard=false",
            *extra,
        ],
    )


# -- small MOTChallenge GT / result folders (evaluation tests) ----------------------------

#: Two people far apart (no overlap), 20x40 boxes, moving right 2 px a frame.
X0 = {1: 10.0, 2: 300.0}


def track_rows(
    tid_of: dict[int, int], frames: range, *, extra: list[float] | None = None
) -> list[list[float]]:
    """Rows ``frame, id, l, t, w, h, 1[, extra]``; object ``obj`` gets id ``tid_of[obj]``."""
    rows = []
    for f in frames:
        for obj, tid in tid_of.items():
            rows.append([f, tid, X0[obj] + 2 * f, 50.0, 20.0, 40.0, 1.0, *(extra or [])])
    return rows


def make_seq(
    root: Path, name: str, gt_rows: list[list[float]], num_frames: int, fmt: str = "mot16"
) -> Path:
    """``root/name/seqinfo.ini`` and ``root/name/gt/gt.txt`` (rows as given)."""
    folder = root / name
    write_seqinfo(folder / "seqinfo.ini", SeqInfo(name, num_frames, 25.0, 640, 480))
    ann = MOTAnnotations.from_rows(np.asarray(gt_rows, dtype=float))
    write_mot(folder / "gt" / "gt.txt", ann, "gt", fmt=fmt)  # type: ignore[arg-type]
    return folder


def write_pred(pred_dir: Path, name: str, rows: list[list[float]]) -> Path:
    path = pred_dir / f"{name}.txt"
    ann = MOTAnnotations.from_rows(np.asarray(rows, dtype=float).reshape(len(rows), -1))
    write_mot(path, ann, "result")
    return path


# -- generated textured frames and seeded degradations (semantic tests) -------------------
# Severity tables follow the ImageNet-C spirit (0 = identity, 5 = worst).

NOISE = (0.0, 0.04, 0.08, 0.13, 0.19, 0.27)
BLUR = (0.0, 0.8, 1.3, 1.9, 2.7, 3.6)
DARK = (1.0, 0.7, 0.5, 0.34, 0.22, 0.13)
FOG = (0.0, 0.25, 0.42, 0.57, 0.7, 0.82)
JPEG = (100, 45, 28, 18, 11, 7)
KINDS = ("gaussian_noise", "gaussian_blur", "low_light", "fog")


def make_frame(rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """A float32 (H, W, 3) frame in [0, 1]: smooth background, stripes, 2-4 shapes."""
    grid = rng.uniform(0.1, 0.9, (4, 4, 3)).astype(np.float32)
    img = cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    theta, freq = rng.uniform(0, np.pi), rng.uniform(0.3, 0.9)
    stripes = 0.12 * np.sin(freq * (np.cos(theta) * xx + np.sin(theta) * yy))
    img = img + stripes[..., None] * rng.uniform(0.3, 1.0, 3).astype(np.float32)
    for _ in range(rng.integers(2, 5)):
        color = tuple(float(c) for c in rng.uniform(0, 1, 3))
        x, y = (int(v) for v in rng.integers(0, size, 2))
        r = int(rng.integers(size // 10, size // 4))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), r, color, -1)
        else:
            cv2.rectangle(img, (x - r, y - r), (x + r, y + r // 2), color, -1)
    return np.clip(img, 0, 1).astype(np.float32)


def _interp(table, sev: float) -> float:
    return float(np.interp(sev, np.arange(6), table))


def degrade(img: np.ndarray, kind: str, sev: float, rng: np.random.Generator) -> np.ndarray:
    if kind == "gaussian_noise":
        out = img + rng.normal(0, _interp(NOISE, sev), img.shape).astype(np.float32)
    elif kind == "gaussian_blur":
        s = _interp(BLUR, sev)
        out = cv2.GaussianBlur(img, (0, 0), s) if s > 0 else img
    elif kind == "low_light":
        out = img**1.3 * _interp(DARK, sev) if sev > 0 else img
    elif kind == "fog":
        a = _interp(FOG, sev)
        out = (1 - a) * img + a * 0.75
    elif kind == "jpeg":
        q = int(_interp(JPEG, sev))
        ok, buf = cv2.imencode(".jpg", (img * 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, q])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED).astype(np.float32) / 255
    else:
        raise ValueError(kind)
    return np.clip(out, 0, 1).astype(np.float32)


def to_tensor(frames) -> torch.Tensor:
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).contiguous()


# -- joint training on a generated clean sequence and its degraded copy ---------------------

#: A tiny model and semantic branch for joint-training tests (test files add their own
#: clip length, heads and logging).
TINY_JOINT = [
    "model.backbone=mobilenet_v2",
    "model.d_model=32",
    "model.n_heads=4",
    "model.enc_layers=1",
    "model.dec_layers=2",
    "model.ffn_dim=64",
    "model.n_points=2",
    "model.num_learnable_queries=3",
    "data.augment.scales=[96]",
    "data.augment.max_size=128",
    "data.proposals.source=det",
    "data.num_workers=0",
    "semantic.adapter_hidden=32",
    "semantic.student.input_size=32",
    "semantic.student.width=0.25",
    "semantic.student.depth=6",
    "semantic.student.feature_dim=32",
    "semantic.student.head_hidden=32",
    "semantic.quality.input_size=32",
    "semantic.quality.channels=[8,16]",
    "semantic.quality.gate_hidden=16",
    "train.tensorboard=false",
    "train.device=cpu",
]


def make_lq_pair(
    root: Path, *, objects: tuple[int, int], seed: int, schedule: str
) -> tuple[Path, Path]:
    """A generated clean sequence and its Gaussian-noise copy (quality.csv, degradation.json)."""
    from vsdmot.data.synth.generate import generate_sequence
    from vsdmot.data.synth.scene import SynthConfig
    from vsdmot.degrade.dataset import degrade_dataset

    synth = SynthConfig(width=160, height=120, n_frames=8, objects=objects)
    generate_sequence(root / "clean" / "SYN-A", synth, seed=seed)
    degrade_dataset(root / "clean", root / "lq", "gaussian_noise", severity=3.0,
                    schedule=schedule, seed=0, progress=False)  # fmt: skip
    return root / "clean", root / "lq"


def joint_config(tiny: list[str], lq_data: tuple[Path, Path], teacher: Path, *extra: str):
    """A training config on the degraded copy, paired with its clean original."""
    from vsdmot.config import compose_config

    clean, lq = lq_data
    return compose_config(
        None,
        [*tiny, f"data.train=[{lq}]", f"data.clean_pairs=[{{degraded: {lq}, clean: {clean}}}]",
         f"semantic.teacher.name_or_path={teacher}", *extra],
    )  # fmt: skip


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised tiny tracker model saved the way ``vsdmot train`` saves one."""
    from vsdmot.config import compose_config
    from vsdmot.engine.checkpoint import save_model
    from vsdmot.engine.trainer import build_default_model

    cfg = compose_config("tiny-cpu", ["model.d_model=32", "model.n_heads=4", "model.ffn_dim=64"])
    path = tmp_path_factory.mktemp("weights") / "model.pt"
    save_model(path, build_default_model(cfg), cfg, step=0)
    return path
