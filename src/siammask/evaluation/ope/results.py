"""One-pass result files, in the layouts the benchmarks' toolkits read, and the submission archives.

pysot's layout (tools/test.py, toolkit/datasets/*.py), OTB, UAV123, NFS, LaSOT and TrackingNet::

    RESULTS/NAME/SEQ.txt            x,y,w,h a line, a line a frame; frame 0's line the init box

GOT-10k's (the GOT-10k toolkit's ExperimentGOT10k, under its RESULT_DIR/GOT-10k/)::

    RESULTS/NAME/SEQ/SEQ_001.txt    x,y,w,h a line, a line a frame (repetition 1)
    RESULTS/NAME/SEQ/SEQ_time.txt   seconds of tracker time a line, a line a frame (frame 0: the init)

Boxes are written `%.4f`, times `%.8f` (the GOT-10k toolkit's). Each file is written whole
(atomically), GOT-10k's time file first: a box file without its time file is an interrupted run.
Reading accepts what other trackers' published results hold too: values separated by commas, tabs
or spaces, `nan` where a tracker gave no box, pysot's lower-case OTB names (jogging_1.txt), and
every GOT-10k repetition SEQ_002.txt... (pooled, as the toolkit pools them).

The test splits whose ground truth only their servers hold take an archive: GOT-10k test
`SEQ/SEQ_001.txt` and `SEQ/SEQ_time.txt` for every sequence (what the toolkit's report zips from
the tracker's folder), TrackingNet TEST `SEQ.txt` for every sequence at the archive's root (what
TrackingNet's server reads), both written to RESULTS/NAME.zip.
"""

from __future__ import annotations

import math
import os
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from siammask.errors import SiamMaskError
from siammask.files import atomic_file, check_name, read_frame_lines, write_text_atomically

GOT10K = "GOT-10k"
SUBMITTED = ("GOT-10k", "TrackingNet")  # benchmarks whose test split is scored by a server
_SEPARATORS = re.compile(r"[,\s]+")
_REPETITION = re.compile(r"_(\d+)\.txt$")


def nested(benchmark: str) -> bool:
    """Whether results of `benchmark` go in GOT-10k's per-sequence folders."""
    return benchmark == GOT10K


def result_paths(results_dir: str | os.PathLike[str], tracker: str, sequence: str,
                 benchmark: str) -> tuple[Path, Path | None]:
    """(box file, time file or None) of one sequence; both names must be plain folder names."""
    check_name(tracker, "tracker name")
    check_name(sequence, "sequence name")
    folder = Path(results_dir) / tracker
    if nested(benchmark):
        return folder / sequence / f"{sequence}_001.txt", folder / sequence / f"{sequence}_time.txt"
    return folder / f"{sequence}.txt", None


def write_result(box_path: Path, time_path: Path | None, boxes: np.ndarray, times: np.ndarray) -> None:
    """One sequence's files: `boxes` (frames, 4), `times` (frames,) when the layout keeps them."""
    files = [(box_path, "".join(",".join(f"{float(v):.4f}" for v in b) + "\n" for b in boxes))]
    if time_path is not None:
        files.insert(0, (time_path, "".join(f"{float(t):.8f}\n" for t in times)))
    for path, text in files:
        try:
            write_text_atomically(path, text)
        except OSError as exc:
            raise SiamMaskError(f"cannot write result file {path}: {exc.strerror or exc}") from None


# pysot cuts results of these sequences to the ground truth's length (LaSOT's monkey-17 has frames
# after its last box, so results made from every frame are longer): their extra lines are ignored
LONGER_RESULTS = {("LaSOT", "monkey-17")}


def read_boxes(path: Path, frames: int, longer: bool = False) -> np.ndarray:
    """A result file's (frames, 4) boxes; `nan` values are kept (no box). Anything else but a
    result of a sequence of `frames` frames is a one-line SiamMaskError naming the file; `longer`:
    lines after the first `frames` are ignored (LONGER_RESULTS)."""
    lines = _lines(path, frames, longer)
    boxes = np.empty((frames, 4))
    for i, line in enumerate(lines):
        boxes[i] = _numbers(line, f"{path}:{i + 1}", 4)
    return boxes


def read_times(path: Path, frames: int) -> np.ndarray:
    """A GOT-10k time file's values (a column per repetition, commas between), flattened."""
    lines = _lines(path, frames)
    return np.array([v for i, line in enumerate(lines) for v in _numbers(line, f"{path}:{i + 1}", None)])


def _lines(path: Path, frames: int, longer: bool = False) -> list[str]:
    if not path.exists():
        raise SiamMaskError(f"{path} not found")
    lines = read_frame_lines(path, f"result file {path}", frames + 64 if longer else frames)
    while lines and not lines[-1].strip():  # a final empty line (a trailing newline twice)
        lines.pop()
    if longer:
        lines = lines[:frames]
    if len(lines) != frames:
        raise SiamMaskError(f"{path}: {len(lines)} lines for a sequence of {frames} frames")
    return lines


