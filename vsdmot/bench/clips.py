"""A test video cut from a MOT sequence: frames ``first..last`` as one MP4 in a sequence
folder, with ``seqinfo.ini`` and the ground truth renumbered from 1, so a run on the video
(decoding included) is scored like one on the frames.

>>> import tempfile
>>> from vsdmot.data.mot import read_seqinfo
>>> from vsdmot.data.synth import generate_dataset
>>> tmp = Path(tempfile.mkdtemp())
>>> src = generate_dataset(tmp / "src", 1, 6, 0, progress=False)[0]
>>> clip = write_clip_sequence(src, 3, 5, tmp / "CLIP", frame_rate=7)
>>> read_seqinfo(clip / "seqinfo.ini").seq_length, sorted(p.name for p in clip.iterdir())
(3, ['clip.mp4', 'gt', 'seqinfo.ini'])
>>> int(read_mot(clip / "gt" / "gt.txt", "gt").frame.min())
1
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vsdmot.data.mot import SeqInfo, read_mot, write_seqinfo
from vsdmot.data.sequence import MOTSequence


def write_clip_sequence(seq_dir: Path, first: int, last: int, out: Path,
                        frame_rate: float) -> Path:  # fmt: skip
    """The sequence folder ``out`` (named as the sequence) holding ``clip.mp4`` (mp4v, at
    ``frame_rate``) of frames ``first..last`` of ``seq_dir`` and their ground truth."""
    seq = MOTSequence(seq_dir)
    (out / "gt").mkdir(parents=True)
    w, h = seq.frames.size
    writer = cv2.VideoWriter(str(out / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), frame_rate,
                             (w, h))  # fmt: skip
    for t in range(first, last + 1):
        writer.write(seq.frame(t))
    writer.release()
    write_seqinfo(out / "seqinfo.ini", SeqInfo(out.name, last - first + 1, frame_rate, w, h))
    gt = np.loadtxt(seq_dir / "gt" / "gt.txt", delimiter=",", ndmin=2)
    gt = gt[(gt[:, 0] >= first) & (gt[:, 0] <= last)]
    gt[:, 0] -= first - 1
    np.savetxt(out / "gt" / "gt.txt", gt, delimiter=",", fmt="%g")
    read_mot(out / "gt" / "gt.txt", "gt")  # fail here, not in scoring, if malformed
    return out
