"""The one-pass report: every tracker of a results folder scored on a one-pass dataset, as a dict
and a table.

Report layout (NaN becomes JSON null)::

    {"protocol": "ope",
     "dataset": {"name", "benchmark", "split", "path", "sequences", "frames", "absent_frames"},
     "measures": "pysot" | "got10k",
     "thresholds": {"success", "precision", "norm_precision"} | {"success"},
     "trackers": {NAME: pysot: {"success" (AUC), "precision" (20 px), "norm_precision" (0.20),
                                "curves": {"success", "precision", "norm_precision"},
                                "sequences": {SEQ: {"success", "precision", "norm_precision"}},
                                "attributes": {ATTR: {"sequences", "success", "precision", "norm_precision"}}}
                        got10k: {"ao", "sr50", "sr75", "fps", "curve",
                                 "sequences": {SEQ: {"ao", "sr50", "sr75", "fps", "length"}}}}}

OTB, UAV123, NFS, LaSOT and TrackingNet are scored as pysot's OPEBenchmark scores them, GOT-10k as
the GOT-10k toolkit does (measures.py says how). A sequence's precision figures are its curves read
at index 20, as the dataset's are (pysot's per-video table shows the curve's mean instead).
"""

from __future__ import annotations

import ast
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from siammask.datasets.onepass import OnePassDataset, OnePassSequence
from siammask.errors import SiamMaskError, printable
from siammask.evaluation.ope.measures import (
    GOT10K_THRESHOLDS,
    NORM_PRECISION_THRESHOLDS,
    PRECISION_THRESHOLDS,
    SUCCESS_THRESHOLDS,
    Got10kFigures,
    OnePassCurves,
    got10k_figures,
    got10k_ious,
    mean_curves,
    sequence_curves,
    usable_times,
)
from siammask.evaluation.ope.results import (
    GOT10K,
    LONGER_RESULTS,
    box_files,
    find_trackers,
    needs_submission,
    read_boxes,
    read_times,
    result_paths,
    write_submission,
)


@dataclass(frozen=True)
class OnePassMetrics:
    """pysot's curves (dataset, sequences, attributes) or GOT-10k's figures (dataset, sequences)."""

    curves: OnePassCurves | None = None
    sequences: dict[str, OnePassCurves] = field(default_factory=dict)
    attributes: dict[str, tuple[int, OnePassCurves]] = field(default_factory=dict)  # (sequences, curves)
    got10k: Got10kFigures | None = None
    got10k_sequences: dict[str, Got10kFigures] = field(default_factory=dict)


def check_scorable(dataset: OnePassDataset) -> None:
    if not dataset.annotated:
        raise SiamMaskError(f"dataset {dataset.name} ({dataset.root}) has only its first frames' boxes: "
                            "its server scores it (siammask eval writes the archive to submit)")


def evaluate_tracker(dataset: OnePassDataset, results_dir: str | os.PathLike[str], tracker: str) -> OnePassMetrics:
    """Read one tracker's results on every sequence of `dataset` and score them."""
    check_scorable(dataset)
    if dataset.benchmark == GOT10K:
        return _evaluate_got10k(dataset, results_dir, tracker)
    per_sequence = {}
    for seq in dataset:
        longer = (dataset.benchmark, seq.name) in LONGER_RESULTS
        boxes = read_boxes(box_files(results_dir, tracker, seq.name, dataset.benchmark)[0], len(seq), longer)
        # pysot leaves absent frames out on LaSOT only (LaSOTVideo.absent); elsewhere a NaN row
        # takes its own path through the arithmetic (never a success, always within any distance)
        visible = ~np.asarray(seq.absent, dtype=bool) if dataset.benchmark == "LaSOT" else None
        per_sequence[seq.name] = sequence_curves(seq.groundtruth, boxes, visible)
    attributes = {}
    for name in sorted({a for seq in dataset for a, has in seq.attributes.items() if has}):
        members = [per_sequence[s.name] for s in dataset if s.attributes.get(name)]
        attributes[name] = (len(members), mean_curves(members))
    return OnePassMetrics(curves=mean_curves(list(per_sequence.values())), sequences=per_sequence,
                          attributes=attributes)


