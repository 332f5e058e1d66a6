"""robustness(): rPC and HOTA per severity bucket on a hand-built clean / LQ pair.

Scene: two objects x 10 frames. Clean predictions are perfect. On the LQ
copy, severities are 0.2 (frames 1-5, bucket 0), 2.6 (frames 6-8, bucket 3)
and 4.5 (frames 9-10, bucket 5), and the LQ predictions lose object 2 from
frame 6 on.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from helpers.sequences import make_seq, track_rows, write_pred
from typer.testing import CliRunner

from vsdmot.cli.main import app
from vsdmot.data.mot import MOTFormatError
from vsdmot.eval import plot_robustness, robustness
from vsdmot.eval.quality import read_severity

FRAMES = range(1, 11)
SAME = {1: 1, 2: 2}
SEVERITY = {**dict.fromkeys(range(1, 6), 0.2), 6: 2.6, 7: 2.6, 8: 2.6, 9: 4.5, 10: 4.5}


def _quality_csv(path: Path, severity: dict[int, float]) -> None:
    lines = ["frame,types,severity,quality,psnr,ssim"]
    lines += [f'{f},"noise,jpeg",{s},{1 - s / 5:.3f},30.0,0.9' for f, s in severity.items()]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def pair(tmp_path: Path) -> dict[str, Path]:
    p = {k: tmp_path / k for k in ("gt", "pred", "lq_gt", "lq_pred")}
    gt_rows = track_rows(SAME, FRAMES, extra=[1.0, 1.0])
    make_seq(p["gt"], "S", gt_rows, 10)
    lq = make_seq(p["lq_gt"], "S", gt_rows, 10)
    _quality_csv(lq / "quality.csv", SEVERITY)
    p["pred"].mkdir()
    p["lq_pred"].mkdir()
    write_pred(p["pred"], "S", track_rows(SAME, FRAMES))
    write_pred(p["lq_pred"], "S", track_rows(SAME, range(1, 6)) + track_rows({1: 1}, range(6, 11)))
    return p


def test_rpc_and_severity_buckets(pair: dict[str, Path], tmp_path: Path) -> None:
    r = robustness(pair["gt"], pair["pred"], pair["lq_gt"], pair["lq_pred"], progress=False)
    assert pytest.approx(1.0) == r.clean.combined.HOTA
    # LQ, whole sequence: 15 of 20 gt boxes found -> DetA = 0.75. Object 1's 10 TPs
    # have association 1; object 2's 5 TPs have 5 / (5 + 5 + 0) = 0.5, so
    # AssA = (10 * 1 + 5 * 0.5) / 15 = 5/6 and HOTA = sqrt(0.75 * 5/6).
    hota_lq = math.sqrt(0.75 * 5 / 6)
    assert pytest.approx(hota_lq) == r.lq.combined.HOTA
    assert r.rPC == pytest.approx(r.lq.combined.HOTA / r.clean.combined.HOTA)
    assert r.rPC == pytest.approx(hota_lq)
    assert r.rPC_sequences == {"S": pytest.approx(hota_lq)}
    # Buckets from quality.csv: 0 (frames 1-5), 3 (6-8), 5 (9-10; 4.5 rounds up).
    assert sorted(r.buckets) == [0, 3, 5]
    assert [r.buckets[b].frames for b in (0, 3, 5)] == [5, 3, 2]
    # Bucket 0 is perfect; in buckets 3 and 5 half the boxes are missed while the
    # found track is whole inside the bucket: DetA = 0.5, AssA = 1.
    assert r.hota_by_severity == pytest.approx({0: 1.0, 3: math.sqrt(0.5), 5: math.sqrt(0.5)})
    assert r.buckets[3].lq.combined.GT_Dets == 6
    assert r.buckets[3].lq.combined.FN == 3
    # The clean run scored on the same frames is the like-for-like reference.
    assert all(b.clean_hota == pytest.approx(1.0) for b in r.buckets.values())

    png = tmp_path / "plot.png"
    plot_robustness(r, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 5000


def test_bad_or_missing_quality_csv(pair: dict[str, Path]) -> None:
    args = (pair["gt"], pair["pred"], pair["lq_gt"], pair["lq_pred"])
    qpath = pair["lq_gt"] / "S" / "quality.csv"
    _quality_csv(qpath, {**SEVERITY, 4: 7.0})
    with pytest.raises(MOTFormatError, match=r"quality\.csv:5: severity 7\.0 outside 0\.\.5"):
        robustness(*args, progress=False)
    _quality_csv(qpath, {**SEVERITY, 11: 1.0})
    with pytest.raises(MOTFormatError, match=r"quality\.csv:\d+: frame 11 outside 1\.\.10"):
        read_severity(qpath, 10)
    qpath.unlink()
    with pytest.raises(MOTFormatError, match=r"quality\.csv not found"):
        robustness(*args, progress=False)


def test_cli_robustness_mode(pair: dict[str, Path], tmp_path: Path) -> None:
    out, csv_path, png = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "r.png"
    args = ["eval", "--gt", str(pair["gt"]), "--pred", str(pair["pred"])]
    args += ["--lq-gt", str(pair["lq_gt"]), "--pred-lq", str(pair["lq_pred"])]
    res = CliRunner().invoke(
        app, [*args, "--json", str(out), "--csv", str(csv_path), "--plot", str(png)]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["rPC"]["combined"] == pytest.approx(math.sqrt(0.75 * 5 / 6))
    assert data["HOTA_by_severity"]["3"] == pytest.approx(math.sqrt(0.5))
    assert data["lq"]["combined"]["CLR_FN"] == 5
    rows = csv_path.read_text().splitlines()
    assert [r.split(",")[:2] for r in rows[1:]] == [["0", "5"], ["3", "3"], ["5", "2"]]
    assert png.read_bytes()[:4] == b"\x89PNG"
    half = CliRunner().invoke(app, [*args[:5], "--lq-gt", str(pair["lq_gt"])])
    assert half.exit_code == 2 and "go together" in half.output
