"""Box and polygon conversions, with the reference's conventions (0-based, float pixels)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from siammask.errors import SiamMaskError


def axis_aligned_box(region: Sequence[float] | np.ndarray) -> tuple[float, float, float, float]:
    """A VOT region (x,y,w,h or 8-value polygon) -> centre and size (cx, cy, w, h).

    A polygon becomes the axis-aligned box of its bounding rectangle shrunk to the polygon's
    area, plus one pixel, exactly as the reference's get_axis_aligned_bbox does.
    """
    r = np.asarray(region, dtype=np.float64).ravel()
    if r.size == 8:
        xs, ys = r[0::2], r[1::2]
        # absurd coordinates (1e308) overflow to inf/nan, which the size checks refuse; no warnings
        with np.errstate(over="ignore", invalid="ignore"):
            cx, cy = float(np.mean(xs)), float(np.mean(ys))
            x1, x2, y1, y2 = xs.min(), xs.max(), ys.min(), ys.max()
            a1 = np.linalg.norm(r[0:2] - r[2:4]) * np.linalg.norm(r[2:4] - r[4:6])
            a2 = (x2 - x1) * (y2 - y1)
        if not a2 > 0:
            raise SiamMaskError("polygon has no area")
        with np.errstate(over="ignore", invalid="ignore"):
            s = np.sqrt(a1 / a2)
            return cx, cy, float(s * (x2 - x1) + 1), float(s * (y2 - y1) + 1)
    if r.size == 4:
        x, y, w, h = (float(v) for v in r)
        return x + w / 2, y + h / 2, w, h
    raise SiamMaskError(f"a box has 4 values (x,y,w,h) or 8 (polygon), got {r.size}")


def cxcywh_to_xywh(pos: Sequence[float], size: Sequence[float]) -> np.ndarray:
    return np.array([pos[0] - size[0] / 2, pos[1] - size[1] / 2, size[0], size[1]])


def box_corners(xywh: Sequence[float]) -> np.ndarray:
    """The 4 corners (4x2) of an axis-aligned x,y,w,h box, clockwise from top-left."""
    x, y, w, h = xywh
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float64)
