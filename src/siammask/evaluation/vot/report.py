"""The evaluation report: every tracker in a results folder scored on a dataset, as a dict and a table.

Report layout (NaN becomes JSON null)::

    {"dataset": {"name", "path", "sequences", "frames"},
     "trackers": {NAME: {"accuracy", "robustness", "lost_number",
                         "eao": {"pysot", "vot", "interval_pysot", "interval_vot"},
                         "eao_per_tag": {TAG: eao},
                         "sequences": {SEQ: {"accuracy", "lost"}}}}}
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from siammask.datasets.vot import Dataset
from siammask.errors import SiamMaskError, printable
from siammask.evaluation.results_folder import check_result_sequences
from siammask.evaluation.vot.metrics import TrackerMetrics, evaluate
from siammask.evaluation.vot.results import find_trackers, read_tracker


def parse_interval(text: str) -> tuple[int, int]:
    """`LOW,HIGH` (sequence lengths, 1 <= LOW <= HIGH) as a tuple."""
    parts = text.split(",")
    try:
        low, high = (int(p) for p in parts)
    except ValueError:
        raise SiamMaskError(f"--eao-interval expects LOW,HIGH (two integers), got {text!r}") from None
    if not 1 <= low <= high:
        raise SiamMaskError(f"--eao-interval needs 1 <= LOW <= HIGH, got {low},{high}")
    return low, high


def evaluate_folder(
    dataset: Dataset,
    results_dir: str | os.PathLike[str],
    trackers: Sequence[str] | None = None,
    eao_interval: tuple[int, int] | None = None,
) -> dict[str, TrackerMetrics]:
    """Metrics of the named trackers (default: every tracker found) in `results_dir`."""
    names = list(trackers) if trackers else find_trackers(results_dir)
    if not names:
        raise SiamMaskError(f"no tracker results in {results_dir} (expected {results_dir}/<tracker>/baseline/<seq>/)")
    out = {}
    for name in names:
        check_result_sequences(dataset, Path(results_dir) / name / "baseline", name)
        results = read_tracker(results_dir, name, dataset.names, {s.name: len(s) for s in dataset})
        out[name] = evaluate(dataset, results, interval_pysot=eao_interval, interval_vot=eao_interval)
    return out


def build_report(dataset: Dataset, metrics: dict[str, TrackerMetrics]) -> dict[str, Any]:
    """The report dict (floats may be NaN; `to_json` turns them into null)."""
    trackers = {}
    for name, m in metrics.items():
        trackers[name] = {
            "accuracy": m.accuracy,
            "robustness": m.robustness,
            "lost_number": m.lost_number,
            "eao": {
                "pysot": m.eao_pysot,
                "vot": m.eao_vot,
                "interval_pysot": list(m.interval_pysot),
                "interval_vot": list(m.interval_vot),
            },
            "eao_per_tag": dict(m.eao_per_tag),
            "sequences": {seq: {"accuracy": s.accuracy, "lost": s.lost} for seq, s in m.sequences.items()},
        }
    info = {
        "name": dataset.name,
        "path": str(dataset.root),
        "sequences": len(dataset),
        "frames": sum(len(s) for s in dataset),
    }
    return {"dataset": info, "trackers": trackers}


def format_table(report: dict[str, Any]) -> str:
    """Overall table (one row a tracker), then accuracy and failures per sequence. Names (result
    folders, list.txt entries) are shown with control characters escaped."""
    trackers = {printable(n): t for n, t in report["trackers"].items()}
    first = next(iter(trackers.values()))
    eao_head = "EAO pysot {} / vot {}".format(*(_span(first["eao"][k]) for k in ("interval_pysot", "interval_vot")))
    width = max(12, *(len(n) for n in trackers))
    lines = [
        f"Dataset {printable(report['dataset']['name'])}: {_count(report['dataset']['sequences'], 'sequence')}, "
        f"{report['dataset']['frames']} frames ({eao_head})",
        f"{'Tracker':<{width}}  {'Accuracy':>8}  {'Robustness':>10}  {'Lost':>6}  {'EAO pysot':>9}  {'EAO vot':>8}",
    ]
    for name, t in trackers.items():
        lines.append(
            f"{name:<{width}}  {_num(t['accuracy'], 8, 3)}  {_num(t['robustness'], 10, 3)}  "
            f"{_num(t['lost_number'], 6, 1)}  {_num(t['eao']['pysot'], 9, 4)}  {_num(t['eao']['vot'], 8, 4)}"
        )
    no_eao = [n for n, t in trackers.items() if _missing(t["eao"]["pysot"]) or _missing(t["eao"]["vot"])]
    if no_eao:  # "-" alone reads as a failure; it is the interval, longer than these sequences
        lines.append(f"EAO '-': the sequences are shorter than the EAO interval {eao_head.split(' ', 1)[1]}; "
                     "pass --eao-interval LOW,HIGH within their length")
    seq_names = list(first["sequences"])
    seq_width = max(8, *(len(printable(s)) for s in seq_names))
    # whole names: two trackers differing only past a cut (SiamMask_onnxruntime, ..._int8) stay apart
    widths = {n: max(16, len(n)) for n in trackers}
    lines += ["", f"{'Sequence':<{seq_width}}" + "".join(f"  {n:>{widths[n]}} acc/lost" for n in trackers)]
    for seq in seq_names:
        cells = "".join(
            f"  {_num(t['sequences'][seq]['accuracy'], widths[n], 3)} {_num(t['sequences'][seq]['lost'], 8, 1)}"
            for n, t in trackers.items()
        )
        lines.append(f"{printable(seq):<{seq_width}}{cells}")
    return "\n".join(lines) + "\n"


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _num(value: float | None, width: int, digits: int) -> str:
    if _missing(value):
        return f"{'-':>{width}}"
    return f"{value:>{width}.{digits}f}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _span(interval: Sequence[int]) -> str:
    return f"[{interval[0]}, {interval[1]}]"
