"""The paper's losses: anchor classification, box regression, and the refine module's mask.

Labels are made per pair in numpy (anchors exactly as siammask.tracking.decode generates them, so the
trained deltas mean what the tracker decodes); the losses follow the authors' training code:
cross-entropy averaged over positives and negatives separately (half each), L1 on the positive
anchors' deltas weighted 1/positives, and a logistic loss on each positive cell's 127x127 mask
against the ground truth cut to that cell's window of the search crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from siammask.model.network import MASK_SIZE, SCORE_SIZE
from siammask.tracking.config import TrackerConfig
from siammask.tracking.decode import generate_anchors

POSITIVE_IOU = 0.6
NEGATIVE_IOU = 0.3
SAMPLES = 64  # labelled anchors a pair
MAX_POSITIVES = 16
# The window a cell's mask covers starts (cell - base_size/2) * stride pixels into the search crop.
MASK_OFFSET = 4 * 8


@dataclass(frozen=True)
class Weights:
    """The authors' loss weights (experiments/siammask_sharp config: cls 1, loc 1.2, mask 36)."""

    cls: float = 1.0
    loc: float = 1.2
    mask: float = 36.0


@dataclass
class Targets:
    """One pair's labels: cls (A*S*S,) int8 1/0/-1 (ignored), loc deltas (4, A*S*S), loc weights."""

    cls: np.ndarray
    loc: np.ndarray
    loc_weight: np.ndarray
    cells: np.ndarray  # (n, 2) rows, cols of score-map cells with a positive anchor


_ANCHORS = generate_anchors(TrackerConfig()).astype(np.float64)


def iou(anchors: np.ndarray, box: np.ndarray) -> np.ndarray:
    """IoU of each cx,cy,w,h anchor with one cx,cy,w,h box."""
    ax0, ax1 = anchors[:, 0] - anchors[:, 2] / 2, anchors[:, 0] + anchors[:, 2] / 2
    ay0, ay1 = anchors[:, 1] - anchors[:, 3] / 2, anchors[:, 1] + anchors[:, 3] / 2
    bx0, bx1, by0, by1 = box[0] - box[2] / 2, box[0] + box[2] / 2, box[1] - box[3] / 2, box[1] + box[3] / 2
    inter = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None) * np.clip(
        np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    return inter / (anchors[:, 2] * anchors[:, 3] + box[2] * box[3] - inter)


def anchor_targets(box: np.ndarray | None, rng: np.random.Generator) -> Targets:
    """Label the anchors against the target box (search-crop pixels from the centre); None (a
    negative pair: the target is not in the crop) labels SAMPLES random anchors background and
    nothing else, so no box or mask is learnt from it."""
    a = _ANCHORS
    if box is None:
        cls = np.full(len(a), -1, np.int8)
        cls[rng.choice(len(a), SAMPLES, replace=False)] = 0
        return Targets(cls, np.zeros((4, len(a)), np.float32), np.zeros(len(a), np.float32),
                       np.zeros((0, 2), np.int64))
    overlap = iou(a, box)
    cls = np.full(len(a), -1, np.int8)
    pos = np.flatnonzero(overlap > POSITIVE_IOU)
    neg = np.flatnonzero(overlap < NEGATIVE_IOU)
    if len(pos) > MAX_POSITIVES:
        pos = rng.choice(pos, MAX_POSITIVES, replace=False)
    neg = rng.choice(neg, min(len(neg), SAMPLES - len(pos)), replace=False)
    cls[neg] = 0
    cls[pos] = 1
    loc = np.stack([
        (box[0] - a[:, 0]) / a[:, 2], (box[1] - a[:, 1]) / a[:, 3],
        np.log(box[2] / a[:, 2]), np.log(box[3] / a[:, 3]),
    ]).astype(np.float32)
    weight = np.zeros(len(a), np.float32)
    if len(pos):
        weight[pos] = 1.0 / len(pos)
    cells = np.unique(pos % (SCORE_SIZE * SCORE_SIZE))
    return Targets(cls, loc, weight, np.stack([cells // SCORE_SIZE, cells % SCORE_SIZE], axis=1))


def mask_window(mask: np.ndarray, row: int, col: int) -> np.ndarray:
    """The 127x127 part of a 255x255 search-crop mask that cell (row, col)'s mask covers (0 outside)."""
    padded = np.pad(mask, MASK_OFFSET)
    return padded[8 * row : 8 * row + MASK_SIZE, 8 * col : 8 * col + MASK_SIZE]


def cls_loss(cls: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """cls (B, 2A, S, S) logits (background channels first), labels (B, A*S*S) int 1/0/-1."""
    b = cls.shape[0]
    logp = F.log_softmax(cls.float().reshape(b, 2, -1), dim=1)  # (B, 2, A*S*S), anchor-major
    total = cls.new_zeros((), dtype=torch.float32)
    for value in (1, 0):
        chosen = labels == value
        if bool(chosen.any()):
            total = total - 0.5 * logp[:, value][chosen].mean()
    return total


def loc_loss(loc: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """loc (B, 4A, S, S), rows dx, dy, dw, dh each anchor-major (as decode reads them);
    target (B, 4, A*S*S), weight (B, A*S*S)."""
    b = loc.shape[0]
    diff = (loc.float().reshape(b, 4, -1) - target).abs().sum(dim=1)
    return (diff * weight).sum() / b


def mask_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The authors' soft-margin loss, log(1 + exp(-y x)) with y = +-1, averaged over pixels.

    Written with softplus: torch's soft_margin_loss exponentiates first and overflows to inf on
    the seeded refine's logits (|x| > 88)."""
    return F.softplus(-(target * 2 - 1) * logits.float()).mean()
