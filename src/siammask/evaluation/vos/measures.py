"""Video object segmentation measures: DAVIS's J (region) and F (boundary), and the reference's mIoU.

Written from the measures' definitions (Perazzi et al., CVPR 2016; Pont-Tuset et al., 2017) and
checked against the official davis2017-evaluation to 1e-6 in the tests:

- J: intersection over union of the object's mask and its ground truth; 1 when both are empty.
- F: the F-measure of boundary precision and recall. A mask's boundary is its pixels that differ
  from their right, lower or lower-right neighbour inside the image (a one-pixel contour offset
  half a pixel towards the origin, as Martin et al.'s seg2bmap draws it); a boundary pixel matches
  when the other mask's boundary lies within ceil(0.008 * image diagonal) pixels of it, the
  neighbourhood being a Euclidean disk of that radius. An empty boundary has precision 1 (nothing
  to be wrong about) and recall 0 against a non-empty one; two empty boundaries give F = 1.
- per object over the evaluated frames (the first and last annotated frames are left out: the
  first is given, and DAVIS leaves out the last): mean, recall (share of frames above 0.5), decay
  (mean of the first quarter minus mean of the last; the quarters share their edge frames).
- an object a result never labels counts as an empty mask on every frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from siammask.errors import SiamMaskError

BOUNDARY_TOLERANCE = 0.008  # of the image diagonal
# the reference's thresholds are np.arange(0.3, 0.5, 0.05), float noise included (0.39999999999999997):
# a probability exactly on 0.4 is inside or outside as the reference decides
REFERENCE_THRESHOLDS: tuple[float, ...] = tuple(float(t) for t in np.arange(0.3, 0.5, 0.05))


@dataclass(frozen=True)
class Statistics:
    """Mean, recall and decay of one object's per-frame values."""

    mean: float
    recall: float
    decay: float


def region_similarity(gt: np.ndarray, mask: np.ndarray) -> float:
    """J of two boolean masks: |gt ∩ mask| / |gt ∪ mask|, 1 when both are empty."""
    gt, mask = _pair(gt, mask)
    union = int(np.count_nonzero(gt | mask))
    return 1.0 if union == 0 else int(np.count_nonzero(gt & mask)) / union


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """The one-pixel boundary of a boolean mask: pixels differing from their right, lower or
    lower-right neighbour, neighbours outside the image not counted."""
    mask = np.asarray(mask, dtype=bool)
    edge = np.zeros_like(mask)
    edge[:, :-1] |= mask[:, :-1] != mask[:, 1:]
    edge[:-1, :] |= mask[:-1, :] != mask[1:, :]
    edge[:-1, :-1] |= mask[:-1, :-1] != mask[1:, 1:]
    return edge


def boundary_radius(shape: tuple[int, ...], tolerance: float = BOUNDARY_TOLERANCE) -> int:
    """Match radius in pixels: ceil(tolerance * diagonal); a tolerance >= 1 is already in pixels."""
    return int(math.ceil(tolerance if tolerance >= 1 else tolerance * math.hypot(shape[0], shape[1])))


