"""The mask in the image and the rotated box drawn around it.

The reference warps the 127x127 mask over the whole frame (cv2.warpAffine) every frame. We warp
only the rectangle the mask can reach, feeding cv2.remap the very fixed-point sampling map that
OpenCV 4's warpAffine builds, so the values equal the full-frame warp (to float rounding: 1 ulp
seen) at a fraction of the cost for large frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from siammask.errors import SiamMaskError

# OpenCV's warpAffine fixed point: coordinates in 1/1024 px, interpolation table of 32 steps.
_AB_BITS = 10
_INTER_BITS = 5
_INTER_TAB = 1 << _INTER_BITS
_ROUND_DELTA = (1 << _AB_BITS) // _INTER_TAB // 2


@dataclass(frozen=True)
class PastedMask:
    """Mask probabilities over `roi` = (x, y, w, h) of an image; -1 (background) elsewhere."""

    values: np.ndarray  # float32 (h, w)
    roi: tuple[int, int, int, int]
    image_size: tuple[int, int]  # (width, height)

    def full(self) -> np.ndarray:
        """The whole-frame float mask, as the reference's `state['mask']`."""
        w, h = self.image_size
        out = np.full((h, w), -1.0, dtype=np.float32)
        x, y, rw, rh = self.roi
        out[y : y + rh, x : x + rw] = self.values
        return out

    def binary(self, threshold: float) -> np.ndarray:
        """Whole-frame uint8 mask (1 where the probability exceeds `threshold`)."""
        w, h = self.image_size
        out = np.zeros((h, w), dtype=np.uint8)
        x, y, rw, rh = self.roi
        out[y : y + rh, x : x + rw] = self.values > threshold
        return out


def _rint(v: np.ndarray) -> np.ndarray:
    return np.rint(v).astype(np.int64)


def paste_mask(
    mask: np.ndarray, scale: tuple[float, float], offset: tuple[float, float], image_size: tuple[int, int]
) -> PastedMask:
    """Warp `mask` (n x n) by x' = a*x + c, y' = b*y + d into an image, bilinear, border -1."""
    (a, b), (c, d) = scale, offset
    width, height = image_size
    n_y, n_x = mask.shape
    # The inverse map, as warpAffine derives it from the forward matrix.
    det = a * b
    inv = 1.0 / det if det != 0 else 0.0
    ia, ib = b * inv, a * inv
    ic, id_ = -ia * c, -ib * d
    # Destination pixels that can sample the source (bilinear reach of one pixel), plus a margin.
    xs = sorted((c - a, c + a * n_x))
    ys = sorted((d - b, d + b * n_y))
    x0, x1 = max(0, int(np.floor(xs[0])) - 1), min(width, int(np.ceil(xs[1])) + 2)
    y0, y1 = max(0, int(np.floor(ys[0])) - 1), min(height, int(np.ceil(ys[1])) + 2)
    if x1 <= x0 or y1 <= y0:
        return PastedMask(np.zeros((0, 0), np.float32), (0, 0, 0, 0), image_size)
    cols = np.arange(x0, x1, dtype=np.float64)
    rows = np.arange(y0, y1, dtype=np.float64)
    scale_ab = float(1 << _AB_BITS)
    # x depends on the column alone and y on the row alone (no rotation): warpAffine computes
    # X = round(ic*1024) + round(ia*x*1024), Y = round((ib*y + id)*1024), then drops 5 bits.
    gx = (_rint(np.float64(ic) * scale_ab) + _ROUND_DELTA + _rint(ia * cols * scale_ab)) >> (_AB_BITS - _INTER_BITS)
    gy = (_rint((ib * rows + id_) * scale_ab) + _ROUND_DELTA) >> (_AB_BITS - _INTER_BITS)
    gx2, gy2 = np.broadcast_arrays(gx[None, :], gy[:, None])
    map_xy = np.stack([gx2 >> _INTER_BITS, gy2 >> _INTER_BITS], axis=-1).astype(np.int16)
    map_frac = ((gy2 & (_INTER_TAB - 1)) * _INTER_TAB + (gx2 & (_INTER_TAB - 1))).astype(np.uint16)
    values = cv2.remap(
        np.ascontiguousarray(mask, dtype=np.float32), map_xy, map_frac, cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=-1,
    )
    return PastedMask(values, (x0, y0, x1 - x0, y1 - y0), image_size)


def mask_to_image(
    mask: np.ndarray, crop_box: tuple[float, float, float, float], row: int, col: int,
    image_size: tuple[int, int], instance_size: int, exemplar_size: int, base_size: int, stride: int,
) -> PastedMask:
    """Place a cell's 127x127 mask (probabilities) into the frame.

    The cell (row, col) sees an exemplar-sized square of the search crop; `crop_box` is the
    search crop's x, y, size (in frame pixels) as the reference computes it.
    """
    out_size = mask.shape[0]
    s = crop_box[2] / instance_size
    sub_x = crop_box[0] + (col - base_size / 2) * stride * s
    sub_y = crop_box[1] + (row - base_size / 2) * stride * s
    sub_w = s * exemplar_size
    k = out_size / sub_w
    width, height = image_size
    # the reference's crop_back: a 'bbox' of the whole frame in mask pixels, mapped to the frame
    back = (-sub_x * k, -sub_y * k, width * k, height * k)
    a = (width - 1) / back[2]
    b = (height - 1) / back[3]
    return paste_mask(mask, (a, b), (-a * back[0], -b * back[1]), image_size)


def rotated_box(pasted: PastedMask, threshold: float, min_area: float) -> tuple[np.ndarray | None, int]:
    """Corners (4x2) of the min-area rectangle around the largest mask blob, and the mask's
    pixel count. None when no blob is larger than `min_area` (the caller falls back to the box).
    """
    x, y, _, _ = pasted.roi
    binary = (pasted.values > threshold).astype(np.uint8)
    pixels = int(np.count_nonzero(binary))
    if pixels == 0:
        return None, 0
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE, offset=(x, y))
    if not contours:
        return None, pixels
    areas = [cv2.contourArea(c) for c in contours]
    best = int(np.argmax(areas))
    if areas[best] <= min_area:
        return None, pixels
    corners = cv2.boxPoints(cv2.minAreaRect(contours[best].reshape(-1, 2)))
    return corners.astype(np.float64), pixels


def label_map(
    masks: Sequence[PastedMask], labels: Sequence[int], threshold: float, image_size: tuple[int, int]
) -> np.ndarray:
    """The label map of several targets' masks (uint8 h x w): per pixel the label of the mask with
    the highest probability where that probability exceeds `threshold`, else 0; a tie goes to the
    earlier mask. This is the reference's `(argmax + 1) * (max > seg_thr)` of --save_mask, compared
    in float64 as it compares (its prediction array is float64), and computed over each mask's
    rectangle only instead of K whole frames."""
    if len(masks) != len(labels):
        raise SiamMaskError(f"{len(masks)} masks for {len(labels)} labels")
    if any(not 0 < int(v) < 256 for v in labels):
        raise SiamMaskError("labels of a label map must lie in 1..255")
    width, height = image_size
    best = np.full((height, width), float(threshold), dtype=np.float64)
    out = np.zeros((height, width), dtype=np.uint8)
    for mask, label in zip(masks, labels):
        x, y, w, h = mask.roi
        if w == 0 or h == 0:
            continue
        region = best[y : y + h, x : x + w]
        values = mask.values.astype(np.float64)
        wins = values > region  # strict: an equal later mask does not take the pixel (argmax order)
        region[wins] = values[wins]
        out[y : y + h, x : x + w][wins] = int(label)
    return out
