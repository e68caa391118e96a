"""Scanline rasterisation shared by both overlap rule sets, kept as column intervals per row.

The VOT region code and vot-toolkit both fill a polygon row by row: find where each edge crosses
the row, sort the crossings, and fill the pixels between pairs of them, both ends included.
Rather than painting a mask, each row keeps its filled spans as disjoint half-open column
intervals [start, end), and pixel counts come from the intervals. All rows of many polygons are
processed at once; the pairing walk needs one vectorised step per crossing.
"""

from __future__ import annotations

import numpy as np


def scan_polygons(
    xs: np.ndarray,
    ys: np.ndarray,
    width: np.ndarray,
    height: np.ndarray,
    rows: int,
    *,
    horizontal_nodes: bool,
    fill_last_equal: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Filled spans of polygons in their masks, as (start, end) arrays of shape (M, rows, S).

    xs, ys: (M, K) integral vertex coordinates relative to the mask's corner (float64).
    width, height: (M,) mask size; rows >= height.max() is the number of rows to return.
    horizontal_nodes: a horizontal edge lying on the row adds a crossing at its vertex i
        (vot-toolkit); the VOT C code adds none.
    fill_last_equal: two equal crossings are skipped as a vertex on the row, except, when set,
        the last pair of the row, which then fills one pixel (vot-toolkit).
    """
    m, k = xs.shape
    # Edge i joins vertex i - 1 to vertex i, as both loops pair j = i - 1 with i.
    xp, yp = np.roll(xs, 1, axis=1), np.roll(ys, 1, axis=1)
    dy = (yp - ys)[:, None, :]
    dx = (xp - xs)[:, None, :]
    pixel_y = np.arange(rows, dtype=np.float64)[None, :, None]
    lo = np.minimum(ys, yp)[:, None, :]
    hi = np.maximum(ys, yp)[:, None, :]
    # A sloped edge crosses every row from its lower to its upper end, both included, so a
    # vertex shows up twice; that is why equal crossings get special treatment below.
    crosses = (lo <= pixel_y) & (pixel_y <= hi)
    flat = dy == 0
    if not horizontal_nodes:
        crosses &= ~flat
    crosses &= (np.arange(rows)[None, :] < height[:, None])[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        # Same operation order as the C expression, in double, then truncated toward zero.
        at = xs[:, None, :] + (pixel_y - ys[:, None, :]) / dy * dx
    at = np.where(flat, xs[:, None, :], at)
    nodes = np.where(crosses, np.trunc(at), np.inf).reshape(m * rows, k)
    nodes.sort(axis=-1)
    count = crosses.sum(axis=-1).reshape(-1)
    row_width = np.repeat(width.astype(np.float64), rows)
    start, end = _pair_nodes(nodes, count, row_width, fill_last_equal)
    return start.reshape(m, rows, -1), end.reshape(m, rows, -1)


def _pair_nodes(
    nodes: np.ndarray, count: np.ndarray, width: np.ndarray, fill_last_equal: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Walk each row's sorted crossings as the C loop does; rows still walking shrink each step."""
    n, k = nodes.shape
    slots = max(k // 2, 1)  # a fill consumes two crossings
    start = np.zeros((n, slots))
    end = np.zeros((n, slots))
    row = np.flatnonzero(count > 1)
    ptr = np.zeros(row.size, dtype=np.int64)
    filled = np.zeros(row.size, dtype=np.int64)
    covered = np.full(row.size, -np.inf)  # end of the last span, so a shared pixel counts once
    while row.size:
        a = nodes[row, ptr]
        b = nodes[row, ptr + 1]
        w = width[row]
        cnt = count[row]
        same = a == b
        if fill_last_equal:
            same &= ptr < cnt - 2
        stop = a >= w
        skip = same & ~stop
        fill = ~same & ~stop & (b >= 0)
        begin = np.maximum(np.maximum(a, 0), covered)
        finish = np.maximum(np.minimum(b, w - 1) + 1, begin)
        hit, slot = row[fill], filled[fill]
        start[hit, slot] = begin[fill]
        end[hit, slot] = finish[fill]
        covered = np.where(fill, finish, covered)
        filled += fill
        ptr += np.where(skip, 1, 2)
        go = ~stop & (ptr < cnt - 1)
        row, ptr, filled, covered = row[go], ptr[go], filled[go], covered[go]
    used = max(int((end > start).any(axis=0).nonzero()[0].max(initial=-1)) + 1, 1)
    return start[:, :used], end[:, :used]


def rectangle_rows(
    box: tuple[np.ndarray, ...], width: np.ndarray, height: np.ndarray, rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Spans (M, rows, 1) of axis-aligned boxes (left, top, right, bottom: inclusive mask pixels)."""
    left, top, right, bottom = box
    r = np.arange(rows)[None, :]
    inside = (r >= top[:, None]) & (r <= bottom[:, None]) & (r < height[:, None])
    begin = np.maximum(left, 0).astype(np.float64)
    finish = np.maximum(np.minimum(right, width - 1) + 1, begin).astype(np.float64)
    start = np.where(inside, begin[:, None], 0.0)
    end = np.where(inside, finish[:, None], 0.0)
    return start[..., None], end[..., None]


def count_pixels(
    start_a: np.ndarray, end_a: np.ndarray, start_b: np.ndarray, end_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intersection and both volumes, in pixels, of span sets shaped (M, rows, S)."""
    vol_a = (end_a - start_a).sum(axis=(1, 2))
    vol_b = (end_b - start_b).sum(axis=(1, 2))
    inter = np.zeros(len(start_a))
    for i in range(start_a.shape[2]):
        for j in range(start_b.shape[2]):
            span = np.minimum(end_a[..., i], end_b[..., j]) - np.maximum(start_a[..., i], start_b[..., j])
            inter += np.maximum(span, 0).sum(axis=1)
    return inter, vol_a, vol_b


def chunks(height: np.ndarray, cells_per_row: int, budget: int = 1 << 20) -> list[np.ndarray]:
    """Groups of pair indices, by increasing mask height, each about `budget` row cells."""
    order = np.argsort(height, kind="stable")
    groups = []
    begin = 0
    while begin < order.size:
        stop = begin + 1
        while stop < order.size and (stop - begin + 1) * int(height[order[stop]]) * cells_per_row <= budget:
            stop += 1
        groups.append(order[begin:stop])
        begin = stop
    return groups
