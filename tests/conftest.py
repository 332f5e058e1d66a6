"""Fixtures shared by the test modules; plain helpers live in ``tests/helpers/``.

* real data and weights beside the project, and a one-thread switch;
* ``offline_hub`` and ``tiny_clip``: no hub access, a tiny CLIP teacher saved on disk;
* ``tiny_weights``: a randomly initialised tiny tracker saved as ``vsdmot train`` saves one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from vsdmot.config import compose_config

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


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised tiny tracker model saved the way ``vsdmot train`` saves one."""
    from vsdmot.engine.checkpoint import save_model
    from vsdmot.engine.trainer import build_default_model

    cfg = compose_config("tiny-cpu", ["model.d_model=32", "model.n_heads=4", "model.ffn_dim=64"])
    path = tmp_path_factory.mktemp("weights") / "model.pt"
    save_model(path, build_default_model(cfg), cfg, step=0)
    return path
