"""The VOS report: trackers' label maps (DAVIS submission format) scored on a DAVIS dataset.

Results layout: RESULTS/<tracker>/<seq>/<frame>.png, one label map per annotated frame (palette or
greyscale PNG, 0 background, k = object k); the first and last frames are not read (they are not
evaluated). Report layout (NaN becomes JSON null)::

    {"dataset": {"name", "path", "year", "split", "sequences", "frames", "objects"},
     "trackers": {NAME: {"J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay",
                         "per_object": {"<seq>_<k>": {"J", "F"}},
                         "per_frame": {"<seq>_<k>": {"J": [...], "F": [...]}}}}}

A caller that has mask probabilities (eval) may add "reference_miou" (vos_measures.miou_summary)
to a tracker's entry; the table prints it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from siammask.datasets.davis import DavisDataset, DavisSequence, load_davis
from siammask.errors import SiamMaskError, printable
from siammask.evaluation.vos.measures import sequence_measures, summarize
from siammask.io.sources import open_image

MEASURES = ("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay")


def vos_report(
    dataset_dir: str | os.PathLike[str],
    results_dir: str | os.PathLike[str],
    year: int = 2017,
    trackers: Sequence[str] | None = None,
    split: str = "val",
) -> dict[str, Any]:
    """Score the named trackers (default: every tracker folder in `results_dir`) on the DAVIS
    dataset; see the module docstring for the layout of the result."""
    dataset = load_davis(dataset_dir, year=year, split=split)
    return build_vos_report(dataset, results_dir, trackers)


def build_vos_report(
    dataset: DavisDataset, results_dir: str | os.PathLike[str], trackers: Sequence[str] | None = None
) -> dict[str, Any]:
    """vos_report on a dataset already loaded."""
    results_dir = Path(results_dir)
    names = list(trackers) if trackers else find_vos_trackers(results_dir, dataset)
    if not names:
        raise SiamMaskError(
            f"no tracker results in {results_dir} (expected {results_dir}/<tracker>/<seq>/<frame>.png "
            f"for sequences of {dataset_name(dataset)})"
        )
    info = {
        "name": dataset_name(dataset),
        "path": str(dataset.root),
        "year": dataset.year,
        "split": dataset.split,
        "sequences": len(dataset),
        "frames": sum(len(s) for s in dataset),
        "objects": sum(len(s.object_ids) for s in dataset),
    }
    return {"dataset": info, "trackers": {name: score_tracker(dataset, results_dir / name, name) for name in names}}


def score_tracker(dataset: DavisDataset, folder: Path, name: str) -> dict[str, Any]:
    """The official summary of one tracker's folder, plus per-frame J and F of every object."""
    if not folder.is_dir():
        raise SiamMaskError(f"no results of tracker {name!r}: {folder} does not exist")
    per_j: dict[str, np.ndarray] = {}
    per_f: dict[str, np.ndarray] = {}
    for seq in dataset:
        annotated = [t for t in range(len(seq)) if seq.annotations[t] is not None]
        gt = [seq.labels(t) for t in annotated]
        # the first and last annotated frames are not evaluated: their results are not needed
        ends = {0, len(annotated) - 1}
        res = [gt[i] if i in ends else read_result(folder / seq.name, seq, t, name) for i, t in enumerate(annotated)]
        try:
            j, f = sequence_measures(gt, res, len(seq.object_ids))
        except SiamMaskError as exc:
            raise SiamMaskError(f"tracker {name!r}, sequence {seq.name}: {exc}") from None
        for k in range(len(seq.object_ids)):
            per_j[f"{seq.name}_{k + 1}"], per_f[f"{seq.name}_{k + 1}"] = j[k], f[k]
    summary = summarize(per_j, per_f)
    summary["per_frame"] = {n: {"J": per_j[n].tolist(), "F": per_f[n].tolist()} for n in per_j}
    return summary


