"""The report of an experiment beyond supervised: every tracker's results in a results folder scored
on a dataset with vot-toolkit's analyses (analyses.py), as a dict and a table.

Report layout (NaN becomes JSON null)::

    {"dataset": {"name", "path", "sequences", "frames"}, "experiment": EXPERIMENT,
     "analysis": {"grace", "threshold", "eao_interval"} | {"burnin"},
     "trackers": {NAME: {"accuracy", "robustness", "eao", "sequences": {SEQ: {"accuracy", "robustness", "runs"}}}}}
                                                  (multistart; realtime: the same, its EAO is EAO realtime)
     "trackers": {NAME: {"average_overlap", "sequences": {SEQ: {"average_overlap"}}}}   (unsupervised)
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from siammask.datasets.vot import Dataset
from siammask.errors import SiamMaskError, printable
from siammask.evaluation.results_folder import check_result_sequences
from siammask.evaluation.votexp import analyses
from siammask.evaluation.votexp.anchors import read_anchors
from siammask.evaluation.votexp.protocol import anchor_order
from siammask.evaluation.votexp.results import FOLDERS, read_run, sequence_folder, trajectory_name

TITLES = {"multistart": "multistart (VOT2020 baseline)", "realtime": "realtime", "unsupervised": "unsupervised"}


@dataclass
class ExperimentMetrics:
    experiment: str
    accuracy: float  # unsupervised: the average overlap
    robustness: float = float("nan")
    eao: float = float("nan")
    curve: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sequences: dict[str, dict[str, float]] = field(default_factory=dict)


def find_trackers(results_dir: str | os.PathLike[str], experiment: str) -> list[str]:
    """Trackers with results of `experiment`: subfolders of the results folder holding its folder with
    at least one of its runs (multistart shares `baseline` with the supervised experiment's SEQ_001.txt)."""
    root = Path(results_dir)
    if not root.is_dir():
        raise SiamMaskError(f"results folder {root} does not exist")
    pattern = re.compile(r".+_\d{3}\.txt" if experiment == "unsupervised" else r".+_\d{8}\.txt")
    return sorted(p.name for p in root.iterdir()
                  if (p / FOLDERS[experiment]).is_dir()
                  and any(pattern.fullmatch(f.name) for f in (p / FOLDERS[experiment]).glob("*/*.txt")))


def evaluate_folder(
    dataset: Dataset, results_dir: str | os.PathLike[str], experiment: str,
    trackers: Sequence[str] | None = None, interval: tuple[int, int] = analyses.EAO_INTERVAL,
) -> dict[str, ExperimentMetrics]:
    """Metrics of the named trackers (default: every tracker with results of `experiment`)."""
    names = list(trackers) if trackers else find_trackers(results_dir, experiment)
    if not names:
        raise SiamMaskError(f"no {experiment} results in {results_dir} "
                            f"(expected {results_dir}/<tracker>/{FOLDERS[experiment]}/<seq>/)")
    for name in names:
        check_result_sequences(dataset, Path(results_dir) / name / FOLDERS[experiment], name)
    if experiment == "unsupervised":
        return {name: _unsupervised(dataset, results_dir, name) for name in names}
    anchors = {seq.name: read_anchors(Path(dataset.root) / seq.name, len(seq)) for seq in dataset}
    return {name: _multistart(dataset, results_dir, name, experiment, anchors, interval) for name in names}


def _multistart(dataset: Dataset, results_dir: str | os.PathLike[str], name: str, experiment: str,
                anchors: dict, interval: tuple[int, int]) -> ExperimentMetrics:
    low, high = interval
    per_seq, partials, sequences = [], [], {}
    for seq in dataset:
        folder = sequence_folder(results_dir, name, experiment, seq.name)
        runs = []
        for anchor, backward in anchors[seq.name].runs():
            order = anchor_order(len(seq), anchor, backward)
            trajectory = read_run(folder, trajectory_name(seq.name, anchor), len(order))
            runs.append(analyses.anchor_run(trajectory, [seq.scored[i] for i in order], seq.size))
        ar = analyses.sequence_ar(runs, len(seq))
        per_seq.append(ar)
        partials.append(analyses.sequence_eao(runs, high))
        sequences[seq.name] = {"accuracy": ar.accuracy, "robustness": ar.robustness, "runs": len(runs)}
    accuracy, robustness = analyses.average_ar(per_seq)
    curve = analyses.eao_curve(partials, high)
    return ExperimentMetrics(experiment, accuracy, robustness, analyses.eao_score(curve, low, high), curve, sequences)


def _unsupervised(dataset: Dataset, results_dir: str | os.PathLike[str], name: str) -> ExperimentMetrics:
    sequences = {}
    for seq in dataset:
        folder = sequence_folder(results_dir, name, "unsupervised", seq.name)
        trajectory = read_run(folder, trajectory_name(seq.name, None), len(seq))
        sequences[seq.name] = {"average_overlap": analyses.unsupervised_accuracy([trajectory], seq.scored,
                                                                                  seq.size)}
    overall = analyses.average_accuracy([s["average_overlap"] for s in sequences.values()], [len(s) for s in dataset])
    return ExperimentMetrics("unsupervised", overall, sequences=sequences)


def build_report(dataset: Dataset, experiment: str, metrics: dict[str, ExperimentMetrics],
                 interval: tuple[int, int] = analyses.EAO_INTERVAL) -> dict[str, Any]:
    """The report dict (floats may be NaN; the JSON writer turns them into null)."""
    if experiment == "unsupervised":
        setting: dict[str, Any] = {"burnin": analyses.UNSUPERVISED_BURNIN}
        trackers = {n: {"average_overlap": m.accuracy, "sequences": m.sequences} for n, m in metrics.items()}
    else:
        setting = {"grace": analyses.MULTISTART_GRACE, "threshold": analyses.MULTISTART_THRESHOLD,
                   "eao_interval": list(interval)}
        trackers = {n: {"accuracy": m.accuracy, "robustness": m.robustness, "eao": m.eao, "sequences": m.sequences}
                    for n, m in metrics.items()}
    info = {"name": dataset.name, "path": str(dataset.root), "sequences": len(dataset),
            "frames": sum(len(s) for s in dataset)}
    return {"dataset": info, "experiment": experiment, "analysis": setting, "trackers": trackers}


def format_table(report: dict[str, Any]) -> str:
    """One row a tracker, then the figures per sequence. Names are shown with control characters escaped."""
    experiment = report["experiment"]
    trackers = {printable(n): t for n, t in report["trackers"].items()}
    width = max(12, *(len(n) for n in trackers))
    head = f"Dataset {printable(report['dataset']['name'])}: {report['dataset']['sequences']} sequences, " \
           f"{report['dataset']['frames']} frames, {TITLES[experiment]} experiment"
    if experiment == "unsupervised":
        lines = [head, f"{'Tracker':<{width}}  {'Average overlap':>15}"]
        lines += [f"{n:<{width}}  {_num(t['average_overlap'], 15, 4)}" for n, t in trackers.items()]
        columns = [("average_overlap", "AO")]
    else:
        eao = "EAO realtime" if experiment == "realtime" else "EAO"
        low, high = report["analysis"]["eao_interval"]
        lines = [head + f" (EAO over [{low}, {high}])",
                 f"{'Tracker':<{width}}  {'Accuracy':>8}  {'Robustness':>10}  {eao:>12}"]
        lines += [f"{n:<{width}}  {_num(t['accuracy'], 8, 4)}  {_num(t['robustness'], 10, 4)}  {_num(t['eao'], 12, 4)}"
                  for n, t in trackers.items()]
        columns = [("accuracy", "A"), ("robustness", "R")]
    first = next(iter(trackers.values()))
    seq_width = max(8, *(len(printable(s)) for s in first["sequences"]))
    lines += ["", f"{'Sequence':<{seq_width}}" + "".join(
        f"  {n + ' ' + label:>{max(10, len(n) + 3)}}" for n in trackers for _, label in columns)]
    for seq in first["sequences"]:
        cells = "".join(f"  {_num(t['sequences'][seq][key], max(10, len(n) + 3), 4)}"
                        for n, t in trackers.items() for key, _ in columns)
        lines.append(f"{printable(seq):<{seq_width}}{cells}")
    return "\n".join(lines) + "\n"


def _num(value: float | None, width: int, digits: int) -> str:
    if value is None or value != value:
        return f"{'-':>{width}}"
    return f"{value:>{width}.{digits}f}"
