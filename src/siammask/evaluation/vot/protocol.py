"""VOT's supervised (baseline) experiment: init, track, re-init 5 frames after each failure.

As VOT2016 and the reference's tools/test.py run it: the tracker starts on frame 0 from the
ground truth; a tracked frame whose region overlap with the ground truth (bounded by the image)
is 0 is a failure; the tracker restarts `skip` frames later from that frame's ground truth, and
the frames in between are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from siammask.errors import SiamMaskError
from siammask.evaluation.vot.region import region_overlap
from siammask.evaluation.vot.results import FAILURE, INIT, SKIP, SKIP_AFTER_FAILURE
from siammask.io.sources import check_frame_size, read_image
from siammask.tracking.tracker import Tracker, parse_box


@dataclass
class FrameRecord:
    event: str  # init, track, lost or skip
    polygon: np.ndarray | None = None  # 4x2 for tracked frames
    score: float | None = None
    overlap: float | None = None


@dataclass
class SupervisedRun:
    """One sequence's run: per-frame regions in the result-file encoding, plus records."""

    regions: list[int | list[float]] = field(default_factory=list)
    records: list[FrameRecord] = field(default_factory=list)
    failures: int = 0
    seconds: float = 0.0  # tracker time (init + track), frame reading excluded

    @property
    def tracked_frames(self) -> int:
        return sum(1 for r in self.records if r.event in ("init", "track", "lost"))



def _check_init_region(region: np.ndarray, size: tuple[int, int], where: str) -> None:
    """The region a tracker starts from must overlap the image: one wholly outside is bad ground truth."""
    try:
        parse_box(region)
    except SiamMaskError as exc:
        raise SiamMaskError(f"{where}: {exc}") from None
    values = np.asarray(region, dtype=np.float64).ravel()
    if values.size == 4:
        x0, y0, x1, y1 = values[0], values[1], values[0] + values[2], values[1] + values[3]
    else:
        x0, y0, x1, y1 = values[0::2].min(), values[1::2].min(), values[0::2].max(), values[1::2].max()
    width, height = size
    if not (min(x1, width) > max(x0, 0) and min(y1, height) > max(y0, 0)):
        raise SiamMaskError(f"{where}: the region to initialise from lies outside the {width}x{height} image")


def run_supervised(
    tracker: Tracker, frames: Sequence[str], groundtruth: np.ndarray, skip: int = SKIP_AFTER_FAILURE,
    on_frame: Callable[[int, FrameRecord], None] | None = None,
) -> SupervisedRun:
    """Run the supervised protocol over one sequence with a (re-usable) tracker."""
    if len(groundtruth) < len(frames):
        raise SiamMaskError(f"ground truth has {len(groundtruth)} lines for {len(frames)} frames")
    run = SupervisedRun()
    start = 0
    first_size: tuple[int, int] | None = None
    for f, path in enumerate(frames):
        if f < start:
            record = FrameRecord("skip")
            run.regions.append(SKIP)
        else:
            frame = read_image(path, f"frame {f}")
            size = first_size = check_frame_size(frame, first_size, f"image {path} (frame {f})")
            if f == start:
                _check_init_region(groundtruth[f], size, f"ground truth line {f + 1} (frame {f}, {path})")
            tic = time.perf_counter()
            if f == start:
                tracker.init(frame, groundtruth[f])
                run.seconds += time.perf_counter() - tic
                record = FrameRecord("init")
                run.regions.append(INIT)
            else:
                result = tracker.track(frame)
                run.seconds += time.perf_counter() - tic
                polygon = result.polygon
                overlap = region_overlap(groundtruth[f], polygon.ravel(), size)
                if overlap > 0:
                    record = FrameRecord("track", polygon, result.score, overlap)
                    run.regions.append([float(v) for v in polygon.ravel()])
                else:
                    record = FrameRecord("lost", polygon, result.score, overlap)
                    run.regions.append(FAILURE)
                    run.failures += 1
                    start = f + skip
        run.records.append(record)
        if on_frame is not None:
            on_frame(f, record)
    return run
