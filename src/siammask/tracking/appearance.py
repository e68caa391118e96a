"""The target's colour signature: a check, independent of the network, that a result is the target.

Why: the network's score measures how much a place looks like "an object of the kind trained on".
On a generator it never saw it stays high on background (measured: median 0.64-0.98 on frames where
the target was gone, docs/longterm.md), so the score alone cannot say the target is absent. The
colours of the first frame's box against those of the result's box can: a hue/saturation histogram
compared by the Bhattacharyya coefficient separated tracked frames from lost ones with a balanced
accuracy of 0.97-0.99 on synth's long-term sequences and 0.78 on the broad generator's (whose
distractors wear the target's own palette), for both a model trained on either generator
(scripts/presence_rule.py). Value (brightness) is left out so that lighting changes are not read as
a different object. It costs a histogram of the box's pixels per target and frame (well under a
millisecond at 640x360).
"""

from __future__ import annotations

import cv2
import numpy as np

HUE_BINS = 18  # 10 degrees each
SATURATION_BINS = 8
MIN_SIDE = 2  # pixels: a box thinner than this inside the frame has no colours to compare


def colour_signature(frame: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """The L1-normalised hue x saturation histogram of the pixels of `box` (x, y, w, h) inside
    `frame` (BGR uint8), or None when too little of the box lies in the frame."""
    height, width = frame.shape[:2]
    x, y, w, h = (float(v) for v in box)
    x0, y0 = max(0, int(np.floor(x))), max(0, int(np.floor(y)))
    x1, y1 = min(width, int(np.ceil(x + w))), min(height, int(np.ceil(y + h)))
    if x1 - x0 < MIN_SIDE or y1 - y0 < MIN_SIDE:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(frame[y0:y1, x0:x1]), cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [HUE_BINS, SATURATION_BINS], [0, 180, 0, 256])
    total = float(hist.sum())
    return hist / total if total > 0 else None


def similarity(reference: np.ndarray | None, other: np.ndarray | None) -> float:
    """The Bhattacharyya coefficient of two signatures, 1 for the same colours and 0 for disjoint
    ones; 0 when either is missing (a box outside the frame shows nothing of the target)."""
    if reference is None or other is None:
        return 0.0
    return float(np.sum(np.sqrt(reference * other)))
