"""What one long-term run keeps a frame: the box bounding the result's polygon (the mask's extent,
not the state box) and score x colour match."""

from __future__ import annotations

import cv2
import numpy as np

from siammask.evaluation.longterm.protocol import run_longterm
from siammask.tracking.tracker import TrackResult


class _Scripted:
    """A tracker whose results are given: the state box and the mask's rotated box disagree."""

    def __init__(self, results):
        self.results = list(results)

    def init(self, frame, box):
        self.started = np.asarray(box, float)

    def track(self, frame):
        return self.results.pop(0)


def _result(polygon, box, score, appearance):
    return TrackResult(polygon=np.asarray(polygon, float), box=np.asarray(box, float), score=score, mask=None,
                       mask_pixels=0, from_mask=True, appearance=appearance)


def test_outline_box_bounds_the_polygon():
    r = _result([[12, 5], [30, 9], [26, 27], [8, 23]], [14, 10, 6, 6], 0.9, 0.5)
    assert np.allclose(r.outline_box, [8, 5, 22, 22])
    assert np.isclose(r.confidence, 0.45)


def test_a_run_writes_the_polygons_bounds_and_the_confidence(tmp_path):
    frames = []
    for f in range(3):
        path = tmp_path / f"{f:08d}.jpg"
        cv2.imwrite(str(path), np.full((40, 40, 3), 100, np.uint8))
        frames.append(str(path))
    tracker = _Scripted([_result([[2, 3], [20, 3], [20, 30], [2, 30]], [5, 6, 10, 10], 0.8, 0.5),
                         _result([[10, 1], [19, 10], [10, 19], [1, 10]], [4, 4, 4, 4], 0.6, 1.0)])
    gt = np.array([[5, 5, 10, 10], [np.nan] * 4, [np.nan] * 4])
    run = run_longterm(tracker, frames, gt)
    assert np.isnan(run.boxes[0]).all() and np.isnan(run.scores[0])
    assert np.allclose(run.boxes[1:], [[2, 3, 18, 27], [1, 1, 18, 18]])
    assert np.allclose(run.scores[1:], [0.4, 0.6])