def read_result(folder: Path, seq: DavisSequence, t: int, tracker: str) -> np.ndarray:
    """Result label map of frame t: palette indices (or grey values), uint8, the frame's size."""
    path = folder / f"{seq.frame_names[t]}.png"
    if not path.exists() and not path.is_symlink():
        raise SiamMaskError(f"tracker {tracker!r}: result {path} not found (one PNG per annotated frame)")
    what = f"cannot read result {path}"  # a FIFO, a device, a bomb: refused as every input is
    with open_image(path, what, formats=("PNG",)) as image:
        if image.mode not in ("P", "L"):
            raise SiamMaskError(f"result {path}: a label map is a palette or greyscale PNG, not mode {image.mode}")
        try:
            labels = np.array(image, dtype=np.uint8)
        except (OSError, ValueError, SyntaxError) as exc:  # truncated or damaged image data
            raise SiamMaskError(f"{what}: {exc}") from None
    if (labels.shape[1], labels.shape[0]) != seq.size:
        raise SiamMaskError(
            f"result {path} is {labels.shape[1]}x{labels.shape[0]}, the frames {seq.size[0]}x{seq.size[1]}"
        )
    top = int(labels.max(initial=0))
    if top > len(seq.object_ids):
        hint = " (every object is merged into one in DAVIS 2016)" if seq.merge_objects else ""
        raise SiamMaskError(
            f"result {path} has object id {top}; sequence {seq.name} has {len(seq.object_ids)} objects{hint}"
        )
    return labels


def find_vos_trackers(results_dir: Path, dataset: DavisDataset) -> list[str]:
    """Folders of `results_dir` holding a folder for at least one of the dataset's sequences."""
    if not results_dir.is_dir():
        raise SiamMaskError(f"results folder {results_dir} does not exist")
    names = set(dataset.names)
    return sorted(
        p.name for p in results_dir.iterdir() if p.is_dir() and any((p / n).is_dir() for n in names)
    )


def dataset_name(dataset: DavisDataset) -> str:
    return f"DAVIS {dataset.year} {dataset.split}"


def format_vos_table(report: dict[str, Any]) -> str:
    """Overall table (one row a tracker), then J and F per object, then the reference's mIoU where
    a tracker has it. Names (folders, list entries) are shown with control characters escaped."""
    info = report["dataset"]
    trackers = {printable(n): t for n, t in report["trackers"].items()}
    width = max(12, *(len(n) for n in trackers))
    lines = [
        f"Dataset {printable(info['name'])}: {info['sequences']} sequences, {info['frames']} frames, "
        f"{info['objects']} objects",
        f"{'Tracker':<{width}}" + "".join(f"  {m:>8}" for m in MEASURES),
    ]
    for name, t in trackers.items():
        lines.append(f"{name:<{width}}" + "".join(f"  {_num(t[m], 8, 3)}" for m in MEASURES))
    objects = list(next(iter(trackers.values()))["per_object"])
    obj_width = max(8, *(len(printable(o)) for o in objects))
    widths = {n: max(13, len(n)) for n in trackers}
    lines += ["", f"{'Object':<{obj_width}}" + "".join(f"  {n:>{widths[n]}}" for n in trackers)]
    lines.append(f"{'':<{obj_width}}" + "".join(f"  {'J      F':>{widths[n]}}" for n in trackers))
    for obj in objects:
        cells = "".join(
            f"  {_num(t['per_object'][obj]['J'], widths[n] - 7, 3)} {_num(t['per_object'][obj]['F'], 6, 3)}"
            for n, t in trackers.items()
        )
        lines.append(f"{printable(obj):<{obj_width}}{cells}")
    for name, t in trackers.items():
        miou = t.get("reference_miou")
        if miou:
            figures = zip(miou["thresholds"], miou["mean_per_threshold"])
            pairs = ", ".join(f"{thr:.2f}: {_num(v, 0, 3)}" for thr, v in figures)
            lines += ["", f"{name}: the reference's mIoU at thresholds {pairs}"]
    return "\n".join(lines) + "\n"


def _num(value: float | None, width: int, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{'-':>{width}}"
    return f"{value:>{width}.{digits}f}"
