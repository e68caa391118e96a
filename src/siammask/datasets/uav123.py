"""UAV123 datasets (UAV123, UAV20L, UAV123_10fps) in the layout the benchmark ships.

Layout (the folder `Dataset_UAV123/UAV123` of the download, or `Dataset_UAV123` holding it):
`anno/<SUBSET>/SEQ.txt`, x,y,w,h a line separated by commas, `NaN,NaN,NaN,NaN` on frames where the
target cannot be seen, and the frames `data_seq/<SUBSET>/FOLDER/000001.jpg ...` (UAV20L's
annotations index into `data_seq/UAV123/`, which it has no folder of its own beside).

Sub-sequences: UAV123 cuts some videos in parts, each its own sequence over one frame folder
(bird1_1, bird1_2 and bird1_3 are frames 1-253, 775-1477 and 1573-2437 of `data_seq/UAV123/bird1`).
A sequence SEQ reads the folder SEQ when there is one, else the folder its name names before a
final `_K`, from the frame pysot's meta file (`<SUBSET>.json` in the dataset folder, its first
image name) says, else, for a sub-sequence of UAV123 or UAV123_10fps in its video's folder, the frame
the benchmark's own configuration gives (the table below), else, for a first part (`_1`), the
folder's first frame; a later part whose start none of these gives is refused in one line (read from
the folder's first frame it would be another part's frames, scored silently wrong). It is as many
frames as its annotation has lines (frames after them are left out, as the GOT-10k toolkit
and pysot's metadata list frames by range, not by what the folder holds).

Per-sequence attributes come from pysot's meta file when it is there (the benchmark's `att/`
files, 12 flags without names in the file, are not read).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from siammask.datasets.onepass import (
    OnePassDataset,
    OnePassSequence,
    dataset_folder,
    frame_range,
    numbered_frames,
    pysot_attributes,
    read_boxes,
    set_attributes,
)
from siammask.errors import SiamMaskError

__all__ = ["UAV123Dataset", "is_uav123_dataset", "load_uav123", "SUBSEQUENCE_STARTS"]

# The sub-sequences that do not start on their folder's frame 1, per subset: the first frame of
# each, as the benchmark's configuration files give them (configSeqs.m of UAV123 and of
# UAV123_10fps, whose frames are every third of UAV123's, its ranges not a division of UAV123's);
# pysot's UAV123.json lists UAV123's same frames.
SUBSEQUENCE_STARTS: dict[str, dict[str, int]] = {
    "UAV123": {
        "bird1_2": 775, "bird1_3": 1573, "car1_2": 751, "car1_3": 1627, "car6_2": 487, "car6_3": 1807,
        "car6_4": 2953, "car6_5": 3925, "car8_2": 1357, "car16_2": 415, "group1_2": 1333, "group1_3": 2515,
        "group1_4": 3925, "group2_2": 907, "group2_3": 1771, "group3_2": 1567, "group3_3": 2827,
        "group3_4": 4369, "person2_2": 1189, "person4_2": 1501, "person5_2": 877, "person7_2": 1249,
        "person8_2": 1075, "person12_2": 601, "person14_2": 847, "person14_3": 1813, "person17_2": 1501,
        "person19_2": 1243, "person19_3": 2791, "truck4_2": 577, "uav1_2": 1555, "uav1_3": 2473,
    },
    "UAV123_10fps": {
        "bird1_2": 259, "bird1_3": 525, "car1_2": 251, "car1_3": 543, "car6_2": 163, "car6_3": 603,
        "car6_4": 985, "car6_5": 1309, "car8_2": 453, "car16_2": 139, "group1_2": 445, "group1_3": 839,
        "group1_4": 1309, "group2_2": 303, "group2_3": 591, "group3_2": 523, "group3_3": 943,
        "group3_4": 1457, "person2_2": 397, "person4_2": 501, "person5_2": 293, "person7_2": 417,
        "person8_2": 359, "person12_2": 201, "person14_2": 283, "person14_3": 605, "person17_2": 501,
        "person19_2": 415, "person19_3": 931, "truck4_2": 193, "uav1_2": 519, "uav1_3": 825,
    },
}
_PART = re.compile(r"^(.+)_\d+$")
DEFAULT_SUBSET = "UAV123"


@dataclass
class UAV123Dataset(OnePassDataset):
    """A UAV123-layout dataset (benchmark "UAV123"; `split` the annotation subset: UAV123, UAV20L...)."""


def _has_layout(root: Path) -> bool:
    return (root / "anno").is_dir() and (root / "data_seq").is_dir()


def _layout_root(root: Path) -> Path:
    """`root`, or its UAV123/ when `root` is the download's Dataset_UAV123 folder holding it."""
    return root / DEFAULT_SUBSET if not _has_layout(root) and _has_layout(root / DEFAULT_SUBSET) else root


