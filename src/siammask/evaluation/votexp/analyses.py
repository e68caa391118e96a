"""vot-toolkit 0.9's analyses of the experiments beyond supervised, on vot-toolkit's own overlaps
(`vot.toolkit_region`, bounded by the image), with its rules kept as they are:

multistart (`multistart_average_ar`, `multistart_eao_curve`, `multistart_eao_score`; the realtime
experiment is analysed the same way): in each anchor run, in the run's own order, the tracker fails
where `grace` (10) frames in a row have an overlap <= `threshold` (0.1) and a non-empty ground
truth; the init frame (overlap 0) counts among them. `progress` is the frames before the first of
those. Per sequence: robustness = sum(progress) / sum(run lengths), accuracy = sum(overlaps before
progress) / sum(progress); overall, accuracy weighted by sum(progress), robustness by the sequence
length. EAO: a failed run's overlaps after `progress` become 0; for every length j in 1..high-1 a
run adds the mean of its overlaps 1..j if it is longer than j, or, failed, its overlaps' sum over
j - 1; each sequence's curve averages its runs, the dataset's curve averages the sequences by their
active runs, and the score is the curve's mean over indices low..high (the curve has `high`
points, so index `high` itself is never there).

unsupervised (`average_accuracy`, burnin 1 in vot2020's stack): per run, the mean overlap over
frames other than codes and the `burnin` frames from each init (0 for a run without any); runs
averaged per sequence; sequences weighted by their length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from siammask.evaluation.vot.results import INIT, MaskRegion, Trajectory
from siammask.evaluation.vot.toolkit_region import toolkit_overlaps

# vot-toolkit's defaults for these analyses, and the interval of vot2020/shortterm.yaml
MULTISTART_GRACE = 10
MULTISTART_THRESHOLD = 0.1
EAO_INTERVAL = (115, 755)
UNSUPERVISED_BURNIN = 1


@dataclass
class AnchorRun:
    """One run's overlaps with the ground truth and whether that ground truth is empty, frame by
    frame in the run's order."""

    overlaps: np.ndarray
    empty: np.ndarray


def anchor_run(trajectory: Trajectory, groundtruth: Sequence[np.ndarray | MaskRegion] | np.ndarray,
               size: tuple[int, int]) -> AnchorRun:
    """A run's overlaps; `groundtruth` is already in the run's order."""
    overlaps = toolkit_overlaps(list(trajectory), list(groundtruth), size)
    return AnchorRun(overlaps, np.array([region_is_empty(g) for g in groundtruth], dtype=bool))


def region_is_empty(region: np.ndarray | MaskRegion) -> bool:
    """vot-toolkit's `is_empty` of a ground-truth rectangle (no positive width and height), polygon
    (no extent on an axis, in float32 as it stores points) or mask (its set pixels' last column or
    last row is its first, in the mask as read: one row or one column of pixels counts as empty)."""
    if isinstance(region, MaskRegion):
        ys, xs = np.nonzero(region.mask)
        return xs.size == 0 or int(xs.max()) == 0 or int(ys.max()) == 0
    values = np.asarray(region, dtype=np.float64).ravel()
    if values.size == 4:
        return not (values[2] > 0 and values[3] > 0)
    points = values.astype(np.float32).reshape(-1, 2)
    return bool(points[:, 1].min() == points[:, 1].max() or points[:, 0].min() == points[:, 0].max())


def progress(run: AnchorRun, grace: int = MULTISTART_GRACE, threshold: float = MULTISTART_THRESHOLD) -> int:
    """Frames before the failure (the run's length when it does not fail)."""
    left = grace
    for j, overlap in enumerate(run.overlaps):
        if overlap <= threshold and not run.empty[j]:
            left -= 1
            if left == 0:
                return j + 1 - grace
        else:
            left = grace
    return len(run.overlaps)


@dataclass
class SequenceAR:
    accuracy: float
    robustness: float
    accuracy_weight: float  # sum of progress
    robustness_weight: int  # the sequence's length