def boundary_measure(gt: np.ndarray, mask: np.ndarray, tolerance: float = BOUNDARY_TOLERANCE) -> float:
    """F of two boolean masks (see the module's docstring)."""
    gt, mask = _pair(gt, mask)
    gt_edge, mask_edge = boundary_map(gt), boundary_map(mask)
    n_gt, n_mask = int(np.count_nonzero(gt_edge)), int(np.count_nonzero(mask_edge))
    if n_gt == 0 or n_mask == 0:
        return 1.0 if n_gt == n_mask else 0.0
    disk = _disk(boundary_radius(gt.shape, tolerance))
    near_gt = cv2.dilate(gt_edge.view(np.uint8), disk).view(bool)
    near_mask = cv2.dilate(mask_edge.view(np.uint8), disk).view(bool)
    precision = np.count_nonzero(mask_edge & near_gt) / n_mask
    recall = np.count_nonzero(gt_edge & near_mask) / n_gt
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def decay_quarters(n: int) -> list[slice]:
    """The four bins of the decay over n frames: edges at i(n-1)/4 rounded half up, i = 0..4, each
    bin including both its edges (so neighbouring bins share a frame)."""
    edges = [(i * (n - 1) + 2) // 4 for i in range(5)]
    return [slice(edges[i], edges[i + 1] + 1) for i in range(4)]


def statistics(values: Sequence[float] | np.ndarray) -> Statistics:
    """Mean, recall (share > 0.5) and decay (first-quarter mean minus last-quarter mean); NaN when
    there are no values."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return Statistics(math.nan, math.nan, math.nan)
    quarters = decay_quarters(values.size)
    decay = float(values[quarters[0]].mean() - values[quarters[3]].mean())
    return Statistics(float(values.mean()), float(np.mean(values > 0.5)), decay)


def sequence_measures(
    gt_labels: Sequence[np.ndarray], result_labels: Sequence[np.ndarray], num_objects: int,
    tolerance: float = BOUNDARY_TOLERANCE,
) -> tuple[np.ndarray, np.ndarray]:
    """J and F, each (num_objects, frames - 2), of objects 1..num_objects over the annotated frames
    given (label maps, in order), first and last left out. A result id above num_objects is refused."""
    if len(gt_labels) != len(result_labels):
        raise SiamMaskError(f"{len(result_labels)} result label maps for {len(gt_labels)} annotated frames")
    frames = range(1, len(gt_labels) - 1)
    j = np.zeros((num_objects, len(frames)))
    f = np.zeros((num_objects, len(frames)))
    for col, t in enumerate(frames):
        gt, res = np.asarray(gt_labels[t]), np.asarray(result_labels[t])
        top = int(res.max(initial=0))
        if top > num_objects:
            raise SiamMaskError(f"result label map {t} has object id {top}; the sequence has {num_objects} objects")
        for k in range(num_objects):
            j[k, col] = region_similarity(gt == k + 1, res == k + 1)
            f[k, col] = boundary_measure(gt == k + 1, res == k + 1, tolerance)
    return j, f


def summarize(per_object_j: dict[str, np.ndarray], per_object_f: dict[str, np.ndarray]) -> dict:
    """The official summary: J&F-Mean, J/F Mean, Recall, Decay (averages over objects of each
    object's statistics), and per_object {name: {"J": mean, "F": mean}}."""
    names = list(per_object_j)
    j_stats = [statistics(per_object_j[n]) for n in names]
    f_stats = [statistics(per_object_f[n]) for n in names]

    def average(stats: list[Statistics], field: str) -> float:
        return float(np.mean([getattr(s, field) for s in stats])) if stats else math.nan

    summary = {
        "J-Mean": average(j_stats, "mean"),
        "J-Recall": average(j_stats, "recall"),
        "J-Decay": average(j_stats, "decay"),
        "F-Mean": average(f_stats, "mean"),
        "F-Recall": average(f_stats, "recall"),
        "F-Decay": average(f_stats, "decay"),
    }
    summary = {"J&F-Mean": (summary["J-Mean"] + summary["F-Mean"]) / 2, **summary}
    summary["per_object"] = {n: {"J": js.mean, "F": fs.mean} for n, js, fs in zip(names, j_stats, f_stats)}
    return summary


def reference_miou(
    probabilities: np.ndarray, gt_labels: np.ndarray, object_ids: Sequence[int],
    thresholds: Sequence[float] = REFERENCE_THRESHOLDS,
) -> np.ndarray:
    """The reference's own figure (tools/test.py's MultiBatchIouMeter): per object (rows) and
    threshold (columns), the mean IoU over frames 1..T-2 of the label map argmax + 1 where the
    objects' maximum probability exceeds the threshold, IoU 1 when both are empty; float32 as the
    reference keeps it. `probabilities` is (objects, frames, H, W), `gt_labels` (frames, H, W).

    It needs the mask probabilities: from label maps alone only the threshold they were written
    with can be had, and there it is the J-Mean of each object (per_object J)."""
    probabilities = np.asarray(probabilities)
    gt_labels = np.asarray(gt_labels)
    if probabilities.ndim != 4 or probabilities.shape[1:] != gt_labels.shape or len(object_ids) != len(probabilities):
        raise SiamMaskError(
            f"probabilities {probabilities.shape} do not fit {len(object_ids)} objects and labels {gt_labels.shape}"
        )
    winner = np.argmax(probabilities, axis=0) + 1  # ties go to the first object, as argmax decides
    peak = np.max(probabilities, axis=0)
    frames = range(1, gt_labels.shape[0] - 1)
    out = np.zeros((len(object_ids), len(thresholds)), dtype=np.float32)
    for c, thr in enumerate(thresholds):
        labels = np.where(peak > thr, winner, 0)
        for k, obj in enumerate(object_ids):
            ious = [region_similarity(gt_labels[t] == obj, labels[t] == k + 1) for t in frames]
            out[k, c] = np.mean(ious) if ious else math.nan
    return out


def miou_summary(per_sequence: dict[str, np.ndarray], thresholds: Sequence[float] = REFERENCE_THRESHOLDS) -> dict:
    """reference_miou's figures of every sequence as the reference prints them: per sequence and
    object, and the mean over all objects of all sequences per threshold."""
    rows = [np.asarray(r, dtype=np.float64) for r in per_sequence.values()]
    stacked = np.concatenate(rows) if rows else np.zeros((0, len(thresholds)))
    means = stacked.mean(axis=0) if len(stacked) else np.full(len(thresholds), math.nan)
    return {
        "thresholds": [round(t, 6) for t in thresholds],
        "per_sequence_object": {name: np.asarray(r).tolist() for name, r in per_sequence.items()},
        "mean_per_threshold": means.tolist(),
    }


def _pair(gt: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gt, mask = np.asarray(gt, dtype=bool), np.asarray(mask, dtype=bool)
    if gt.shape != mask.shape or gt.ndim != 2:
        raise SiamMaskError(f"masks of shapes {gt.shape} and {mask.shape}: two masks of one size are compared")
    return gt, mask


def _disk(radius: int) -> np.ndarray:
    """Structuring element: the pixels within `radius` (Euclidean) of the centre."""
    y, x = np.ogrid[-radius : radius + 1, -radius : radius + 1]
    return (x * x + y * y <= radius * radius).astype(np.uint8)
