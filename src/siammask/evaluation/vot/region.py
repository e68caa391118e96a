"""VOT region overlap, as the VOT region code (region.c) computes it for the reference and pysot.

Rules reproduced, so that overlaps agree with theirs bit for bit:

- vertices are single precision, as the C code stores them;
- each polygon's bounding box is rounded outwards and clipped to [0, width] x [0, height]; both
  ends are inclusive, so column `width` counts (the reference bounds by (width, height) while
  tracking and pysot's EAO by (width - 1, height - 1));
- the C code returns 0 without rasterising when the clipped boxes share no area (even if they
  touch) or one box is vanishingly small against the other;
- vertices are shifted to the corner of the two boxes' union (in float32), rounded half away
  from zero and scanned row by row (non-legacy rasterisation, see `raster`);
- the result is intersection / union of pixel counts, divided in float32.

A rectangle (x, y, w, h) becomes the polygon with corners x, x + w and y, y + h, as pysot's
wrapper converts it. A one-value VOT code (init, failure, skip) has no overlap: NaN, as in pysot.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from siammask.evaluation.vot.raster import chunks, count_pixels, scan_polygons

_F32 = np.float32
RegionLike = Sequence[float] | np.ndarray
Bounds = tuple[float, float]


def as_polygon(region: RegionLike) -> np.ndarray | None:
    """Vertices (N, 2) in float32 of a rectangle (x, y, w, h), a flat polygon or an N x 2 array.

    None for a region without geometry: a one-value code or non-finite coordinates.
    """
    polys, valid = polygon_array([region])
    return polys[0, : _vertex_count(region)] if valid[0] else None


def polygon_array(regions: Sequence[RegionLike] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Regions as (M, K, 2) float32 vertices and an (M,) mask of those with geometry.

    Polygons with fewer than K vertices repeat their last vertex: that adds a horizontal edge of
    length zero, which the scan ignores, so the overlap is unchanged.
    """
    try:
        arr = np.asarray(regions, dtype=np.float64)
    except ValueError:  # ragged: regions of different sizes
        arr = None
    if arr is not None and arr.ndim == 3 and arr.shape[2] == 2 and arr.shape[1] >= 3:
        arr = arr.reshape(len(arr), -1)
    if arr is not None and arr.ndim == 2:
        return _flat_to_polygons(arr)
    if arr is not None and arr.size == 0:
        return np.zeros((0, 4, 2), dtype=_F32), np.zeros(0, dtype=bool)
    if arr is not None and arr.ndim != 1:
        raise ValueError(f"regions of shape {arr.shape} are neither flat nor N x 2 points")
    groups = [_flat_to_polygons(np.asarray(r, dtype=np.float64).reshape(1, -1)) for r in regions]
    count = max(g[0].shape[1] for g in groups)
    polys = np.stack([_pad(g[0][0], count) for g in groups])
    return polys, np.array([g[1][0] for g in groups])


def region_overlap(a: RegionLike, b: RegionLike, bounds: Bounds | None = None) -> float:
    """VOT overlap of two regions bounded by the image given as (width, height); NaN for a code."""
    return float(region_overlaps([a], [b], bounds)[0])


def region_overlaps(
    regions_a: Sequence[RegionLike] | np.ndarray,
    regions_b: Sequence[RegionLike] | np.ndarray,
    bounds: Bounds | None = None,
) -> np.ndarray:
    """Overlap of each pair (regions_a[i], regions_b[i]) as float64; NaN where one is a code."""
    return region_overlaps_multi(regions_a, regions_b, [bounds])[0]


def region_overlaps_multi(
    regions_a: Sequence[RegionLike] | np.ndarray,
    regions_b: Sequence[RegionLike] | np.ndarray,
    bounds_list: Sequence[Bounds | None],
) -> list[np.ndarray]:
    """`region_overlaps` under several bounds at once.

    The overlap depends on the bounds only through the two clipped boxes, so a pair whose boxes
    clip the same under two bounds (most pairs: those away from the image border) is computed once.
    """
    if len(regions_a) != len(regions_b):
        raise ValueError(f"{len(regions_a)} regions against {len(regions_b)}")
    pa, valid_a = polygon_array(regions_a)
    pb, valid_b = polygon_array(regions_b)
    count = max(pa.shape[1], pb.shape[1])
    pa, pb = _pad_all(pa, count), _pad_all(pb, count)
    keep = np.flatnonzero(valid_a & valid_b)
    pa, pb = pa[keep], pb[keep]
    raw_a, raw_b = _outer_box(pa), _outer_box(pb)
    results: list[np.ndarray] = []
    done: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for bounds in bounds_list:
        box_a, box_b = _clip(raw_a, bounds), _clip(raw_b, bounds)
        values = np.full(len(keep), np.nan)
        todo = np.ones(len(keep), dtype=bool)
        for prev_a, prev_b, prev_values in done:
            same = todo & np.all(prev_a == box_a, axis=1) & np.all(prev_b == box_b, axis=1)
            values[same] = prev_values[same]
            todo &= ~same
        sel = np.flatnonzero(todo)
        values[sel] = _overlaps(pa[sel], pb[sel], box_a[sel], box_b[sel])
        done.append((box_a, box_b, values))
        out = np.full(len(regions_a), np.nan)
        out[keep] = values
        results.append(out)
    return results