def sequence_ar(runs: Sequence[AnchorRun], length: int, grace: int = MULTISTART_GRACE,
                threshold: float = MULTISTART_THRESHOLD) -> SequenceAR:
    """Accuracy and robustness of one sequence's anchor runs."""
    robust = accurate = total = 0
    for run in runs:
        done = progress(run, grace, threshold)
        robust += done
        accurate += sum(run.overlaps[:done].tolist())
        total += len(run.overlaps)
    accuracy = accurate / robust if robust > 0 else 0
    return SequenceAR(float(accuracy), robust / total, float(robust), length)


def average_ar(sequences: Sequence[SequenceAR]) -> tuple[float, float]:
    """(accuracy, robustness) over the dataset, weighted as vot-toolkit weighs them."""
    acc_w = sum(s.accuracy_weight for s in sequences)
    rob_w = sum(s.robustness_weight for s in sequences)
    accuracy = sum(s.accuracy * s.accuracy_weight for s in sequences) / acc_w if acc_w > 0 else float("nan")
    robustness = sum(s.robustness * s.robustness_weight for s in sequences) / rob_w if rob_w > 0 else float("nan")
    return float(accuracy), float(robustness)


def sequence_eao(runs: Sequence[AnchorRun], high: int, grace: int = MULTISTART_GRACE,
                 threshold: float = MULTISTART_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """One sequence's expected-overlap curve over lengths 0 .. high - 1, and its active runs."""
    phi = np.zeros(high)
    active = np.zeros(high)
    lengths = np.arange(high)
    for run in runs:
        done = progress(run, grace, threshold)
        values = run.overlaps.copy()
        failed = done < len(values)
        values[done:] = 0.0
        length = len(values)
        sums = np.concatenate([[0.0], np.cumsum(values[1:])])  # sums[j]: overlaps 1..j
        inside = (lengths >= 1) & (lengths < length)
        phi[inside] += sums[lengths[inside]] / lengths[inside]
        active[inside] += 1
        if failed:
            beyond = (lengths >= 1) & (lengths >= length)
            with np.errstate(divide="ignore", invalid="ignore"):  # j - 1 = 0 only for a 1-frame run
                phi[beyond] += sums[length - 1] / (lengths[beyond] - 1)
            active[beyond] += 1
    with np.errstate(divide="ignore", invalid="ignore"):
        curve = np.where(active > 0, phi / np.where(active > 0, active, 1), 0.0)
    return curve, active


def eao_curve(partials: Sequence[tuple[np.ndarray, np.ndarray]], high: int) -> np.ndarray:
    """The dataset's expected-overlap curve from each sequence's (curve, active runs)."""
    total = np.zeros(high)
    weight = np.zeros(high)
    for curve, active in partials:
        total += curve * active
        weight += active
    return np.where(weight > 0, total / np.where(weight > 0, weight, 1), 0.0)


def eao_score(curve: np.ndarray, low: int, high: int) -> float:
    """The curve's mean over indices low .. high (those it has); NaN when there are none."""
    part = curve[low : high + 1]
    return float(np.mean(part)) if part.size else float("nan")


def unsupervised_accuracy(
    trajectories: Sequence[Trajectory], groundtruth: Sequence[np.ndarray | MaskRegion] | np.ndarray,
    size: tuple[int, int],
    burnin: int = UNSUPERVISED_BURNIN,
) -> float:
    """One sequence's average overlap over its runs (repetitions)."""
    total = 0.0
    for trajectory in trajectories:
        overlaps = toolkit_overlaps(list(trajectory), list(groundtruth), size)
        keep = np.ones(len(trajectory), dtype=bool)
        for i, region in enumerate(trajectory):
            if isinstance(region, int):
                if region == INIT:  # the init frame and the burn-in after it (burnin 0: none)
                    keep[i : i + burnin] = False
                else:  # unknown (0) and failure (2) frames
                    keep[i] = False
        if keep.any():
            total += float(np.mean(overlaps[keep]))
    return total / len(trajectories)


def average_accuracy(accuracies: Sequence[float], lengths: Sequence[int]) -> float:
    """Sequence accuracies weighted by their length."""
    return float(sum(a * n for a, n in zip(accuracies, lengths)) / sum(lengths))
