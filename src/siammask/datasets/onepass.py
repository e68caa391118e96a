"""What every one-pass benchmark's reader loads to (OTB, UAV123, NFS, LaSOT, GOT-10k, TrackingNet).

One-pass evaluation (the "ope" protocol) starts the tracker on the first frame's box and never
resets it. Whatever the layout, a sequence is its frames, a box a frame (x,y,w,h; a NaN row where
the target cannot be seen) and what the benchmark ships about it: per-sequence attributes (OTB,
UAV123, LaSOT: "occlusion", "fast motion"...), per-frame flags and labels (LaSOT full_occlusion and
out_of_view; GOT-10k absence, cut_by_image and cover) and GOT-10k's meta_info.ini. A test split
whose boxes are kept by its server (GOT-10k test, TrackingNet TEST) has only the first frame's box:
`annotated` is False and every later row is NaN, unknown rather than absent.

A one-pass sequence is a VOT `Sequence` (frames, groundtruth, size read on first use), so whatever
runs a tracker over VOT sequences runs over these; each format's reader module subclasses
`OnePassDataset` (formats.format_of tells formats apart by their dataset type).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from siammask.datasets.sequence_list import SequenceList
from siammask.datasets.vot import Sequence
from siammask.errors import SiamMaskError
from siammask.files import MAX_IMAGE_BYTES, check_input_file, check_name, read_frame_lines, read_input_text

__all__ = ["OnePassSequence", "OnePassDataset", "BENCHMARKS", "read_boxes", "read_flags", "numbered_frames"]

# The `benchmark` values, as the benchmarks name themselves.
BENCHMARKS = ("OTB", "UAV123", "NFS", "LaSOT", "GOT-10k", "TrackingNet")


@dataclass
class OnePassSequence(Sequence):
    """One sequence of a one-pass benchmark.

    `groundtruth` is (frames, 4) x,y,w,h float64, a NaN row where the target is absent (or, when
    `annotated` is False, unknown); `absent` (frames,) bool is True where the benchmark says the
    target cannot be seen (NaN rows; LaSOT full_occlusion | out_of_view; GOT-10k absence), False
    everywhere when not `annotated`. `tags` (from Sequence) holds the benchmark's per-frame 0/1 files
    as bool arrays (LaSOT "full_occlusion", "out_of_view"; GOT-10k "absence", "cut_by_image"; NFS
    "lost", "occluded"); `labels` its per-frame integer labels (GOT-10k "cover", 0-8); `attributes`
    its per-sequence attributes as pysot's meta file names them ("IV", "OCC"; "Fast Motion"...: True
    when the sequence has it, every sequence naming every attribute of the dataset); `meta` GOT-10k's
    meta_info.ini entries (object_class, motion_class, resolution, ...). `source` names the
    sequence's folder inside the dataset (several sequences may share one: OTB's Jogging-1 and
    Jogging-2, UAV123's bird1_1..3)."""

    absent: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    attributes: dict[str, bool] = field(default_factory=dict)
    labels: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    meta: dict[str, str] = field(default_factory=dict, repr=False)
    annotated: bool = True
    source: str = ""
    shipped: np.ndarray | None = field(default=None, repr=False)

    @property
    def shipped_groundtruth(self) -> np.ndarray:
        """The boxes as the files give them, before absent frames' rows were set to NaN (LaSOT and
        GOT-10k ship a box there; the GOT-10k toolkit scores frames by cover.label, not absence)."""
        return self.groundtruth if self.shipped is None else self.shipped

    def __post_init__(self) -> None:
        check_name(self.name, "sequence")  # it names result files: one plain path component
        if self.absent is None:
            self.absent = np.isnan(self.groundtruth).any(axis=1) if self.annotated else \
                np.zeros(len(self.frames), dtype=bool)
        if not self.source:
            self.source = self.name

    @property
    def init_box(self) -> np.ndarray:
        """The first frame's box, x,y,w,h: where tracking starts."""
        return self.groundtruth[0]


