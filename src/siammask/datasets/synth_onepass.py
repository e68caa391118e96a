"""Deterministic synthetic one-pass datasets in the OTB, LaSOT and GOT-10k layouts.

Why: the one-pass readers and the "ope" protocol need datasets in those layouts to be tested and
demonstrated without downloading the benchmarks. The frames come from the same renderers as the
other synthetic layouts: OTB's from synth.py's (the target always in view, as in OTB), LaSOT's and
GOT-10k's from synth_lt.py's (the target goes behind a panel or out of the view and comes back),
so the absent frames are exact.

Layouts written by `make_onepass_dataset`::

    otb:    OUT/synthNN/img/0001.jpg ...      frames, 4 digits from 1
            OUT/synthNN/groundtruth_rect.txt  x,y,w,h a line; commas in even sequences, tabs in odd
                                              ones (OTB ships both)
    lasot:  OUT/synth/synth-N/img/00000001.jpg ...  frames (category "synth", N from 1)
            OUT/synth/synth-N/groundtruth.txt       x,y,w,h a line (0,0,0,0 where absent, as LaSOT)
            OUT/synth/synth-N/full_occlusion.txt    0/1 a frame on one line: behind the panel
            OUT/synth/synth-N/out_of_view.txt       0/1 a frame on one line: out of the view
            OUT/synth/synth-N/nlp.txt               a sentence
            OUT/testing_set.txt                     every sequence
    got10k: OUT/<split>/list.txt                    GOT-10k_<Split>_000001 ... (split val or test)
            OUT/<split>/GOT-10k_<Split>_NNNNNN/00000001.jpg ...
            .../groundtruth.txt   x,y,w,h a line (test: the first line only; absent frames keep
                                  the last box seen, as GOT-10k's absent rows do not matter)
            .../absence.label, cover.label (0 absent; 1-7 on the frames next to an absence, 8
                                  elsewhere), cut_by_image.label (the box at the frame's border)
            .../meta_info.ini     [METAINFO] and key: value lines, resolution: (W, H)

The absent frames' kind (panel or out of the view) is told apart by the last box before them: a
target leaving the view was cut by the border there.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from siammask.datasets import synth_lt
from siammask.datasets.synth import JPEG_QUALITY, _check_output, _int_arg, _render_sequence, _size_arg
from siammask.errors import SiamMaskError
from siammask.files import staged_folder, unexpected_entries
from siammask.io.ownership import RECORD, folder_problem, record_folder

__all__ = ["make_onepass_dataset", "LAYOUTS", "min_frames"]

LAYOUTS = ("otb", "lasot", "got10k")
KINDS = {"otb": "synthetic OTB dataset", "lasot": "synthetic LaSOT dataset", "got10k": "synthetic GOT-10k dataset"}
CATEGORY = "synth"
GOT10K_SPLITS = ("val", "test")
_STREAM = 25  # the number: numpy streams other layouts do not use


def min_frames(layout: str) -> int:
    """The fewest frames a sequence of `layout` may have (LaSOT's and GOT-10k's hold an absence)."""
    return 2 if layout == "otb" else synth_lt.MIN_FRAMES


def make_onepass_dataset(
    out_dir: str | os.PathLike[str],
    layout: str,
    sequences: int = 3,
    frames: int = 60,
    size: tuple[int, int] = (320, 240),
    seed: int = 0,
    overwrite: bool = False,
    split: str = "val",
) -> Path:
    """Write a synthetic dataset of `layout` (otb, lasot, got10k; `split` val or test for GOT-10k)
    to `out_dir` and return its path. The same arguments give byte-identical files; the dataset is
    built in a hidden folder and renamed into place, an existing one replaced only with `overwrite`
    and only when its .siammask record says this generator wrote it, unchanged."""
    if layout not in LAYOUTS:
        raise SiamMaskError(f"layout {layout!r}: use {', '.join(LAYOUTS)}")
    if layout == "got10k" and split not in GOT10K_SPLITS:
        raise SiamMaskError(f"GOT-10k split {split!r}: use {', '.join(GOT10K_SPLITS)}")
    sequences = _int_arg("sequences", sequences, 1)
    frames = _int_arg("frames", frames, min_frames(layout))
    seed = _int_arg("seed", seed, 0)
    width, height = _size_arg(size)
    out = Path(out_dir)
    _check_output(out, overwrite, lambda folder: _owner_problem(folder, layout))
    writers = {"otb": _write_otb, "lasot": _write_lasot, "got10k": _write_got10k}
    try:
        with staged_folder(out) as tmp:
            writers[layout](tmp, sequences, frames, (width, height), seed, split)
            record_folder(tmp, KINDS[layout])
    except OSError as exc:
        raise SiamMaskError(f"cannot write dataset to {out}: {exc.strerror or exc}") from None
    return out


def _owner_problem(folder: Path, layout: str) -> str | None:
    """None for a folder this generator wrote in `layout`: only its own names at the top, and at
    every depth exactly the files its .siammask record lists."""
    top = {"lasot": [CATEGORY, "testing_set.txt"], "got10k": list(GOT10K_SPLITS)}.get(layout)
    if top is None:  # otb: the sequence folders
        top = [p.name for p in folder.iterdir() if p.name.startswith("synth")]
    return unexpected_entries(folder, [*top, RECORD]) or folder_problem(folder, KINDS[layout])


# --------------------------------------------------------------------------- layouts


def _write_otb(tmp: Path, count: int, frames: int, size: tuple[int, int], seed: int, split: str) -> None:
    for index in range(count):
        seq = tmp / f"synth{index:02d}"
        (seq / "img").mkdir(parents=True)
        rng = np.random.default_rng([seed, index, _STREAM])
        truth = _render_sequence(rng, frames, *size, _jpeg_writer(seq / "img", 4))
        corners = truth.polygons  # (T, 4, 2)
        lo, hi = corners.min(axis=1), corners.max(axis=1)
        boxes = np.column_stack([lo, hi - lo])
        sep = "," if index % 2 == 0 else "\t"
        (seq / "groundtruth_rect.txt").write_text("".join(sep.join(f"{v:.2f}" for v in b) + "\n" for b in boxes))


def _write_lasot(tmp: Path, count: int, frames: int, size: tuple[int, int], seed: int, split: str) -> None:
    names = [f"{CATEGORY}-{i + 1}" for i in range(count)]
    for index, name in enumerate(names):
        seq = tmp / CATEGORY / name
        (seq / "img").mkdir(parents=True)
        boxes, out_of_view, occluded = _render_absent(seq / "img", index, frames, size, seed)
        shipped = np.where(np.isnan(boxes), 0.0, boxes)  # LaSOT writes 0,0,0,0 on absent frames
        (seq / "groundtruth.txt").write_text("".join(",".join(_number(v) for v in b) + "\n" for b in shipped))
        (seq / "full_occlusion.txt").write_text(",".join(str(int(v)) for v in occluded) + "\n")
        (seq / "out_of_view.txt").write_text(",".join(str(int(v)) for v in out_of_view) + "\n")
        (seq / "nlp.txt").write_text("a textured shape moving over a cluttered background\n")
    (tmp / "testing_set.txt").write_text("".join(f"{n}\n" for n in names))


def _write_got10k(tmp: Path, count: int, frames: int, size: tuple[int, int], seed: int, split: str) -> None:
    names = [f"GOT-10k_{split.capitalize()}_{i + 1:06d}" for i in range(count)]
    root = tmp / split
    for index, name in enumerate(names):
        seq = root / name
        seq.mkdir(parents=True)
        boxes, out_of_view, occluded = _render_absent(seq, index, frames, size, seed)
        absent = np.isnan(boxes).any(axis=1)
        held = _hold_last(boxes)
        lines = [",".join(_number(v) for v in b) + "\n" for b in held]
        (seq / "groundtruth.txt").write_text("".join(lines[:1] if split == "test" else lines))
        if split == "test":
            continue
        (seq / "absence.label").write_text("".join(f"{int(v)}\n" for v in absent))
        (seq / "cover.label").write_text("".join(f"{v}\n" for v in _cover(absent)))
        (seq / "cut_by_image.label").write_text("".join(f"{int(v)}\n" for v in _cut(boxes, size)))
        (seq / "meta_info.ini").write_text(
            "[METAINFO]\nurl: synthetic\nbegin_time: 0\nend_time: 0\nanno_fps: 10Hz\nobject_class: shape\n"
            "motion_class: moving\nmajor_class: shape\nroot_class: object\nmotion_adverb: smoothly\n"
            f"resolution: ({size[0]}, {size[1]})\n")
    (root / "list.txt").write_text("".join(f"{n}\n" for n in names))


# --------------------------------------------------------------------------- helpers


def _render_absent(folder: Path, index: int, frames: int, size: tuple[int, int],
                   seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """synth_lt's sequence into `folder` (8-digit frames): boxes (NaN absent), out-of-view and
    fully-occluded flags a frame."""
    rng = np.random.default_rng([seed, index, _STREAM])
    boxes = synth_lt._render(rng, frames, *size, _jpeg_writer(folder, 8))
    absent = np.isnan(boxes).any(axis=1)
    out_of_view = np.zeros(frames, bool)
    t = 0
    while t < frames:
        if not absent[t]:
            t += 1
            continue
        stop = t
        while stop < frames and absent[stop]:
            stop += 1
        # the target left through the border when the last box before was cut by it
        out_of_view[t:stop] = t > 0 and bool(_cut(boxes[t - 1 : t], size)[0])
        t = stop
    return boxes, out_of_view, absent & ~out_of_view


def _cut(boxes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Whether each box reaches the frame's border (synth_lt clips boxes to [-0.5, size - 0.5])."""
    width, height = size
    eps = 1e-6
    with np.errstate(invalid="ignore"):
        return ((boxes[:, 0] <= -0.5 + eps) | (boxes[:, 1] <= -0.5 + eps)
                | (boxes[:, 0] + boxes[:, 2] >= width - 0.5 - eps) | (boxes[:, 1] + boxes[:, 3] >= height - 0.5 - eps))


