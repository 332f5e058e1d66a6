"""MOTRv2 det_db files: the spec's bare value, reading, writing with ``vsdmot detect``,
tracking and training on them, and bad files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from helpers.sequences import write_tiny_sequence
from typer.testing import CliRunner

from vsdmot.cli.main import app
from vsdmot.config import ConfigError, DataConfig, ProposalConfig, compose_config
from vsdmot.data import det_db as det_db_module
from vsdmot.data.clips import ClipDataset, proposal_reader, resolve_entries
from vsdmot.data.det_db import (
    DetDb,
    DetDbError,
    format_line,
    merge_det_db,
    parse_line,
    read_det_db,
)
from vsdmot.data.mot import MOTAnnotations, write_mot
from vsdmot.data.sequence import MOTSequence
from vsdmot.data.synth import SynthConfig, generate_sequence
from vsdmot.proposals import DetFileProposals, ProposalError, build_proposal_source
from vsdmot.proposals.build import source_factory
from vsdmot.tracking.registry import parse_tracker
from vsdmot.utils.det_db_spec import parse_det_db_spec
from vsdmot.utils.specs import SpecError, parse_spec, typed_options

runner = CliRunner()

KEY = "DanceTrack/train/dance01/img1/{:08d}.txt"


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def write_db(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc))
    return path


# --- the spec grammar: a bare first value ----------------------------------------------------


def test_bare_value_sets_the_first_parameter_typed() -> None:
    def target(path: str, *, prefix: str | None = None, size: int = 3) -> None: ...

    assert typed_options(parse_spec("det_db:a/b.json,size=4"), target) == {
        "path": "a/b.json",
        "size": 4,
    }
    assert parse_spec("det_db:a/b.json") == parse_spec(str(parse_spec("det_db:a/b.json")))

    def sized(size: int = 3) -> None: ...

    with pytest.raises(SpecError, match="size needs a value of type int"):
        typed_options(parse_spec("x:big"), sized)
    with pytest.raises(SpecError, match="given twice"):
        typed_options(parse_spec("x:4,size=5"), sized)
    with pytest.raises(SpecError, match="not key=value"):
        typed_options(parse_spec("x:4"), lambda: None)  # nothing to set
    with pytest.raises(SpecError, match="not key=value"):
        parse_spec("x:a=1,4")  # only the first item may be bare


def test_existing_specs_unchanged_and_bare_values_refused_where_unsupported() -> None:
    assert parse_tracker("bytetrack:lost_track_buffer=10").settings == {"lost_track_buffer": 10}
    with pytest.raises(SpecError, match="takes no bare value"):
        parse_tracker("bytetrack:10")
    src = build_proposal_source("hog:upscale=2.0")
    assert build_proposal_source("hog:2.0").key == src.key  # bare value = first option
    with pytest.raises(ProposalError, match="not key=value"):
        build_proposal_source("det:foo")


# --- reading ---------------------------------------------------------------------------------


def test_keys_match_by_sequence_and_frame_whatever_the_prefix(tmp_path: Path) -> None:
    db = write_db(tmp_path / "db.json", {
        KEY.format(1): ["10,20,30,40,0.9\n", "1.5,2,3,4,0.5\n"],
        "DanceTrack/train/dance01/img1/3.txt": ["0,0,5,5,0.7\n"],  # no zero padding
        "crowdhuman/train_image/abc.txt": ["1,1,1,1,1\n"],  # no sequence: passed over
        "DanceTrack/train/dance02/img1/00000001.txt": ["9,9,9,9,0.9\n"],
    })  # fmt: skip
    src = build_proposal_source(f"det_db:{db}", sequence=tmp_path / "dance01")
    np.testing.assert_allclose(src(None, 1), [[10, 20, 40, 60, 0.9], [1.5, 2, 4.5, 6, 0.5]],
                               rtol=1e-6)  # fmt: skip
    assert src(None, 2).shape == (0, 5)  # no key: no proposals
    np.testing.assert_allclose(src(None, 3), [[0, 0, 5, 5, 0.7]], rtol=1e-6)
    named = build_proposal_source(f"det_db:path={db},seq=dance02")
    strict = build_proposal_source(f"det_db:path={db},seq=dance02", min_score=0.95)
    assert len(named(None, 1)) == 1 and len(strict(None, 1)) == 0
    assert DetDb(db).sequences == ["dance01", "dance02"]
    bare = write_db(tmp_path / "bare.json", {"dance01/img1/000002.txt": ["0,0,5,5,0.7\n"]})
    assert len(build_proposal_source(f"det_db:{bare}", sequence=tmp_path / "dance01")(None, 2))


def test_missing_sequence_names_file_sequence_and_an_example_key(tmp_path: Path) -> None:
    db = write_db(tmp_path / "db.json", {KEY.format(1): []})
    with pytest.raises(ProposalError) as err:
        build_proposal_source(f"det_db:{db}", sequence=tmp_path / "MOT17-02-SDP")
    text = str(err.value)
    assert str(db) in text and "'MOT17-02-SDP'" in text and KEY.format(1) in text
    with pytest.raises(ProposalError, match="seq=NAME"):
        build_proposal_source(f"det_db:{db}")  # a video: which sequence?
    with pytest.raises(ProposalError, match="det_db file not found"):
        build_proposal_source(f"det_db:{tmp_path / 'nope.json'}", sequence=tmp_path / "x")


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (["1,2,3,4\n"], "4 fields, expected 5"),
        (["1,2,3,nan,0.5\n"], "'nan'"),
        (["1,2,x,4,0.5\n"], "'x'"),
        (["1,2,3,-4,0.5\n"], "negative box size"),
        ([[1, 2, 3, 4, 0.5]], "not a line of text"),
    ],
)
def test_malformed_lines_name_the_key(tmp_path: Path, lines: list, problem: str) -> None:
    db = write_db(tmp_path / "db.json", {KEY.format(1): ["1,1,1,1,1\n"], KEY.format(2): lines})
    with pytest.raises(ProposalError, match=problem) as err:
        build_proposal_source(f"det_db:{db}", sequence=tmp_path / "dance01")
    assert str(db) in str(err.value) and KEY.format(2) in str(err.value)


def test_malformed_files_and_ambiguous_prefixes(tmp_path: Path) -> None:
    with pytest.raises(DetDbError, match="JSON object"):
        DetDb(write_db(tmp_path / "a.json", [KEY.format(1)]))
    with pytest.raises(DetDbError, match="holds a str"):
        DetDb(write_db(tmp_path / "b.json", {KEY.format(1): "1,2,3,4,0.5"}))
    (tmp_path / "c.json").write_text("{not json")
    with pytest.raises(DetDbError, match="not a readable det_db"):
        DetDb(tmp_path / "c.json")
    two = write_db(tmp_path / "d.json", {KEY.format(1): ["1,1,2,2,0.5\n"],
                                        "lq/train/dance01/img1/00000001.txt": []})  # fmt: skip
    with pytest.raises(ProposalError, match="several prefixes"):
        build_proposal_source(f"det_db:{two}", sequence=tmp_path / "dance01")
    chosen = build_proposal_source(f"det_db:{two},prefix=lq/train", sequence=tmp_path / "dance01")
    assert chosen(None, 1).shape == (0, 5)
    with pytest.raises(ProposalError, match="looks like a MOTRv2 det_db"):
        build_proposal_source(str(two))  # read as a vsdmot database by mistake


# --- writing ---------------------------------------------------------------------------------


def test_lines_read_back_to_the_same_float32_box() -> None:
    rng = np.random.default_rng(0)
    for _ in range(2000):
        x, y = rng.uniform(-20, 1900, 2)
        w, h = rng.uniform(0, 500, 2)
        box = np.array([x, y, x + w, y + h, rng.uniform()], np.float32)
        left, top, width, height, score = parse_line(format_line(box), "k")
        back = np.array([left, top, left + width, top + height, score]).astype(np.float32)
        assert np.array_equal(back, box), (box, format_line(box))
    assert format_line(np.array([10, 20, 40, 80, 0.9], np.float32)) == "10,20,30,60,0.9\n"


def decimal_det_sequence(root: Path) -> Path:
    """The tiny sequence with det.txt values of many decimals and raw score margins."""
    seq = write_tiny_sequence(root, name="dance01", n_frames=6)
    rng = np.random.default_rng(1)
    rows = [[t, -1, *rng.uniform(0, 60, 2), *rng.uniform(4, 30, 2), rng.uniform(-2, 3)]
            for t in (1, 2, 2, 4, 6, 6, 6)]  # frames 3 and 5 have none
    write_mot(seq / "det" / "det.txt", MOTAnnotations.from_rows(rows), "det")
    return seq


def test_det_txt_to_det_db_round_trip_and_merge(tmp_path: Path) -> None:
    seq = decimal_det_sequence(tmp_path / "ds")
    other = write_db(tmp_path / "db.json", {
        "crowdhuman/train_image/abc.txt": ["1,1,1,1,1\n"],
        "ds/other/img1/000001.txt": ["1,1,2,2,0.5\n"],
        "tmp/ds/dance01/img1/000099.txt": ["1,1,2,2,0.5\n"],  # stale: replaced by the run
    })  # fmt: skip
    text = invoke("detect", str(tmp_path / "ds"), "-p", "det", "--format", "det_db",
                  "--db", str(other), "--key-prefix", "tmp/ds")  # fmt: skip
    assert "dance01: 7 boxes in 6 frames" in text
    doc = json.loads(other.read_text())
    keys = sorted(k for k in doc if "/dance01/" in k)
    assert keys == [f"tmp/ds/dance01/img1/{t:06d}.txt" for t in range(1, 7)]  # every frame
    assert doc["tmp/ds/dance01/img1/000003.txt"] == []
    assert "crowdhuman/train_image/abc.txt" in doc and "ds/other/img1/000001.txt" in doc
    det = DetFileProposals(seq / "det" / "det.txt")
    back = build_proposal_source(f"det_db:{other}", sequence=seq)
    for t in range(1, 7):
        assert np.array_equal(det(None, t), back(None, t)), t
    assert not list(tmp_path.glob(".db.json*"))  # the atomic write left no temporary


def test_detect_det_db_needs_db_and_format_is_checked(tmp_path: Path) -> None:
    write_tiny_sequence(tmp_path / "ds", n_frames=2)
    result = runner.invoke(app, ["detect", str(tmp_path / "ds"), "-p", "det", "--format",
                                 "det_db"])  # fmt: skip
    assert result.exit_code == 2 and "--db" in result.output
    result = runner.invoke(app, ["detect", str(tmp_path / "ds"), "--format", "coco"])
    assert result.exit_code == 2 and "--format must be one of det, det_db" in result.output
    gt = tmp_path / "ds" / "TINY-01" / "gt" / "gt.txt"
    before = gt.read_text()
    result = runner.invoke(app, ["detect", str(tmp_path / "ds"), "-p", "det", "--format",
                                 "det_db", "--db", str(gt)])  # fmt: skip
    assert result.exit_code == 2 and "is an input" in result.output and gt.read_text() == before


def test_merge_replaces_only_the_rewritten_sequences(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    merge_det_db(path, {KEY.format(1): ["1,1,1,1,1\n"], KEY.format(2): []})
    merge_det_db(path, {"MOT17/train/MOT17-02-SDP/img1/000001.txt": []})
    merge_det_db(path, {KEY.format(1): []})
    assert json.loads(path.read_text()) == {
        KEY.format(1): [],
        "MOT17/train/MOT17-02-SDP/img1/000001.txt": [],
    }


# --- tracking and training on a det_db -------------------------------------------------------


def test_tracks_from_det_db_equal_tracks_from_det(tmp_path: Path) -> None:
    seq = generate_sequence(tmp_path / "data" / "SEQ",
                            SynthConfig(width=160, height=120, n_frames=8), seed=4)  # fmt: skip
    db = tmp_path / "db.json"
    invoke("detect", str(seq), "-p", "det", "--format", "det_db", "--db", str(db))
    a, b = tmp_path / "det.txt", tmp_path / "det_db.txt"
    invoke("track", str(seq), "--proposals", "det", "-o", str(a), "--input-size", "96")
    text = invoke("track", str(seq), "--proposals", f"det_db:{db}", "-o", str(b),
                  "--input-size", "96")  # fmt: skip
    assert "proposals: det_db:db.json/SEQ" in text
    assert a.read_text() and a.read_text() == b.read_text()


def test_training_reads_det_db_like_det(tmp_path: Path) -> None:
    write_tiny_sequence(tmp_path / "ds", name="dance01")
    db = tmp_path / "db.json"
    invoke("detect", str(tmp_path / "ds"), "-p", "det", "--format", "det_db", "--db", str(db))

    def proposals(source: str) -> list[np.ndarray]:
        props = ProposalConfig(source=source, score_threshold=0.3)
        cfg = DataConfig(train=[str(tmp_path / "ds")], clip_length=2, proposals=props)
        ds = ClipDataset(resolve_entries(cfg.train, {}), cfg, train=False)
        return [p.numpy() for i in range(len(ds)) for p in ds[i].proposals]

    det, det_db = proposals("det"), proposals(f"det_db:{db}")
    assert sum(len(p) for p in det) > 0
    assert all(np.array_equal(a, b) for a, b in zip(det, det_db, strict=True))


def test_training_config_takes_the_same_spec(tmp_path: Path) -> None:
    cfg = compose_config("tiny-cpu", [f"data.proposals.source=det_db:{tmp_path}/db.json"])
    assert cfg.data.proposals.source == f"det_db:{tmp_path}/db.json"
    with pytest.raises(ConfigError, match="stored boxes"):
        compose_config("tiny-cpu", ["data.proposals.source=yolo"])


GOOD_SPECS = ("det_db:{db}", "det_db:path={db},prefix=DanceTrack/train",
              "det_db:{db},seq=dance01")  # fmt: skip
BAD_SPECS = {"det_db": "which file", "det_db:prefix=DanceTrack/train": "which file",
             "det_db:{db},min_score=0.2": "no option 'min_score'",
             "det_db:{db},path={db}": "given twice"}  # fmt: skip


def det_db_entry_points(seq: Path) -> dict[str, Callable[[str], object]]:
    """The three readers of a det_db spec: the training config's check, training's
    proposal reader (run on ``seq``) and tracking's proposal source (on ``seq``)."""
    def train(spec: str) -> object:
        return proposal_reader(spec)(MOTSequence(seq))  # type: ignore[misc]

    return {
        "config": lambda spec: compose_config("tiny-cpu", [f"data.proposals.source={spec}"]),
        "training": train,
        "tracking": lambda spec: build_proposal_source(spec, sequence=seq),
    }


