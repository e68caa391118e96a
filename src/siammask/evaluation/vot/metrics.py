"""Accuracy, robustness and EAO of one tracker's baseline results on a dataset.

Accuracy and robustness follow pysot as the reference ships it: overlaps bounded by the image
(width, height); init, failure and skipped frames and the 10 frames from each init on (burn-in)
are left out; a sequence's per-frame overlaps are averaged over repetitions, and accuracy is the
mean over all frames of all sequences (not a mean of sequence means). lost_number is the failures
summed over sequences (averaged over repetitions); robustness is 100 * lost_number / frames.
pysot's EAO bounds overlaps by (width - 1, height - 1); vot-toolkit's by (width, height) with its
own rasteriser (see `eao`, `toolkit_region`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from siammask.datasets.vot import TAG_NAMES, Dataset, Sequence
from siammask.errors import SiamMaskError
from siammask.evaluation.vot import eao
from siammask.evaluation.vot.region import region_overlaps_multi
from siammask.evaluation.vot.results import FAILURE, INIT, Trajectory
from siammask.evaluation.vot.toolkit_region import toolkit_overlaps

BURNIN = 10
PYSOT_INTERVALS = {"VOT2019": (46, 291)}  # pysot's choice; VOT2016-2018 and others: (100, 356)
VOT_INTERVALS = {  # the official ones
    "VOT2015": (108, 371),
    "VOT2016": (108, 371),
    "VOT2017": (100, 356),
    "VOT2018": (100, 356),
    "VOT2019": (46, 291),
}
EAO_TAGS = ("all", *TAG_NAMES, "empty")


def default_intervals(dataset_name: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """(pysot interval, vot-toolkit interval) for a dataset name; VOT2016's when unknown."""
    return PYSOT_INTERVALS.get(dataset_name, (100, 356)), VOT_INTERVALS.get(dataset_name, (108, 371))


@dataclass
class SequenceScore:
    accuracy: float
    lost: float  # failures, averaged over repetitions
    frames: int


@dataclass
class TrackerMetrics:
    accuracy: float
    robustness: float
    lost_number: float
    eao_pysot: float
    eao_vot: float
    interval_pysot: tuple[int, int]
    interval_vot: tuple[int, int]
    eao_per_tag: dict[str, float]
    curve_pysot: np.ndarray
    curve_vot: np.ndarray
    sequences: dict[str, SequenceScore] = field(default_factory=dict)


@dataclass
class RunOverlaps:
    """One repetition on one sequence: codes (-1 for a region) and the three overlaps per frame."""

    codes: np.ndarray
    accuracy: np.ndarray  # VOT C rules, bounds (width, height), NaN for codes
    eao: np.ndarray  # VOT C rules, bounds (width - 1, height - 1), NaN for codes
    toolkit: np.ndarray  # vot-toolkit rules, bounds (width, height)


def run_overlaps(sequence: Sequence, trajectory: Trajectory) -> RunOverlaps:
    """Overlaps of a trajectory with the sequence's ground truth, for every metric."""
    codes = np.array([r if isinstance(r, int) else -1 for r in trajectory], dtype=np.int64)
    width, height = sequence.size
    tracked = np.flatnonzero(codes < 0)
    acc = np.full(len(codes), np.nan)
    for_eao = np.full(len(codes), np.nan)
    if tracked.size:
        pred = [trajectory[i] for i in tracked]
        acc[tracked], for_eao[tracked] = region_overlaps_multi(
            pred, sequence.groundtruth[tracked], [(width, height), (width - 1, height - 1)]
        )
    # vot-toolkit's runs read init frames (a code: an empty region) and tracked frames only
    used = np.flatnonzero((codes < 0) | (codes == INIT))
    toolkit = np.zeros(len(codes))
    toolkit[used] = toolkit_overlaps([trajectory[i] for i in used], sequence.groundtruth[used], (width, height))
    return RunOverlaps(codes, acc, for_eao, toolkit)


