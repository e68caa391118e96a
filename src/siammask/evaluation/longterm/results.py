"""Long-term result files, as pysot's tools/test.py writes them for VOT2018-LT (and its toolkit
and vot-toolkit read them)::

    RESULTS/NAME/longterm/SEQ/SEQ_001.txt               `1` on the init frame, then x,y,w,h a frame
    RESULTS/NAME/longterm/SEQ/SEQ_001_confidence.value  an empty first line, then one score a frame

Boxes are written `%.4f` (through a C float, as the supervised results), scores `%.6f`. Each file
is written whole (atomically), the confidence file first: a box file without its confidence file
is an interrupted run.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from siammask.errors import SiamMaskError
from siammask.evaluation.vot.results import INIT, format_region
from siammask.files import check_name, read_frame_lines, write_text_atomically

EXPERIMENT = "longterm"


def result_paths(results_dir: str | os.PathLike[str], tracker: str, sequence: str) -> tuple[Path, Path]:
    """(box file, confidence file) of one sequence; both names must be plain folder names."""
    check_name(tracker, "tracker name")
    check_name(sequence, "sequence name")
    folder = Path(results_dir) / tracker / EXPERIMENT / sequence
    return folder / f"{sequence}_001.txt", folder / f"{sequence}_001_confidence.value"


def write_result(box_path: Path, boxes: np.ndarray, scores: np.ndarray) -> None:
    """Write one sequence's files: `boxes` (frames, 4) and `scores` (frames,), frame 0 the init."""
    conf_path = box_path.with_name(box_path.stem + "_confidence.value")
    box_text = f"{INIT}\n" + "".join(format_region(b) + "\n" for b in boxes[1:])
    conf_text = "\n" + "".join(f"{float(s):.6f}\n" for s in scores[1:])
    for path, text in ((conf_path, conf_text), (box_path, box_text)):
        try:
            write_text_atomically(path, text)
        except OSError as exc:
            raise SiamMaskError(f"cannot write result file {path}: {exc.strerror or exc}") from None


def read_result(box_path: Path, conf_path: Path, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """One sequence's boxes (frames, 4) and scores (frames,), NaN on the init frame. Anything but
    a whole result of a sequence of `frames` frames is a one-line SiamMaskError naming the file."""
    boxes = np.full((frames, 4), np.nan)
    scores = np.full(frames, np.nan)
    lines = _lines(box_path, frames)
    if lines[0].strip() != str(INIT):
        raise SiamMaskError(f"{box_path}:1: a long-term result starts with {INIT} (init), got {lines[0][:20]!r}")
    for i, line in enumerate(lines[1:], start=1):
        boxes[i] = _numbers(line, f"{box_path}:{i + 1}", 4, "x,y,w,h")
    conf = _lines(conf_path, frames)
    if conf[0].strip():
        raise SiamMaskError(f"{conf_path}:1: the init frame's line is empty, got {conf[0][:20]!r}")
    for i, line in enumerate(conf[1:], start=1):
        scores[i] = _numbers(line, f"{conf_path}:{i + 1}", 1, "a score")[0]
    return boxes, scores


def _lines(path: Path, frames: int) -> list[str]:
    if not path.exists():
        raise SiamMaskError(f"{path} not found")
    lines = read_frame_lines(path, f"result file {path}", frames)
    if len(lines) != frames:
        raise SiamMaskError(f"{path}: {len(lines)} lines for a sequence of {frames} frames")
    return lines


def _numbers(line: str, where: str, count: int, what: str) -> list[float]:
    try:
        values = [float(t) for t in line.split(",")]
    except ValueError:
        raise SiamMaskError(f"{where}: not a number in {line.strip()[:60]!r}") from None
    if len(values) != count:
        raise SiamMaskError(f"{where}: {len(values)} values; a long-term result line holds {what}")
    if not all(math.isfinite(v) for v in values):
        raise SiamMaskError(f"{where}: non-finite value in {line.strip()[:60]!r}")
    return values


def existing_result(box_path: Path, conf_path: Path, frames: int) -> bool:
    """What to do with the files an earlier run may have left (not forced): True, a whole result,
    keep it; False, none or an interrupted one (one file of the two), track again. A file that is
    no result of this sequence is never replaced silently: a SiamMaskError (--force replaces it)."""
    present = [p.exists() or p.is_symlink() for p in (box_path, conf_path)]
    if not all(present):
        return False
    try:
        read_result(box_path, conf_path, frames)
    except SiamMaskError as exc:
        raise SiamMaskError(f"{exc}; not a result of this sequence, move it away or pass --force") from None
    return True


def find_trackers(results_dir: str | os.PathLike[str]) -> list[str]:
    """The trackers of a results folder: its subfolders holding a `longterm` folder."""
    root = Path(results_dir)
    if not root.is_dir():
        raise SiamMaskError(f"results folder {root} does not exist")
    return sorted(p.name for p in root.iterdir() if (p / EXPERIMENT).is_dir())