def test_training_and_tracking_accept_and_refuse_the_same_det_db_specs(tmp_path: Path) -> None:
    seq = write_tiny_sequence(tmp_path / "ds", name="dance01")
    db = write_db(tmp_path / "db.json", {KEY.format(1): ["1,2,3,4,0.9\n"]})
    for read in det_db_entry_points(seq).values():
        for spec in GOOD_SPECS:
            read(spec.format(db=db))
        for spec, problem in BAD_SPECS.items():
            with pytest.raises(ValueError, match=problem):  # each one's own error type
                read(spec.format(db=db))
    assert parse_det_db_spec(f"det_db:{db},seq=dance01").seq == "dance01"


def test_a_det_db_is_read_once_for_many_sequences(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = {KEY.format(1): ["1,2,3,4,0.9\n"],
           "DanceTrack/train/dance02/img1/00000001.txt": ["5,6,7,8,0.8\n"]}  # fmt: skip
    db = write_db(tmp_path / "db.json", doc)
    reads: list[Path] = []
    monkeypatch.setattr(det_db_module, "read_det_db",
                        lambda path: reads.append(path) or read_det_db(path))  # fmt: skip
    source_for = source_factory(f"det_db:{db}")
    boxes = [source_for(tmp_path / name)(None, 1) for name in ("dance01", "dance02")]
    assert reads == [db]
    assert [b[:, :4].tolist() for b in boxes] == [[[1, 2, 4, 6]], [[5, 6, 12, 14]]]