@dataclass
class OnePassDataset(SequenceList[OnePassSequence]):
    """Sequences in the benchmark's order. `benchmark` is one of BENCHMARKS; `split` the subset read
    ("test", "val", "train", "TEST", "TRAIN_0"...; None where the benchmark has none); `name` the
    dataset's name for reports (e.g. "OTB100", "LaSOT", "GOT-10k_val")."""

    root: Path
    name: str
    benchmark: str
    split: str | None
    sequences: list[OnePassSequence]

    @property
    def annotated(self) -> bool:
        """Whether every frame's box is known (False for GOT-10k test, TrackingNet TEST)."""
        return all(s.annotated for s in self.sequences)


# --------------------------------------------------------------------------- shared reading

_SEPARATORS = re.compile(r"[,\s]+")
_NAN_WORDS = ("nan",)


def read_boxes(path: Path, frames: int | None = None, absent: bool = False, first_only: bool = False) -> np.ndarray:
    """x,y,w,h rows of a one-pass ground-truth file, values separated by commas, tabs or spaces (OTB
    mixes them). `absent`: a row of NaN (UAV123 writes NaN,NaN,NaN,NaN) is a frame without the target
    (never the first: tracking starts there). `frames`: the file is refused unread when it weighs more
    than so many lines can (and a line count other than `frames` is left to the caller to name).
    `first_only`: the first row is read and the rest ignored (GOT-10k test's single line). A zero or
    negative size is kept (LaSOT and GOT-10k ship some): scoring decides what it means."""
    if not path.exists() and not path.is_symlink():
        raise SiamMaskError(f"{path} not found")
    lines = read_frame_lines(path, str(path), frames) if frames is not None else \
        read_input_text(path, str(path)).splitlines()
    while lines and not lines[-1].strip():  # blank lines at the end (OTB has some), never inside
        lines.pop()
    lines = lines[:1] if first_only else lines
    if not lines or not lines[0].strip():
        raise SiamMaskError(f"{path} is empty")
    rows = []
    for i, line in enumerate(lines, start=1):
        where = f"{path}:{i}"
        tokens = [t for t in _SEPARATORS.split(line.strip()) if t]
        try:
            values = [float(t) for t in tokens]
        except ValueError:
            raise SiamMaskError(f"{where}: not a number in {line.strip()[:60]!r}") from None
        if len(values) != 4:
            raise SiamMaskError(f"{where}: {len(values)} values; a box has 4 (x,y,w,h)")
        if absent and all(math.isnan(v) for v in values):
            if not rows:
                raise SiamMaskError(f"{where}: the target is absent (NaN) on the first frame; tracking starts there")
            rows.append([math.nan] * 4)
            continue
        if not all(math.isfinite(v) for v in values):
            raise SiamMaskError(f"{where}: non-finite value in {line.strip()[:60]!r}")
        rows.append(values)
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def read_flags(path: Path, frames: int, what: str = "flag", maximum: int = 1, extra: int = 0) -> np.ndarray:
    """Per-frame integers 0..`maximum` of `path`, one a line or all on one line separated by commas
    (LaSOT's full_occlusion.txt and out_of_view.txt are one line): `frames` of them, or `frames +
    extra` when the file covers frames left out after the last box (those are dropped)."""
    check_input_file(path, str(path))
    text = read_input_text(path, str(path), (frames + extra + 1) * 16 + 4096)
    tokens = [t for t in _SEPARATORS.split(text.strip()) if t]
    if len(tokens) not in (frames, frames + extra):
        raise SiamMaskError(f"{path}: {len(tokens)} {what} values for {frames} frames")
    tokens = tokens[:frames]
    values = np.zeros(frames, dtype=np.int64)
    for i, token in enumerate(tokens):
        # "1.0" is how some label files write a flag; anything else but an integer in range is refused
        try:
            number = float(token)
        except ValueError:
            number = math.nan
        if not (number.is_integer() and 0 <= number <= maximum):
            raise SiamMaskError(f"{path}: value {i + 1} is {token[:20]!r}; a {what} is an integer 0 to {maximum}")
        values[i] = int(number)
    return values


