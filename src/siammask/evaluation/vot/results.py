"""VOT baseline result files: `<results>/<tracker>/baseline/<seq>/<seq>_001.txt`.

One line per frame, as the reference's tools/test.py writes them (and pysot and vot-toolkit read
them): `1` the tracker was initialised, `2` it failed, `0` the frame was skipped, otherwise the
region's values separated by commas (4 for a rectangle, 8 or more for a polygon). Values go
through C `float` and `%.4f`, as the reference's vot_float2str does: trailing zeros are kept
("258.0000"). Repetitions of a run are `_002.txt`, `_003.txt`, ...
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siammask.errors import SiamMaskError
from siammask.files import MAX_LINE_BYTES, check_name, read_frame_lines, read_input_text, write_text_atomically

# The one owner of the result vocabulary (as vot-toolkit's Trajectory constants): the codes a
# result line may hold instead of a region, and the frames skipped after a failure before re-init.
SKIP, INIT, FAILURE = 0, 1, 2
CODES = (SKIP, INIT, FAILURE)
SKIP_AFTER_FAILURE = 5

Region = int | tuple[float, ...]  # a code, or the region's values
Trajectory = list[Region]

# vot-toolkit's mask lines (VOT2020 on): `m` then the mask's offset x,y and size w,h, then run lengths
# over its w x h pixels in row order, starting with a run of zeros: `m10,20,3,2,1,2,3` is a 3x2
# mask at (10, 20) with rows 011 and 000, as vot.region.io's create_mask_from_string reads it.
MAX_MASK_PIXELS = 1 << 26  # a mask line claiming more pixels than this is refused, not allocated
# What one mask line may weigh, a frame on average: run lengths over the target's box, far more than
# a polygon's 8 values (a 1000-pixel-tall target of a few runs a row takes some 10 kB)
MASK_LINE_BYTES = 1 << 18


@dataclass(frozen=True)
class MaskRegion:
    """A binary mask (uint8, rows x columns) placed at `offset` (x, y) in the image."""

    mask: np.ndarray
    offset: tuple[int, int]

    @classmethod
    def from_binary(cls, binary: np.ndarray) -> MaskRegion:
        """A whole-frame binary mask cut to its set pixels (a 0x0 mask at (0, 0) when none), as a
        tracker answers with a mask (TraX, vot-toolkit's result lines)."""
        ys, xs = np.nonzero(binary)
        if xs.size == 0:
            return cls(np.zeros((0, 0), dtype=np.uint8), (0, 0))
        x0, y0 = int(xs.min()), int(ys.min())
        crop = np.ascontiguousarray(binary[y0 : int(ys.max()) + 1, x0 : int(xs.max()) + 1] != 0, dtype=np.uint8)
        return cls(crop, (x0, y0))

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        """vot-toolkit's bounds (left, top, right, bottom, inclusive) of the set pixels; an empty mask
        gives its offset's single pixel, as `_bounds_mask` adds the offset to (0, 0, 0, 0)."""
        ys, xs = np.nonzero(self.mask)
        ox, oy = self.offset
        if xs.size == 0:
            return ox, oy, ox, oy
        return int(xs.min()) + ox, int(ys.min()) + oy, int(xs.max()) + ox, int(ys.max()) + oy

    @property
    def is_empty(self) -> bool:
        return not bool(self.mask.any())

    def box(self) -> tuple[float, float, float, float]:
        """x, y, w, h of the set pixels; NaN when there are none (no target to start from)."""
        if self.is_empty:
            return (math.nan,) * 4
        left, top, right, bottom = self.bounds
        return float(left), float(top), float(right - left + 1), float(bottom - top + 1)


def parse_mask_region(text: str, where: str) -> MaskRegion:
    """A vot-toolkit mask line (`m` + x,y,w,h + run lengths); `where` names it in errors."""
    try:
        values = [int(t) for t in text[1:].split(",")]
    except ValueError:
        raise SiamMaskError(f"{where}: a mask line holds integers only, got {_clip(text)!r}") from None
    if len(values) < 4:
        raise SiamMaskError(f"{where}: a mask line is m<x>,<y>,<width>,<height> then run lengths")
    x, y, width, height = values[:4]
    runs = np.array(values[4:], dtype=np.int64)
    if width < 0 or height < 0 or width * height > MAX_MASK_PIXELS:
        raise SiamMaskError(f"{where}: mask size {width}x{height} is negative or too large")
    if (runs < 0).any() or int(runs.sum()) > width * height:
        raise SiamMaskError(f"{where}: the mask's run lengths ({int(runs.sum())} pixels) exceed its "
                            f"{width}x{height} size or are negative")
    flat = np.zeros(width * height, dtype=np.uint8)
    ends = np.cumsum(runs)
    for start, stop in zip(ends[0::2], ends[1::2]):  # odd runs are ones
        flat[start:stop] = 1
    mask = flat.reshape(height, width)
    # vot-toolkit crops a mask it reads to its set pixels (Mask(optimize=True), its default), and
    # takes one whose rightmost set column is its first as empty: zero size at (0, 0); kept so
    if not mask[:, 1:].any():
        return MaskRegion.from_binary(mask[:, :0])
    cropped = MaskRegion.from_binary(mask)
    return MaskRegion(cropped.mask, (x + cropped.offset[0], y + cropped.offset[1]))


def format_mask_region(region: MaskRegion) -> str:
    """The mask line of `region`, cropped to its set pixels as vot-toolkit's encode_mask writes it."""
    if region.is_empty:
        return "m0,0,0,0,0"
    left, top, right, bottom = region.bounds
    ox, oy = region.offset
    crop = region.mask[top - oy : bottom - oy + 1, left - ox : right - ox + 1].ravel().astype(bool)
    change = np.flatnonzero(np.diff(crop.astype(np.int8))) + 1
    edges = np.concatenate([[0], change, [crop.size]])
    runs = np.diff(edges).tolist()
    if crop[0]:  # the runs start with zeros
        runs = [0, *runs]
    return "m" + ",".join(str(v) for v in (left, top, right - left + 1, bottom - top + 1, *runs))


def format_region(region: int | Sequence[float] | np.ndarray | MaskRegion) -> str:
    """One result line (without newline): a code as an integer, values as `%.4f` of a float32, a
    mask as vot-toolkit's mask line."""
    if isinstance(region, MaskRegion):
        return format_mask_region(region)
    if isinstance(region, int | np.integer):
        if int(region) not in CODES:
            raise ValueError(f"a region code is 0, 1 or 2, got {region}")
        return str(int(region))
    values = np.asarray(region, dtype=np.float64).ravel()
    if values.size != 4 and (values.size < 6 or values.size % 2):
        raise ValueError(f"a region is 4 values or an even number >= 6, got {values.size}")
    # the reference passes each value through a C float before printf("%.4f")
    return ",".join(f"{v:.4f}" for v in values.astype(np.float32).astype(np.float64).tolist())


def parse_region(text: str, where: str, masks: bool = False) -> Region | MaskRegion:
    """A result line as a code or a tuple of values; `where` (file:line) names it in errors.
    `masks`: a mask line is read (vot-toolkit's experiments score them), else refused."""
    text = text.strip()
    if not text:
        raise SiamMaskError(f"{where}: empty line")
    if text[0] == "m":
        if masks:
            return parse_mask_region(text, where)
        raise SiamMaskError(f"{where}: mask regions are not supported")
    try:
        values = tuple(float(t) for t in text.split(","))
    except ValueError:
        raise SiamMaskError(f"{where}: not a number in {_clip(text)!r}") from None
    if len(values) == 1:
        if values[0] not in CODES:
            raise SiamMaskError(f"{where}: a single value must be 0 (skip), 1 (init) or 2 (failure), got {text}")
        return int(values[0])
    if len(values) != 4 and (len(values) < 6 or len(values) % 2):
        raise SiamMaskError(f"{where}: a region has 4 values or an even number >= 6, got {len(values)}")
    if any(math.isinf(v) for v in values):
        raise SiamMaskError(f"{where}: infinite value in {_clip(text)!r}")
    return values


def read_trajectory(path: str | os.PathLike[str], frames: int | None = None,
                    masks: bool = False) -> list[Region | MaskRegion]:
    """All lines of one result file. With `frames` (the sequence's length), a file weighing far
    more than so many lines can is refused before it is read or parsed. `masks`: mask lines are
    read (vot-toolkit's experiments score them), else refused."""
    path = Path(path)
    what = f"cannot read result file {path}"
    per_line = MASK_LINE_BYTES if masks else MAX_LINE_BYTES
    lines = read_input_text(path, what).splitlines() if frames is None else read_frame_lines(path, what, frames,
                                                                                            per_line)
    if not lines:
        raise SiamMaskError(f"{path}: empty result file")
    return [parse_region(line, f"{path}:{i}", masks) for i, line in enumerate(lines, start=1)]


def write_trajectory(path: str | os.PathLike[str], regions: Iterable[int | Sequence[float] | np.ndarray]) -> None:
    """Write a result file atomically: a temporary file beside it, then renamed over it."""
    path = Path(path)
    text = "".join(format_region(r) + "\n" for r in regions)
    try:
        write_text_atomically(path, text)
    except OSError as exc:
        raise SiamMaskError(f"cannot write result file {path}: {exc.strerror or exc}") from None


def result_path(results_dir: str | os.PathLike[str], tracker: str, sequence: str, repetition: int = 1) -> Path:
    """Where the reference (and vot-toolkit) put a sequence's baseline result. Both names must be
    plain folder names: a tracker named '../x' would write outside the results folder."""
    check_name(tracker, "tracker name")
    check_name(sequence, "sequence name")
    return Path(results_dir) / tracker / "baseline" / sequence / f"{sequence}_{repetition:03d}.txt"


def find_trackers(results_dir: str | os.PathLike[str]) -> list[str]:
    """Names of the trackers in a results folder: its subfolders holding a `baseline` folder, less
    those whose `baseline` holds VOT2020 multistart runs only (SEQ_<anchor, 8 digits>.txt, which
    that experiment writes there too) and no supervised run (SEQ_001.txt)."""
    root = Path(results_dir)
    if not root.is_dir():
        raise SiamMaskError(f"results folder {root} does not exist")
    return sorted(p.name for p in root.iterdir() if (p / "baseline").is_dir() and not _multistart_only(p / "baseline"))


def _multistart_only(baseline: Path) -> bool:
    suffixes = {f.stem.rpartition("_")[2] for f in baseline.glob("*/*_*.txt")}
    return any(re.fullmatch(r"\d{8}", s) for s in suffixes) and not any(re.fullmatch(r"\d{3}", s) for s in suffixes)


def read_tracker(
    results_dir: str | os.PathLike[str], tracker: str, sequences: Sequence[str],
    lengths: Mapping[str, int] | None = None,
) -> dict[str, list[Trajectory]]:
    """Every repetition of every listed sequence, in repetition order; missing ones are errors.
    `lengths` (frames per sequence) bounds what a result file may weigh before it is read."""
    base = Path(results_dir) / tracker / "baseline"
    if not base.is_dir():
        raise SiamMaskError(f"no results of tracker {tracker!r}: {base} does not exist")
    out = {}
    for seq in sequences:
        folder = base / seq
        pattern = re.compile(re.escape(seq) + r"_(\d{3})\.txt")
        files = sorted(p for p in folder.glob(f"{seq}_*.txt") if pattern.fullmatch(p.name)) if folder.is_dir() else []
        if not files:
            raise SiamMaskError(
                f"tracker {tracker!r} has no result for sequence {seq!r} (expected {folder}/{seq}_001.txt)"
            )
        out[seq] = [read_trajectory(p, (lengths or {}).get(seq)) for p in files]
    return out


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
