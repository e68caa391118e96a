"""LaSOT datasets in the layout the benchmark ships (LaSOTBenchmark, LaSOT test, LaSOT_extension).

Layout: `CAT/CAT-N/img/00000001.jpg ...`, `CAT/CAT-N/groundtruth.txt` (x,y,w,h a line, commas),
`full_occlusion.txt` and `out_of_view.txt` (one 0/1 a frame, on one line separated by commas), and
in the dataset folder `testing_set.txt` naming the 280 test sequences a line. The dataset argument
is that folder, one category's folder (`airplane/`, holding airplane-1 ...; the split is then
read from the testing_set.txt above it) or one sequence's folder.

A sequence is as many frames as groundtruth.txt has lines (monkey-17's folder holds frames after
its last line, which pysot's LaSOT metadata leaves out too). A frame fully occluded or out of view
is absent: its ground-truth row is NaN (LaSOT ships a box there, often 0,0,0,0, which no measure
uses: pysot's OPE leaves those frames out). Both files are kept as per-frame tags. Splits: "test"
(the default where testing_set.txt is there) reads the sequences it names, "train" the others,
"all" every one; without the file every sequence is read.
Per-sequence attributes come from pysot's meta file (LaSOT.json) when it lies in the folder.
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
    pysot_attributes,
    read_boxes,
    read_flags,
    set_attributes,
)
from siammask.datasets.vot import read_name_list
from siammask.errors import SiamMaskError

__all__ = ["LaSOTDataset", "is_lasot_dataset", "load_lasot", "SPLITS"]

SPLITS = ("test", "train", "all")
FLAG_FILES = ("full_occlusion", "out_of_view")
TEST_LIST = "testing_set.txt"


@dataclass
class LaSOTDataset(OnePassDataset):
    """A LaSOT dataset (benchmark "LaSOT")."""


def _is_sequence(folder: Path) -> bool:
    return (folder / "img").is_dir() and (folder / "groundtruth.txt").is_file() and \
        (folder / "full_occlusion.txt").is_file()


def is_lasot_dataset(path: str | os.PathLike[str]) -> bool:
    """True when `path` is or holds LaSOT sequences (CAT/CAT-N/ or CAT-N/ with img/, groundtruth.txt
    and full_occlusion.txt). Never raises."""
    if _is_sequence(Path(path)):
        return True
    for child in child_folders(Path(path), MAX_DETECT_ENTRIES):
        if _is_sequence(child):
            return True
        if any(_is_sequence(seq) for seq in child_folders(child, MAX_DETECT_ENTRIES)[:3]):
            return True
    return False


def load_lasot(root: str | os.PathLike[str], split: str | None = None) -> LaSOTDataset:
    """The sequences of `root` (a LaSOT folder or one category's), sorted by name, of `split`."""
    root = dataset_folder(Path(root))
    if split is not None and split not in SPLITS:
        raise SiamMaskError(f"LaSOT split {split!r}: use {', '.join(SPLITS)}")
    folders = _sequence_folders(root)
    listing = None if _is_sequence(root) else _test_list(root)  # one sequence's folder: that one
    if split is None:
        split = "test" if listing else None
    if split in ("test", "train"):
        if listing is None:
            raise SiamMaskError(f"{root / TEST_LIST} not found: the LaSOT {split} split is what it names")
        test = read_name_list(listing)
        unknown = [n for n in test if n not in folders]
        if split == "test" and unknown and listing.parent == root:
            raise SiamMaskError(f"{listing} names {unknown[0]!r}, which is not a sequence folder of {root}")
        names = sorted(n for n in folders if (n in set(test)) == (split == "test"))
    else:
        names = sorted(folders)
    if not names:
        raise SiamMaskError(f"dataset {root}: no LaSOT sequence in the {split} split")
    sequences = [_sequence(folders[n]) for n in names]
    set_attributes(sequences, pysot_attributes(root, ("LaSOT", root.resolve().name)))
    return LaSOTDataset(root=root, name="LaSOT", benchmark="LaSOT", split=split, sequences=sequences)


def _sequence_folders(root: Path) -> dict[str, Path]:
    """Sequence name -> folder: CAT/CAT-N (a LaSOT folder), CAT-N (a category folder) or `root` (one
    sequence's)."""
    if _is_sequence(root):
        return {root.name: root}
    found = {}
    for child in child_folders(root):
        for folder in ([child] if _is_sequence(child) else child_folders(child)):
            if (folder / "img").is_dir():
                if folder.name in found:
                    raise SiamMaskError(f"sequence {folder.name} is in both {found[folder.name]} and {folder}")
                found[folder.name] = folder
    if not found:
        raise SiamMaskError(f"dataset {root}: no LaSOT sequence folder (CAT/CAT-N/img/ and groundtruth.txt)")
    return found


def _test_list(root: Path) -> Path | None:
    """testing_set.txt of the LaSOT folder `root`, or of the one above a category folder."""
    for folder in (root, root.resolve().parent):
        path = folder / TEST_LIST
        if path.exists() or path.is_symlink():
            return path
    return None


def _sequence(folder: Path) -> OnePassSequence:
    frames = numbered_frames(folder / "img")
    path = folder / "groundtruth.txt"
    boxes = read_boxes(path, len(frames))
    if len(boxes) > len(frames):  # fewer is monkey-17's case: frames after the last line are left out
        raise SiamMaskError(f"{path} has {len(boxes)} lines for {len(frames)} frames in {folder / 'img'}")
    extra = len(frames) - len(boxes)
    tags = {name: read_flags(folder / f"{name}.txt", len(boxes), name, extra=extra).astype(bool) for name in FLAG_FILES}
    absent = tags["full_occlusion"] | tags["out_of_view"]
    if absent[0]:
        raise SiamMaskError(f"{folder}: the target is absent (full_occlusion / out_of_view) on the first frame; "
                            "tracking starts there")
    shipped = boxes.copy()
    boxes[absent] = np.nan
    picked = frame_range(folder / "img", frames, min(frames), len(boxes))
    return OnePassSequence(name=folder.name, frames=picked, groundtruth=boxes, tags=tags, absent=absent,
                           shipped=shipped)
