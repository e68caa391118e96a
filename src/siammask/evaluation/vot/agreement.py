"""How far apart two runs' polygons are, frame by frame: as regions (the VOT overlap) and as
vertices matched up (the largest coordinate difference).

Shared by `siammask compare` and the demo's parity and INT8 sections, so that both say the same
thing about the same two runs. Two polygons are compared as shapes, never vertex by vertex in the
order they were written: a rotated box may start at any corner (OpenCV's boxPoints does), and a
tracker that falls back to its axis-aligned box on one run and gives a rotated polygon on the
other differs by a sliver of area, not by the length of a box side.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from siammask.evaluation.vot.region import region_overlaps

Polygon = Sequence[float] | np.ndarray
OVERLAP_CLOSE = 0.9  # "the same region" for the summary share: VOT counts far smaller overlaps as tracking


def vertices(region: Polygon) -> np.ndarray:
    """(N, 2) float64 corners of a flat polygon, an N x 2 array or an x,y,w,h box."""
    values = np.asarray(region, dtype=np.float64).reshape(-1)
    if values.size == 4:
        x, y, w, h = values
        return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
    return values.reshape(-1, 2)


def vertex_difference(a: Polygon, b: Polygon) -> float:
    """Largest coordinate difference (px) of two polygons with their vertices matched up: the
    smallest over every starting vertex and both directions of `b`; NaN when the vertex counts
    differ (no matching exists)."""
    va, vb = vertices(a), vertices(b)
    if va.shape != vb.shape:
        return float("nan")
    best = float("inf")
    for order in (vb, vb[::-1]):
        for shift in range(len(order)):
            best = min(best, float(np.abs(va - np.roll(order, shift, axis=0)).max()))
    return best


def is_axis_aligned(region: Polygon) -> bool:
    """Every edge horizontal or vertical (the tracker's box, rather than a mask's rotated box)."""
    v = vertices(region)
    edges = np.roll(v, -1, axis=0) - v
    return bool(np.all(np.isclose(edges[:, 0], 0.0, atol=1e-3) | np.isclose(edges[:, 1], 0.0, atol=1e-3)))


@dataclass
class PolygonPairs:
    """The frames both runs gave a polygon on, with where each one is (for naming the worst)."""

    first: list[Polygon] = field(default_factory=list)
    second: list[Polygon] = field(default_factory=list)
    where: list[str] = field(default_factory=list)  # "sequence frame N"

    def add(self, a: Polygon, b: Polygon, where: str) -> None:
        self.first.append(a)
        self.second.append(b)
        self.where.append(where)

    def extend(self, other: PolygonPairs) -> None:
        self.first.extend(other.first)
        self.second.extend(other.second)
        self.where.extend(other.where)

    def overlaps(self) -> np.ndarray:
        """VOT overlap of each pair (no image bounds: the regions as the runs gave them)."""
        if not self.first:
            return np.zeros(0)
        return region_overlaps([vertices(p) for p in self.first], [vertices(p) for p in self.second])

    def vertex_differences(self) -> np.ndarray:
        return np.array([vertex_difference(a, b) for a, b in zip(self.first, self.second)], dtype=np.float64)

    def worst(self, overlaps: np.ndarray) -> dict[str, object] | None:
        """The pair with the smallest overlap, where it is and what differs in its shapes."""
        if not len(overlaps) or np.all(np.isnan(overlaps)):
            return None
        k = int(np.nanargmin(overlaps))
        return {"where": self.where[k], "overlap": float(overlaps[k]),
                "vertex_difference_px": vertex_difference(self.first[k], self.second[k]),
                "shapes": shapes(self.first[k], self.second[k])}


Frame = tuple[Hashable, Polygon | None]  # one frame of a run: its event, its polygon (None: none given)


@dataclass
class FrameAgreement:
    """Two runs of one sequence, frame by frame: which events are equal and the polygon pairs."""

    equal: list[bool]  # per frame (the shorter run's length): both runs did the same thing
    pairs: PolygonPairs  # the frames both runs gave a polygon on
    in_step: np.ndarray  # per pair: the frame is before the first divergence (both from the same state)

    @property
    def first_divergence(self) -> int | None:
        """The first frame whose events differ, None when every event is equal."""
        return next((f for f, same in enumerate(self.equal) if not same), None)


def agree(name: str, first: Sequence[Frame], second: Sequence[Frame]) -> FrameAgreement:
    """Compare two runs of sequence `name`, given as (event, polygon) per frame: one loop for
    `siammask compare` (the runs' records) and the demo (the runs' result files)."""
    equal = [ea == eb for (ea, _), (eb, _) in zip(first, second)]
    divergence = next((f for f, same in enumerate(equal) if not same), None)
    pairs, in_step = PolygonPairs(), []
    for f, ((_, pa), (_, pb)) in enumerate(zip(first, second)):
        if pa is not None and pb is not None:
            pairs.add(pa, pb, f"{name} frame {f}")
            in_step.append(divergence is None or f < divergence)
    return FrameAgreement(equal, pairs, np.array(in_step, dtype=bool))


def shapes(a: Polygon, b: Polygon) -> str:
    """What kind of polygon each run gave: the same kind, or one axis-aligned and one rotated."""
    kinds = ["axis-aligned box" if is_axis_aligned(p) else "rotated polygon" for p in (a, b)]
    if kinds[0] == kinds[1]:
        return f"both {kinds[0].replace('box', 'boxes').replace('polygon', 'polygons')}"
    return f"{kinds[0]} against {kinds[1]}"


def overlap_stats(overlaps: np.ndarray) -> dict[str, float]:
    """frames, mean and lowest VOT overlap, and the share (%) of frames at OVERLAP_CLOSE or above;
    NaN when no frame qualifies."""
    o = overlaps[~np.isnan(overlaps)] if len(overlaps) else np.zeros(0)
    if o.size == 0:
        nan = float("nan")
        return {"frames": 0, "mean": nan, "min": nan, "at_least_0.9": nan}
    return {"frames": int(o.size), "mean": float(o.mean()), "min": float(o.min()),
            "at_least_0.9": float(100 * np.mean(o >= OVERLAP_CLOSE))}


def difference_stats(diffs: np.ndarray) -> dict[str, float]:
    """mean / p95 / max of the matched-vertex difference (px) and the share of frames within
    0.5 px and 1 px; NaN when no frame qualifies."""
    d = diffs[~np.isnan(diffs)] if len(diffs) else np.zeros(0)
    if d.size == 0:
        nan = float("nan")
        return {"frames": 0, "mean": nan, "p95": nan, "max": nan, "within_0.5px": nan, "within_1px": nan}
    return {"frames": int(d.size), "mean": float(d.mean()), "p95": float(np.percentile(d, 95)),
            "max": float(d.max()), "within_0.5px": float(100 * np.mean(d <= 0.5)),
            "within_1px": float(100 * np.mean(d <= 1.0))}


def describe_overlap(stats: dict[str, float], worst: dict[str, object] | None) -> str:
    """The overlap figures in one line: mean, share at 0.9 or more, the lowest and what differs there."""
    if not stats["frames"]:
        return "region overlap: no frame where both runs gave a polygon"
    line = (f"region overlap (VOT, intersection over union) on the {stats['frames']} frames both tracked: "
            f"mean {stats['mean']:.3f}, {stats['at_least_0.9']:.1f} % of frames at {OVERLAP_CLOSE} or more, "
            f"lowest {stats['min']:.3f}")
    if worst is not None:
        line += f" ({worst['where']}: {worst['shapes']})"
    return line
