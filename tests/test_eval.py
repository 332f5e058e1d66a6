"""evaluate(): TrackEval scores on small hand-built sequences with hand-computed answers.

Scene used throughout: two objects, 10 frames, boxes far apart (IoU between
different objects is 0, IoU of an exact copy is 1), so 20 gt boxes.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from helpers.sequences import make_seq, track_rows, write_pred
from typer.testing import CliRunner

from vsdmot.cli.main import app
from vsdmot.data.mot import MOTFormatError
from vsdmot.eval import EvalResult, evaluate, write_csv, write_json

MOT16_EXTRA = [1.0, 1.0]  # class pedestrian, fully visible
FRAMES = range(1, 11)
SAME = {1: 1, 2: 2}


@pytest.fixture
def scene(tmp_path: Path) -> tuple[Path, Path]:
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    make_seq(gt, "S", track_rows(SAME, FRAMES, extra=MOT16_EXTRA), 10)
    pred.mkdir()
    return gt, pred


def test_perfect_predictions_mot16(scene: tuple[Path, Path]) -> None:
    gt, pred = scene
    write_pred(pred, "S", track_rows(SAME, FRAMES))
    r = evaluate(gt, pred)
    m = r.sequences["S"]
    assert r.gt_formats == {"S": "mot16"}
    assert (m.HOTA, m.MOTA, m.IDF1, m.DetA, m.AssA) == pytest.approx((1, 1, 1, 1, 1))
    assert (m.IDSW, m.FP, m.FN, m.CLR_TP, m.GT_Dets, m.GT_IDs) == (0, 0, 0, 20, 20, 2)
    assert isinstance(m.IDSW, int) and isinstance(m.HOTA, float)


def test_perfect_predictions_mot15(tmp_path: Path) -> None:
    # Real MOT15 gt: 10 columns, x/y/z world coordinates in columns 8-10. Read as
    # classes they would be invalid; MOT15 mode must ignore them.
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    folder = make_seq(gt, "S", track_rows(SAME, FRAMES), 10, fmt="mot15")
    rows = track_rows(SAME, FRAMES, extra=[-4.15, 7.36, 0.0])
    (folder / "gt" / "gt.txt").write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n")
    pred.mkdir()
    write_pred(pred, "S", track_rows(SAME, FRAMES))
    r = evaluate(gt, pred)
    assert r.gt_formats == {"S": "mot15"}
    m = r.sequences["S"]
    assert pytest.approx((1, 1, 1)) == (m.HOTA, m.MOTA, m.IDF1)
    assert m.GT_Dets == 20
    # Forcing MOT16 reads world x as a class: a clear error, not TrackEval's.
    with pytest.raises(MOTFormatError, match=r"gt\.txt.*class -4 .*MOT15"):
        evaluate(gt, pred, gt_format="mot16")


def test_id_switch_hand_computed(scene: tuple[Path, Path]) -> None:
    gt, pred = scene
    # Ids swap from frame 6 on: both gt tracks change their matched id once.
    write_pred(pred, "S", track_rows(SAME, range(1, 6)) + track_rows({1: 2, 2: 1}, range(6, 11)))
    m = evaluate(gt, pred).combined
    # CLEAR: IDSW = 2 (one per gt track); MOTA = 1 - (FN + FP + IDSW) / GT = 1 - 2/20.
    assert m.IDSW == 2 and m.FP == 0 and m.FN == 0
    assert pytest.approx(0.9) == m.MOTA
    assert pytest.approx(1.0) == m.MOTP
    # Identity: best 1-1 map gt1->id1, gt2->id2 shares 5 frames each: IDTP = 10,
    # IDFN = IDFP = 10; IDF1 = 2*10 / (2*10 + 10 + 10) = 0.5.
    assert (m.IDTP, m.IDFN, m.IDFP) == (10, 10, 10)
    assert pytest.approx(0.5) == m.IDF1
    # HOTA: every box is a TP (DetA = 1); each TP's association score is
    # TPA / (TPA + FNA + FPA) = 5 / (5 + 5 + 5) = 1/3, so HOTA = sqrt(1/3).
    assert m.DetA == pytest.approx(1.0)
    assert m.AssA == pytest.approx(1 / 3)
    assert pytest.approx(math.sqrt(1 / 3)) == m.HOTA


def test_dropped_track_hand_computed(scene: tuple[Path, Path]) -> None:
    gt, pred = scene
    write_pred(pred, "S", track_rows({1: 1}, FRAMES))
    m = evaluate(gt, pred).combined
    # 10 misses: MOTA = 1 - 10/20; IDTP = 10, IDFN = 10, IDFP = 0 -> IDF1 = 20/30.
    assert (m.FN, m.FP, m.IDSW, m.MT, m.ML) == (10, 0, 0, 1, 1)
    assert pytest.approx(0.5) == m.MOTA
    assert pytest.approx(2 / 3) == m.IDF1
    # DetA = 10 / (10 + 10) = 0.5, AssA = 1 -> HOTA = sqrt(0.5); DetRe 0.5, DetPr 1.
    assert (m.DetA, m.AssA, m.DetRe, m.DetPr) == pytest.approx((0.5, 1.0, 0.5, 1.0))
    assert pytest.approx(math.sqrt(0.5)) == m.HOTA


def test_false_positives_hand_computed(scene: tuple[Path, Path]) -> None:
    gt, pred = scene
    ghost = [[f, 3, 500.0, 300.0, 20.0, 40.0, 1.0] for f in (1, 2, 3)]
    write_pred(pred, "S", track_rows(SAME, FRAMES) + ghost)
    m = evaluate(gt, pred).combined
    assert (m.FP, m.FN, m.IDFP, m.Dets) == (3, 0, 3, 23)
    assert pytest.approx(1 - 3 / 20) == m.MOTA
    assert pytest.approx(40 / 43) == m.IDF1
    assert pytest.approx(math.sqrt(20 / 23)) == m.HOTA  # DetA = 20/23, AssA = 1


def test_combined_sums_counts_over_sequences(scene: tuple[Path, Path]) -> None:
    gt, pred = scene
    write_pred(pred, "S", track_rows(SAME, FRAMES))
    make_seq(gt, "T", track_rows(SAME, FRAMES, extra=MOT16_EXTRA), 10)
    write_pred(pred, "T", track_rows({1: 1}, FRAMES))
    r = evaluate(gt, pred)
    assert list(r.sequences) == ["S", "T"]
    assert pytest.approx(1.0) == r.sequences["S"].MOTA
    assert pytest.approx(0.5) == r.sequences["T"].MOTA
    assert (r.combined.GT_Dets, r.combined.FN) == (40, 10)
    assert pytest.approx(1 - 10 / 40) == r.combined.MOTA
    only_t = evaluate(gt, pred, sequences=["T"])
    assert list(only_t.sequences) == ["T"]
    with pytest.raises(ValueError, match="no GT sequence"):
        evaluate(gt, pred, sequences=["nope"])


def test_mot16_distractors_and_zero_marked_vs_forced_mot15(tmp_path: Path) -> None:
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    rows = track_rows(SAME, FRAMES, extra=MOT16_EXTRA)
    # object 3: a static person (class 7, a distractor); object 4: a pedestrian
    # marked "ignore" (column 7 = 0). Neither must be found, neither may count.
    rows += [[f, 3, 500.0, 300.0, 20.0, 40.0, 1, 7, 1.0] for f in FRAMES]
    rows += [[f, 4, 100.0, 300.0, 20.0, 40.0, 0, 1, 1.0] for f in FRAMES]
    make_seq(gt, "S", rows, 10)
    pred.mkdir()
    # Predicting the distractor is not a false positive either.
    distractor_pred = [[f, 9, 500.0, 300.0, 20.0, 40.0, 1.0] for f in FRAMES]
    write_pred(pred, "S", track_rows(SAME, FRAMES) + distractor_pred)
    m = evaluate(gt, pred).combined
    assert (m.GT_Dets, m.FP, m.FN, m.Dets) == (20, 0, 0, 20)
    assert pytest.approx(1.0) == m.HOTA
    # Forced MOT15 mode has no classes: the static person becomes a real gt
    # object that was tracked (so 30 gt boxes), the zero-marked one stays ignored.
    forced = evaluate(gt, pred, gt_format="mot15")
    assert forced.gt_formats == {"S": "mot15"}
    assert (forced.combined.GT_Dets, forced.combined.FP, forced.combined.FN) == (30, 0, 0)


def test_frame_range_crops_and_renumbers(scene: tuple[Path, Path]) -> None:
    gt, pred = scene
    write_pred(pred, "S", track_rows(SAME, range(1, 6)) + track_rows({1: 2, 2: 1}, range(6, 11)))
    before = evaluate(gt, pred, frame_range=(1, 5)).combined
    after = evaluate(gt, pred, frame_range=(6, 10)).combined
    # Inside either half the ids are consistent: perfect.
    for m in (before, after):
        assert (m.HOTA, m.IDSW, m.GT_Dets) == (pytest.approx(1.0), 0, 10)
    across = evaluate(gt, pred, frame_range=(4, 8)).combined
    assert (across.IDSW, across.GT_Dets) == (2, 10)
    assert pytest.approx(1 - 2 / 10) == across.MOTA
    with pytest.raises(ValueError, match=r"frame range 5-11 .* 1\.\.10"):
        evaluate(gt, pred, frame_range=(5, 11))


def test_missing_prediction_file(scene: tuple[Path, Path]) -> None:
    gt, pred = scene
    with pytest.raises(FileNotFoundError, match=r"S\.txt.*not found.*allow"):
        evaluate(gt, pred)
    m = evaluate(gt, pred, allow_missing=True).combined
    assert (m.FN, m.FP, m.CLR_TP) == (20, 0, 0)
    assert m.HOTA == 0.0


def test_empty_prediction_file_is_legal(scene: tuple[Path, Path]) -> None:
    gt, pred = scene
    (pred / "S.txt").write_text("")
    m = evaluate(gt, pred).combined
    assert (m.FN, m.FP, m.GT_Dets, m.Dets) == (20, 0, 20, 0)
    assert pytest.approx(0.0) == m.MOTA


def test_duplicate_id_in_a_frame_is_named(scene: tuple[Path, Path]) -> None:
    gt, pred = scene
    rows = [*track_rows(SAME, FRAMES), [3, 1, 400.0, 10.0, 20.0, 40.0, 1.0]]
    path = write_pred(pred, "S", rows)
    with pytest.raises(MOTFormatError, match=rf"{path}: id 1 appears 2 times in frame 3"):
        evaluate(gt, pred)


def test_frames_out_of_range_and_bad_columns(scene: tuple[Path, Path]) -> None:
    gt, pred = scene
    write_pred(pred, "S", [*track_rows(SAME, FRAMES), [11, 1, 0, 0, 5, 5, 1]])
    with pytest.raises(MOTFormatError, match=r"S\.txt:\d+: frame 11 is beyond seqLength=10"):
        evaluate(gt, pred)
    (pred / "S.txt").write_text("1,1,2,3\n")
    with pytest.raises(MOTFormatError, match=r"S\.txt:1: expected"):
        evaluate(gt, pred)


def test_quiet_and_no_stray_files(
    scene: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    gt, pred = scene
    write_pred(pred, "S", track_rows(SAME, FRAMES))
    before = sorted(os.walk(gt.parent))
    evaluate(gt, pred, progress=False)
    assert capsys.readouterr().out == ""
    assert sorted(os.walk(gt.parent)) == before


def test_json_csv_round_trip(scene: tuple[Path, Path], tmp_path: Path) -> None:
    gt, pred = scene
    write_pred(pred, "S", track_rows({1: 1}, FRAMES))
    r = evaluate(gt, pred)
    write_json(tmp_path / "o.json", r.to_dict())
    data = json.loads((tmp_path / "o.json").read_text())
    assert data["sequences"]["S"]["MOTA"] == pytest.approx(0.5)
    assert data["combined"]["CLR_FN"] == 10
    assert EvalResult.from_dict(data).combined == r.combined
    write_csv(tmp_path / "o.csv", r)
    lines = (tmp_path / "o.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[:2] == ["sequence", "HOTA"] and lines[-1].startswith("COMBINED,")
    assert float(lines[-1].split(",")[header.index("MOTA")]) == pytest.approx(0.5)


def test_cli_eval(scene: tuple[Path, Path], tmp_path: Path) -> None:
    gt, pred = scene
    write_pred(pred, "S", track_rows(SAME, range(1, 6)) + track_rows({1: 2, 2: 1}, range(6, 11)))
    out = tmp_path / "o.json"
    runner = CliRunner()
    res = runner.invoke(app, ["eval", "--gt", str(gt), "--pred", str(pred), "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "COMBINED" in res.output
    assert json.loads(out.read_text())["combined"]["IDSW"] == 2
    res = runner.invoke(
        app, ["eval", "--gt", str(gt), "--pred", str(pred), "--frames", "1-5", "--json", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["combined"]["HOTA"] == pytest.approx(1.0)
    bad = runner.invoke(app, ["eval", "--gt", str(gt), "--pred", str(tmp_path / "none")])
    assert bad.exit_code == 2
    assert "prediction folder not found" in bad.output
    bad = runner.invoke(app, ["eval", "--gt", str(gt), "--pred", str(pred), "--frames", "9-x"])
    assert bad.exit_code == 2 and "FIRST-LAST" in bad.output


def test_result_file_without_gt_sequence_is_named(scene: tuple[Path, Path], caplog) -> None:
    import logging

    gt, pred = scene
    write_pred(pred, "S", track_rows(SAME, FRAMES))
    write_pred(pred, "S-typo", track_rows(SAME, FRAMES))
    with caplog.at_level(logging.WARNING):
        evaluate(gt, pred, progress=False)
    assert any(
        "S-typo.txt" in r.getMessage() and "not scored" in r.getMessage() for r in caplog.records
    )
