"""One-pass measures, as the two toolkits people report them with compute them.

pysot's OPEBenchmark (toolkit/evaluation/ope_benchmark.py over toolkit/utils/statistics.py), for
OTB, UAV123, NFS, LaSOT and TrackingNet:

- success: the fraction of a sequence's frames whose IoU (x,y,w,h boxes, no +1, clipped to [0, 1])
  is strictly above each of 21 thresholds 0, 0.05, ..., 1; a frame whose ground truth has no
  positive width and height (NaN, absent, empty) never counts. The success AUC is the mean of the
  curve; the dataset's is the mean over every sequence's curve.
- precision: the fraction of frames whose centre distance (centre x + (w - 1)/2, y + (h - 1)/2) is
  at most each of 0..50 px; normalised precision the same with both centres divided by the ground
  truth's (w, h) + 1e-16, thresholds 0..0.5 by 0.01. A frame whose ground-truth centre is not
  positive on both axes (NaN, absent, a zero box) counts as a success at every threshold: pysot
  gives it distance -1 (its arithmetic, kept so that figures agree). The dataset's figures are the
  mean curves read at index 20 (20 px; 0.20).
- LaSOT's absent frames (full occlusion or out of view) are left out of all three before the
  arithmetic, while the divisor stays the sequence's length (pysot's LaSOTVideo.absent).

The GOT-10k toolkit (got10k 0.1.3, ExperimentGOT10k.report): IoUs of the frames after the first
whose cover label is above 0 (visible), both boxes first clipped to the image (the sequence's
meta_info.ini resolution), pooled over every sequence (and repetition) of the dataset, so a long
sequence weighs more: AO is their mean, SR0.5 / SR0.75 the fraction strictly above 0.5 / 0.75, the
success curve the fraction above each of 101 thresholds 0..1; speed is the mean of 1/t over every
positive, non-NaN frame time of the time files (init frames included).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUCCESS_THRESHOLDS = np.arange(0, 1.05, 0.05)  # 21, as pysot builds them
PRECISION_THRESHOLDS = np.arange(0, 51, 1)  # pixels
NORM_PRECISION_THRESHOLDS = np.arange(0, 51, 1) / 100
AT = 20  # where precision (20 px) and normalised precision (0.20) are read
GOT10K_THRESHOLDS = np.linspace(0, 1, 101)


@dataclass(frozen=True)
class OnePassCurves:
    """A sequence's (or a mean over sequences') success, precision and normalised precision curves."""

    success: np.ndarray  # (21,)
    precision: np.ndarray  # (51,)
    norm_precision: np.ndarray  # (51,)

    @property
    def auc(self) -> float:
        return float(np.mean(self.success))

    @property
    def precision_20(self) -> float:
        return float(self.precision[AT])

    @property
    def norm_precision_20(self) -> float:
        return float(self.norm_precision[AT])


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of x,y,w,h rows (pysot's overlap_ratio: no +1, clipped to [0, 1])."""
    left = np.maximum(a[:, 0], b[:, 0])
    right = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    top = np.maximum(a[:, 1], b[:, 1])
    bottom = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.maximum(0, right - left) * np.maximum(0, bottom - top)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.maximum(np.minimum(1, inter / union), 0)


def centres(boxes: np.ndarray) -> np.ndarray:
    """(x + (w - 1)/2, y + (h - 1)/2) of x,y,w,h rows."""
    return np.stack([boxes[:, 0] + (boxes[:, 2] - 1) / 2, boxes[:, 1] + (boxes[:, 3] - 1) / 2], axis=1)


def success_curve(gt: np.ndarray, boxes: np.ndarray, frames: int) -> np.ndarray:
    iou = np.full(len(gt), -1.0)
    with np.errstate(invalid="ignore"):  # NaN ground truth is not > 0: left out, as pysot
        valid = np.sum(gt[:, 2:] > 0, axis=1) == 2
    iou[valid] = box_iou(gt[valid], boxes[valid])
    with np.errstate(invalid="ignore"):
        return np.array([np.sum(iou > t) / float(frames) for t in SUCCESS_THRESHOLDS])


def _distance_curve(gt_centre: np.ndarray, centre: np.ndarray, thresholds: np.ndarray, frames: int) -> np.ndarray:
    distance = np.full(len(gt_centre), -1.0)  # pysot's: a frame it cannot measure counts as within
    with np.errstate(invalid="ignore"):
        valid = np.sum(gt_centre > 0, axis=1) == 2
        distance[valid] = np.sqrt(np.sum(np.power(gt_centre[valid] - centre[valid], 2), axis=1))
        return np.array([np.sum(distance <= t) / float(frames) for t in thresholds])


