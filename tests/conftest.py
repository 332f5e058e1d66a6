from __future__ import annotations

from pathlib import Path

import pytest
import torch

SHARED = Path(__file__).resolve().parents[2] / "shared"
MOT15 = SHARED / "data" / "mot15"
MOBILENET_WEIGHTS = SHARED / "weights" / "mobilenet_v2_imagenet_features.pt"


@pytest.fixture
def mot15_dir() -> Path:
    """The two real MOT15 sequences beside the project (skips when absent)."""
    if not (MOT15 / "PETS09-S2L1" / "seqinfo.ini").is_file():
        pytest.skip(f"real MOT15 sequences not found at {MOT15} (they are not part of the repo)")
    return MOT15


@pytest.fixture
def mobilenet_weights() -> Path:
    if not MOBILENET_WEIGHTS.is_file():
        pytest.skip(f"pretrained MobileNetV2 weights not found at {MOBILENET_WEIGHTS}")
    return MOBILENET_WEIGHTS


@pytest.fixture
def one_thread():
    """Run a test with one torch thread: for tiny networks intra-op threads only add
    synchronisation, which on a busy machine costs far more than the work itself."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
