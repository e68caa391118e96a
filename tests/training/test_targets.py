"""Anchor labels, deltas and mask windows against the tracker's own geometry (decode.py)."""

from __future__ import annotations

import numpy as np
import torch

from siammask.tracking.config import TrackerConfig
from siammask.tracking.decode import generate_anchors
from siammask.training.losses import (
    MAX_POSITIVES,
    SAMPLES,
    anchor_targets,
    cls_loss,
    iou,
    loc_loss,
    mask_loss,
    mask_window,
)

ANCHORS = generate_anchors(TrackerConfig()).astype(np.float64)


def test_box_on_an_anchor_makes_it_positive_with_zero_delta(rng):
    k = 2 * 625 + 12 * 25 + 14  # anchor 2 (ratio 1) at row 12, col 14
    t = anchor_targets(ANCHORS[k], rng)
    assert t.cls[k] == 1
    np.testing.assert_allclose(t.loc[:, k], 0, atol=1e-6)
    assert 0 < (t.cls == 1).sum() <= MAX_POSITIVES
    assert (t.cls >= 0).sum() == SAMPLES
    assert [12, 14] in t.cells.tolist()
    # every positive overlaps more than 0.6, every negative less than 0.3
    overlap = iou(ANCHORS, ANCHORS[k])
    assert overlap[t.cls == 1].min() > 0.6 and overlap[t.cls == 0].max() < 0.3


def test_deltas_decode_back_to_the_box_as_the_tracker_decodes(rng):
    box = np.array([17.5, -30.25, 71.0, 40.0])
    t = anchor_targets(box, rng)
    d = t.loc.astype(np.float64)
    # decode.decide: cx = dx * aw + ax, w = exp(dw) * aw
    np.testing.assert_allclose(d[0] * ANCHORS[:, 2] + ANCHORS[:, 0], box[0], atol=1e-3)
    np.testing.assert_allclose(np.exp(d[3]) * ANCHORS[:, 3], box[3], rtol=1e-5)
    np.testing.assert_allclose(t.loc_weight.sum(), 1.0, rtol=1e-6)


def test_centre_cell_window_is_the_centre_of_the_search_crop():
    mask = np.zeros((255, 255), np.uint8)
    mask[64:191, 64:191] = 1  # the 127x127 square around the crop centre (pixel 127)
    assert mask_window(mask, 12, 12).all()
    # cell (0, 0) sees crop pixels -32..94: zero padding first, the square's corner from 64 on
    corner = mask_window(mask, 0, 0)
    assert corner.shape == (127, 127) and corner[96:, 96:].all() and corner.sum() == 31 * 31


def test_losses_are_low_for_right_answers_and_high_for_wrong_ones(rng):
    t = anchor_targets(ANCHORS[2 * 625 + 300], rng)
    labels = torch.from_numpy(t.cls.astype(np.int64))[None]
    logits = torch.zeros(1, 10, 25, 25)
    fg = torch.from_numpy((t.cls == 1).astype(np.float32)).reshape(5, 25, 25)
    logits[0, 5:] = 10 * (2 * fg - 1)  # background channels first, then foreground
    assert float(cls_loss(logits, labels)) < 1e-3
    assert float(cls_loss(-logits, labels)) > 5
    target = torch.from_numpy(t.loc)[None]
    weight = torch.from_numpy(t.loc_weight)[None]
    assert float(loc_loss(target.reshape(1, 20, 25, 25), target, weight)) == 0
    assert float(loc_loss(target.reshape(1, 20, 25, 25) + 0.5, target, weight)) == 2.0  # 4 deltas x 0.5
    gt = torch.zeros(1, 127, 127)
    gt[:, 40:80] = 1
    assert float(mask_loss(200 * (2 * gt - 1), gt)) < 1e-6
    # far beyond exp's range the loss stays finite (the seeded refine's logits reach it)
    assert np.isfinite(float(mask_loss(-200 * (2 * gt - 1), gt)))


def test_negative_pair_labels_background_only(rng):
    t = anchor_targets(None, rng)
    assert (t.cls == 0).sum() == 64 and (t.cls == 1).sum() == 0
    assert not t.loc_weight.any() and len(t.cells) == 0
