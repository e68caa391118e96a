"""The colour signature that checks a result is the target (tracking/appearance.py)."""

from __future__ import annotations

import numpy as np

from siammask.tracking.appearance import colour_signature, similarity


def _frame() -> np.ndarray:
    frame = np.full((120, 160, 3), 90, np.uint8)
    frame[20:60, 20:60] = (40, 40, 200)  # a red square (BGR)
    frame[60:100, 100:140] = (200, 60, 30)  # a blue one
    return frame


def test_the_same_colours_match_fully_and_other_colours_barely():
    frame = _frame()
    red = colour_signature(frame, np.array([20, 20, 40, 40]))
    assert red is not None and abs(float(red.sum()) - 1) < 1e-6
    assert similarity(red, colour_signature(frame, np.array([25, 25, 30, 30]))) > 0.999
    assert similarity(red, colour_signature(frame, np.array([100, 60, 40, 40]))) < 0.05
    # half the box on the target: in between
    half = similarity(red, colour_signature(frame, np.array([40, 20, 40, 40])))
    assert 0.5 < half < 0.9


def test_brightness_alone_does_not_make_another_object():
    frame = _frame()
    darker = (frame.astype(np.float32) * 0.6).astype(np.uint8)
    red = colour_signature(frame, np.array([20, 20, 40, 40]))
    assert similarity(red, colour_signature(darker, np.array([20, 20, 40, 40]))) > 0.9


def test_a_box_outside_the_frame_has_no_signature_and_matches_nothing():
    frame = _frame()
    assert colour_signature(frame, np.array([170, 10, 30, 30])) is None
    assert colour_signature(frame, np.array([159.5, 10, 30, 30])) is None  # under two pixels inside
    red = colour_signature(frame, np.array([20, 20, 40, 40]))
    assert similarity(red, None) == 0.0 and similarity(None, red) == 0.0
