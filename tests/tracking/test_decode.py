"""The wide search's candidates (tracking/decode.py): the first is decide's own pick, the others are
separate peaks (more than PEAK_RADIUS cells from every earlier one)."""

from __future__ import annotations

import numpy as np

from siammask.tracking.config import TrackerConfig
from siammask.tracking.decode import PEAK_RADIUS, cosine_window, decide, generate_anchors, wide_candidates


def test_candidates_start_with_decides_pick_and_keep_apart():
    config = TrackerConfig()
    n = config.score_size_for(511)
    anchors, window = generate_anchors(config, n), cosine_window(config, n)
    rng = np.random.default_rng(3)
    for _ in range(5):
        cls = rng.normal(0, 2, (10, n, n)).astype(np.float32)
        loc = rng.normal(0, 0.2, (20, n, n)).astype(np.float32)
        pos, size = np.array([160.0, 120.0]), np.array([40.0, 30.0])
        best = decide(cls, loc, pos, size, 1.6, anchors, window, config, 0.001)
        picks = wide_candidates(cls, loc, pos, size, 1.6, anchors, window, config, 0.001, 5)
        assert len(picks) == 5
        assert (picks[0].row, picks[0].col) == (best.row, best.col)
        np.testing.assert_array_equal(picks[0].pos, best.pos)
        cells = [(p.row, p.col) for p in picks]
        for i, (r, c) in enumerate(cells):
            for r2, c2 in cells[:i]:
                assert max(abs(r - r2), abs(c - c2)) > PEAK_RADIUS