def _numbers(line: str, where: str, count: int | None) -> list[float]:
    tokens = [t for t in _SEPARATORS.split(line.strip()) if t]
    try:
        values = [float(t) for t in tokens]
    except ValueError:
        raise SiamMaskError(f"{where}: not a number in {line.strip()[:60]!r}") from None
    if count is not None and len(values) != count:
        raise SiamMaskError(f"{where}: {len(values)} values; a one-pass result line holds x,y,w,h")
    if not values or any(math.isinf(v) for v in values):
        raise SiamMaskError(f"{where}: {'no value' if not values else 'an infinite value'} in {line.strip()[:60]!r}")
    return values


def otb_names(sequence: str) -> list[str]:
    """The file names pysot's OTBVideo tries for a sequence's results: SEQ.txt, then the names of
    the OTB toolkit's published results (jogging_1.txt, fleetface.txt, lower-case first letter)."""
    special = {"FleetFace": "fleetface", "Jogging-1": "jogging_1", "Jogging-2": "jogging_2", "Skating2-1": "skating2_1",
               "Skating2-2": "skating2_2", "FaceOcc1": "faceocc1", "FaceOcc2": "faceocc2", "Human4-2": "human4_2"}
    other = special.get(sequence, sequence[:1].lower() + sequence[1:])
    return [f"{sequence}.txt"] + ([f"{other}.txt"] if other != sequence else [])


def box_files(results_dir: str | os.PathLike[str], tracker: str, sequence: str, benchmark: str) -> list[Path]:
    """The box files a report reads for one sequence (GOT-10k: every repetition, sorted); one-line
    error when there is none."""
    box, _ = result_paths(results_dir, tracker, sequence, benchmark)
    if nested(benchmark):
        found = sorted(p for p in box.parent.glob(f"{sequence}_*.txt") if _is_repetition(p.name, sequence))
    else:
        names = otb_names(sequence) if benchmark == "OTB" else [box.name]
        found = [box.parent / n for n in names if (box.parent / n).exists()][:1]
    if not found:
        raise SiamMaskError(f"tracker {tracker!r} has no result for sequence {sequence} ({box} not found)")
    return found


def _is_repetition(name: str, sequence: str) -> bool:
    """SEQ_001.txt, SEQ_2.txt: what the toolkit's glob SEQ_[0-9]*.txt takes (never SEQ_time.txt)."""
    return name.startswith(f"{sequence}_") and name[len(sequence) + 1 : len(sequence) + 2].isdigit()


def existing_result(box_path: Path, time_path: Path | None, frames: int) -> bool:
    """What to do with the files an earlier run may have left (not forced): True, a whole result,
    keep it; False, none or an interrupted one, track again. A file that is no result of this
    sequence is never replaced silently: a SiamMaskError (--force replaces it)."""
    paths = [p for p in (box_path, time_path) if p is not None]
    present = [p.exists() or p.is_symlink() for p in paths]
    if not all(present):
        return False
    try:
        read_boxes(box_path, frames)
        if time_path is not None:
            read_times(time_path, frames)
    except SiamMaskError as exc:
        raise SiamMaskError(f"{exc}; not a result of this sequence, move it away or pass --force") from None
    return True


def find_trackers(results_dir: str | os.PathLike[str], sequences: Iterable[str], benchmark: str) -> list[str]:
    """The trackers of a results folder: its subfolders holding a result of one of `sequences`."""
    root = Path(results_dir)
    if not root.is_dir():
        raise SiamMaskError(f"results folder {root} does not exist")
    names = list(sequences)
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if nested(benchmark):
            hit = any((folder / s / f"{s}_001.txt").exists() for s in names)
        else:
            files = (otb_names(s) if benchmark == "OTB" else [f"{s}.txt"] for s in names)
            hit = any((folder / n).exists() for group in files for n in group)
        if hit:
            found.append(folder.name)
    return found


def needs_submission(benchmark: str, annotated: bool) -> bool:
    """A test split whose ground truth a server keeps: GOT-10k test, TrackingNet TEST."""
    return benchmark in SUBMITTED and not annotated


def submission_path(results_dir: str | os.PathLike[str], tracker: str) -> Path:
    return Path(results_dir) / f"{check_name(tracker, 'tracker name')}.zip"


def write_submission(results_dir: str | os.PathLike[str], tracker: str, benchmark: str,
                     sequences: Iterable[tuple[str, int]]) -> Path:
    """The archive the benchmark's server takes, from the tracker's complete results of every
    (sequence, frames): GOT-10k `SEQ/SEQ_001.txt` + `SEQ/SEQ_time.txt`, TrackingNet `SEQ.txt`.
    Entries in the dataset's order with a fixed date, so that one set of results gives one archive."""
    members: list[tuple[str, Path]] = []
    for name, frames in sequences:
        box, times = result_paths(results_dir, tracker, name, benchmark)
        read_boxes(box, frames)  # complete and well-formed, or the one-line reason
        if times is not None:
            read_times(times, frames)
            members += [(f"{name}/{box.name}", box), (f"{name}/{times.name}", times)]
        else:
            members.append((box.name, box))
    path = submission_path(results_dir, tracker)
    with atomic_file(path, "submission archive") as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, source in members:
            info = zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, source.read_bytes())
    return path
