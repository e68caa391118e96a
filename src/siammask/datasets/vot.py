"""VOT-layout datasets: `list.txt`, and per sequence its frames, `groundtruth.txt` and tags.

A sequence folder holds its frames either directly or in a `color/` subfolder, listed by the
rule `track` uses for an image folder (`siammask.io.sources.find_images`: natural order, the
folder's own images before `color/`'s), `groundtruth.txt` with one region a line (4 values x,y,w,h
or 8 values: a polygon's corners; from VOT2020 on, vot-toolkit's mask lines `m<x>,<y>,<w>,<h>,<run
lengths>`, read only where asked for: vot-toolkit's experiments score them, the VOT C rules cannot),
and optionally per-frame tag files (`occlusion.tag`, ... one 0/1 a line; short files are padded
with 0 as vot-toolkit pads them). Without tag files, the tags come from a pysot meta file in the
dataset folder (`<folder name>.json` or `VOT*.json`) when there is one.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from siammask.datasets.sequence_list import SequenceList
from siammask.errors import SiamMaskError
from siammask.evaluation.vot.results import MASK_LINE_BYTES, MaskRegion, parse_mask_region
from siammask.files import MAX_IMAGE_BYTES, check_input_file, check_name, read_frame_lines, read_input_text
from siammask.io.sources import IMAGE_PATTERNS, find_images, read_image

# The one owner of the VOT per-frame attribute names (tag files, meta files, EAO per tag).
TAG_NAMES = ("camera_motion", "illum_change", "motion_change", "size_change", "occlusion")


@dataclass
class Sequence:
    """One sequence. `groundtruth` is (frames, 4) or (frames, 8); tags are boolean per frame."""

    name: str
    frames: list[Path]
    groundtruth: np.ndarray
    tags: dict[str, np.ndarray]
    size_hint: tuple[int, int] | None = field(default=None, repr=False)
    # VOT2020 on: the ground truth as masks (groundtruth then holds their boxes, NaN where empty)
    masks: list[MaskRegion] | None = field(default=None, repr=False)

    @property
    def scored(self) -> list[MaskRegion] | np.ndarray:
        """The regions results are scored against: the masks where the ground truth is masks."""
        return self.masks if self.masks is not None else self.groundtruth

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the frames, read from the first frame on first use (unless given)."""
        if self.size_hint is None:
            self.size_hint = _image_size(self.frames[0])
        return self.size_hint

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]


@dataclass
class Dataset(SequenceList[Sequence]):
    """Sequences in `list.txt` order; `name` picks default EAO intervals (e.g. VOT2016)."""

    root: Path
    name: str
    sequences: list[Sequence]


def is_vot_dataset(path: str | os.PathLike[str]) -> bool:
    """True when `path` lists its sequences in `list.txt` (the VOT layout)."""
    return (Path(path) / "list.txt").is_file()


def load_dataset(root: str | os.PathLike[str], absent: bool = False, masks: bool = False) -> Dataset:
    """Read `list.txt` and every sequence it names (frames are listed, not decoded); `absent`: ground
    truth may mark frames without the target `nan,nan,nan,nan` (VOT-LT), read as NaN rows; `masks`:
    mask ground truth (VOT2020 on) is read, else refused in one line."""
    root = Path(root)
    if not root.is_dir():
        problem = "is not a folder" if root.exists() else "no such folder"
        raise SiamMaskError(f"dataset {root}: {problem}")
    listing = root / "list.txt"
    if not listing.exists() and not listing.is_symlink():
        raise SiamMaskError(f"{listing} not found: a VOT dataset folder lists its sequences in list.txt")
    names = read_name_list(listing)
    if not names:
        raise SiamMaskError(f"{listing} lists no sequences")
    meta_path = _meta_file(root)
    meta = _read_meta(meta_path) if meta_path else {}
    sequences = [load_sequence(root / name, meta.get(name), absent, masks) for name in names]
    name = meta_path.stem if meta_path else root.resolve().name
    return Dataset(root=root, name=name, sequences=sequences)


def load_sequence(folder: str | os.PathLike[str], meta: dict | None = None, absent: bool = False,
                  masks: bool = False) -> Sequence:
    """One sequence folder; `meta` is its entry in a pysot meta file (only its tags are used)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SiamMaskError(f"sequence folder {folder} not found")
    frames = _frames(folder)
    path = folder / "groundtruth.txt"
    regions = None
    if holds_masks(path):
        if not masks:
            raise SiamMaskError(f"{path}: mask ground truth (VOT2020 on); vot-toolkit's experiments score it: "
                                "siammask eval --experiment multistart, unsupervised or realtime")
        regions = read_mask_groundtruth(path, len(frames))
        gt = np.array([r.box() for r in regions], dtype=np.float64)  # NaN where a mask is empty
    else:
        gt = read_groundtruth(path, len(frames), absent)
    return Sequence(name=folder.name, frames=frames, groundtruth=gt, tags=_tags(folder, len(frames), meta),
                    masks=regions)


def holds_masks(path: Path) -> bool:
    """Whether a ground-truth file's first line is a mask line (`m...`). Never raises."""
    try:
        with open(path, "rb") as f:
            return f.read(64).lstrip()[:1] == b"m"
    except OSError:
        return False


