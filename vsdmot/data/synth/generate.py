"""Generated MOTChallenge sequences: frames, gt, simulated detections, provenance.

Layout written for each sequence (same as a downloaded MOT17 sequence, plus
``synth.json`` so other tools can tell generated data from real)::

    SYNTH-0000/seqinfo.ini
    SYNTH-0000/img1/000001.jpg ...
    SYNTH-0000/gt/gt.txt          MOT16 9-column gt (active=1, class=1, visibility)
    SYNTH-0000/det/det.txt        simulated detector output (10 columns, id -1)
    SYNTH-0000/synth.json         generator, version, seed, full config

The seed is split into independent streams (motion, appearance, rendering,
detector), so e.g. changing only the detector settings leaves the images and
gt unchanged. The same seed and config give byte-identical files.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from vsdmot._version import __version__
from vsdmot.data.mot import MOTAnnotations, MOTFormatError, SeqInfo, write_mot, write_seqinfo
from vsdmot.data.synth.appearance import Appearance, draw_person, sample_appearance
from vsdmot.data.synth.detector import simulate_detections
from vsdmot.data.synth.motion import Track, WalkerSimulator, simulate_camera
from vsdmot.data.synth.render import FrameRenderer, Placed, make_background
from vsdmot.data.synth.scene import SynthConfig
from vsdmot.utils.io import atomic_replace_dir, atomic_write, make_temp_dir

log = logging.getLogger(__name__)

GENERATOR = "vsdmot.data.synth"
FORMAT_VERSION = 1
SYNTH_JSON = "synth.json"


@dataclass(frozen=True)
class SynthFrame:
    """One rendered frame: 1-based number, BGR image, gt rows of that frame."""

    frame: int
    image: np.ndarray
    gt: MOTAnnotations


@dataclass(frozen=True)
class SynthInfo:
    """Provenance read back from ``synth.json``."""

    seed: int
    config: SynthConfig
    version: str
    extra: dict[str, Any]


def _streams(seed: int) -> dict[str, np.random.Generator]:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    names = ("camera", "motion", "appearance", "background", "render", "detector")
    children = np.random.SeedSequence(int(seed)).spawn(len(names))
    return {n: np.random.default_rng(c) for n, c in zip(names, children, strict=True)}


def _place(
    config: SynthConfig, track: Track, k: int, camera: np.ndarray, app: Appearance
) -> Placed:
    x, y = track.feet[k]
    h = track.base_height * float(config.perspective(y))
    w = h * track.aspect
    wi, hi = max(round(w), 1), max(round(h), 1)
    left = round(x - camera[0] - wi / 2)
    top = round(y - camera[1] - hi)
    sprite, mask = draw_person(app, wi, hi, track.phase[k])
    return Placed(left, top, sprite, mask, depth=y)


def render_sequence(config: SynthConfig, seed: int) -> Iterator[SynthFrame]:
    """Frames and gt of a generated sequence, in memory, frame by frame.

    Track ids count from 1 in order of first appearance. Boxes are the
    sprites' extents clipped to the image; objects with no pixel inside the
    image are left out; visibility is the rendered visible fraction.

    >>> cfg = SynthConfig(width=96, height=64, n_frames=3, objects=(1, 2), n_shapes=0)
    >>> frames = list(render_sequence(cfg, seed=0))
    >>> [f.frame for f in frames], frames[0].image.shape
    ([1, 2, 3], (64, 96, 3))
    """
    rngs = _streams(seed)
    camera = simulate_camera(config, rngs["camera"])
    tracks = WalkerSimulator(config, camera, rngs["motion"]).run()
    looks = {t.track_id: sample_appearance(rngs["appearance"]) for t in tracks}
    renderer = FrameRenderer(config, make_background(config, rngs["background"]), rngs["render"])
    public_id: dict[int, int] = {}
    for frame in range(1, config.n_frames + 1):
        cam = camera[frame - 1]
        live = [(t, k) for t in tracks if (k := t.index(frame)) is not None]
        placed = [_place(config, t, k, cam, looks[t.track_id]) for t, k in live]
        image, visibility, in_frame = renderer.render((int(cam[0]), int(cam[1])), placed)
        rows: list[list[float]] = []
        for (track, _), p, vis, inside in zip(live, placed, visibility, in_frame, strict=True):
            if inside <= 0:
                continue
            h, w = p.mask.shape
            x0, y0 = max(p.left, 0), max(p.top, 0)
            x1, y1 = min(p.left + w, config.width), min(p.top + h, config.height)
            tid = public_id.setdefault(track.track_id, len(public_id) + 1)
            # Rounded as gt.txt stores it, so in-memory gt equals the file.
            rows.append([frame, tid, x0, y0, x1 - x0, y1 - y0, 1, 1, round(float(vis), 3)])
        gt = MOTAnnotations.from_rows(rows) if rows else MOTAnnotations()
        yield SynthFrame(frame, image, gt.sorted())


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with atomic_write(path) as f:
        f.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


def generate_sequence(
    out_dir: str | Path,
    config: SynthConfig,
    seed: int,
    *,
    progress: Callable[[int], None] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write one sequence folder at ``out_dir`` (its name is the sequence name).

    The folder is built under a temporary name beside ``out_dir`` and renamed
    into place when complete (replacing an older one). ``progress`` is called
    with 1 after every frame; ``extra`` is stored in ``synth.json``.
    """
    out_dir = Path(out_dir)
    rngs = _streams(seed)  # validates the seed before anything is written
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(out_dir)
    try:
        img_dir = tmp / "img1"
        img_dir.mkdir()
        params = [cv2.IMWRITE_JPEG_QUALITY, config.jpeg_quality]
        gt = MOTAnnotations()
        for item in render_sequence(config, seed):
            ok, buf = cv2.imencode(".jpg", item.image, params)
            if not ok:
                raise OSError(f"{img_dir}: JPEG encoding failed for frame {item.frame}")
            (img_dir / f"{item.frame:06d}.jpg").write_bytes(buf.tobytes())
            gt = gt.concat(item.gt)
            if progress is not None:
                progress(1)
        info = SeqInfo(
            out_dir.name, config.n_frames, config.frame_rate, config.width, config.height
        )
        write_seqinfo(tmp / "seqinfo.ini", info)
        write_mot(tmp / "gt" / "gt.txt", gt, kind="gt", fmt="mot16")
        size = (config.width, config.height)
        det = simulate_detections(gt, size, rngs["detector"], None, config.detector)
        write_mot(tmp / "det" / "det.txt", det, kind="det")
        meta = {
            "generator": GENERATOR,
            "format_version": FORMAT_VERSION,
            "version": __version__,
            "seed": int(seed),
            "config": config.to_dict(),
            "extra": extra or {},
        }
        _write_json(tmp / SYNTH_JSON, meta)
        atomic_replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.debug("wrote %s: %d gt boxes, %d detections", out_dir, len(gt), len(det))
    return out_dir


