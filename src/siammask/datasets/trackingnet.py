"""TrackingNet datasets in the layout the benchmark ships.

Layout: chunk folders `TEST/` and `TRAIN_0/` ... `TRAIN_11/`, each with `frames/SEQ/0.jpg ...`
(numbered from 0) and `anno/SEQ.txt` (x,y,w,h a line, commas). TEST's annotations hold the first
frame's box only (the server keeps the rest): its sequences are not `annotated`, their rows after
the first NaN, unknown. The dataset argument is the TrackingNet folder (`split` TEST, TRAIN_n or
TRAIN for every training chunk; default TEST, else every TRAIN chunk) or one chunk's folder.
Sequences are read chunk by chunk, by name within a chunk.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siammask.datasets.onepass import (
    OnePassDataset,
    OnePassSequence,
    child_folders,
    dataset_folder,
    frame_range,
    numbered_frames,
    read_boxes,
)
from siammask.errors import SiamMaskError

__all__ = ["TrackingNetDataset", "is_trackingnet_dataset", "load_trackingnet"]

TEST = "TEST"
_TRAIN = re.compile(r"^TRAIN_(\d+)$")


@dataclass
class TrackingNetDataset(OnePassDataset):
    """A TrackingNet dataset (benchmark "TrackingNet"; `split` TEST, TRAIN_n or TRAIN)."""


def _is_chunk(folder: Path) -> bool:
    return (folder / "frames").is_dir() and (folder / "anno").is_dir()


def _chunks(root: Path) -> list[Path]:
    """TEST then TRAIN_0, TRAIN_1 ... (by number) of a TrackingNet folder."""
    train = sorted((c for c in child_folders(root) if _TRAIN.match(c.name) and _is_chunk(c)),
                   key=lambda c: int(_TRAIN.match(c.name).group(1)))  # type: ignore[union-attr]
    return ([root / TEST] if _is_chunk(root / TEST) else []) + train


def is_trackingnet_dataset(path: str | os.PathLike[str]) -> bool:
    """True for a TrackingNet folder (TEST/ or TRAIN_n/ with frames/ and anno/) or one chunk's
    folder whose name says it. Never raises."""
    root = Path(path)
    try:
        own = root.resolve().name
        if (own == TEST or _TRAIN.match(own)) and _is_chunk(root):
            return True
        return _is_chunk(root / TEST) or _is_chunk(root / "TRAIN_0") or bool(_chunks(root))
    except OSError:
        return False


def load_trackingnet(root: str | os.PathLike[str], split: str | None = None) -> TrackingNetDataset:
    """The sequences of a chunk folder, or of `split`'s chunks of a TrackingNet folder."""
    root = dataset_folder(Path(root))
    own = root.resolve().name
    if _is_chunk(root) and split in (None, own):
        chunks, split = [root], own
    else:
        available = _chunks(root)
        if split is None:
            split = TEST if available and available[0].name == TEST else "TRAIN"
        if split == "TRAIN":
            chunks = [c for c in available if c.name != TEST]
        else:
            chunks = [c for c in available if c.name == split]
        if not chunks:
            raise SiamMaskError(f"dataset {root}: no TrackingNet chunk {split} (a folder with frames/ and anno/)")
    sequences = [_sequence(chunk, path) for chunk in chunks for path in _annotations(chunk)]
    names = [s.name for s in sequences]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise SiamMaskError(f"dataset {root}: sequence {twice!r} is in two chunks")
    return TrackingNetDataset(root=root, name=f"TrackingNet_{split}", benchmark="TrackingNet", split=split,
                              sequences=sequences)


def _annotations(chunk: Path) -> list[Path]:
    files = sorted((p for p in (chunk / "anno").iterdir() if p.suffix == ".txt" and not p.name.startswith(".")),
                   key=lambda p: p.stem)
    if not files:
        raise SiamMaskError(f"{chunk / 'anno'} holds no annotation (SEQ.txt)")
    return files


def _sequence(chunk: Path, path: Path) -> OnePassSequence:
    folder = chunk / "frames" / path.stem
    if not folder.is_dir():
        raise SiamMaskError(f"{path}: no frame folder {folder}")
    frames = numbered_frames(folder)
    boxes = read_boxes(path, len(frames))
    picked = frame_range(folder, frames, min(frames), len(frames))
    if len(boxes) == 1 and len(frames) > 1:  # TEST: the first box only
        unknown = np.vstack([boxes, np.full((len(frames) - 1, 4), np.nan)])
        return OnePassSequence(name=path.stem, frames=picked, groundtruth=unknown, tags={}, annotated=False)
    if len(boxes) != len(frames):
        raise SiamMaskError(f"{path} has {len(boxes)} lines for {len(frames)} frames in {folder}")
    return OnePassSequence(name=path.stem, frames=picked, groundtruth=boxes, tags={})