def is_uav123_dataset(path: str | os.PathLike[str]) -> bool:
    """True when `path` (or its UAV123/) has `anno/` and `data_seq/` folders. Never raises."""
    try:
        return _has_layout(_layout_root(Path(path)))
    except OSError:
        return False


def load_uav123(root: str | os.PathLike[str], split: str | None = None) -> UAV123Dataset:
    """The sequences of `anno/<split>/` (default UAV123, or the only subset there), by name."""
    root = _layout_root(dataset_folder(Path(root)))
    subset = split or _default_subset(root)
    anno_dir = root / "anno" / subset
    if not anno_dir.is_dir():
        raise SiamMaskError(f"{anno_dir} not found: a UAV123 subset's annotations are anno/<subset>/SEQ.txt")
    files = sorted((p for p in anno_dir.iterdir() if p.suffix == ".txt" and not p.name.startswith(".")),
                   key=lambda p: p.stem)
    if not files:
        raise SiamMaskError(f"{anno_dir} holds no annotation (SEQ.txt)")
    frames_dir = root / "data_seq" / subset
    if not frames_dir.is_dir():
        frames_dir = root / "data_seq" / DEFAULT_SUBSET
    meta_starts = _meta_starts(root, subset)
    table = SUBSEQUENCE_STARTS.get(subset, {})
    sequences = [_sequence(path, frames_dir, meta_starts.get(path.stem), table.get(path.stem)) for path in files]
    set_attributes(sequences, pysot_attributes(root, (subset,)))
    return UAV123Dataset(root=root, name=subset, benchmark="UAV123", split=subset, sequences=sequences)


def _default_subset(root: Path) -> str:
    if (root / "anno" / DEFAULT_SUBSET).is_dir():
        return DEFAULT_SUBSET
    if not (root / "anno").is_dir():
        raise SiamMaskError(f"{root / 'anno'} not found: UAV123's annotations are anno/UAV123/SEQ.txt")
    subsets = [p.name for p in sorted((root / "anno").iterdir()) if p.is_dir() and not p.name.startswith(".")]
    if len(subsets) != 1:
        raise SiamMaskError(f"{root / 'anno'}: {'no subset folder' if not subsets else 'several subsets'}; "
                            f"name one ({', '.join(subsets) or 'anno/UAV123/SEQ.txt'})")
    return subsets[0]


def _sequence(path: Path, frames_dir: Path, meta_start: int | None, table_start: int | None) -> OnePassSequence:
    """`meta_start` (pysot's meta file) wins; `table_start` (the benchmark's configuration) indexes the
    video's folder a sub-sequence shares; a folder of the sequence's own starts at its first frame."""
    name = path.stem
    folder = frames_dir / name
    part = _PART.match(name)
    shared = not folder.is_dir() and part is not None and (frames_dir / part.group(1)).is_dir()
    if shared:
        folder = frames_dir / part.group(1)  # type: ignore[union-attr]
    if not folder.is_dir():
        raise SiamMaskError(f"{path}: no frame folder {folder}")
    if shared and not meta_start and not table_start and not name.endswith("_1"):
        raise SiamMaskError(f"{path}: {name} is a part of the video {folder.name}/ whose first frame is not known "
                            f"for subset {path.parent.name}; put pysot's meta file ({path.parent.name}.json, its "
                            "img_names) beside anno/, or give the part a frame folder of its own")
    frames = numbered_frames(folder)
    boxes = read_boxes(path, len(frames), absent=True)
    first = meta_start or (table_start if shared and table_start else min(frames))
    picked = frame_range(folder, frames, first, len(boxes))
    return OnePassSequence(name=name, frames=picked, groundtruth=boxes, tags={}, source=folder.name)


def _meta_starts(root: Path, subset: str) -> dict[str, int]:
    """First frame numbers from pysot's meta file's image names (`bird1/000775.jpg`), when there."""
    from siammask.datasets.vot import _read_meta

    path = root / f"{subset}.json"
    if not path.is_file():
        return {}
    starts = {}
    for name, entry in _read_meta(path).items():
        images = (entry or {}).get("img_names")
        if isinstance(images, list) and images and isinstance(images[0], str):
            stem = Path(images[0]).stem
            if stem.isascii() and stem.isdigit():
                starts[name] = int(stem)
    return starts
