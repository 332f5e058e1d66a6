"""The runtime tracker's copy of the model is prepared for inference (batch norm folded,
channels-last weights): same outputs, same tracks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from helpers.sequences import generated_dataset

from vsdmot.data.sequence import MOTSequence
from vsdmot.nn.fold import prepare_for_inference
from vsdmot.proposals import DetFileProposals
from vsdmot.tracking.params import InputParams
from vsdmot.tracking.query_tracker import model_inputs
from vsdmot.tracking.registry import build_tracker
from vsdmot.tracking.run import track_frames
from vsdmot.tracking.weights import load_tracker_model


def test_the_prepared_shipped_model_gives_the_same_outputs() -> None:
    plain, prepared = load_tracker_model().model, load_tracker_model().model
    prepare_for_inference(prepared)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in prepared.modules())
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    proposals = np.array([[40, 40, 80, 160, 0.9], [150, 60, 190, 200, 0.6]])
    image, mask, props, _ = model_inputs(frame, proposals, InputParams(), torch.device("cpu"))
    with torch.no_grad():
        a = plain.inference_step(image, mask, props, None)
        b = prepared.inference_step(image, mask, props, None)
    torch.testing.assert_close(b.logits, a.logits, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(b.boxes, a.boxes, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(b.embeddings, a.embeddings, atol=1e-4, rtol=1e-4)


def test_tracks_are_the_same_with_the_prepared_model(tmp_path: Path, monkeypatch) -> None:
    seq = MOTSequence(generated_dataset(tmp_path / "d", sequences=1, frames=12) / "SYNTH-0000")

    def tracks():
        tracker = build_tracker("vsdmot", frame_rate=seq.info.frame_rate)
        return track_frames(tracker, seq, DetFileProposals(seq.det_path), progress=False).results

    prepared = tracks()
    monkeypatch.setattr("vsdmot.nn.fold.prepare_for_inference", lambda model: model)
    plain = tracks()
    assert len(plain.frame) > 10
    np.testing.assert_array_equal(prepared.track_id, plain.track_id)
    np.testing.assert_allclose(prepared.boxes, plain.boxes, atol=1e-3)
