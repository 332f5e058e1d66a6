"""evaluate() on the two real MOT15 sequences (skipped when ../shared is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vsdmot.data.mot import MOTAnnotations, read_mot, write_mot
from vsdmot.eval import evaluate

SEQS = ("PETS09-S2L1", "TUD-Stadtmitte")


def _active_gt(mot15_dir: Path, seq: str) -> MOTAnnotations:
    gt = read_mot(mot15_dir / seq / "gt" / "gt.txt", "gt")
    # Column 7 = 0 marks boxes the benchmark ignores (174 of them in PETS09-S2L1).
    return gt.select(gt.score != 0)


def test_gt_against_itself_is_perfect(mot15_dir: Path, tmp_path: Path) -> None:
    for seq in SEQS:
        write_mot(tmp_path / f"{seq}.txt", _active_gt(mot15_dir, seq), "result")
    r = evaluate(mot15_dir, tmp_path, progress=False)
    assert r.gt_formats == dict.fromkeys(SEQS, "mot15")
    for seq in SEQS:
        m = r.sequences[seq]
        assert pytest.approx((1.0, 1.0, 1.0)) == (m.HOTA, m.MOTA, m.IDF1)
        assert m.GT_Dets == len(_active_gt(mot15_dir, seq))
    # PETS09-S2L1 held-out split: frames 601-795 only.
    held = evaluate(mot15_dir, tmp_path, sequences=["PETS09-S2L1"], frame_range=(601, 795))
    gt = _active_gt(mot15_dir, "PETS09-S2L1")
    assert held.combined.GT_Dets == int(np.sum((gt.frame >= 601) & (gt.frame <= 795)))
    assert pytest.approx(1.0) == held.combined.HOTA


def test_public_detections_as_one_frame_tracks(mot15_dir: Path, tmp_path: Path) -> None:
    # Each public detection becomes its own one-frame track: detection quality
    # is real, association is the worst possible.
    n_dets = {}
    for seq in SEQS:
        det = read_mot(mot15_dir / seq / "det" / "det.txt", "det")
        det.track_id = np.arange(1, len(det) + 1)
        write_mot(tmp_path / f"{seq}.txt", det, "result")
        n_dets[seq] = len(det)
    r = evaluate(mot15_dir, tmp_path, progress=False)
    for seq in SEQS:
        m = r.sequences[seq]
        assert m.Dets == n_dets[seq] and m.IDs == n_dets[seq]
        assert m.GT_Dets == m.CLR_TP + m.CLR_FN
        assert m.Dets == m.CLR_TP + m.CLR_FP
        assert 0.3 < m.DetA < 0.9  # the public detections do find most people
        assert m.AssA < 0.1  # but no track lives longer than a frame
        assert m.IDSW > 0.5 * m.CLR_TP  # nearly every match after the first is a switch
        assert m.DetA > m.HOTA
    c = r.combined
    assert c.GT_Dets == sum(r.sequences[s].GT_Dets for s in SEQS)
    assert sum(r.sequences[s].IDSW for s in SEQS) == c.IDSW
