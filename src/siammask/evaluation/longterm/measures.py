"""Long-term tracking precision, recall and F-score (Lukežič et al., "Now you see me: evaluating
performance in long-term visual tracking"), as pysot's F1Benchmark computes them for VOT2018-LT.

For a confidence threshold t, the frames a tracker reports are those whose score reaches t. A
sequence's precision is the mean overlap (VOT region overlap bounded by the image, 0 where the
target is absent) over its reported frames (1 when it reports none), its recall the sum of those
overlaps over the number of frames where the target is present. Thresholds are 100 values: -inf,
98 quantiles of every score of every sequence, +inf; at -inf a frame is reported when its score is
above 0 (pysot's rule). The dataset's precision and recall curves are the means of the sequences'
curves; F = 2PR / (P + R), and the figures are taken at the threshold of the highest F.

Where pysot's arithmetic is undefined we say what we do: with fewer than 98 scores (where pysot's
index falls outside the sorted scores and it fails) every distinct score is a threshold; a threshold
where P + R is 0 has F = 0 (pysot's NaN would win its argmax).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from siammask.evaluation.vot.region import region_overlaps

RESOLUTION = 100  # thresholds, +-inf included


@dataclass(frozen=True)
class Curves:
    """Precision and recall at each threshold (highest threshold first)."""

    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray

    @property
    def f_score(self) -> np.ndarray:
        total = self.precision + self.recall
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, 2 * self.precision * self.recall / np.where(total > 0, total, 1), 0.0)

    @property
    def best(self) -> int:
        """Index of the threshold of the highest F (the first of equals)."""
        return int(np.argmax(self.f_score))


def thresholds(scores: np.ndarray) -> np.ndarray:
    """The thresholds from every sequence's scores (NaN ones left out), highest first."""
    values = np.sort(np.asarray(scores, dtype=np.float64)[~np.isnan(scores)])
    inner = RESOLUTION - 2
    if len(values) < inner:
        middle = np.unique(values)
    else:
        step = np.floor(len(values) / inner)
        picks = np.floor(np.linspace(step - 1, len(values) - step, inner) + 0.5).astype(np.int32)
        middle = values[picks]
    return np.concatenate([[np.inf], middle[::-1], [-np.inf]])


def sequence_overlaps(boxes: np.ndarray, groundtruth: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Per-frame overlap of result boxes with the ground truth (x,y,w,h or polygons), bounded by the
    image (width, height); 0 where either has no region (the init frame, absent frames)."""
    overlaps = region_overlaps(boxes, groundtruth, size)
    return np.nan_to_num(overlaps, nan=0.0)


def sequence_curves(overlaps: np.ndarray, scores: np.ndarray, present: int, levels: np.ndarray) -> Curves:
    """One sequence's precision and recall at each threshold of `levels`; `present` is the number
    of its frames holding the target."""
    scores = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=0.0)
    precision = np.ones(len(levels))
    recall = np.zeros(len(levels))
    for i, level in enumerate(levels):
        reported = scores > 0 if level == -np.inf else scores >= level
        if reported.any():
            precision[i] = np.mean(overlaps[reported])
            recall[i] = np.sum(overlaps[reported]) / present
    return Curves(levels, precision, recall)


def dataset_curves(per_sequence: list[Curves]) -> Curves:
    """The dataset's curves: the mean of the sequences' curves at each threshold."""
    return Curves(per_sequence[0].thresholds, np.mean([c.precision for c in per_sequence], axis=0),
                  np.mean([c.recall for c in per_sequence], axis=0))


REACQUIRE_WITHIN = 10  # frames after a reappearance within which the target must be found again


@dataclass(frozen=True)
class Reacquisitions:
    """How often a tracker found the target again after it came back: `found` of `reappearances`
    (a frame holding the target after one without it) within REACQUIRE_WITHIN frames."""

    reappearances: int
    found: int

    @property
    def rate(self) -> float:
        return self.found / self.reappearances if self.reappearances else float("nan")

    def __add__(self, other: Reacquisitions) -> Reacquisitions:
        return Reacquisitions(self.reappearances + other.reappearances, self.found + other.found)


def reacquisitions(overlaps: np.ndarray, scores: np.ndarray, in_view: np.ndarray, threshold: float,
                   within: int = REACQUIRE_WITHIN) -> Reacquisitions:
    """A reappearance counts as found when, in its first `within` frames, the tracker reports a
    frame (score at `threshold` or more: the report's operating point) whose box overlaps the
    target (overlap > 0, the long-term measures' test of a correct frame)."""
    scores = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=0.0)
    correct = (scores >= threshold) & (overlaps > 0)
    starts = np.flatnonzero(in_view[1:] & ~in_view[:-1]) + 1
    found = sum(bool(correct[s : s + within].any()) for s in starts)
    return Reacquisitions(len(starts), found)
