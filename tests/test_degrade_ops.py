"""Degradation ops: identity at 0, monotone damage, seeding rules, bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vsdmot.degrade import DEGRADATION_TYPES, Degrader, create, psnr, quality_label, ssim
from vsdmot.degrade.blur import disk_kernel, line_kernel

SIZE = (320, 240)  # (width, height)
#: Types whose output depends on the seed (the others are deterministic filters).
SEEDED_TYPES = ("gaussian_noise", "shot_noise", "low_light", "motion_blur", "fog", "rain", "mix")
PER_FRAME_TYPES = tuple(t for t in DEGRADATION_TYPES if t not in ("codec", "mix"))


def textured(size: tuple[int, int] = SIZE, seed: int = 0) -> np.ndarray:
    """A natural-ish test frame: smooth colour blobs, edges and fine texture."""
    w, h = size
    rng = np.random.default_rng(seed)
    blobs = cv2.resize(
        rng.integers(30, 226, (6, 8, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC
    )
    img = blobs.astype(np.int16) + rng.integers(-20, 21, (h, w, 3))
    img = np.clip(img, 0, 255).astype(np.uint8)
    cv2.rectangle(img, (w // 5, h // 4), (w // 2, 3 * h // 4), (40, 200, 60), -1)
    cv2.circle(img, (3 * w // 4, h // 2), h // 5, (220, 60, 30), -1)
    return img


def clip(n: int = 3) -> list[np.ndarray]:
    return [textured(seed=i) for i in range(n)]


def degrade_clip(type_: str, seed: int, frames: list[np.ndarray], severity: float) -> list:
    d = Degrader(type_, SIZE, seed=seed, key=7)
    return list(d.stream(frames, [severity] * len(frames)))


@pytest.mark.parametrize("type_", DEGRADATION_TYPES)
def test_severity_zero_is_identity(type_: str) -> None:
    frames = clip(2)
    out = degrade_clip(type_, 0, frames, 0.0)
    assert all(np.array_equal(a, b) for a, b in zip(frames, out, strict=True))


@pytest.mark.parametrize("type_", DEGRADATION_TYPES)
def test_damage_grows_with_severity(type_: str) -> None:
    img = textured()
    scores = []
    for s in (1, 2, 3, 4, 5):
        (out,) = degrade_clip(type_, 0, [img], float(s))
        assert out.shape == img.shape and out.dtype == np.uint8
        scores.append((psnr(img, out), ssim(img, out)))
    p, q = np.array(scores).T
    assert np.all(np.diff(p) < 0), f"{type_}: PSNR not falling with severity: {p}"
    if type_ == "mix":
        # Stacked types interact: heavy JPEG after noise smooths the noise away, so
        # SSIM of a mix need not fall at every step; only overall.
        assert q[-1] < q[0]
    else:
        assert np.all(np.diff(q) < 0), f"{type_}: SSIM not falling with severity: {q}"
    assert p[0] < 45 and q[0] < 0.99, f"{type_}: severity 1 barely changes the frame"


@pytest.mark.parametrize("type_", DEGRADATION_TYPES)
def test_same_seed_same_bytes(type_: str) -> None:
    frames = clip()
    a = degrade_clip(type_, 11, frames, 2.5)
    b = degrade_clip(type_, 11, frames, 2.5)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("type_", SEEDED_TYPES)
def test_different_seed_differs(type_: str) -> None:
    frames = clip(2)
    a = degrade_clip(type_, 1, frames, 3.0)
    b = degrade_clip(type_, 2, frames, 3.0)
    assert any(not np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("type_", PER_FRAME_TYPES)
def test_any_frame_reproducible_alone(type_: str) -> None:
    frames = clip(4)
    sev = [1.0, 2.5, 4.0, 3.3]
    forward = list(Degrader(type_, SIZE, seed=5).stream(frames, sev))
    backward = Degrader(type_, SIZE, seed=5)
    for t in (4, 2, 3, 1):
        alone = backward.frame(frames[t - 1], t, sev[t - 1])
        fresh = Degrader(type_, SIZE, seed=5).frame(frames[t - 1], t, sev[t - 1])
        assert np.array_equal(alone, forward[t - 1])
        assert np.array_equal(fresh, forward[t - 1])


def test_noise_differs_between_frames_but_parameters_do_not() -> None:
    img = textured()
    d = Degrader("gaussian_noise", SIZE, seed=0)
    a, b = d.frame(img, 1, 3.0), d.frame(img, 2, 3.0)
    assert not np.array_equal(a, b)  # fresh sensor noise per frame
    # ... with the same strength: no flicker in the noise level.
    assert abs(psnr(img, a) - psnr(img, b)) < 0.2
    fog = Degrader("fog", SIZE, seed=0)
    assert np.array_equal(fog.frame(img, 1, 3.0), fog.frame(img, 9, 3.0))  # static fog


def test_sequence_key_changes_fixed_parameters() -> None:
    a = Degrader("motion_blur", SIZE, seed=0, key=1).params["angle_deg"]
    b = Degrader("motion_blur", SIZE, seed=0, key=2).params["angle_deg"]
    assert a != b and 0 <= a < 180 and 0 <= b < 180


def test_codec_is_clip_level_and_temporal() -> None:
    frames = clip(6)
    d = Degrader("codec", SIZE, seed=0)
    with pytest.raises(ValueError, match="use stream"):
        d.frame(frames[0], 1, 3.0)
    sev = [3.0, 3.0, 3.0, 0.0, 4.0, 4.0]
    out = list(d.stream(frames, sev))
    assert len(out) == 6
    assert np.array_equal(out[3], frames[3])  # severity 0 passes through between streams
    assert psnr(frames[4], out[4]) < psnr(frames[0], out[0])  # higher CRF, more loss


def test_codec_handles_odd_frame_sizes() -> None:
    img = textured((101, 75))
    out = list(Degrader("codec", (101, 75), seed=0).stream([img, img], [2.0, 2.0]))
    assert [o.shape for o in out] == [img.shape, img.shape]
    assert 20 < psnr(img, out[1]) < 60


def test_mix_uses_two_or_three_stages_and_labels_quality() -> None:
    seen = set()
    for seed in range(12):
        d = Degrader("mix", SIZE, seed=seed)
        assert 2 <= len(d.types) <= 3
        stages = [create(t).stage for t in d.types]
        assert stages == sorted(set(stages))  # distinct stages, camera-chain order
        assert d.quality(2.5) == pytest.approx(0.5 ** len(d.types))
        seen.add(tuple(d.types))
    assert len(seen) > 3  # the seed really chooses the combination


def test_quality_label_values() -> None:
    assert quality_label(0.0) == 1.0
    assert quality_label(5.0) == 0.0
    assert quality_label(1.0) == pytest.approx(0.8)
    assert quality_label(1.0, 3) == pytest.approx(0.512)


def test_ssim_and_psnr_agree_with_known_cases() -> None:
    img = textured()
    assert psnr(img, img) == 100.0 and ssim(img, img) == 1.0
    shifted = np.clip(img.astype(int) + 10, 0, 255).astype(np.uint8)
    assert psnr(img, shifted) == pytest.approx(20 * np.log10(255 / 10), abs=0.3)
    inverted = 255 - img
    assert ssim(img, inverted) < 0.0  # anti-correlated structure


def test_kernels_are_normalised_and_grow() -> None:
    assert line_kernel(10.0, 30.0).sum() == pytest.approx(1.0, abs=1e-5)
    assert disk_kernel(0.1)[1, 1] == pytest.approx(1.0)  # tiny radius: identity kernel
    assert disk_kernel(5.0).shape[0] > disk_kernel(2.0).shape[0]


def test_bad_input_is_rejected_clearly() -> None:
    with pytest.raises(ValueError, match="unknown degradation type 'snow'.*gaussian_noise"):
        Degrader("snow", SIZE)
    d = Degrader("gaussian_noise", SIZE)
    img = textured()
    with pytest.raises(ValueError, match="outside"):
        d.frame(img, 1, 5.5)
    with pytest.raises(ValueError, match="outside"):
        d.frame(img, 1, -0.1)
    with pytest.raises(ValueError, match="uint8"):
        d.frame(img.astype(np.float32), 1, 1.0)
    with pytest.raises(ValueError, match="differs from the size"):
        d.frame(textured((64, 48)), 1, 1.0)
    with pytest.raises(RuntimeError, match="setup"):
        create("fog").apply(img, 1.0, np.random.default_rng(0))
