"""The ``realesrgan`` degradation: drawn parameters, seeding, each step, ranges files, CLI."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.sequences import write_tiny_sequence
from typer.testing import CliRunner

from vsdmot.cli.main import app
from vsdmot.degrade import Degrader, create, psnr
from vsdmot.degrade.base import to_float
from vsdmot.degrade.dataset import read_quality_csv
from vsdmot.degrade.realesrgan import PUBLISHED, RangesError, load_ranges
from vsdmot.degrade.realesrgan.kernels import KERNEL_KINDS, blur_kernel, sinc_kernel
from vsdmot.degrade.realesrgan.protocol import FINAL_ORDERS
from vsdmot.degrade.realesrgan.ranges import KEYS, parse_ranges
from vsdmot.degrade.realesrgan.stages import NoiseParams, add_noise, blur, jpeg
from vsdmot.utils.specs import SpecError

ROOT = Path(__file__).resolve().parents[1]
SIZE = (160, 120)  # (width, height)


def textured(size: tuple[int, int] = SIZE, seed: int = 0) -> np.ndarray:
    """Smooth colour blobs, fine texture and sharp edges (BGR uint8)."""
    w, h = size
    rng = np.random.default_rng(seed)
    blobs = cv2.resize(rng.integers(30, 226, (4, 5, 3), dtype=np.uint8), (w, h),
                       interpolation=cv2.INTER_CUBIC)  # fmt: skip
    img = np.clip(blobs.astype(np.int16) + rng.integers(-20, 21, (h, w, 3)), 0, 255)
    img = img.astype(np.uint8)
    cv2.rectangle(img, (w // 5, h // 4), (w // 2, 3 * h // 4), (40, 200, 60), -1)
    return img


def laplacian_var(img: np.ndarray) -> float:
    return float(cv2.Laplacian(img.astype(np.float32), cv2.CV_32F).var())


def protocols(n: int, spec: str = "realesrgan") -> list[dict]:
    return [Degrader(spec, SIZE, seed=s).params["protocol"] for s in range(n)]


# -- drawn parameters -------------------------------------------------------------------


def _check_kernel(k: dict, order: int) -> None:
    r = PUBLISHED.order(order)
    assert k["size"] % 2 == 1 and 7 <= k["size"] <= 21
    if k["kind"] == "sinc":
        low = math.pi / 3 if k["size"] < 13 else math.pi / 5
        assert low <= k["omega_c"] <= math.pi
        return
    assert k["kind"] in KERNEL_KINDS
    for sigma in (k["sigma_x"], k["sigma_y"]):
        assert r.blur_sigma[0] <= sigma <= r.blur_sigma[1]
    if k["kind"].endswith("_iso") or k["kind"] == "iso":
        assert k["sigma_y"] == k["sigma_x"] and k["theta"] == 0.0
    else:
        assert -math.pi <= k["theta"] <= math.pi
    beta = {"generalized": r.betag_range, "plateau": r.betap_range}.get(k["kind"].split("_")[0])
    assert ("beta" in k) == (beta is not None)
    if beta is not None:
        assert beta[0] <= k["beta"] <= beta[1]


def _check_order(o: dict, order: int) -> None:
    r = PUBLISHED.order(order)
    if o["blur"] is not None:
        _check_kernel(o["blur"], order)
    rs = o["resize"]
    lo, hi = {"up": (1.0, r.resize_range[1]), "down": (r.resize_range[0], 1.0),
              "keep": (1.0, 1.0)}[rs["direction"]]  # fmt: skip
    assert lo <= rs["scale"] <= hi and rs["mode"] in ("area", "bilinear", "bicubic")
    noise = o["noise"]
    if noise["kind"] == "gaussian":
        assert r.noise_range[0] <= noise["sigma"] <= r.noise_range[1]
    else:
        assert noise["kind"] == "poisson"
        assert r.poisson_scale_range[0] <= noise["scale"] <= r.poisson_scale_range[1]
    assert isinstance(o["jpeg_quality"], int) and 30 <= o["jpeg_quality"] <= 95


def test_drawn_parameters_stay_in_the_published_ranges() -> None:
    drawn = protocols(400)
    for p in drawn:
        _check_order(p["first"], 1)
        _check_order(p["second"], 2)
        assert p["first"]["blur"] is not None  # only the second blur is optional
        if p["final_sinc"] is not None:
            assert p["final_sinc"]["kind"] == "sinc"
            assert math.pi / 3 <= p["final_sinc"]["omega_c"] <= math.pi
        assert p["final_order"] in FINAL_ORDERS

    def share(pred) -> float:
        return float(np.mean([bool(pred(p)) for p in drawn]))

    # The published probabilities, within about four standard errors of 400 draws.
    assert share(lambda p: p["second"]["blur"] is not None) == pytest.approx(0.8, abs=0.08)
    assert share(lambda p: p["final_sinc"] is not None) == pytest.approx(0.8, abs=0.08)
    assert share(lambda p: p["first"]["resize"]["direction"] == "down") == pytest.approx(
        0.7, abs=0.09
    )
    assert share(lambda p: p["second"]["resize"]["direction"] == "keep") == pytest.approx(
        0.3, abs=0.09
    )
    assert share(lambda p: p["first"]["noise"]["kind"] == "gaussian") == pytest.approx(0.5, abs=0.1)
    assert share(lambda p: p["first"]["noise"]["gray"]) == pytest.approx(0.4, abs=0.1)
    assert share(lambda p: p["first"]["blur"]["kind"] == "sinc") == pytest.approx(0.1, abs=0.06)
    assert share(lambda p: p["first"]["blur"]["kind"] == "iso") == pytest.approx(
        0.9 * 0.45, abs=0.1
    )
    assert share(lambda p: p["final_order"] == FINAL_ORDERS[0]) == pytest.approx(0.5, abs=0.1)


# -- seeding and severity -----------------------------------------------------------------


def test_same_seed_same_frames_and_parameters_other_seed_differs() -> None:
    img = textured()
    a, b = Degrader("realesrgan", SIZE, seed=3), Degrader("realesrgan", SIZE, seed=3)
    assert a.params == b.params
    assert np.array_equal(a.frame(img, 4, 5.0), b.frame(img, 4, 5.0))
    other = Degrader("realesrgan", SIZE, seed=4)
    assert other.params["protocol"] != a.params["protocol"]
    assert not np.array_equal(other.frame(img, 4, 5.0), a.frame(img, 4, 5.0))
    key = Degrader("realesrgan", SIZE, seed=3, key=99)
    assert key.params["protocol"] != a.params["protocol"]  # sequences differ under one seed


def test_noise_is_fresh_per_frame_but_the_parameters_are_fixed() -> None:
    img = textured()
    d = Degrader("realesrgan", SIZE, seed=0)
    f1, f2 = d.frame(img, 1, 5.0), d.frame(img, 2, 5.0)
    assert not np.array_equal(f1, f2)
    assert abs(psnr(img, f1) - psnr(img, f2)) < 1.0  # same strength: no flicker


def test_severity_scales_the_change_linearly() -> None:
    img = textured()
    d = Degrader("realesrgan", SIZE, seed=1)
    full = d.frame(img, 1, 5.0).astype(np.float64)
    for s in (1.0, 2.5, 4.0):
        out = d.frame(img, 1, s).astype(np.float64)
        expected = img + (s / 5.0) * (full - img)
        # ``full`` is rounded once more than the blend: at most about a grey level apart.
        assert np.abs(out - expected).max() <= 1.0
    assert np.array_equal(d.frame(img, 1, 0.0), img)


# -- the steps ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KERNEL_KINDS)
def test_blur_kernels_remove_high_frequencies(kind: str) -> None:
    kernel = blur_kernel(kind, 15, 2.0, 1.0, 0.3, beta=1.5)
    assert kernel.sum() == pytest.approx(1.0, abs=1e-5)
    img = to_float(textured())
    assert laplacian_var(blur(img, kernel)) < 0.5 * laplacian_var(img)


def test_anisotropic_kernel_follows_its_axes() -> None:
    def spread(k: np.ndarray) -> tuple[float, float]:
        ax = np.arange(k.shape[0]) - k.shape[0] // 2
        return float((k.sum(axis=0) * ax**2).sum()), float((k.sum(axis=1) * ax**2).sum())

    along_x = spread(blur_kernel("aniso", 21, 3.0, 0.5, 0.0))
    along_y = spread(blur_kernel("aniso", 21, 3.0, 0.5, math.pi / 2))
    assert along_x[0] > 5 * along_x[1] and along_y[1] > 5 * along_y[0]


def test_sinc_filter_is_a_low_pass_that_rings() -> None:
    omega = math.pi / 4
    kernel = sinc_kernel(21, omega)
    n = 128
    response = np.abs(np.fft.fft2(kernel, (n, n)))
    f = np.fft.fftfreq(n) * 2 * math.pi  # radians per pixel
    radius = np.hypot(*np.meshgrid(f, f))
    assert response[0, 0] == pytest.approx(1.0, abs=1e-4)
    assert response[radius < 0.6 * omega].min() > 0.8  # the pass band passes
    assert response[radius > 1.5 * omega].max() < 0.15  # the stop band stops
    step = np.zeros((40, 40, 3), np.float32)
    step[:, 20:] = 1.0
    edge = blur(step * 0.6 + 0.2, kernel)
    assert edge.max() > 0.81 and edge.min() < 0.19  # over- and undershoot beside the edge
    smooth = blur(step * 0.6 + 0.2, blur_kernel("iso", 21, 2.0, 2.0, 0.0))
    assert smooth.max() <= 0.8 + 1e-6 and smooth.min() >= 0.2 - 1e-6  # a Gaussian does not


def blockiness(img: np.ndarray) -> float:
    """Mean step across 8-pixel column boundaries over the mean step inside blocks."""
    d = np.abs(np.diff(img.astype(np.float64), axis=1)).mean(axis=(0, 2))
    at_boundary = np.arange(d.size) % 8 == 7
    return float(d[at_boundary].mean() / d[~at_boundary].mean())


def test_jpeg_leaves_8x8_block_artefacts() -> None:
    rng = np.random.default_rng(0)
    blobs = cv2.resize(rng.random((4, 5, 3)).astype(np.float32), (160, 128),
                       interpolation=cv2.INTER_CUBIC)  # fmt: skip
    img = np.clip(0.2 + 0.6 * blobs + rng.normal(0, 0.02, blobs.shape), 0, 1).astype(np.float32)
    assert blockiness(img) < 1.1
    assert blockiness(jpeg(img, 30)) > 1.8
    assert blockiness(jpeg(img, 30)) > blockiness(jpeg(img, 90))


def test_noise_raises_variance_on_a_flat_image() -> None:
    flat = np.full((100, 120, 3), 0.5, np.float32)
    rng = np.random.default_rng(0)
    colour = add_noise(flat, NoiseParams("gaussian", False, sigma=10.0), rng)
    assert float(colour.std()) == pytest.approx(10 / 255, rel=0.05)
    assert not np.array_equal(colour[..., 0], colour[..., 1])
    gray = add_noise(flat, NoiseParams("gaussian", True, sigma=10.0), rng)
    assert np.array_equal(gray[..., 0], gray[..., 1]) and gray.std() > 0.03
    poisson = add_noise(flat, NoiseParams("poisson", False, scale=0.5), rng)
    assert poisson.var() > 1e-3


def test_poisson_noise_uses_the_grey_levels_of_the_image() -> None:
    # A ramp uses all 256 levels: photon count 256 at white, variance x / 256 * scale^2.
    ramp = np.tile(np.linspace(0, 1, 256, dtype=np.float32), (200, 1))
    img = np.repeat(ramp[..., None], 3, axis=2)
    noisy = add_noise(img, NoiseParams("poisson", False, scale=2.0), np.random.default_rng(1))
    mid = slice(64, 192)  # away from the clipping at 0 and 1
    var = float((noisy - img)[:, mid].var())
    assert var == pytest.approx(float(img[:, mid].mean()) / 256 * 4, rel=0.15)


@pytest.mark.parametrize("size", [(97, 61), (160, 120)])
def test_output_keeps_the_frame_size(size: tuple[int, int]) -> None:
    img = textured(size)
    for seed in range(12):
        out = Degrader("realesrgan", size, seed=seed).frame(img, 1, 5.0)
        assert out.shape == img.shape and out.dtype == np.uint8


def test_strong_downscale_round_trips_size_and_loses_detail(tmp_path: Path) -> None:
    cfg = tmp_path / "down.yaml"
    cfg.write_text("resize_prob: [0, 1, 0]\nresize_range: [0.25, 1]\n"
                   "resize_prob2: [0, 1, 0]\nresize_range2: [0.3, 1]\n")  # fmt: skip
    img = textured()
    d = Degrader(f"realesrgan:config={cfg}", SIZE, seed=0)
    assert d.params["protocol"]["first"]["resize"]["direction"] == "down"
    out = d.frame(img, 1, 5.0)
    assert out.shape == img.shape
    assert laplacian_var(out) < laplacian_var(img)


# -- ranges files ------------------------------------------------------------------------


def test_ranges_file_overrides_the_published_ranges(tmp_path: Path) -> None:
    cfg = tmp_path / "ranges.yaml"
    cfg.write_text(
        "gaussian_noise_prob: 1\nnoise_range: [7, 7]\njpeg_range: [50, 50]\n"
        "second_blur_prob: 0\nfinal_sinc_prob: 0.0\nkernel_list: [iso]\nkernel_prob: [1]\n"
        "sinc_prob: 0\n"
    )
    ranges = load_ranges(cfg)
    assert ranges.noise_range == (7.0, 7.0) and ranges.noise_range2 == PUBLISHED.noise_range2
    for p in protocols(10, f"realesrgan:config={cfg}"):
        assert p["first"]["noise"] == {"kind": "gaussian", "gray": p["first"]["noise"]["gray"],
                                       "sigma": 7.0}  # fmt: skip
        assert p["first"]["jpeg_quality"] == 50 and p["first"]["blur"]["kind"] == "iso"
        assert p["second"]["blur"] is None and p["final_sinc"] is None
    params = Degrader(f"realesrgan:config={cfg}", SIZE).params
    assert params["config"] == str(cfg) and params["ranges"]["noise_range"] == [7.0, 7.0]
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_ranges(empty) == PUBLISHED


def test_published_ranges_pass_their_own_checks() -> None:
    assert parse_ranges(PUBLISHED.to_json(), "published") == PUBLISHED
    assert set(PUBLISHED.to_json()) == set(KEYS)


@pytest.mark.parametrize(
    "text, message",
    [
        ("noise_rang: [1, 2]\n", r"unknown key 'noise_rang' \(did you mean 'noise_range'\?\)"),
        ("jpeg_range: [30, 120]\n", "jpeg_range: 120 is above 100"),
        ("resize_range2: [0.5, 0.9]\n", r"resize_range2: \[0.5, 0.9\] must contain 1"),
        ("sinc_prob: high\n", "sinc_prob: 'high' is not a number"),
        ("gray_noise_prob: 1.5\n", "gray_noise_prob: 1.5 is not a probability"),
        ("noise_range: [20, 10]\n", "noise_range: low 20 is above high 10"),
        ("kernel_prob: [0.5, 0.5]\n", "kernel_prob: 2 probabilities for the 6 kinds"),
        ("resize_prob: [0.5, 0.2, 0.2]\n", "resize_prob: .* sum to 0.9, not 1"),
        ("kernel_list2: [iso, box]\n", r"kernel_list2: unknown kernel kinds \['box'\]"),
        ("kernel_size_range: [7, 20]\n", "kernel_size_range: .* must be odd"),
        ("blur_sigma: [0, 2]\n", "blur_sigma: 0 is at or below 0"),
        ("- noise_range\n", "expected a mapping"),
        ("noise_range: [1, 2\n", "not valid YAML"),
    ],
)
def test_bad_ranges_file_names_the_file_and_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    with pytest.raises(RangesError, match=message) as err:
        create(f"realesrgan:config={cfg}")
    assert str(err.value).startswith(f"{cfg}: ")


def test_bad_type_options_are_rejected() -> None:
    with pytest.raises(FileNotFoundError, match="missing.yaml: Real-ESRGAN ranges file"):
        create("realesrgan:config=missing.yaml")
    with pytest.raises(SpecError, match="realesrgan has no option 'cfg'; its options: config"):
        create("realesrgan:cfg=x.yaml")
    with pytest.raises(SpecError, match="fog has no option 'config'"):
        create("fog:config=x.yaml")


# -- the command line --------------------------------------------------------------------


def test_cli_writes_frames_and_parameters(tmp_path: Path) -> None:
    write_tiny_sequence(tmp_path / "src", n_frames=4)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "vsdmot", "degrade", str(tmp_path / "src"), str(out),
           "--type", "realesrgan", "--severity", "5", "--seed", "2",
           "--image-ext", ".png"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    seq = out / "TINY-01"
    frames = sorted((seq / "img1").glob("*.png"))
    assert [p.name for p in frames] == [f"{t:06d}.png" for t in range(1, 5)]
    meta = json.loads((seq / "degradation.json").read_text())
    expected = Degrader("realesrgan", (96, 72), seed=2, key=meta["sequence_key"])
    assert meta["type"] == "realesrgan" and meta["params"] == json.loads(
        json.dumps(expected.params)
    )
    clean = cv2.imread(str(tmp_path / "src" / "TINY-01" / "img1" / "000003.png"))
    stored = cv2.imread(str(frames[2]))
    assert np.array_equal(stored, expected.frame(clean, 3, 5.0))  # PNG: the frame as made
    rows = read_quality_csv(seq / "quality.csv")
    assert {r["types"] for r in rows} == {"realesrgan"} and {r["quality"] for r in rows} == {0.0}


def test_cli_with_a_ranges_file_and_a_bad_one(tmp_path: Path) -> None:
    write_tiny_sequence(tmp_path / "src", n_frames=2)
    cfg = tmp_path / "ranges.yaml"
    cfg.write_text("jpeg_range: [40, 40]\njpeg_range2: [40, 40]\n")
    runner = CliRunner()
    args = ["degrade", str(tmp_path / "src"), str(tmp_path / "out")]
    ok = runner.invoke(app, [*args, "--type", f"realesrgan:config={cfg}", "--severity", "5"])
    assert ok.exit_code == 0, ok.output
    meta = json.loads((tmp_path / "out" / "TINY-01" / "degradation.json").read_text())
    assert meta["params"]["config"] == str(cfg)
    assert meta["params"]["protocol"]["first"]["jpeg_quality"] == 40
    cfg.write_text("jpeg_range: [40, 400]\n")
    bad = runner.invoke(app, [*args, "--type", f"realesrgan:config={cfg}", "--overwrite"])
    assert bad.exit_code == 2
    assert f"error: {cfg}: jpeg_range: 400 is above 100" in bad.output.replace("\n", "")


def test_real_sequence_frames(mot15_dir: Path) -> None:
    from vsdmot.data.sequence import MOTSequence

    seq = MOTSequence(mot15_dir / "TUD-Stadtmitte")
    try:
        img = seq.frame(1)
    finally:
        seq.frames.close()
    d = Degrader("realesrgan", seq.frames.size, seed=0)
    out = d.frame(img, 1, 5.0)
    assert out.shape == img.shape
    assert 15 < psnr(img, out) < 40
    again = Degrader("realesrgan", seq.frames.size, seed=0).frame(img, 1, 5.0)
    assert np.array_equal(out, again)
