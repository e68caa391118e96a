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


# A target's box may reach beyond the frame (an object entering it), but not absurdly so: the
# exemplar crop grows with the box, and a box 1e300 wide overflows the crop's arithmetic.
MAX_BOX_TO_IMAGE = 10.0
MIN_BOX_SIDE = 1.0  # pixels: under one pixel there is nothing to crop


def overlaps_image(box: tuple[float, float, float, float], image_size: tuple[int, int]) -> bool:
    """Whether a (cx, cy, w, h) box covers some of the image."""
    cx, cy, w, h = box
    width, height = image_size
    return min(cx + w / 2, width) > max(cx - w / 2, 0) and min(cy + h / 2, height) > max(cy - h / 2, 0)


def check_start_box(box: tuple[float, float, float, float], image_size: tuple[int, int]) -> tuple[float, ...]:
    """A (cx, cy, w, h) box to start a target from: at least a pixel a side, at most ten times the
    image's larger side, and overlapping the image. Refused with a SiamMaskError otherwise."""
    cx, cy, w, h = box
    width, height = image_size
    if min(w, h) < MIN_BOX_SIDE:
        raise SiamMaskError(f"box {w:.4g}x{h:.4g} is smaller than {MIN_BOX_SIDE:g} pixel a side")
    if max(w, h) > MAX_BOX_TO_IMAGE * max(width, height):
        raise SiamMaskError(f"box {w:.4g}x{h:.4g} is over {MAX_BOX_TO_IMAGE:g} times the {width}x{height} image")
    if not overlaps_image(box, image_size):
        raise SiamMaskError(f"box at ({cx - w / 2:.4g}, {cy - h / 2:.4g}) size {w:.4g}x{h:.4g} lies outside the "
                            f"{width}x{height} image")
    return box
