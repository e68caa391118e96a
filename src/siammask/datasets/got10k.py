"""GOT-10k datasets in the layout the benchmark ships.

Layout: `<split>/list.txt` naming the sequences a line (split train, val or test), and per
sequence `SEQ/00000001.jpg ...`, `SEQ/groundtruth.txt` (x,y,w,h a line, commas; in the test split
only the first frame's line), and in train and val `absence.label`, `cover.label` (0-8: how much of
the target can be seen, in eighths... as GOT-10k defines it), `cut_by_image.label` (one value a
line) and `meta_info.ini` (`key: value` lines: object_class, motion_class, resolution...). The
dataset argument is the GOT-10k folder (the split: `split`, default val, else test, else train),
one split's folder or one sequence's folder.

A frame with absence 1 is absent: its ground-truth row is NaN (`shipped_groundtruth` keeps the
file's boxes, which the GOT-10k toolkit scores wherever cover > 0). A test sequence, whose boxes
the server keeps, is not `annotated`: its rows after the first are NaN, unknown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siammask.datasets.onepass import (
    OnePassDataset,
    OnePassSequence,
    dataset_folder,
    frame_range,
    numbered_frames,
    read_boxes,
    read_flags,
)
from siammask.datasets.vot import read_name_list
from siammask.errors import SiamMaskError
from siammask.files import MAX_LINE_BYTES, read_input_text

__all__ = ["GOT10kDataset", "is_got10k_dataset", "load_got10k", "SPLITS", "LABELS"]

SPLITS = ("val", "test", "train")  # in the order a GOT-10k folder's default is looked for
LABELS = {"absence": 1, "cover": 8, "cut_by_image": 1}  # label file -> largest value
_PREFIX = "GOT-10k_"
MAX_META_BYTES = 64 * MAX_LINE_BYTES


@dataclass
class GOT10kDataset(OnePassDataset):
    """A GOT-10k dataset (benchmark "GOT-10k"; `split` val, test or train)."""


def _is_split_folder(folder: Path) -> bool:
    """list.txt, and its first sequence a GOT-10k one (named GOT-10k_..., or with its label files)."""
    try:
        if not (folder / "list.txt").is_file():  # a FIFO by that name would block the open
            return False
        with open(folder / "list.txt", "rb") as handle:
            first = handle.read(256).decode("utf-8", "replace").split()
        if not first:
            return False
        seq = folder / first[0].rstrip("/")
        return first[0].startswith(_PREFIX) or (seq / "meta_info.ini").is_file() or (seq / "absence.label").is_file()
    except OSError:
        return False


def _is_sequence(folder: Path) -> bool:
    """One GOT-10k sequence's folder (no list.txt): groundtruth.txt beside its labels or meta_info.ini."""
    return (folder / "groundtruth.txt").is_file() and not (folder / "list.txt").exists() and (
        (folder / "meta_info.ini").is_file() or (folder / "absence.label").is_file())


def is_got10k_dataset(path: str | os.PathLike[str]) -> bool:
    """True for a GOT-10k split folder, a folder holding one (train/, val/ or test/) or one
    sequence's folder. Never raises."""
    root = Path(path)
    return _is_split_folder(root) or any(_is_split_folder(root / s) for s in SPLITS) or _is_sequence(root)


def load_got10k(root: str | os.PathLike[str], split: str | None = None) -> GOT10kDataset:
    """The sequences `list.txt` names, in its order, of a split folder or of `root/<split>`."""
    root = dataset_folder(Path(root))
    if split is not None and split not in SPLITS:
        raise SiamMaskError(f"GOT-10k split {split!r}: use {', '.join(SPLITS)}")
    if _is_sequence(root) and split is None:  # one sequence's folder: that one
        split = _split_from_names([root.name])
        return GOT10kDataset(root=root, name=f"GOT-10k_{split}" if split else "GOT-10k", benchmark="GOT-10k",
                             split=split, sequences=[_sequence(root)])
    own = root.resolve().name.lower()
    if (root / "list.txt").exists() and split in (None, own):
        folder = root
        split = own if own in SPLITS else None
    else:
        split = split or next((s for s in SPLITS if (root / s / "list.txt").exists()), None)
        if split is None:
            raise SiamMaskError(f"dataset {root}: no GOT-10k split (val/list.txt, test/list.txt or train/list.txt)")
        folder = dataset_folder(root / split)
    names = _read_list(folder / "list.txt")
    sequences = [_sequence(folder / name) for name in names]
    split = split or _split_from_names(names)
    name = f"GOT-10k_{split}" if split else "GOT-10k"
    return GOT10kDataset(root=root, name=name, benchmark="GOT-10k", split=split, sequences=sequences)


def _read_list(path: Path) -> list[str]:
    if not path.exists() and not path.is_symlink():
        raise SiamMaskError(f"{path} not found: a GOT-10k split lists its sequences in list.txt")
    names = read_name_list(path)
    if not names:
        raise SiamMaskError(f"{path} lists no sequences")
    return names


def _split_from_names(names: list[str]) -> str | None:
    """val/test/train from the names' GOT-10k_Val_000001 form, when the folder's name does not say."""
    parts = {n[len(_PREFIX):].split("_")[0].lower() for n in names if n.startswith(_PREFIX)}
    return parts.pop() if len(parts) == 1 and parts <= set(SPLITS) else None


def _sequence(folder: Path) -> OnePassSequence:
    if not folder.is_dir():
        raise SiamMaskError(f"sequence folder {folder} not found")
    frames = numbered_frames(folder)
    path = folder / "groundtruth.txt"
    boxes = read_boxes(path, len(frames))
    picked = frame_range(folder, frames, min(frames), len(frames))
    meta = _read_meta(folder / "meta_info.ini")
    if len(boxes) == 1 and len(frames) > 1:  # the test split: the first box only
        unknown = np.vstack([boxes, np.full((len(frames) - 1, 4), np.nan)])
        return OnePassSequence(name=folder.name, frames=picked, groundtruth=unknown, tags={}, annotated=False,
                               meta=meta)
    if len(boxes) != len(frames):
        raise SiamMaskError(f"{path} has {len(boxes)} lines for {len(frames)} frames in {folder}")
    labels = {name: read_flags(folder / f"{name}.label", len(frames), name, top)
              for name, top in LABELS.items() if (folder / f"{name}.label").exists()}
    absent = labels["absence"].astype(bool) if "absence" in labels else np.zeros(len(frames), bool)
    if absent[0]:
        raise SiamMaskError(f"{folder / 'absence.label'}: the target is absent on the first frame; "
                            "tracking starts there")
    shipped = boxes.copy()
    boxes[absent] = np.nan
    tags = {name: labels[name].astype(bool) for name in ("absence", "cut_by_image") if name in labels}
    return OnePassSequence(name=folder.name, frames=picked, groundtruth=boxes, tags=tags, absent=absent,
                           labels={"cover": labels["cover"]} if "cover" in labels else {}, meta=meta,
                           shipped=shipped)


def _read_meta(path: Path) -> dict[str, str]:
    """`key: value` lines of meta_info.ini ({} without the file; its [section] line skipped)."""
    if not path.exists() and not path.is_symlink():
        return {}
    meta = {}
    for line in read_input_text(path, str(path), MAX_META_BYTES).splitlines():
        key, colon, value = line.partition(":")
        if colon and not line.lstrip().startswith(("[", "#", ";")):
            meta[key.strip()] = value.strip()
    return meta
