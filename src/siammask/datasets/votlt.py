"""VOT-LT datasets (VOT2018-LT and the like): the VOT layout whose ground truth marks the frames
without the target `nan,nan,nan,nan`.

Everything but the absent rows is the VOT layout (list.txt, SEQ/groundtruth.txt, frames in SEQ/
or SEQ/color/), read by datasets/vot.py's reader; an absent frame's row is NaN. The target must be
present on the first frame, where tracking starts. A folder is recognised as VOT-LT when one of
the sequences its list.txt names has a `nan` row; a VOT dataset whose target never leaves can still
be scored long-term (`siammask eval --experiment longterm`), through `load_votlt`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siammask.datasets.vot import Dataset, Sequence, is_vot_dataset, load_dataset
from siammask.files import MAX_TEXT_BYTES, read_input_text

__all__ = ["LongTermDataset", "is_votlt_dataset", "load_votlt", "present_frames"]

_NAN_ROW = re.compile(r"^\s*nan\s*,", re.IGNORECASE | re.MULTILINE)
MAX_DETECT_SEQUENCES = 1000  # list.txt names read when looking for a nan row


@dataclass
class LongTermDataset(Dataset):
    """A VOT-layout dataset scored by the long-term protocol; absent frames' ground truth is NaN."""


def is_votlt_dataset(path: str | os.PathLike[str]) -> bool:
    """True for a VOT-layout folder where a listed sequence's ground truth has a `nan` row. Never
    raises: what cannot be read is left to the loader to name."""
    root = Path(path)
    if not is_vot_dataset(root):
        return False
    try:
        names = read_input_text(root / "list.txt", "list.txt").split()[:MAX_DETECT_SEQUENCES]
        for name in names:
            gt = root / name.rstrip("/") / "groundtruth.txt"
            if gt.is_file() and gt.stat().st_size <= MAX_TEXT_BYTES and _NAN_ROW.search(
                    gt.read_text(encoding="utf-8", errors="replace")):
                return True
    except Exception:  # noqa: BLE001 - detection only: the loader names the problem
        return False
    return False


def load_votlt(root: str | os.PathLike[str]) -> LongTermDataset:
    """Read a VOT-LT dataset: the VOT reader, with `nan,nan,nan,nan` rows read as absent frames."""
    dataset = load_dataset(root, absent=True)
    return LongTermDataset(root=dataset.root, name=dataset.name, sequences=dataset.sequences)


def present_frames(sequence: Sequence) -> np.ndarray:
    """(frames,) bool: where the ground truth has the target."""
    return ~np.isnan(sequence.groundtruth).any(axis=1)
