"""The long-term report: every tracker of a results folder scored on a dataset, as a dict and a table.

Report layout (NaN becomes JSON null)::

    {"protocol": "longterm",
     "dataset": {"name", "path", "sequences", "frames", "absent_frames"},
     "trackers": {NAME: {"precision", "recall", "f_score", "threshold",
                         "reacquired": {"within", "reappearances", "found", "rate"},
                         "curve": {"thresholds", "precision", "recall"},   (highest threshold first,
                                                                           +-inf as null)
                         "sequences": {SEQ: {"precision", "recall", "f_score"}}}}}

A sequence's figures are taken at the tracker's (dataset-wide) best threshold; so are the
re-acquisitions (measures.reacquisitions: reappearances of the target found within 10 frames).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from siammask.datasets.vot import Dataset
from siammask.datasets.votlt import present_frames
from siammask.errors import SiamMaskError, printable
from siammask.evaluation.longterm.measures import (
    REACQUIRE_WITHIN,
    Curves,
    Reacquisitions,
    dataset_curves,
    reacquisitions,
    sequence_curves,
    sequence_overlaps,
    thresholds,
)
from siammask.evaluation.longterm.results import EXPERIMENT, find_trackers, read_result, result_paths
from siammask.evaluation.results_folder import check_result_sequences


@dataclass(frozen=True)
class LongTermMetrics:
    curves: Curves  # the dataset's
    sequences: dict[str, Curves]
    reacquired: Reacquisitions  # at the dataset's best threshold, over every sequence


def evaluate_tracker(dataset: Dataset, results_dir: str | os.PathLike[str], tracker: str) -> LongTermMetrics:
    """Read one tracker's results on every sequence of `dataset` and compute its curves."""
    check_result_sequences(dataset, Path(results_dir) / tracker / EXPERIMENT, tracker, "long-term results")
    runs = {}
    for seq in dataset:
        box, conf = result_paths(results_dir, tracker, seq.name)
        runs[seq.name] = read_result(box, conf, len(seq))
    levels = thresholds(np.concatenate([scores for _, scores in runs.values()]))
    per_sequence, overlaps = {}, {}
    for seq in dataset:
        boxes, scores = runs[seq.name]
        overlaps[seq.name] = sequence_overlaps(boxes, seq.groundtruth, seq.size)
        per_sequence[seq.name] = sequence_curves(overlaps[seq.name], scores, int(present_frames(seq).sum()), levels)
    curves = dataset_curves(list(per_sequence.values()))
    threshold = curves.thresholds[curves.best]
    found = Reacquisitions(0, 0)
    for seq in dataset:
        found = found + reacquisitions(overlaps[seq.name], runs[seq.name][1], present_frames(seq), threshold)
    return LongTermMetrics(curves, per_sequence, found)


def evaluate_folder(
    dataset: Dataset, results_dir: str | os.PathLike[str], trackers: Sequence[str] | None = None,
) -> dict[str, LongTermMetrics]:
    """Metrics of the named trackers (default: every tracker with a `longterm` folder)."""
    names = list(trackers) if trackers else find_trackers(results_dir)
    if not names:
        raise SiamMaskError(f"no long-term results in {results_dir} "
                            f"(expected {results_dir}/<tracker>/{EXPERIMENT}/<seq>/<seq>_001.txt)")
    return {name: evaluate_tracker(dataset, results_dir, name) for name in names}


def build_report(dataset: Dataset, metrics: dict[str, LongTermMetrics]) -> dict[str, Any]:
    """The report dict (floats may be NaN; publish.to_json turns them into null)."""
    trackers = {}
    for name, m in metrics.items():
        best = m.curves.best
        trackers[name] = {
            **_figures(m.curves, best),
            "threshold": _finite(m.curves.thresholds[best]),
            "reacquired": {"within": REACQUIRE_WITHIN, "reappearances": m.reacquired.reappearances,
                           "found": m.reacquired.found, "rate": m.reacquired.rate},
            "curve": {"thresholds": [_finite(t) for t in m.curves.thresholds],
                      "precision": m.curves.precision.tolist(), "recall": m.curves.recall.tolist()},
            "sequences": {seq: _figures(c, best) for seq, c in m.sequences.items()},
        }
    info = {
        "name": dataset.name, "path": str(dataset.root), "sequences": len(dataset),
        "frames": sum(len(s) for s in dataset), "absent_frames": int(sum((~present_frames(s)).sum() for s in dataset)),
    }
    return {"protocol": "longterm", "dataset": info, "trackers": trackers}


def format_table(report: dict[str, Any]) -> str:
    """One row a tracker (precision, recall, F at its best threshold), then each sequence's figures."""
    trackers = {printable(n): t for n, t in report["trackers"].items()}
    info = report["dataset"]
    width = max(12, *(len(n) for n in trackers))
    lines = [
        f"Dataset {printable(info['name'])}: {info['sequences']} sequence{'s' * (info['sequences'] != 1)}, "
        f"{info['frames']} frames, {info['absent_frames']} without the target (long-term: precision, recall, F)",
        f"{'Tracker':<{width}}  {'Precision':>9}  {'Recall':>6}  {'F':>6}  {'Threshold':>9}  "
        f"Found again within {REACQUIRE_WITHIN} frames",
    ]
    for name, t in trackers.items():
        again = t["reacquired"]
        found = f"{again['found']} of {again['reappearances']}" if again["reappearances"] else "-"
        lines.append(f"{name:<{width}}  {_num(t['precision'], 9)}  {_num(t['recall'], 6)}  {_num(t['f_score'], 6)}"
                     f"  {_num(t['threshold'], 9)}  {found}")
    seq_names = list(next(iter(trackers.values()))["sequences"])
    seq_width = max(8, *(len(printable(s)) for s in seq_names))
    widths = {n: max(17, len(n)) for n in trackers}
    lines += ["", f"{'Sequence':<{seq_width}}" + "".join(f"  {n:>{widths[n]}}" for n in trackers),
              f"{'':<{seq_width}}" + "".join(f"  {'P / R / F':>{widths[n]}}" for n in trackers)]
    for seq in seq_names:
        cells = "".join(f"  {_triple(t['sequences'][seq]):>{widths[n]}}" for n, t in trackers.items())
        lines.append(f"{printable(seq):<{seq_width}}{cells}")
    return "\n".join(lines) + "\n"


def _figures(curves: Curves, index: int) -> dict[str, float]:
    return {"precision": float(curves.precision[index]), "recall": float(curves.recall[index]),
            "f_score": float(curves.f_score[index])}


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _triple(figures: dict[str, float]) -> str:
    return " / ".join(f"{figures[k]:.3f}" for k in ("precision", "recall", "f_score"))


def _num(value: float | None, width: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{'-':>{width}}"
    return f"{value:>{width}.3f}"
