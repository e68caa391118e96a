"""Region overlap: the VOT C rules (reference, pysot) and vot-toolkit's rules."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siammask.evaluation.vot.region import as_polygon, region_overlap, region_overlaps, region_overlaps_multi
from siammask.evaluation.vot.toolkit_region import toolkit_overlaps
from tests.evaluation.helpers import DATASET, GOLDEN

# Pairs with their overlaps as computed by the VOT region code (region.c, compiled from the
# reference's utils/pyvotkit) and by vot-toolkit 0.9 (vot.region.raster.calculate_overlap),
# both bounded by a 320x240 image; rectangles are given to region.c as pysot converts them.
PAIRS = [
    ([0, 0, 2, 2], [1, 0, 2, 2], 0.5, 0.3333333333333333),
    ([0, 0, 2, 2], [2, 0, 2, 2], 0.0, 0.0),  # the C code's boxes touch: 0 without rasterising
    ([10.5, 10.5, 30.5, 10.5, 30.5, 20.5, 10.5, 20.5], [12, 8, 33, 8, 33, 22, 12, 22], 0.6451612710952759, 0.59375),
    (
        [300, 200, 340, 200, 340, 250, 300, 250],
        [310, 190, 330, 190, 330, 245, 310, 245],
        0.4644696116447449,
        0.4444444444444444,
    ),
    (
        [100, 50, 150, 80, 120, 130, 70, 100],
        [105, 55, 150, 85, 118, 125, 72, 95],
        0.8115198016166687,
        0.8116272442291251,
    ),
    ([-20, -10, 15, -10, 15, 30, -20, 30], [0, 0, 10, 0, 10, 25, 0, 25], 0.5766128897666931, 0.5766129032258065),
    ([50.5, 60.5, 20.25, 30.75], [55.5, 58.5, 22.5, 28.5], 0.48758465051651, 0.41743119266055045),
    ([0, 0, 10, 0, 5, 10], [2, 2, 12, 2, 7, 12], 0.38297873735427856, 0.375),
]


def _golden_pairs(records_file):
    records = json.loads(records_file.read_text())
    for seq, frames in records.items():
        gt = np.loadtxt(DATASET / seq / "groundtruth.txt", delimiter=",")
        tracked = [r for r in frames if "overlap" in r]
        yield seq, [r["polygon"] for r in tracked], gt[[r["frame"] for r in tracked]], [r["overlap"] for r in tracked]


@pytest.mark.parametrize("records", ["tracking_records.json", "sparse_masks/tracking_records.json"])
def test_golden_overlaps(records):
    """Every `overlap` of the reference's records, bounds (320, 240): equal within 1e-6 (they are exact)."""
    count = 0
    for _, polygons, gt, expected in _golden_pairs(GOLDEN / records):
        got = region_overlaps(polygons, gt, (320, 240))
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
        assert region_overlap(polygons[0], gt[0], (320, 240)) == pytest.approx(expected[0], abs=1e-6)
        count += len(expected)
    assert count > 50


@pytest.mark.parametrize(("a", "b", "c_rules", "toolkit"), PAIRS)
def test_known_pairs(a, b, c_rules, toolkit):
    """Hand-picked pairs (touching boxes, border clipping, rectangles, a triangle): exact to 1e-12."""
    assert region_overlap(a, b, (320, 240)) == pytest.approx(c_rules, abs=1e-12)
    assert toolkit_overlaps([a], [b], (320, 240))[0] == pytest.approx(toolkit, abs=1e-12)


def test_bounds_are_inclusive():
    """Bounds (w, h) let column w count; (w - 1, h - 1) cut it: the two overlaps differ (exact values)."""
    a, b = PAIRS[3][:2]
    wide, narrow = region_overlaps_multi([a], [b], [(320, 240), (319, 239)])
    assert wide[0] == pytest.approx(0.4644696116447449, abs=1e-12)
    assert narrow[0] == pytest.approx(0.4444444477558136, abs=1e-12)


def test_codes_and_shapes():
    """Codes give NaN (pysot) or 0 (vot-toolkit); a rectangle equals its polygon; N x 2 equals flat."""
    assert np.isnan(region_overlap([2], [0, 0, 5, 5], (320, 240)))
    assert toolkit_overlaps([[1]], [[0, 0, 5, 5]], (320, 240))[0] == 0.0
    rect = [3.2, 4.7, 20.1, 10.4]
    poly = [3.2, 4.7, 23.3, 4.7, 23.3, 15.1, 3.2, 15.1]
    other = [5, 5, 30, 6, 28, 20, 4, 18]
    assert region_overlap(rect, other) == region_overlap(poly, other)
    assert region_overlap(np.reshape(other, (4, 2)), poly) == region_overlap(other, poly)
    assert region_overlap(other, other, (320, 240)) == 1.0
    assert region_overlap([400, 300, 20, 20], [400, 300, 20, 20], (320, 240)) == 0.0  # outside the image
    assert as_polygon([0]) is None
    with pytest.raises(ValueError):
        region_overlap([1, 2, 3], [0, 0, 1, 1])


def test_mixed_vertex_counts_in_one_batch():
    """A batch mixing rectangles, triangles, octagons and codes equals pair-by-pair calls (exact)."""
    a = [[0, 0, 10, 0, 5, 10], [1, 1, 8, 8], [2], [0, 0, 9, 0, 12, 4, 12, 9, 9, 12, 3, 12, 0, 9, 0, 3]]
    b = [[1, 1, 8, 8], [0, 0, 10, 0, 5, 10], [1, 1, 8, 8], [2, 2, 6, 6]]
    batch = region_overlaps(a, b, (320, 240))
    single = [region_overlap(x, y, (320, 240)) for x, y in zip(a, b)]
    np.testing.assert_array_equal(batch, single)
    np.testing.assert_array_equal(
        toolkit_overlaps(a, b, (320, 240)), [toolkit_overlaps([x], [y], (320, 240))[0] for x, y in zip(a, b)]
    )


coord = st.floats(-30, 350, allow_nan=False, width=32)
quad = st.lists(coord, min_size=8, max_size=8)


@settings(max_examples=60, deadline=None)
@given(quad, quad)
def test_symmetric_and_bounded(a, b):
    """Property: overlap(a, b) == overlap(b, a) exactly, and lies in [0, 1] or is NaN (empty union)."""
    ab = region_overlap(a, b, (320, 240))
    ba = region_overlap(b, a, (320, 240))
    assert ab == ba or (np.isnan(ab) and np.isnan(ba))
    assert np.isnan(ab) or 0.0 <= ab <= 1.0
    t = toolkit_overlaps([a, b], [b, a], (320, 240))
    assert 0.0 <= t[0] <= 1.0 and 0.0 <= t[1] <= 1.0
