"""Compare the BRISQUE / NIQE ports of ``vsdmot.eval.classic_iqa`` with the released packages.

The released packages only run with numpy < 2 (and NIQE also needs two functions that
SciPy and numpy removed, restored here by their definitions), so the check runs in two
environments, exchanging frames and scores through files::

    # 1. this project's environment: pick frames, score them with the ports
    .venv/bin/python benchmarks/crosscheck_classic_iqa.py port FRAMES.npz img1.jpg img2.jpg ...
    # 2. an environment with: pip install "numpy<2" "opencv-python-headless<4.10" \\
    #        brisque==0.2.0 scikit-video==1.1.11 pillow scipy
    python benchmarks/crosscheck_classic_iqa.py original FRAMES.npz
    # 3. either environment: the largest differences
    python benchmarks/crosscheck_classic_iqa.py compare FRAMES.npz
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np


def _frames(npz: Path) -> list[np.ndarray]:
    data = np.load(npz)
    return [data[k] for k in sorted(data.files, key=lambda k: int(k.split("_")[1]))]


def run_port(npz: Path, images: list[Path]) -> None:
    from vsdmot.eval import classic_iqa

    frames = []
    for path in images:
        frame = cv2.imread(str(path))
        if frame is None:
            raise SystemExit(f"{path}: cannot read the image")
        frames.append(frame)
    np.savez(npz, *frames)
    s = classic_iqa.scorers()
    np.save(npz.with_suffix(".port.npy"), [(s["brisque"](f), s["niqe"](f)) for f in frames])


def run_original(npz: Path) -> None:
    import scipy.misc
    from PIL import Image

    np.int = int  # removed in numpy 1.24; skvideo.measure.niqe still uses it

    def imresize(arr, size, interp="bicubic", mode=None):  # removed in SciPy 1.3
        assert interp == "bicubic"
        im = Image.fromarray(arr, mode=mode)
        new = tuple((np.array(im.size) * size).astype(int))
        return np.array(im.resize(new, resample=Image.BICUBIC))

    scipy.misc.imresize = imresize
    import skvideo.measure
    from brisque import BRISQUE

    model = BRISQUE(url=False)
    scores = []
    for frame in _frames(npz):
        luma = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float64)
        scores.append((model.score(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)),
                       skvideo.measure.niqe(luma)[0]))  # fmt: skip
    np.save(npz.with_suffix(".original.npy"), scores)


def compare(npz: Path) -> None:
    port = np.load(npz.with_suffix(".port.npy"))
    orig = np.load(npz.with_suffix(".original.npy"))
    for i, name in enumerate(("BRISQUE", "NIQE")):
        diff = np.abs(port[:, i] - orig[:, i]).max()
        print(f"{name}: largest difference {diff:.4f} over {len(port)} frames "
              f"(original scores {orig[:, i].min():.1f}-{orig[:, i].max():.1f})")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("step", choices=("port", "original", "compare"))
    ap.add_argument("frames", type=Path, help="the .npz of frames shared by the steps")
    ap.add_argument("images", nargs="*", type=Path, help="images to check (step 'port')")
    args = ap.parse_args()
    if args.step == "port":
        run_port(args.frames, args.images)
    elif args.step == "original":
        run_original(args.frames)
    else:
        compare(args.frames)


if __name__ == "__main__":
    main()