def _evaluate_got10k(dataset: OnePassDataset, results_dir: str | os.PathLike[str], tracker: str) -> OnePassMetrics:
    ious, times, per_sequence = [], [], {}
    for seq in dataset:
        visible = _visible(seq)
        bound = resolution(seq)
        # the file's boxes: the toolkit scores by cover, and an absent frame may have cover above 0
        truth = getattr(seq, "shipped_groundtruth", seq.groundtruth)
        seq_ious = np.concatenate([got10k_ious(read_boxes(path, len(seq)), truth, visible, bound)
                                   for path in box_files(results_dir, tracker, seq.name, GOT10K)])
        _, time_path = result_paths(results_dir, tracker, seq.name, GOT10K)
        seq_times = usable_times(read_times(time_path, len(seq))) if time_path and time_path.exists() else np.zeros(0)
        per_sequence[seq.name] = got10k_figures(seq_ious, seq_times)
        ious.append(seq_ious)
        times.append(seq_times)
    return OnePassMetrics(got10k=got10k_figures(np.concatenate(ious), np.concatenate(times)),
                          got10k_sequences=per_sequence)


def _visible(seq: OnePassSequence) -> np.ndarray:
    """The frames GOT-10k scores: cover label above 0 (the toolkit's rule), else not absent."""
    cover = seq.labels.get("cover")
    return np.asarray(cover) > 0 if cover is not None else ~np.asarray(seq.absent, dtype=bool)


def resolution(seq: OnePassSequence) -> tuple[float, float]:
    """The (width, height) boxes are clipped to: meta_info.ini's resolution as the toolkit reads it,
    else the frames' size."""
    text = seq.meta.get("resolution")
    if text:
        try:
            value = ast.literal_eval(text.strip())
            if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int | float) for v in value):
                return float(value[0]), float(value[1])
        except (ValueError, SyntaxError):
            pass
        raise SiamMaskError(f"sequence {seq.name}: meta_info.ini resolution {text[:40]!r} is not '(width, height)'")
    return float(seq.size[0]), float(seq.size[1])


def evaluate_folder(dataset: OnePassDataset, results_dir: str | os.PathLike[str],
                    trackers: Sequence[str] | None = None) -> dict[str, OnePassMetrics]:
    """Metrics of the named trackers (default: every tracker with a result of this dataset)."""
    check_scorable(dataset)
    names = list(trackers) if trackers else find_trackers(results_dir, dataset.names, dataset.benchmark)
    if not names:
        example = result_paths(results_dir, "<tracker>", dataset.names[0] if len(dataset) else "SEQ", dataset.benchmark)
        raise SiamMaskError(f"no one-pass results of dataset {dataset.name} in {results_dir} "
                            f"(expected {example[0]})")
    return {name: evaluate_tracker(dataset, results_dir, name) for name in names}


def submission(dataset: OnePassDataset, results_dir: str | os.PathLike[str], tracker: str) -> Path:
    """The archive a test split's server takes (GOT-10k test, TrackingNet TEST), from complete results."""
    if not needs_submission(dataset.benchmark, dataset.annotated):
        raise SiamMaskError(f"dataset {dataset.name} is scored here, not by a server: no archive to submit")
    return write_submission(results_dir, tracker, dataset.benchmark, [(s.name, len(s)) for s in dataset])


def build_report(dataset: OnePassDataset, metrics: dict[str, OnePassMetrics]) -> dict[str, Any]:
    """The report dict (floats may be NaN; publish.to_json turns them into null)."""
    got10k = dataset.benchmark == GOT10K
    trackers = {name: (_got10k_entry(m) if got10k else _pysot_entry(m)) for name, m in metrics.items()}
    thresholds = {"success": GOT10K_THRESHOLDS.tolist()} if got10k else {
        "success": SUCCESS_THRESHOLDS.tolist(), "precision": PRECISION_THRESHOLDS.tolist(),
        "norm_precision": NORM_PRECISION_THRESHOLDS.tolist()}
    return {"protocol": "ope", "dataset": dataset_info(dataset), "measures": "got10k" if got10k else "pysot",
            "thresholds": thresholds, "trackers": trackers}