def _vertex_count(region: RegionLike) -> int:
    arr = np.asarray(region)
    if arr.ndim == 2:
        return arr.shape[0]
    return 4 if arr.size == 4 else arr.size // 2


def _flat_to_polygons(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M, L) flat regions of one length L to (M, K, 2) float32 polygons and a validity mask."""
    m, length = arr.shape
    if length == 1:
        return np.zeros((m, 4, 2), dtype=_F32), np.zeros(m, dtype=bool)
    if length == 4:
        x, y, w, h = arr.T
        arr = np.stack([x, y, x + w, y, x + w, y + h, x, y + h], axis=1)
    elif length < 6 or length % 2:
        raise ValueError(f"a region is 1 code, 4 rectangle values or an even number >= 6, got {length}")
    valid = np.isfinite(arr).all(axis=1)
    polys = np.where(valid[:, None], arr, 0.0).astype(_F32).reshape(m, -1, 2)
    return polys, valid


def _pad(poly: np.ndarray, count: int) -> np.ndarray:
    return np.concatenate([poly, np.repeat(poly[-1:], count - len(poly), axis=0)])


def _pad_all(polys: np.ndarray, count: int) -> np.ndarray:
    if polys.shape[1] == count:
        return polys
    extra = np.repeat(polys[:, -1:], count - polys.shape[1], axis=1)
    return np.concatenate([polys, extra], axis=1)


def _outer_box(polys: np.ndarray) -> np.ndarray:
    """left, top, right, bottom of each polygon rounded outwards (float32, unclipped)."""
    return np.concatenate([np.floor(polys.min(axis=1)), np.ceil(polys.max(axis=1))], axis=1)


def _clip(box: np.ndarray, bounds: Bounds | None) -> np.ndarray:
    if bounds is None:
        return box
    limit = np.array(bounds, dtype=_F32)
    return np.concatenate([np.maximum(box[:, :2], _F32(0)), np.minimum(box[:, 2:], limit)], axis=1)


def _overlaps(pa: np.ndarray, pb: np.ndarray, box_a: np.ndarray, box_b: np.ndarray) -> np.ndarray:
    """The C function compute_polygon_overlap for (M, K, 2) float32 polygons and clipped boxes."""
    x0 = np.minimum(box_a[:, 0], box_b[:, 0])
    y0 = np.minimum(box_a[:, 1], box_b[:, 1])
    width = (np.maximum(box_a[:, 2], box_b[:, 2]) - x0).astype(np.int64) + 1
    height = (np.maximum(box_a[:, 3], box_b[:, 3]) - y0).astype(np.int64) + 1
    area_a = (box_a[:, 2] - box_a[:, 0]) * (box_a[:, 3] - box_a[:, 1])
    area_b = (box_b[:, 2] - box_b[:, 0]) * (box_b[:, 3] - box_b[:, 1])
    inter_box = np.maximum(box_a, box_b)[:, :2], np.minimum(box_a, box_b)[:, 2:]
    inter = np.prod(inter_box[1] - inter_box[0], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tiny = (area_a.astype(np.float64) / area_b < 1e-10) | (area_b.astype(np.float64) / area_a < 1e-10)
        # MAX(0, q) == 0 in the C code: no shared area; NaN (0 / 0) goes on to rasterise.
        apart = inter / ((area_a + area_b) - inter) <= 0
    out = np.zeros(len(pa), dtype=np.float64)
    todo = np.flatnonzero(~(tiny | apart | (width < 1) | (height < 1)))
    if todo.size == 0:
        return out
    shift = np.stack([x0, y0], axis=1)[todo, None, :]
    ra = _round_half_away(pa[todo] - shift)
    rb = _round_half_away(pb[todo] - shift)
    width, height = width[todo], height[todo]
    for idx in chunks(height, 2 * pa.shape[1]):
        rows = int(height[idx].max())
        rules = {"horizontal_nodes": False, "fill_last_equal": False}
        span_a = scan_polygons(ra[idx, :, 0], ra[idx, :, 1], width[idx], height[idx], rows, **rules)
        span_b = scan_polygons(rb[idx, :, 0], rb[idx, :, 1], width[idx], height[idx], rows, **rules)
        inter_px, vol_a, vol_b = count_pixels(*span_a, *span_b)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[todo[idx]] = inter_px.astype(_F32) / (vol_a + vol_b - inter_px).astype(_F32)
    return out


def _round_half_away(values: np.ndarray) -> np.ndarray:
    """C round() of float32 values (numpy's round goes half to even), as float64."""
    wide = values.astype(np.float64)
    return np.sign(wide) * np.floor(np.abs(wide) + 0.5)
