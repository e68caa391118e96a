"""Expected average overlap (EAO): the two ways the toolkits build the expected-overlap curve.

Both cut each supervised run into fragments at failures and average, for every length n, the
mean overlap over frames 1..n of the fragments; EAO is the curve's mean over an interval of n.
They differ in the details, so both are kept:

pysot (as shipped with the reference): a fragment runs from an init (frame 0 or a failure + 5)
  to the next re-init frame inclusive; a failed fragment is zero-padded to the longest sequence;
  the last fragment of a sequence is not padded; codes count as overlap 0 inside failed
  sequences. Fragments are weighted by the share of tagged frames (tag 'all': 1) divided by the
  number of repetitions. The curve starts at 1, is stored in float32, and the interval [low, high]
  is 1-based: curve indices low - 1 .. high - 1.
vot-toolkit 0.9 (supervised EAOCurve / EAOScore): a run goes from an init up to the frame before
  its failure, failed runs are zero-padded to the longest run, every run weighs 1; the running
  means are taken in float32 with numpy, and the interval indexes the curve directly: low .. high.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from siammask.evaluation.vot.results import FAILURE, INIT, SKIP_AFTER_FAILURE


@dataclass
class Fragment:
    """A stretch of one run: its overlaps, whether it is padded with zeros, and where it lies."""

    values: np.ndarray
    failed: bool
    start: int
    stop: int
    span: float  # what pysot divides a fragment's tagged-frame count by

    def tag_share(self, tag: np.ndarray) -> float:
        return float(tag[self.start : self.stop].sum()) / self.span


def pysot_fragments(overlaps: np.ndarray, codes: np.ndarray, skipping: int = SKIP_AFTER_FAILURE) -> list[Fragment]:
    """A trajectory's fragments; `overlaps` holds NaN for codes, `codes` is -1 for a region."""
    length = len(overlaps)
    failures = np.flatnonzero(codes == FAILURE)
    if failures.size == 0:
        # pysot keeps the NaN here (they poison every running mean they fall in)
        return [Fragment(overlaps.copy(), False, 0, length, float(length))]
    points = [0] + [int(f) + skipping for f in failures if f + skipping <= length]
    out = []
    for i, start in enumerate(points):
        if i + 1 < len(points):
            stop = points[i + 1] + 1  # through the next re-init frame
            out.append(Fragment(np.nan_to_num(overlaps[start:stop], nan=0.0), True, start, stop, stop - start))
        else:
            values = np.nan_to_num(overlaps[start:], nan=0.0)
            out.append(Fragment(values, False, start, length, length - start + 1e-16))
    return out


def pysot_curve(fragments: Sequence[Fragment], weights: Sequence[float], width: int) -> np.ndarray:
    """Expected overlap for lengths 0 .. width - 1 (float32), given each fragment's weight.

    `width` is the longest sequence: failed fragments are zero-padded to it, the others end in NaN.
    """
    table = np.full((len(fragments), width), np.nan)
    for row, frag in enumerate(fragments):
        if frag.failed:
            table[row] = 0.0
        table[row, : len(frag.values)] = frag.values[:width]
    w = np.asarray(weights, dtype=np.float64)[:, None]
    present = ~np.isnan(table[:, 1:])
    means = np.cumsum(table[:, 1:], axis=1) / np.arange(1, width)
    with np.errstate(invalid="ignore", divide="ignore"):
        num = np.where(present, means * w, 0.0).sum(axis=0)
        den = np.where(present, w, 0.0).sum(axis=0)
        value = num / den
    curve = np.zeros(width, dtype=np.float32)
    curve[0] = 1.0
    curve[1:] = np.where(present.any(axis=0), value, 0.0)
    return curve


def pysot_score(curve: np.ndarray, interval: tuple[int, int]) -> float:
    """Mean of the curve over lengths low .. high (1-based, inclusive), skipping NaN points."""
    low, high = interval
    weight = np.zeros(len(curve))
    weight[low - 1 : high] = 1
    valid = ~np.isnan(curve)
    total = weight[valid].sum()
    return float((curve[valid] * weight[valid]).sum() / total) if total > 0 else float("nan")


def vot_runs(overlaps: np.ndarray, codes: np.ndarray) -> list[tuple[np.ndarray, bool]]:
    """A trajectory's runs as (overlaps from the init frame on, reached the end without failure)."""
    fails = np.flatnonzero(codes == FAILURE)
    inits = np.flatnonzero(codes == INIT)
    if fails.size == 0:
        return [(overlaps, True)]
    if inits.size < fails.size:
        raise ValueError("a failure without an init before it")
    runs = [(overlaps[inits[i] : fails[i]], False) for i in range(fails.size)]
    if inits.size > fails.size:
        runs.append((overlaps[inits[-1] :], True))
    return runs


def vot_curve(runs: Sequence[tuple[np.ndarray, bool]]) -> np.ndarray:
    """vot-toolkit's expected-overlap curve over lengths 0 .. longest run - 1 (float64)."""
    width = max(len(values) for values, _ in runs)
    table = np.zeros((len(runs), width), dtype=np.float32)
    mask = np.zeros((len(runs), width), dtype=np.float32)
    for row, (values, success) in enumerate(runs):
        table[row, : len(values)] = values
        mask[row, : len(values) if success else width] = 1
    running = table.copy()
    for j in range(1, width):
        # float32 means, recomputed per length, exactly as the toolkit does
        running[:, j] = np.mean(table[:, 1 : j + 1], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(running * mask, axis=0) / np.sum(mask, axis=0).astype(np.float64)


def vot_score(curve: np.ndarray, interval: tuple[int, int]) -> float:
    """Mean of the curve over indices low .. high inclusive (NaN when the curve is shorter)."""
    low, high = interval
    part = curve[low : high + 1]
    return float(np.mean(part)) if part.size else float("nan")
