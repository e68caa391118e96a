"""Result files of the experiments beyond supervised, in vot-toolkit 0.9's text layout (what its
`vot analysis` reads, with `VOT_RESULTS_BINARY=false` for its own runs)::

    RESULTS/NAME/unsupervised/SEQ/SEQ_001.txt           `1` (init), then one region a frame
    RESULTS/NAME/baseline/SEQ/SEQ_AAAAAAAA.txt          multistart: one file per anchor frame A (8 digits),
    RESULTS/NAME/realtime/SEQ/SEQ_AAAAAAAA.txt          its lines in the run's order (backward runs reversed)

each with `<name>_time.value` beside it (seconds a frame; 0 for a frame the real-time clock let go
by). The multistart experiment's folder is `baseline`, as vot2020/shortterm.yaml names it (the
supervised experiment of older stacks uses the same folder with `SEQ_001.txt` names; the two never
share a file name). Regions are written as the supervised results are (`%.4f` of a C float).
Each file is written whole; the time file first, so that a trajectory never lacks it.
"""

from __future__ import annotations

import os
from pathlib import Path

from siammask.errors import SiamMaskError
from siammask.evaluation.vot.results import INIT, Trajectory, format_region, read_trajectory
from siammask.files import check_name, write_text_atomically

FOLDERS = {"multistart": "baseline", "realtime": "realtime", "unsupervised": "unsupervised"}


def sequence_folder(results_dir: str | os.PathLike[str], tracker: str, experiment: str, sequence: str) -> Path:
    """RESULTS/NAME/<experiment's folder>/SEQ; both names must be plain folder names."""
    check_name(tracker, "tracker name")
    check_name(sequence, "sequence name")
    return Path(results_dir) / tracker / FOLDERS[experiment] / sequence


def trajectory_name(sequence: str, anchor: int | None) -> str:
    """`SEQ_001` (unsupervised, one repetition) or `SEQ_AAAAAAAA` (the run from anchor frame A)."""
    return f"{sequence}_001" if anchor is None else f"{sequence}_{anchor:08d}"


def write_run(folder: Path, name: str, regions: list, times: list[float]) -> None:
    """One run's time file, then its trajectory, each written whole."""
    files = (
        (folder / f"{name}_time.value", "".join(f"{t:.6f}\n" for t in times)),
        (folder / f"{name}.txt", "".join(format_region(r) + "\n" for r in regions)),
    )
    for path, text in files:
        try:
            write_text_atomically(path, text)
        except OSError as exc:
            raise SiamMaskError(f"cannot write result file {path}: {exc.strerror or exc}") from None


def read_run(folder: Path, name: str, frames: int) -> Trajectory:
    """A whole run of `frames` lines starting with the init code; anything else is a one-line error."""
    path = folder / f"{name}.txt"
    if not path.is_file():
        binary = " (vot-toolkit's binary results: run it with VOT_RESULTS_BINARY=false)" \
            if (folder / f"{name}.bin").is_file() else ""
        raise SiamMaskError(f"missing result file {path}{binary}")
    trajectory = read_trajectory(path, frames, masks=True)  # VOT2020 trackers may answer with masks
    if len(trajectory) != frames:
        raise SiamMaskError(f"{path}: {len(trajectory)} lines for a run of {frames} frames "
                            "(results of another dataset?)")
    if trajectory[0] != INIT:
        raise SiamMaskError(f"{path}:1: a run starts with {INIT} (init)")
    return trajectory