def numbered_frames(folder: Path, extensions: tuple[str, ...] = (".jpg", ".jpeg", ".png")) -> dict[int, Path]:
    """The images of `folder` named by a frame number (0001.jpg, 00000001.jpg, 1.jpg), by number. A
    number twice (1.jpg and 01.jpg) is refused: which one is frame 1 could not be said."""
    if not folder.is_dir():
        raise SiamMaskError(f"frame folder {folder} not found")
    frames: dict[int, Path] = {}
    for path in folder.iterdir():
        if path.suffix.lower() not in extensions or not (path.stem.isascii() and path.stem.isdigit()):
            continue
        number = int(path.stem)
        if number in frames:
            raise SiamMaskError(f"frames {frames[number].name} and {path.name} in {folder} are both frame {number}")
        frames[number] = path
    if not frames:
        raise SiamMaskError(f"no numbered frames ({', '.join(extensions)}) in {folder}")
    return frames


def frame_range(folder: Path, frames: dict[int, Path], first: int, count: int) -> list[Path]:
    """Frames `first` .. `first + count - 1` of `frames`, each one checked a readable file; the first
    missing one is named."""
    picked = []
    for number in range(first, first + count):
        path = frames.get(number)
        if path is None:
            raise SiamMaskError(f"frame {number} is missing from {folder}: the ground truth needs frames "
                                f"{first} to {first + count - 1}")
        check_input_file(path, f"frame {path}", MAX_IMAGE_BYTES)  # a FIFO or a device: named, never read
        picked.append(path)
    return picked


def dataset_folder(root: Path) -> Path:
    """`root` when it is a folder, else the one-line reason why not."""
    if not root.is_dir():
        problem = "is not a folder" if root.exists() else "no such folder"
        raise SiamMaskError(f"dataset {root}: {problem}")
    return root


MAX_DETECT_ENTRIES = 2000  # folder entries a detector looks at: detection stays quick on any folder


def child_folders(root: Path, limit: int | None = None) -> list[Path]:
    """The visible sub-folders of `root` by name (at most `limit` entries looked at); none when it
    cannot be listed (detection never raises)."""
    folders = []
    try:
        # scandir's entries know their type without a stat each: a frame folder of 3,000 files is cheap
        with os.scandir(root) as entries:
            for i, entry in enumerate(entries):
                if limit is not None and i >= limit:
                    break
                if not entry.name.startswith(".") and entry.is_dir():
                    folders.append(Path(entry.path))
    except OSError:
        return []
    return sorted(folders, key=lambda p: p.name)


def pysot_attributes(root: Path, names: tuple[str, ...]) -> dict[str, list[str]]:
    """Per-sequence attribute lists from a pysot meta file in `root` (`<name>.json` for the first of
    `names` there: OTB100.json, UAV123.json, LaSOT.json...), {} without one. pysot users keep the
    file beside the dataset; the benchmarks' attributes are published only there and on their sites."""
    from siammask.datasets.vot import _read_meta  # the one reader of pysot meta files

    path = next((root / f"{n}.json" for n in names if (root / f"{n}.json").is_file()), None)
    if path is None:
        return {}
    attributes = {}
    for name, entry in _read_meta(path).items():
        values = (entry or {}).get("attr")
        if values is None:
            continue
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise SiamMaskError(f"meta file {path}: {name[:60]!r}.attr is not a list of attribute names")
        attributes[name] = values
    return attributes


def set_attributes(sequences: list[OnePassSequence], lists: dict[str, list[str]]) -> None:
    """Every sequence gets every attribute the dataset names: True where its list has it."""
    names = sorted({a for values in lists.values() for a in values})
    for seq in sequences:
        have = set(lists.get(seq.name, ()))
        seq.attributes = {a: a in have for a in names}