def has_mask_groundtruth(root: str | os.PathLike[str]) -> bool:
    """Whether a VOT dataset's first listed sequence has mask ground truth. Never raises."""
    try:
        names = read_name_list(Path(root) / "list.txt")
    except (SiamMaskError, OSError):
        return False
    return bool(names) and holds_masks(Path(root) / names[0] / "groundtruth.txt")


def read_mask_groundtruth(path: Path, frames: int) -> list[MaskRegion]:
    """The masks of a VOT2020-on groundtruth file, one a frame, every line a mask line."""
    lines = read_frame_lines(path, str(path), frames, MASK_LINE_BYTES)
    if len(lines) != frames:
        raise SiamMaskError(f"{path} has {len(lines)} lines for {frames} frames")
    masks = []
    for i, line in enumerate(lines, start=1):
        if not line.lstrip().startswith("m"):
            raise SiamMaskError(f"{path}:{i}: not a mask line where line 1 is one ({line.strip()[:60]!r})")
        masks.append(parse_mask_region(line.strip(), f"{path}:{i}"))
    if masks[0].is_empty:
        raise SiamMaskError(f"{path}:1: the target's mask is empty on the first frame; tracking starts there")
    return masks


def read_groundtruth(path: Path, frames: int | None = None, absent: bool = False) -> np.ndarray:
    """Regions of a groundtruth file: every line the same count, 4 or an even number >= 6. With
    `frames`, the file is refused unread when it weighs more than so many lines can, and unparsed
    when its line count is not `frames`."""
    if not path.exists() and not path.is_symlink():
        raise SiamMaskError(f"{path} not found")
    lines = _read_lines(path, frames)
    if not lines:
        raise SiamMaskError(f"{path} is empty")
    if frames is not None and len(lines) != frames:
        raise SiamMaskError(f"{path} has {len(lines)} lines for {frames} frames")
    rows = []
    for i, line in enumerate(lines, start=1):
        where = f"{path}:{i}"
        try:
            values = [float(t) for t in line.split(",")]
        except ValueError:
            raise SiamMaskError(f"{where}: not a number in {line.strip()[:60]!r}") from None
        if absent and all(math.isnan(v) for v in values):  # VOT-LT: no target in this frame
            if not rows:
                raise SiamMaskError(f"{where}: the target is absent (nan) on the first frame; tracking starts there")
            rows.append([math.nan] * len(rows[0]))
            continue
        if not all(math.isfinite(v) for v in values):
            raise SiamMaskError(f"{where}: non-finite value in {line.strip()[:60]!r}")
        if len(values) != 4 and (len(values) < 6 or len(values) % 2):
            raise SiamMaskError(f"{where}: {len(values)} values; a region has 4 (x,y,w,h) or 8 (polygon)")
        if rows and len(values) != len(rows[0]):
            raise SiamMaskError(f"{where}: {len(values)} values where line 1 has {len(rows[0])}")
        if len(values) == 4:
            width, height = values[2], values[3]
        else:
            width = max(values[0::2]) - min(values[0::2])
            height = max(values[1::2]) - min(values[1::2])
        if not (width > 0 and height > 0):
            raise SiamMaskError(f"{where}: region of size {width:g}x{height:g} in {line.strip()[:60]!r}; "
                                "width and height must be positive")
        rows.append(values)
    if not rows:
        raise SiamMaskError(f"{path} is empty")
    return np.array(rows, dtype=np.float64)


def read_name_list(path: Path) -> list[str]:
    """A list of sequence names, one a line (VOT's list.txt, the one-pass formats' splits): blank
    lines skipped; 'bag/' names the folder 'bag', normalised so that it cannot count twice in a
    report; a name that is not one plain path component, or one listed twice, refused with its
    line number."""
    names: list[str] = []
    for i, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        name = line.strip().rstrip("/")
        try:
            check_name(name, "sequence")
        except SiamMaskError as exc:
            raise SiamMaskError(f"{path}:{i}: {exc}") from None
        if name in names:
            raise SiamMaskError(f"{path}:{i}: sequence {name!r} listed twice")
        names.append(name)
    return names