def dataset_info(dataset: OnePassDataset) -> dict[str, Any]:
    return {"name": dataset.name, "benchmark": dataset.benchmark, "split": dataset.split, "path": str(dataset.root),
            "sequences": len(dataset), "frames": sum(len(s) for s in dataset),
            "absent_frames": int(sum(np.asarray(s.absent, dtype=bool).sum() for s in dataset))}


def _figures(c: OnePassCurves) -> dict[str, float]:
    return {"success": c.auc, "precision": c.precision_20, "norm_precision": c.norm_precision_20}


def _pysot_entry(m: OnePassMetrics) -> dict[str, Any]:
    assert m.curves is not None
    return {**_figures(m.curves),
            "curves": {"success": m.curves.success.tolist(), "precision": m.curves.precision.tolist(),
                       "norm_precision": m.curves.norm_precision.tolist()},
            "sequences": {s: _figures(c) for s, c in m.sequences.items()},
            "attributes": {a: {"sequences": n, **_figures(c)} for a, (n, c) in m.attributes.items()}}


def _got10k_figures(f: Got10kFigures) -> dict[str, float]:
    return {"ao": f.ao, "sr50": f.sr50, "sr75": f.sr75, "fps": f.fps}


def _got10k_entry(m: OnePassMetrics) -> dict[str, Any]:
    assert m.got10k is not None
    return {**_got10k_figures(m.got10k), "curve": m.got10k.success.tolist(),
            "sequences": {s: _got10k_figures(f) for s, f in m.got10k_sequences.items()}}


def format_table(report: dict[str, Any]) -> str:
    """One row a tracker, then each sequence's figures (and each attribute's, where the dataset has them)."""
    trackers = {printable(n): t for n, t in report["trackers"].items()}
    info = report["dataset"]
    got10k = report["measures"] == "got10k"
    keys = ("ao", "sr50", "sr75", "fps") if got10k else ("success", "precision", "norm_precision")
    heads = ("AO", "SR0.5", "SR0.75", "FPS") if got10k else ("Success", "Precision", "Norm precision")
    width = max(12, *(len(n) for n in trackers))
    lines = [f"Dataset {printable(info['name'])} ({info['benchmark']}): {info['sequences']} "
             f"sequence{'s' * (info['sequences'] != 1)}, {info['frames']} frames, {info['absent_frames']} without "
             f"the target (one pass; {'GOT-10k toolkit' if got10k else 'pysot OPEBenchmark'} measures)",
             f"{'Tracker':<{width}}" + "".join(f"  {h:>{max(9, len(h))}}" for h in heads)]
    for name, t in trackers.items():
        lines.append(f"{name:<{width}}" + "".join(f"  {_num(t[k], max(9, len(h)))}" for k, h in zip(keys, heads)))
    lines += _breakdown("Sequence", trackers, "sequences", keys)
    if not got10k and any(t["attributes"] for t in trackers.values()):
        lines += _breakdown("Attribute", trackers, "attributes", keys)
    return "\n".join(lines) + "\n"


def _breakdown(title: str, trackers: dict[str, Any], part: str, keys: tuple[str, ...]) -> list[str]:
    rows = list(next(iter(trackers.values()))[part])
    row_width = max(len(title), *(len(printable(r)) for r in rows)) if rows else len(title)
    cell = 8 * len(keys) - 2
    widths = {n: max(cell, len(n)) for n in trackers}
    lines = ["", f"{title:<{row_width}}" + "".join(f"  {n:>{widths[n]}}" for n in trackers),
             f"{'':<{row_width}}" + "".join(f"  {' / '.join(_short(k) for k in keys):>{widths[n]}}" for n in trackers)]
    for row in rows:
        cells = "".join(f"  {' / '.join(_cell(t[part][row][k], k) for k in keys):>{widths[n]}}"
                        for n, t in trackers.items())
        lines.append(f"{printable(row):<{row_width}}{cells}")
    return lines


def _short(key: str) -> str:
    return {"success": "S", "precision": "P", "norm_precision": "NP", "ao": "AO", "sr50": "SR.5", "sr75": "SR.75",
            "fps": "FPS"}[key]


def _cell(value: float | None, key: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.1f}" if key == "fps" else f"{value:.3f}"


def _num(value: float | None, width: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{'-':>{width}}"
    return f"{value:>{width}.3f}"
