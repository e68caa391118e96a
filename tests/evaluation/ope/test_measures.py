"""The one-pass measures on hand-made cases (what test_pysot_ope.py and test_got10k_toolkit.py check
against the toolkits themselves, here without them): thresholds counted strictly above, the
(w - 1)/2 centre, pysot's -1 distance for frames without a measurable truth, LaSOT's divisor, the
dataset figures read from the mean curves, and GOT-10k's clipping, cover and pooling."""

from __future__ import annotations

import numpy as np
import pytest

from siammask.evaluation.ope.measures import (
    bounded_iou,
    centres,
    got10k_figures,
    mean_curves,
    sequence_curves,
    usable_times,
)

TOL = 1e-12


def test_success_counts_strictly_above_each_threshold():
    gt = np.array([[0, 0, 10, 10]] * 2, dtype=float)
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 5]], dtype=float)  # IoU 1 and 0.5
    c = sequence_curves(gt, boxes)
    assert c.success[10] == pytest.approx(0.5)  # threshold 0.5: the 0.5 frame is not above it
    assert c.success[9] == pytest.approx(1.0) and c.success[20] == 0.0  # nothing is above 1
    assert c.auc == pytest.approx(np.mean(c.success))


def test_centres_and_precision_at_20_px():
    np.testing.assert_allclose(centres(np.array([[10.0, 20, 5, 9]])), [[12.0, 24.0]])
    gt = np.array([[50, 50, 10, 10]] * 4, dtype=float)
    boxes = gt + np.array([[0, 0, 0, 0], [20, 0, 0, 0], [21, 0, 0, 0], [0, 0, 2, 0]], dtype=float)
    c = sequence_curves(gt, boxes)
    assert c.precision_20 == pytest.approx(0.75)  # 0, 20 and 1 px within 20; 21 px not
    assert c.norm_precision[20] == pytest.approx(0.5)  # 0 and 0.1 (1 px of a 10 px box) within 0.20; 2.0 and 2.1 not


def test_unmeasurable_truth_counts_as_within_every_distance_but_never_a_success():
    gt = np.array([[50, 50, 10, 10], [np.nan] * 4, [-30, 5, 10, 10], [5, 5, 0, 10]], dtype=float)
    boxes = np.array([[50, 50, 10, 10], [90, 90, 10, 10], [90, 90, 10, 10], [90, 90, 10, 10]], dtype=float)
    c = sequence_curves(gt, boxes)
    assert c.success[0] == pytest.approx(0.25)  # only the first frame: NaN and empty truths never count
    assert c.precision[0] == pytest.approx(0.75)  # NaN and a centre left of 0: distance -1 (pysot's)


def test_lasot_absent_frames_left_out_of_a_full_length_divisor():
    gt = np.array([[0, 0, 10, 10]] * 4, dtype=float)
    c = sequence_curves(gt, gt.copy(), visible=np.array([True, True, True, False]))
    assert c.success[0] == pytest.approx(0.75) and c.precision[0] == pytest.approx(0.75)


def test_dataset_figures_are_read_from_the_mean_curves():
    gt = np.array([[50, 50, 10, 10]] * 2, dtype=float)
    a = sequence_curves(gt, gt + [[0, 0, 0, 0], [15, 0, 0, 0]])
    b = sequence_curves(gt, gt + [[25, 0, 0, 0], [25, 0, 0, 0]])
    mean = mean_curves([a, b])
    assert mean.precision_20 == pytest.approx(0.5) and mean.auc == pytest.approx((a.auc + b.auc) / 2)


def test_got10k_clips_to_the_image_and_pools_frames():
    # a box half outside a 100x100 image: clipped, both boxes equal inside it
    iou = bounded_iou(np.array([[90.0, 0, 20, 10]]), np.array([[90.0, 0, 10, 10]]), (100, 100))
    assert iou[0] == pytest.approx(1.0, abs=1e-9)
    figures = got10k_figures(np.array([0.9, 0.75, 0.5, 0.2]), usable_times(np.array([0.1, 0.0, np.nan, 0.05])))
    assert figures.ao == pytest.approx(0.5875) and figures.sr50 == pytest.approx(0.5)
    assert figures.sr75 == pytest.approx(0.25)  # 0.75 is not above 0.75
    assert figures.fps == pytest.approx((10 + 20) / 2)  # the mean of 1/t, zero and nan left out
