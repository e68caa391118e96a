"""NFS (Need for Speed) datasets in the layout the benchmark ships, 30 fps (or 240 fps) frames.

Layout: one folder a video, `SEQ/30/SEQ/00001.jpg ...` (the 30 fps frames; `SEQ/240/` the
240 fps ones) and `SEQ/30/SEQ.txt`, one row an annotated frame, separated by spaces:
`track xmin ymin xmax ymax frame lost occluded generated "label"`. A box is x=xmin, y=ymin,
w=xmax-xmin, h=ymax-ymin, as pysot's NFS30 metadata and the GOT-10k toolkit read it.

Most 30 fps annotation files hold the 240 fps rows (8 a frame): when a file has about 8 rows a
frame, every 8th row from the first is read; a count then off by one from the frames is cut to the
shorter (as the GOT-10k toolkit does). `lost` and `occluded` are kept as per-frame tags.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siammask.datasets.onepass import (
    MAX_DETECT_ENTRIES,
    OnePassDataset,
    OnePassSequence,
    child_folders,
    dataset_folder,
    frame_range,
    numbered_frames,
)
from siammask.errors import SiamMaskError
from siammask.files import MAX_LINE_BYTES, read_input_text

__all__ = ["NFSDataset", "is_nfs_dataset", "load_nfs", "FRAME_RATES"]

FRAME_RATES = (30, 240)
_RATIO = 8  # 240 fps rows a 30 fps frame


@dataclass
class NFSDataset(OnePassDataset):
    """An NFS dataset (benchmark "NFS"; `name` NFS30 or NFS240)."""


def _is_video(folder: Path) -> bool:
    return any((folder / str(fps) / f"{folder.name}.txt").is_file() for fps in FRAME_RATES)


def is_nfs_dataset(path: str | os.PathLike[str]) -> bool:
    """True when `path` or a sub-folder SEQ of it has `30/SEQ.txt` or `240/SEQ.txt`. Never raises."""
    root = Path(path)
    return _is_video(root) or any(_is_video(seq) for seq in child_folders(root, MAX_DETECT_ENTRIES))


def load_nfs(root: str | os.PathLike[str], fps: int = 30) -> NFSDataset:
    """Every video folder of `root` (or `root`, one video's) with `<fps>/SEQ.txt`, by name, at `fps`
    frames a second."""
    if fps not in FRAME_RATES:
        raise SiamMaskError(f"NFS frame rate {fps!r}: use 30 or 240")
    root = dataset_folder(Path(root))
    videos = [root] if _is_video(root) else child_folders(root)
    files = [p for folder in videos if (folder / str(fps)).is_dir()
             for p in sorted((folder / str(fps)).glob("*.txt"))]
    if not files:
        raise SiamMaskError(f"dataset {root}: no NFS annotation (SEQ/{fps}/SEQ.txt)")
    sequences = [_sequence(path, fps) for path in files]
    return NFSDataset(root=root, name=f"NFS{fps}", benchmark="NFS", split=None, sequences=sequences)


def _sequence(path: Path, fps: int) -> OnePassSequence:
    folder = path.parent / path.stem
    frames = numbered_frames(folder)
    rows = _read_rows(path, len(frames))
    shipped = len(rows)
    if fps == 30 and abs(len(rows) / len(frames) - _RATIO) < 1:
        rows = rows[::_RATIO]
    count = len(rows)
    if abs(count - len(frames)) == 1:
        count = min(count, len(frames))
    elif count != len(frames):
        raise SiamMaskError(f"{path} has {shipped} rows for {len(frames)} frames in {folder}")
    rows = rows[:count]
    boxes = np.column_stack([rows[:, 0], rows[:, 1], rows[:, 2] - rows[:, 0], rows[:, 3] - rows[:, 1]])
    tags = {"lost": rows[:, 4] != 0, "occluded": rows[:, 5] != 0}
    picked = frame_range(folder, frames, min(frames), count)
    return OnePassSequence(name=path.stem, frames=picked, groundtruth=boxes, tags=tags, source=path.parent.parent.name)


def _read_rows(path: Path, frames: int) -> np.ndarray:
    """(rows, 6) xmin, ymin, xmax, ymax, lost, occluded of an NFS annotation file."""
    limit = (frames * _RATIO + _RATIO + 1) * MAX_LINE_BYTES
    lines = [line for line in read_input_text(path, str(path), limit).splitlines() if line.strip()]
    if not lines:
        raise SiamMaskError(f"{path} is empty")
    rows = []
    for i, line in enumerate(lines, start=1):
        tokens = line.split()
        try:
            values = [float(t) for t in tokens[1:5]] + [float(t) for t in tokens[6:8]]
        except ValueError:
            raise SiamMaskError(f"{path}:{i}: not a number in {line.strip()[:60]!r}") from None
        if len(values) != 6 or not np.all(np.isfinite(values)):
            raise SiamMaskError(f"{path}:{i}: expected 'track xmin ymin xmax ymax frame lost occluded ...', "
                                f"got {line.strip()[:60]!r}")
        rows.append(values)
    return np.array(rows, dtype=np.float64)