def sequence_seed(seed: int, index: int) -> int:
    """Seed of sequence ``index`` of a dataset made with ``seed`` (independent of its size).

    >>> sequence_seed(0, 1) == sequence_seed(0, 1) != sequence_seed(0, 2)
    True
    """
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


def generate_dataset(
    out: str | Path,
    n_sequences: int,
    n_frames: int,
    seed: int,
    config: SynthConfig | None = None,
    *,
    progress: bool = True,
    prefix: str = "SYNTH",
    overwrite: bool = False,
) -> list[Path]:
    """Write ``n_sequences`` sequences ``OUT/SYNTH-0000``... of ``n_frames`` frames each.

    Sequence ``i`` uses :func:`sequence_seed` ``(seed, i)``, so a larger
    dataset made with the same seed starts with the same sequences. An existing
    sequence is replaced only with ``overwrite``.
    """
    if n_sequences < 1:
        raise ValueError(f"n_sequences={n_sequences} must be >= 1")
    _streams(seed)
    cfg = replace(config if config is not None else SynthConfig(), n_frames=n_frames)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise MOTFormatError(f"{out}: exists and is not a folder")
    existing = [out / f"{prefix}-{i:04d}" for i in range(n_sequences)]
    existing = [p for p in existing if p.exists()]
    if existing and not overwrite:
        raise ValueError(f"{existing[0]}: already exists (pass --overwrite to replace it)")
    paths: list[Path] = []
    with tqdm(
        total=n_sequences * n_frames, desc="synth", unit="frame", disable=not progress
    ) as bar:
        for i in range(n_sequences):
            s = sequence_seed(seed, i)
            extra = {"dataset_seed": int(seed), "index": i}
            path = generate_sequence(
                out / f"{prefix}-{i:04d}", cfg, s, progress=bar.update, extra=extra
            )
            paths.append(path)
    log.info("wrote %d generated sequences to %s", n_sequences, out)
    return paths


def read_synth_info(seq_dir: str | Path) -> SynthInfo | None:
    """Provenance of a generated sequence, or None when ``seq_dir`` holds real data."""
    path = Path(seq_dir) / SYNTH_JSON
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        if data.get("generator") != GENERATOR:
            raise ValueError(f"generator is {data.get('generator')!r}, expected {GENERATOR!r}")
        return SynthInfo(
            seed=int(data["seed"]),
            config=SynthConfig.from_dict(data["config"]),
            version=str(data["version"]),
            extra=dict(data.get("extra", {})),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise MOTFormatError(f"{path}: malformed {SYNTH_JSON}: {exc}") from exc