def evaluate(
    dataset: Dataset,
    results: dict[str, list[Trajectory]],
    interval_pysot: tuple[int, int] | None = None,
    interval_vot: tuple[int, int] | None = None,
    burnin: int = BURNIN,
) -> TrackerMetrics:
    """All metrics of one tracker; `results` maps each sequence to its repetitions."""
    default_pysot, default_vot = default_intervals(dataset.name)
    interval_pysot = interval_pysot or default_pysot
    interval_vot = interval_vot or default_vot
    check_results(dataset, results)
    runs = {seq.name: [run_overlaps(seq, t) for t in results[seq.name]] for seq in dataset}
    sequences = {seq.name: _sequence_score(runs[seq.name], burnin) for seq in dataset}
    frames = sum(s.frames for s in sequences.values())
    lost = float(sum(s.lost for s in sequences.values()))
    per_frame = np.concatenate([_burned_in_overlaps(runs[seq.name], burnin) for seq in dataset])
    curves = _pysot_curves(dataset, runs)
    curve_vot = eao.vot_curve(
        [r for seq in dataset for run in runs[seq.name] for r in eao.vot_runs(run.toolkit, run.codes)]
    )
    return TrackerMetrics(
        accuracy=_nanmean(per_frame),
        robustness=100.0 * lost / frames,
        lost_number=lost,
        eao_pysot=eao.pysot_score(curves["all"], interval_pysot),
        eao_vot=eao.vot_score(curve_vot, interval_vot),
        interval_pysot=tuple(interval_pysot),
        interval_vot=tuple(interval_vot),
        eao_per_tag={tag: eao.pysot_score(curve, interval_pysot) for tag, curve in curves.items()},
        curve_pysot=curves["all"],
        curve_vot=curve_vot,
        sequences=sequences,
    )


def check_results(dataset: Dataset, results: dict[str, list[Trajectory]]) -> None:
    """Results must cover exactly the dataset's sequences, one line per frame."""
    missing = [n for n in dataset.names if n not in results]
    extra = sorted(set(results) - set(dataset.names))
    if missing or extra:
        raise SiamMaskError(f"results do not match dataset {dataset.name}: missing {missing[:5]}, unknown {extra[:5]}")
    for seq in dataset:
        for i, traj in enumerate(results[seq.name], start=1):
            if len(traj) != len(seq):
                raise SiamMaskError(
                    f"sequence {seq.name} repetition {i}: {len(traj)} result lines for {len(seq)} frames"
                    " (results of another dataset?)"
                )
            if not traj or traj[0] != INIT:
                raise SiamMaskError(f"sequence {seq.name} repetition {i}: the first line must be 1 (init)")


def _burned_in_overlaps(runs: list[RunOverlaps], burnin: int) -> np.ndarray:
    """Per-frame accuracy overlaps, burn-in frames left out, averaged over repetitions."""
    stacked = []
    for run in runs:
        values = run.accuracy.copy()
        for start in np.flatnonzero(run.codes == INIT):
            values[start : start + burnin] = np.nan
        stacked.append(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames with no overlap in any repetition
        return np.nanmean(np.stack(stacked), axis=0)


def _sequence_score(runs: list[RunOverlaps], burnin: int) -> SequenceScore:
    per_frame = _burned_in_overlaps(runs, burnin)
    lost = float(np.mean([np.count_nonzero(r.codes == FAILURE) for r in runs]))
    return SequenceScore(accuracy=_nanmean(per_frame), lost=lost, frames=len(per_frame))


def _pysot_curves(dataset: Dataset, runs: dict[str, list[RunOverlaps]]) -> dict[str, np.ndarray]:
    """pysot's expected-overlap curve for each tag ('all', the five VOT tags, 'empty')."""
    width = max(len(seq) for seq in dataset)
    fragments, owners, seq_weights = [], [], []
    for seq in dataset:
        for run in runs[seq.name]:
            for frag in eao.pysot_fragments(run.eao, run.codes):
                fragments.append(frag)
                owners.append(seq)
                seq_weights.append(1.0 / len(runs[seq.name]))
    curves = {}
    for tag in EAO_TAGS:
        weights = [w * frag.tag_share(_tag(seq, tag)) for frag, seq, w in zip(fragments, owners, seq_weights)]
        curves[tag] = eao.pysot_curve(fragments, weights, width)
    return curves


def _tag(seq: Sequence, tag: str) -> np.ndarray:
    if tag == "all":
        return np.ones(len(seq))
    if tag == "empty":
        # pysot's select_tag ignores the fragment for 'empty'; the frames without tags are meant
        return ~np.any([seq.tags[t] for t in TAG_NAMES], axis=0)
    return seq.tags[tag]


def _nanmean(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")
