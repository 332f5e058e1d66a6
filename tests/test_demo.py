"""``vsdmot demo --quick`` end to end with the shipped model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vsdmot.cli.main import app
from vsdmot.data.sources import VideoFileSource
from vsdmot.tracking.weights import default_weights_path


@pytest.mark.skipif(not default_weights_path().is_file(), reason="shipped weights missing")
def test_demo_quick_writes_every_output_and_tracks(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("results.md", "results.json", "hota_by_severity.png",
                 "hota_quality_over_time.png", "vsdmot-degraded.mp4"):  # fmt: skip
        assert (out / name).is_file(), name
        assert str(out / name) in result.output  # the demo says where everything is
    assert (out / "hota_quality_over_time.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(VideoFileSource(out / "vsdmot-degraded.mp4")) == 40

    scores = json.loads((out / "results.json").read_text())
    assert set(scores) == {"vsdmot clean", "vsdmot degraded", "bytetrack clean",
                           "bytetrack degraded"}  # fmt: skip
    # The shipped model tracks the generated clean clip well (0.85 when measured) ...
    assert scores["vsdmot clean"]["HOTA"] >= 0.7
    # ... and degradation costs it, as it costs ByteTrack on the same proposals.
    assert 0 < scores["vsdmot degraded"]["rPC"] < 1
    assert scores["vsdmot degraded"]["HOTA"] < scores["vsdmot clean"]["HOTA"]
