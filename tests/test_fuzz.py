"""Property-based tests of every parser: a correct parse or the documented clear error.

Each property draws many inputs (hypothesis, derandomised so the suite is
reproducible). An input either parses to exactly the values it encodes, or
raises the parser's own error class naming the file; never another exception
and never a silently wrong value. ``FUZZ_EXAMPLES`` scales every property.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from vsdmot.config import ConfigError, compose_config, config_to_dict
from vsdmot.data.mot import MOTFormatError, read_mot, read_seqinfo
from vsdmot.degrade.base import frame_rng, sequence_rng
from vsdmot.degrade.realesrgan.protocol import build_kernels, draw_protocol, run_protocol
from vsdmot.degrade.realesrgan.ranges import KEYS, RangesError, load_ranges
from vsdmot.degrade.schedules import make_schedule
from vsdmot.detection.darknet import DarknetError, build_darknet, parse_cfg
from vsdmot.proposals import ProposalError, build_proposal_source, load_proposal_db
from vsdmot.proposals.yolo import parse_classes
from vsdmot.tracking.params import RANGES, TrackerParams, inert_settings, setting_help
from vsdmot.utils.specs import SpecError, parse_spec

N = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=N,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

numbers = st.one_of(
    st.integers(-5, 2000).map(str),
    st.floats(allow_nan=True, allow_infinity=True, width=32).map(repr),
    st.sampled_from(["", " ", "abc", "1e309", "-0", "0x10", "1,5", "nan", "inf", "--1"]),
)


def write(text: str, name: str) -> Path:
    folder = Path(tempfile.mkdtemp())
    path = folder / name
    path.write_text(text)
    return path


# --- MOTChallenge txt ----------------------------------------------------------------


@FUZZ
@given(
    rows=st.lists(st.lists(numbers, min_size=1, max_size=11), max_size=8),
    kind=st.sampled_from(["gt", "det", "result"]),
)
def test_mot_txt_parses_or_names_the_problem(rows: list[list[str]], kind: str) -> None:
    path = write("\n".join(",".join(r) for r in rows) + "\n", "gt.txt")
    try:
        ann = read_mot(path, kind, seq_length=1000)  # type: ignore[arg-type]
    except MOTFormatError as exc:
        assert str(path) in str(exc)
        return
    assert np.all(np.isfinite(ann.boxes)) and np.all(ann.boxes[:, 2:] >= 0)
    assert np.all((ann.frame >= 1) & (ann.frame <= 1000))
    if kind != "det":
        assert np.all(ann.track_id >= 1)


@FUZZ
@given(
    rows=st.lists(
        st.tuples(
            st.integers(1, 500),
            st.integers(1, 99),
            *[st.floats(0, 2000, allow_nan=False, width=32)] * 4,
            st.floats(0, 1, allow_nan=False, width=32),
        ),
        min_size=1,
        max_size=10,
        unique_by=lambda r: (r[0], r[1]),
    )
)
def test_well_formed_results_parse_to_their_values(rows) -> None:
    text = "".join(
        f"{f},{i},{x!r},{y!r},{w!r},{h!r},{s!r},-1,-1,-1\n" for f, i, x, y, w, h, s in rows
    )
    ann = read_mot(write(text, "res.txt"), "result", seq_length=500)
    got = sorted(zip(ann.frame.tolist(), ann.track_id.tolist(), ann.boxes.tolist(), strict=True))
    want = sorted((f, i, [x, y, w, h]) for f, i, x, y, w, h, _ in rows)
    assert [(a, b) for a, b, _ in got] == [(a, b) for a, b, _ in want]
    for (_, _, g), (_, _, w) in zip(got, want, strict=True):
        assert np.allclose(g, w, rtol=1e-6, atol=1e-4)


# --- seqinfo.ini ---------------------------------------------------------------------

seqinfo_keys = st.sampled_from(
    ["name", "imDir", "frameRate", "seqLength", "imWidth", "imHeight", "imExt", "other"]
)


@FUZZ
@given(
    items=st.lists(st.tuples(seqinfo_keys, numbers), max_size=9),
    header=st.sampled_from(["[Sequence]", "[sequence]", "", "[Other]", "[Sequence"]),
)
def test_seqinfo_parses_or_names_the_problem(items, header: str) -> None:
    path = write(header + "\n" + "\n".join(f"{k}={v}" for k, v in items) + "\n", "seqinfo.ini")
    try:
        info = read_seqinfo(path)
    except MOTFormatError as exc:
        assert str(path) in str(exc)
        return
    assert info.seq_length >= 0 and info.im_width > 0 and info.im_height > 0
    assert info.frame_rate > 0 and math.isfinite(info.frame_rate)


@FUZZ
@given(
    n=st.integers(0, 10_000),
    w=st.integers(1, 8000),
    h=st.integers(1, 8000),
    fps=st.floats(0.5, 240, allow_nan=False),
)
def test_well_formed_seqinfo_parses_to_its_values(n: int, w: int, h: int, fps: float) -> None:
    text = (
        f"[Sequence]\nname=S\nimDir=img1\nframeRate={fps!r}\nseqLength={n}\n"
        f"imWidth={w}\nimHeight={h}\nimExt=.jpg\n"
    )
    info = read_seqinfo(write(text, "seqinfo.ini"))
    assert (info.seq_length, info.im_width, info.im_height) == (n, w, h)
    assert info.frame_rate == pytest.approx(fps)


# --- proposal databases ----------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-10, 10)
    | st.floats(allow_nan=True)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=25,
)


@FUZZ
@given(
    frames=st.dictionaries(
        st.sampled_from(["1", "2", "0", "-1", "x", "10"]), json_values, max_size=4
    ),
    fmt=st.sampled_from(["vsdmot-proposals", "other", None]),
    version=st.sampled_from([1, 2, "1"]),
)
def test_json_proposal_db_parses_or_names_the_problem(frames, fmt, version) -> None:
    blob = {"format": fmt, "version": version, "frames": frames}
    path = write(json.dumps(blob), "props.json")
    try:
        table = load_proposal_db(path)
    except ProposalError as exc:
        assert str(path) in str(exc)
        return
    for t, boxes in table.items():
        assert t >= 1 and boxes.dtype == np.float32 and boxes.shape[1:] == (5,)
        assert np.all(np.isfinite(boxes))


@FUZZ
@given(
    frames=st.lists(st.integers(-2, 20), max_size=6),
    rows=st.integers(0, 6),
    cols=st.integers(0, 7),
    fill=st.sampled_from([0.5, np.nan, np.inf, -3.0]),
)
def test_npz_proposal_db_parses_or_names_the_problem(frames, rows: int, cols: int, fill) -> None:
    path = Path(tempfile.mkdtemp()) / "props.npz"
    np.savez(
        path,
        frames=np.asarray(frames, dtype=np.int64),
        boxes=np.full((rows, cols), fill, np.float32),
    )
    try:
        table = load_proposal_db(path)
    except ProposalError as exc:
        assert str(path) in str(exc)
        return
    for t, boxes in table.items():
        assert t >= 1 and boxes.shape[1:] == (5,) and np.all(np.isfinite(boxes))


# --- configs and dotted overrides ------------------------------------------------------

override_keys = st.sampled_from(
    [
        "train.steps",
        "optim.lr",
        "model.d_model",
        "data.clip_length",
        "semantic.semantics",
        "semantic.dswr",
        "data.augment.scales",
        "nope.key",
        "model",
        "train.steps.x",
        "",
    ]
)
override_values = st.one_of(
    numbers, st.sampled_from(["[1,2]", "[]", "none", "student", "on", "{a: 1}", "null"])
)


@FUZZ
@given(items=st.lists(st.tuples(override_keys, override_values), max_size=4))
def test_config_overrides_compose_or_name_the_problem(items) -> None:
    overrides = [f"{k}={v}" for k, v in items]
    try:
        cfg = compose_config("tiny-cpu", overrides)
    except ConfigError as exc:
        assert str(exc)
        return
    assert cfg.train.steps is None or cfg.train.steps >= 0
    for key, value in items:
        if key == "train.steps" and value.lstrip("-").isdigit():
            assert cfg.train.steps == int(value) or int(value) < 0


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list("abc:[]{}-=, \n#0123456789.")), max_size=80))
def test_yaml_config_files_load_or_name_the_problem(text: str) -> None:
    path = write("_base_: tiny-cpu\n" + text, "cfg.yaml")
    try:
        compose_config(str(path), [])
    except ConfigError as exc:
        assert str(exc)


# --- proposal specs and detector options ----------------------------------------------

spec_heads = st.sampled_from(["hog", "det", "ultralytics", "nothing", "x.txt", "x.npz", "HOG", ""])
spec_opts = st.lists(
    st.tuples(
        st.sampled_from(["upscale", "win_stride", "scale", "min_score", "colour", ""]), numbers
    ),
    max_size=3,
)


@FUZZ
@given(head=spec_heads, opts=spec_opts)
def test_proposal_specs_build_or_name_the_problem(head: str, opts) -> None:
    spec = head + (":" + ",".join(f"{k}={v}" for k, v in opts) if opts else "")
    try:
        build_proposal_source(spec)
    except (ProposalError, ValueError) as exc:  # MissingDependencyError is a ValueError too
        assert str(exc)


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list("ab=,:+ 0123.-")), max_size=30))
def test_spec_strings_parse_or_name_the_problem(text: str) -> None:
    try:
        spec = parse_spec(text)
    except SpecError as exc:
        assert "key=value" in str(exc) or "empty name" in str(exc) or "twice" in str(exc)
        return
    assert spec.name and all(k and k == k.strip() for k in spec.options)
    assert parse_spec(str(spec)) == spec


@FUZZ
@given(
    value=st.one_of(
        st.text(alphabet=st.sampled_from(list("person+car0123-x ")), max_size=20),
        st.integers(-3, 100),
    )
)
def test_class_lists_parse_or_name_the_problem(value) -> None:
    names = ("person", "bicycle", "car")
    try:
        classes = parse_classes(value, names)
    except ProposalError as exc:
        assert str(exc)
        return
    assert classes and all(isinstance(c, int) for c in classes)


# --- schedules ------------------------------------------------------------------------------


@FUZZ
@given(
    name=st.sampled_from(["constant", "ramp", "periodic", "random_walk", "bursts", "zigzag", ""]),
    opts=st.lists(
        st.tuples(st.sampled_from(["period", "rate", "mean_len", "step", "start", "x"]), numbers),
        max_size=3,
    ),
    n=st.integers(1, 60),
    severity=st.floats(-1, 7) | st.just(math.nan),
)
def test_schedules_build_or_name_the_problem(name: str, opts, n: int, severity: float) -> None:
    spec = name + (":" + ",".join(f"{k}={v}" for k, v in opts) if opts else "")
    try:
        sev = make_schedule(spec, n, severity, np.random.default_rng(0))
    except ValueError as exc:
        assert str(exc)
        return
    assert sev.shape == (n,) and np.all(np.isfinite(sev))
    assert np.all((sev >= 0) & (sev <= 5))


# --- Real-ESRGAN ranges files ---------------------------------------------------------------

yaml_scalars = st.one_of(
    st.integers(-3, 300).map(str),
    st.floats(-1, 5, width=32).map(repr),
    st.sampled_from([".nan", ".inf", "-.inf", "true", "null", "abc", "iso", "plateau_iso", "box"]),
)
yaml_values = st.one_of(
    yaml_scalars,
    st.lists(yaml_scalars, max_size=7).map(lambda v: "[" + ", ".join(v) + "]"),
    # Mostly usable values, so that accepted files are more than the empty one.
    st.floats(0, 1).map(repr),
    st.tuples(st.floats(0, 1.2), st.floats(0.8, 40)).map(lambda v: f"[{v[0]!r}, {v[1]!r}]"),
)


@FUZZ
@given(
    items=st.lists(
        st.tuples(st.sampled_from([*KEYS, "noise", "jpeg_range3", "kernel_prob2 "]), yaml_values),
        max_size=4,
    ),
    seed=st.integers(0, 3),
)
def test_realesrgan_ranges_load_or_name_the_file(items, seed: int) -> None:
    path = write("".join(f"{k}: {v}\n" for k, v in items), "ranges.yaml")
    try:
        ranges = load_ranges(path)
    except RangesError as exc:
        assert str(exc).startswith(f"{path}: ")
        event("rejected")
        return
    event("accepted")
    # Whatever passes the checks can be drawn from and run.
    p = draw_protocol(sequence_rng(seed), ranges)
    low, high = ranges.jpeg_range
    assert low - 0.5 <= p.first.jpeg_quality <= high + 0.5
    img = np.full((12, 16, 3), 0.5, np.float32)
    out = run_protocol(img, p, build_kernels(p), frame_rng(0, 0, 1))
    assert out.shape == (12, 16, 3) and np.all(np.isfinite(out))


# --- Darknet cfg ----------------------------------------------------------------------------

cfg_lines = st.one_of(
    st.sampled_from(
        [
            "[net]",
            "[convolutional]",
            "[maxpool]",
            "[yolo]",
            "[route]",
            "[upsample]",
            "[lstm]",
            "[shortcut]",
            "width=32",
            "height=32",
            "filters=21",
            "size=3",
            "stride=2",
            "pad=1",
            "batch_normalize=1",
            "activation=leaky",
            "mask=0,1,2",
            "anchors=4,6, 8,12, 16,24",
            "classes=2",
            "layers=-1",
            "from=-2",
            "# c",
            "junk",
        ]
    ),
    st.tuples(
        st.sampled_from(["filters", "size", "stride", "layers", "mask", "classes"]), numbers
    ).map(lambda kv: f"{kv[0]}={kv[1]}"),
)


@FUZZ
@given(lines=st.lists(cfg_lines, max_size=25))
def test_darknet_cfgs_build_or_name_the_problem(lines: list[str]) -> None:
    text = "\n".join(lines)
    try:
        parse_cfg(text, "fuzz.cfg")
        build_darknet(text, "fuzz.cfg")
    except DarknetError as exc:
        assert "fuzz.cfg" in str(exc)


# --- the surfaces of the 2026-12-05 hostile-input report ------------------------------

# Tracker settings as the CLI takes them (flags and --set): every value either builds
# settings that are all finite, in range and in effect, or is refused naming the setting.
setting_names = st.sampled_from(sorted(setting_help()))
setting_values = st.one_of(
    st.floats(0, 1).map(repr), st.integers(0, 60).map(str), numbers,
    st.sampled_from(["true", "false", "fused", "anchor", "e2e", "botsort", "velocity", "static"]),
)


@FUZZ
@given(items=st.lists(st.tuples(setting_names, setting_values), max_size=4))
def test_tracker_settings_are_in_range_in_effect_or_refused_by_name(items) -> None:
    from vsdmot.cli.track import tracker_spec

    try:
        spec = tracker_spec("vsdmot", {}, [f"{k}={v}" for k, v in items])
        params = TrackerParams(**spec.settings)
        if inert := inert_settings(params, spec.settings):
            raise ValueError("; ".join(inert.values()))
    except ValueError as exc:  # SpecError is one
        assert any(k in str(exc) for k, _ in items), str(exc)
        event("refused")
        return
    event("accepted")
    for name, value in spec.settings.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            lo, hi = RANGES.get(name, (-math.inf, math.inf))
            assert math.isfinite(value) and lo <= value <= hi, (name, value)


# Configs: interpolation and anchors/aliases are refused, and no value from the
# environment ever appears in what is returned or raised.
SECRET = "s3cr3t-fuzz-value"
yaml_pieces = st.sampled_from(["${oc.env:VSDMOT_FUZZ_SECRET}", "${train.steps}", "&a [1, 2]",
                               "*a", "!!python/object:os.system", "train:", "  steps: ", "3",
                               "\n", " ", "model:", "  d_model: ", "{", "}", "$", "${", ":"])


@FUZZ
@given(pieces=st.lists(yaml_pieces, max_size=12))
def test_configs_never_resolve_the_environment(pieces: list[str]) -> None:
    path = write("_base_: tiny-cpu\n" + "".join(pieces), "cfg.yaml")
    os.environ["VSDMOT_FUZZ_SECRET"] = SECRET
    try:
        cfg = compose_config(str(path), [])
    except ConfigError as exc:
        assert SECRET not in str(exc)
        event("refused")
        return
    finally:
        del os.environ["VSDMOT_FUZZ_SECRET"]
    event("accepted")
    assert SECRET not in repr(cfg)
    assert "${" not in json.dumps(config_to_dict(cfg), default=str)


# Media headers: a PNG whose header claims any size, with any body, is a frame of that
# size or a FrameSourceError naming the file; never another exception.
def _png(width: int, height: int, body: bytes) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))  # fmt: skip

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body)
            + chunk(b"IEND", b""))  # fmt: skip


sides = st.one_of(st.integers(0, 40), st.sampled_from([1, 15, 16, 17, 65535, 2**31 - 1]))


@FUZZ
@given(width=sides, height=sides, body=st.one_of(st.binary(max_size=64),
                                                  st.just(b"x\x9c\x03\x00\x00\x00\x00\x01")))
def test_image_headers_decode_or_name_the_file(width: int, height: int, body: bytes) -> None:
    import zlib

    from vsdmot.data.sources import MIN_SIDE, FrameSourceError, open_source

    folder = Path(tempfile.mkdtemp())
    if width * height and width * height * 3 < 4096 and body[:1] == b"x":
        body = zlib.compress(b"".join(b"\0" + b"\7" * 3 * width for _ in range(height)))
    (folder / "000001.png").write_bytes(_png(width, height, body))
    try:
        source = open_source(folder)
        frame = source.frame(1)
    except FrameSourceError as exc:
        assert "000001.png" in str(exc) or str(folder) in str(exc), str(exc)
        event("refused")
        return
    event("decoded")
    assert frame.shape == (height, width, 3) and min(width, height) >= MIN_SIDE


# Output targets: the guard refuses exactly the targets that are inputs (or inside
# one), that repeat another output, or that are not regular files.
@FUZZ
@given(picks=st.lists(st.sampled_from(["seqinfo.ini", "det/det.txt", "gt/gt.txt", "img1",
                                       "img1/000001.jpg", "out.txt", "out2.txt", "res/a.txt",
                                       "det", "."]), min_size=1, max_size=3))
def test_output_targets_are_refused_exactly_when_they_hit_an_input(picks: list[str]) -> None:
    from vsdmot.utils.outputs import OutputError, check_outputs, sequence_inputs

    seq = Path(tempfile.mkdtemp())
    for part in ("det", "gt", "img1", "res"):
        (seq / part).mkdir()
    for name, text in (("seqinfo.ini", "[Sequence]\n"), ("det/det.txt", ""),
                       ("gt/gt.txt", ""), ("img1/000001.jpg", "")):  # fmt: skip
        (seq / name).write_text(text)
    inputs = sequence_inputs(seq)
    outputs = {f"--out{i}": seq / p for i, p in enumerate(picks)}
    hits_input = any(t.resolve() == p or p in t.resolve().parents
                     for t in outputs.values() for p in inputs)  # fmt: skip
    repeated = len({t.resolve() for t in outputs.values()}) < len(picks)
    not_regular = any(t.exists() and not t.is_file() for t in outputs.values())
    try:
        check_outputs(outputs, inputs)
    except OutputError as exc:
        assert hits_input or repeated or not_regular, str(exc)
        event("refused")
        return
    event("accepted")
    assert not (hits_input or repeated or not_regular)
