"""Region overlap as vot-toolkit 0.9 computes it (`vot.region.raster.calculate_overlap`).

The official Python toolkit rasterises differently from the VOT C code the reference uses, so
its EAO is computed on its own overlaps. Rules reproduced (rectangles, polygons and masks):

- coordinates are float32 and rounded half to even (numpy) before anything else; a rectangle
  has each of x, y, w, h rounded and covers columns x .. x + w - 1;
- a region's box is its rounded extent; the two boxes' union is clipped to the image pixels
  [0, width - 1] x [0, height - 1]; a union without extent gives 1 (two empty regions agree),
  a clipped union without extent gives 0;
- polygons are scanned row by row like the C code, except that a horizontal edge on the row adds
  a crossing and two equal crossings that are the row's last pair fill one pixel;
- a code (init, failure, skip) is an empty region whose box is the single pixel (0, 0);
- the result is intersection / union of pixels in double, 0 when the union is empty;
- a mask (VOT2020 on: `results.MaskRegion`) has its set pixels' extent as its box, an empty one the
  single pixel at its offset, and covers its own pixels; a pair with a mask is computed pair by pair.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from siammask.evaluation.vot.raster import chunks, count_pixels, rectangle_rows, scan_polygons
from siammask.evaluation.vot.results import MaskRegion

RegionLike = Sequence[float] | np.ndarray | MaskRegion


def toolkit_overlaps(
    regions_a: Sequence[RegionLike],
    regions_b: Sequence[RegionLike],
    bounds: tuple[int, int] | None = None,
) -> np.ndarray:
    """vot-toolkit overlap of each pair, bounded by the image (width, height) when given."""
    if len(regions_a) != len(regions_b):
        raise ValueError(f"{len(regions_a)} regions against {len(regions_b)}")
    out = np.zeros(len(regions_a))
    masked = np.array([isinstance(a, MaskRegion) or isinstance(b, MaskRegion) for a, b in zip(regions_a, regions_b)],
                      dtype=bool)
    for i in np.flatnonzero(masked):
        out[i] = _mask_overlap(regions_a[i], regions_b[i], bounds)
    sizes_a = np.array([0 if m else np.size(r) for r, m in zip(regions_a, masked)], dtype=np.int64)
    sizes_b = np.array([0 if m else np.size(r) for r, m in zip(regions_b, masked)], dtype=np.int64)
    for la, lb in {(int(x), int(y)) for x, y, m in zip(sizes_a, sizes_b, masked) if not m}:
        idx = np.flatnonzero((sizes_a == la) & (sizes_b == lb) & ~masked)
        a = _Shapes(np.array([np.ravel(regions_a[i]) for i in idx], dtype=np.float64).reshape(len(idx), la))
        b = _Shapes(np.array([np.ravel(regions_b[i]) for i in idx], dtype=np.float64).reshape(len(idx), lb))
        out[idx] = _overlaps(a, b, bounds)
    return out


class _Shapes:
    """Same-sized regions parsed the way vot-toolkit parses a result line, then rounded."""

    def __init__(self, flat: np.ndarray) -> None:
        m, length = flat.shape
        if length not in (1, 4) and (length < 6 or length % 2):
            raise ValueError(f"a region is 1 code, 4 rectangle values or an even number >= 6, got {length}")
        valid = np.isfinite(flat).all(axis=1)  # NaN anywhere makes a code, as vot-toolkit parses it
        data = np.round(np.where(valid[:, None], flat, 0.0).astype(np.float32)).astype(np.float64)
        self.kind = "empty" if length == 1 else "rect" if length == 4 else "poly"
        self.empty = ~valid if length > 1 else np.ones(m, dtype=bool)
        self.data = data
        if self.kind == "rect":
            x, y, w, h = data.T
            self.box = np.stack([x, y, x + w - 1, y + h - 1], axis=1)
        elif self.kind == "poly":
            pts = data.reshape(m, -1, 2)
            self.box = np.concatenate([pts.min(axis=1), pts.max(axis=1)], axis=1)
        else:
            self.box = np.zeros((m, 4))
        self.box[self.empty] = 0

    def spans(
        self, idx: np.ndarray, origin: np.ndarray, width: np.ndarray, height: np.ndarray, rows: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Filled spans (len(idx), rows, S) in the masks whose corners are `origin` (x, y)."""
        if self.kind == "poly":
            pts = self.data[idx].reshape(len(idx), -1, 2) - origin[:, None, :]
            start, end = scan_polygons(
                pts[..., 0], pts[..., 1], width, height, rows, horizontal_nodes=True, fill_last_equal=True
            )
        elif self.kind == "rect":
            start, end = rectangle_rows(self._rect_box(idx, origin, width, height), width, height, rows)
        else:
            start = end = np.zeros((len(idx), rows, 1))
        gone = self.empty[idx]
        start[gone] = 0
        end[gone] = 0
        return start, end

    def _rect_box(
        self, idx: np.ndarray, origin: np.ndarray, width: np.ndarray, height: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The toolkit's rectangle fill: absolute and relative limits mixed as it mixes them."""
        x, y, w, h = self.data[idx].T
        rb0, rb1 = origin[:, 0], origin[:, 1]
        rb2, rb3 = rb0 + width - 1, rb1 + height - 1
        outside = (x > rb2) | (x + w - 1 < rb0) | (y > rb3) | (y + h - 1 < rb1)
        left = np.maximum(0, x - rb0)
        top = np.maximum(0, y - rb1)
        right = np.minimum(rb2, x + w - 1 - rb0)
        bottom = np.minimum(rb3, y + h - 1 - rb1)
        # numpy slices: a negative stop counts from the end
        right = np.where(right + 1 < 0, right + width, right)
        bottom = np.where(bottom + 1 < 0, bottom + height, bottom)
        bottom = np.where(outside, -1, bottom)
        return left, top, right, bottom


def _overlaps(a: _Shapes, b: _Shapes, bounds: tuple[int, int] | None) -> np.ndarray:
    union = np.concatenate([np.minimum(a.box, b.box)[:, :2], np.maximum(a.box, b.box)[:, 2:]], axis=1)
    out = np.zeros(len(union))
    same = (union[:, 0] >= union[:, 2]) | (union[:, 1] >= union[:, 3])
    out[same] = 1.0
    if bounds is not None:
        low = np.maximum(union[:, :2], 0)
        high = np.minimum(union[:, 2:], np.array(bounds, dtype=np.float64) - 1)
        union = np.concatenate([low, high], axis=1)
    todo = np.flatnonzero(~same & (union[:, 0] < union[:, 2]) & (union[:, 1] < union[:, 3]))
    origin = union[todo, :2]
    width = (union[todo, 2] - union[todo, 0] + 1).astype(np.int64)
    height = (union[todo, 3] - union[todo, 1] + 1).astype(np.int64)
    for part in chunks(height, 2 * max(a.data.shape[1], b.data.shape[1])):
        rows = int(height[part].max())
        sel = todo[part]
        span_a = a.spans(sel, origin[part], width[part], height[part], rows)
        span_b = b.spans(sel, origin[part], width[part], height[part], rows)
        inter, vol_a, vol_b = count_pixels(*span_a, *span_b)
        union_px = vol_a + vol_b - inter
        out[sel] = np.where(union_px > 0, inter / np.maximum(union_px, 1), 0.0)
    return out


def _mask_overlap(a: RegionLike, b: RegionLike, bounds: tuple[int, int] | None) -> float:
    """One pair's overlap, either side a mask: vot-toolkit's `_calculate_overlap` on bitmaps."""
    a, b = _parsed(a), _parsed(b)
    box_a, box_b = _toolkit_bounds(a), _toolkit_bounds(b)
    union = (min(box_a[0], box_b[0]), min(box_a[1], box_b[1]), max(box_a[2], box_b[2]), max(box_a[3], box_b[3]))
    if union[0] >= union[2] or union[1] >= union[3]:
        return 1.0  # two empty regions agree
    if bounds is not None:
        union = (max(0, union[0]), max(0, union[1]), min(bounds[0] - 1, union[2]), min(bounds[1] - 1, union[3]))
    if union[0] >= union[2] or union[1] >= union[3]:
        return 0.0
    pixels_a, pixels_b = _bitmap(a, union), _bitmap(b, union)
    union_px = int(np.count_nonzero(pixels_a | pixels_b))
    return float(np.count_nonzero(pixels_a & pixels_b)) / union_px if union_px else 0.0


def _parsed(region: RegionLike) -> MaskRegion | _Shapes:
    """A mask as it is, any other region parsed (and rounded) once, as the batched road parses it."""
    if isinstance(region, MaskRegion):
        return region
    return _Shapes(np.ravel(np.asarray(region, dtype=np.float64))[None, :])


def _toolkit_bounds(region: MaskRegion | _Shapes) -> tuple[int, int, int, int]:
    if isinstance(region, MaskRegion):
        return region.bounds
    return tuple(int(v) for v in region.box[0])  # type: ignore[return-value]


def _bitmap(region: MaskRegion | _Shapes, box: tuple[int, int, int, int]) -> np.ndarray:
    """The region's pixels inside `box` (left, top, right, bottom, inclusive), as a bool array."""
    left, top, right, bottom = box
    width, height = right - left + 1, bottom - top + 1
    out = np.zeros((height, width), dtype=bool)
    if isinstance(region, MaskRegion):
        ox, oy = region.offset
        x0, y0 = max(ox, left), max(oy, top)
        x1 = min(right + 1, ox + region.mask.shape[1])
        y1 = min(bottom + 1, oy + region.mask.shape[0])
        if x1 > x0 and y1 > y0:
            out[y0 - top : y1 - top, x0 - left : x1 - left] = region.mask[y0 - oy : y1 - oy, x0 - ox : x1 - ox] != 0
        return out
    start, end = region.spans(np.array([0]), np.array([[left, top]], dtype=np.float64), np.array([width]),
                              np.array([height]), height)
    for row in range(height):
        for begin, finish in zip(start[0, row], end[0, row]):
            if finish > begin:
                out[row, int(begin) : int(finish)] = True
    return out