def _read_lines(path: Path, frames: int | None = None) -> list[str]:
    """The lines of a text input; with `frames`, one a frame is expected and the file may hold at
    most MAX_LINE_BYTES a frame (a 100 MB file for 12 frames is refused before it is read)."""
    if frames is not None:
        return read_frame_lines(path, str(path), frames)
    return read_input_text(path, str(path)).splitlines()


def _frames(folder: Path) -> list[Path]:
    frames = find_images(folder)
    if not frames:
        raise SiamMaskError(f"no frames ({IMAGE_PATTERNS}) in {folder} or {folder / 'color'}")
    _check_frame_files(frames[0].parent, frames)
    return frames


def _check_frame_files(place: Path, frames: list[Path]) -> None:
    """Frame i is ground-truth line i: a frame missing from the middle would shift every later one."""
    for p in frames:
        if not p.exists():
            raise SiamMaskError(f"frame {p} is missing (a broken link)")
        check_input_file(p, f"frame {p}", MAX_IMAGE_BYTES)  # a FIFO or a device: named, never read
    if not all(p.stem.isascii() and p.stem.isdigit() for p in frames):
        return
    numbers = sorted(int(p.stem) for p in frames)
    if len(set(numbers)) != len(numbers):
        return  # the same number twice (1.jpg, 01.jpg): left to the line count check
    widths = {len(p.stem) for p in frames}
    pad = widths.pop() if len(widths) == 1 else 0
    for a, b in zip(numbers, numbers[1:]):
        if b != a + 1:
            name = f"{a + 1:0{pad}d}{frames[0].suffix}"
            raise SiamMaskError(
                f"frame {place / name} is missing: the frames are numbered {numbers[0]} to {numbers[-1]} "
                f"but there are {len(frames)}"
            )


def _tags(folder: Path, length: int, meta: dict | None) -> dict[str, np.ndarray]:
    files = {name: folder / f"{name}.tag" for name in TAG_NAMES}
    if any(p.is_file() for p in files.values()):
        return {name: _read_tag(p, length) if p.is_file() else np.zeros(length, bool) for name, p in files.items()}
    tags = {}
    for name in TAG_NAMES:
        values = (meta or {}).get(name)
        if values is None:
            tags[name] = np.zeros(length, dtype=bool)
            continue
        if not isinstance(values, list) or len(values) != length or any(v not in (0, 1) for v in values):
            raise SiamMaskError(f"meta file entry {folder.name}.{name}: expected {length} values of 0 or 1")
        tags[name] = np.array(values, dtype=bool)
    return tags


def _read_tag(path: Path, length: int) -> np.ndarray:
    lines = _read_lines(path, length)
    if len(lines) > length:
        raise SiamMaskError(f"{path} has {len(lines)} lines for {length} frames")
    tag = np.zeros(length, dtype=bool)
    for i, line in enumerate(lines):
        if line.strip() not in ("0", "1"):
            raise SiamMaskError(f"{path}:{i + 1}: a tag line is 0 or 1, got {line.strip()[:20]!r}")
        tag[i] = line.strip() == "1"
    return tag


def _meta_file(root: Path) -> Path | None:
    candidates = [root / f"{root.resolve().name}.json", *sorted(root.glob("VOT*.json"))]
    # anything but a folder: a FIFO or a device by that name is refused when read, not ignored
    return next((p for p in candidates if (p.exists() or p.is_symlink()) and not p.is_dir()), None)


def _read_meta(path: Path) -> dict:
    text = read_input_text(path, f"meta file {path}")
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SiamMaskError(f"cannot read meta file {path}: {exc}") from None
    except (ValueError, RecursionError):  # 5,000-digit integers, nesting 100,000 deep: no meta file
        raise SiamMaskError(f"meta file {path}: values or nesting beyond what a meta file holds") from None
    if not isinstance(meta, dict):
        raise SiamMaskError(f"meta file {path}: expected an object of sequences")
    for name, entry in meta.items():  # each entry is read with .get(): an object, or null for none
        if entry is not None and not isinstance(entry, dict):
            raise SiamMaskError(f"meta file {path}: entry {name[:60]!r} is {_json_kind(entry)}; "
                                "expected an object (the sequence's tags and boxes)")
    return meta


def _json_kind(value: object) -> str:
    kinds = {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return kinds.get(type(value), type(value).__name__)


def _image_size(path: Path) -> tuple[int, int]:
    # only when a size is needed and no meta file gave it; a bad first frame is named as track names it
    image = read_image(path, "frame 0")
    return int(image.shape[1]), int(image.shape[0])