def _cover(absent: np.ndarray) -> list[int]:
    """0 absent; nearer an absence, less of the target seen (1 to 7 over the RAMP frames); else 8."""
    n = len(absent)
    where = np.flatnonzero(absent)
    cover = []
    for t in range(n):
        if absent[t]:
            cover.append(0)
            continue
        distance = int(np.abs(where - t).min()) if len(where) else n
        cover.append(8 if distance > synth_lt.RAMP else max(1, math.ceil(7 * distance / (synth_lt.RAMP + 1))))
    return cover


def _hold_last(boxes: np.ndarray) -> np.ndarray:
    held = boxes.copy()
    for t in range(1, len(held)):
        if np.isnan(held[t]).any():
            held[t] = held[t - 1]
    return held


def _number(value: float) -> str:
    return f"{value:.4f}"


def _jpeg_writer(folder: Path, digits: int) -> Callable[[int, np.ndarray], None]:
    """A sink writing frame `index` (0-based) as `digits`-digit 1-based JPEG (as synth.py's)."""

    def write_frame(index: int, frame: np.ndarray) -> None:
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise SiamMaskError(f"JPEG encoding failed for frame {index + 1} of {folder}")
        (folder / f"{index + 1:0{digits}d}.jpg").write_bytes(buf.tobytes())

    return write_frame