def precision_curve(gt: np.ndarray, boxes: np.ndarray, frames: int) -> np.ndarray:
    return _distance_curve(centres(gt), centres(boxes), PRECISION_THRESHOLDS, frames)


def norm_precision_curve(gt: np.ndarray, boxes: np.ndarray, frames: int) -> np.ndarray:
    scale = gt[:, 2:4] + 1e-16
    return _distance_curve(centres(gt) / scale, centres(boxes) / scale, NORM_PRECISION_THRESHOLDS, frames)


def sequence_curves(gt: np.ndarray, boxes: np.ndarray, visible: np.ndarray | None = None) -> OnePassCurves:
    """One sequence's curves; `visible` (LaSOT) keeps only those frames, the divisor staying len(gt)."""
    frames = len(gt)
    if visible is not None:
        gt, boxes = gt[visible], boxes[visible]
    return OnePassCurves(success_curve(gt, boxes, frames), precision_curve(gt, boxes, frames),
                         norm_precision_curve(gt, boxes, frames))


def mean_curves(curves: list[OnePassCurves]) -> OnePassCurves:
    """The curves of a set of sequences (the dataset, an attribute's): the mean curve of each."""
    return OnePassCurves(np.mean([c.success for c in curves], axis=0), np.mean([c.precision for c in curves], axis=0),
                         np.mean([c.norm_precision for c in curves], axis=0))


# --------------------------------------------------------------------------- GOT-10k


def bounded_iou(boxes: np.ndarray, gt: np.ndarray, bound: tuple[float, float]) -> np.ndarray:
    """The GOT-10k toolkit's rect_iou: both x,y,w,h boxes clipped to the (width, height) image
    first (x to [0, W], w to [0, W - x]), IoU with machine epsilon added to the union, in [0, 1]."""
    a, b = _clip(boxes, bound), _clip(gt, bound)
    x1 = np.maximum(a[:, 0], b[:, 0])
    y1 = np.maximum(a[:, 1], b[:, 1])
    x2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    union = np.prod(a[:, 2:], axis=1) + np.prod(b[:, 2:], axis=1) - inter
    return np.clip(inter / (union + np.finfo(float).eps), 0.0, 1.0)


def _clip(boxes: np.ndarray, bound: tuple[float, float]) -> np.ndarray:
    out = np.array(boxes, dtype=np.float64, copy=True)
    out[:, 0] = np.clip(out[:, 0], 0, bound[0])
    out[:, 1] = np.clip(out[:, 1], 0, bound[1])
    out[:, 2] = np.clip(out[:, 2], 0, bound[0] - out[:, 0])
    out[:, 3] = np.clip(out[:, 3], 0, bound[1] - out[:, 1])
    return out


@dataclass(frozen=True)
class Got10kFigures:
    ao: float
    sr50: float
    sr75: float
    fps: float  # NaN without times (the toolkit says -1)
    success: np.ndarray  # (101,)


def got10k_ious(boxes: np.ndarray, gt: np.ndarray, visible: np.ndarray, bound: tuple[float, float]) -> np.ndarray:
    """One repetition's IoUs over the frames the toolkit scores: after the first, cover above 0."""
    return bounded_iou(boxes[1:], gt[1:], bound)[visible[1:]]


def got10k_figures(ious: np.ndarray, times: np.ndarray) -> Got10kFigures:
    """AO, SR and speed of pooled IoUs and frame times (seconds, already filtered: positive, finite)."""
    ious = np.asarray(ious, dtype=np.float64)
    fps = float(np.mean(1.0 / times)) if len(times) else float("nan")
    success = np.mean(np.greater(ious[:, None], GOT10K_THRESHOLDS[None, :]), axis=0) if len(ious) else \
        np.full(len(GOT10K_THRESHOLDS), np.nan)
    if not len(ious):
        return Got10kFigures(float("nan"), float("nan"), float("nan"), fps, success)
    return Got10kFigures(float(np.mean(ious)), float(np.mean(ious > 0.5)), float(np.mean(ious > 0.75)), fps, success)


def usable_times(times: np.ndarray) -> np.ndarray:
    """The frame times the toolkit's speed counts: not NaN, above 0."""
    times = np.asarray(times, dtype=np.float64).ravel()
    times = times[~np.isnan(times)]
    return times[times > 0]
