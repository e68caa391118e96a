"""OTB datasets (OTB2013, OTB50, OTB100 / OTB2015) in the layout the benchmark ships.

Layout: one folder a sequence, `SEQ/img/0001.jpg ...` (4 digits; Board's 5) and
`SEQ/groundtruth_rect.txt`, x,y,w,h a line separated by commas, tabs or spaces (OTB mixes them,
even within a file). Sequences are read in name order, as pysot lists them. The dataset argument
is the folder of sequence folders, or one sequence's folder.

The quirks, read as pysot's OTB100 metadata has them:

- frames numbered from other than 1 (BlurCar1 from 0247, BlurCar3 0003, BlurCar4 0018): the
  boxes start at the folder's first frame;
- more frames than boxes (Diving, Football1, Freeman3, Freeman4): the frames after the last box
  are left out; any other sequence's frames and boxes must be as many;
- David: its 471 boxes are frames 300 to 770 of a 770-frame folder (its boxes are its last frames');
- Tiger1: tracking starts on frame 6 (the OTB toolkit's initOmit of 5; pysot's OTB100.json has
  349 of its 354 frames, StrangerZhang/pysot-toolkit#6): its first 5 frames and their boxes are
  left out when the folder and the file hold frame 1's (a Tiger1 whose file starts
  at frame 6 has its boxes on its last frames, as David);
- two targets in one video: `groundtruth_rect.1.txt` and `groundtruth_rect.2.txt` are two
  sequences over the same frames, named SEQ-1 and SEQ-2 (Jogging-1, Jogging-2, Skating2-1,
  Skating2-2); an empty one is no target (Human4 ships an empty .1 and a .2: Human4-2).

Per-sequence attributes ("IV", "OCC", ...) come from pysot's meta file (OTB100.json...) when it
lies in the dataset folder; the benchmark itself ships none beside the frames.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

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
    set_attributes,
)
from siammask.errors import SiamMaskError
from siammask.files import check_input_file

__all__ = ["OTBDataset", "is_otb_dataset", "load_otb"]

_ANNOTATION = re.compile(r"^groundtruth_rect(?:\.(\d+))?\.txt$")
# OTB sequences whose folders hold frames before their first box: their boxes are their last
# frames' (David's 471 boxes, frames 300 to 770; Tiger1's when its first 5 were cut already).
_BOXES_LAST = ("David", "Tiger1")
# OTB sequences whose folders hold frames after their last box (pysot's metadata leaves them out).
_BOXES_FIRST = ("Diving", "Football1", "Freeman3", "Freeman4")
# Frames the OTB toolkit leaves out at the start (initOmit), and pysot's metadata with it.
_OMITTED = {"Tiger1": 5}
META_NAMES = ("OTB100", "OTB2015", "OTB50", "OTB2013", "CVPR13")


@dataclass
class OTBDataset(OnePassDataset):
    """An OTB dataset (benchmark "OTB")."""


def _is_sequence(folder: Path) -> bool:
    return (folder / "img").is_dir() and bool(_annotation_files(folder))


def is_otb_dataset(path: str | os.PathLike[str]) -> bool:
    """True when `path` or a sub-folder of it has `img/` and a `groundtruth_rect*.txt`. Never raises."""
    root = Path(path)
    return _is_sequence(root) or any(_is_sequence(seq) for seq in child_folders(root, MAX_DETECT_ENTRIES))


def load_otb(root: str | os.PathLike[str]) -> OTBDataset:
    """Every sequence folder of `root` (those with an `img/` folder), by name; `root` may be one."""
    root = dataset_folder(Path(root))
    folders = [root] if _is_sequence(root) else [f for f in child_folders(root) if (f / "img").is_dir()]
    if not folders:
        raise SiamMaskError(f"dataset {root}: no OTB sequence folder (SEQ/img/ and SEQ/groundtruth_rect.txt)")
    # in name order, as pysot's meta file lists them (Jogging-1 and -2 where Jogging's folder was)
    sequences = sorted((seq for folder in folders for seq in _load_folder(folder)), key=lambda s: s.name)
    set_attributes(sequences, pysot_attributes(root, (*META_NAMES, root.resolve().name)))
    return OTBDataset(root=root, name=_dataset_name(root, len(sequences)), benchmark="OTB", split=None,
                      sequences=sequences)


def _load_folder(folder: Path) -> list[OnePassSequence]:
    """The sequences of one OTB folder: one, or one per target (groundtruth_rect.K.txt)."""
    files = _annotation_files(folder)
    if not files:
        raise SiamMaskError(f"{folder / 'groundtruth_rect.txt'} not found")
    numbered = {k: p for k, p in files.items() if k is not None}
    chosen = numbered or files
    frames = numbered_frames(folder / "img")
    sequences = []
    for k, path in sorted(chosen.items(), key=lambda kv: kv[0] or 0):
        if k is not None and check_input_file(path, str(path)).st_size == 0:
            continue  # Human4's empty groundtruth_rect.1.txt: no target
        name = folder.name if k is None else f"{folder.name}-{k}"
        sequences.append(_sequence(folder, name, path, frames))
    if not sequences:
        raise SiamMaskError(f"{folder}: every groundtruth_rect.K.txt is empty")
    return sequences


def _sequence(folder: Path, name: str, path: Path, frames: dict[int, Path]) -> OnePassSequence:
    boxes = read_boxes(path, len(frames))
    first = min(frames)
    if folder.name in _BOXES_LAST and len(frames) > len(boxes):
        first = max(frames) - len(boxes) + 1
    elif len(boxes) > len(frames) or (len(boxes) < len(frames) and folder.name not in _BOXES_FIRST):
        raise SiamMaskError(f"{path} has {len(boxes)} boxes for {len(frames)} frames in {folder / 'img'}")
    picked = frame_range(folder / "img", frames, first, len(boxes))
    omit = _OMITTED.get(folder.name, 0) if first == min(frames) == 1 and len(boxes) == len(frames) else 0
    if omit and len(boxes) > omit:
        picked, boxes = picked[omit:], boxes[omit:]
    return OnePassSequence(name=name, frames=picked, groundtruth=boxes, tags={}, source=folder.name)


def _annotation_files(folder: Path) -> dict[int | None, Path]:
    """groundtruth_rect.txt (key None) and groundtruth_rect.K.txt (key K) of `folder`."""
    found: dict[int | None, Path] = {}
    try:
        for entry in folder.iterdir():
            match = _ANNOTATION.match(entry.name)
            if match and not entry.is_dir():
                found[int(match.group(1)) if match.group(1) else None] = entry
    except OSError:
        return {}
    return found


def _dataset_name(root: Path, count: int) -> str:
    name = root.resolve().name
    return name if name.upper().startswith(("OTB", "CVPR", "TB")) else f"OTB{count}"
