"""One sequence under the long-term protocol: initialised on frame 0 from the ground truth, then
tracked to the end with no reset, whatever happens (VOT-LT, pysot's tools/test.py for VOT2018-LT).
Each frame keeps the box bounding the tracker's result (`TrackResult.outline_box`, x,y,w,h: the
mask's extent) and its confidence."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from siammask.errors import SiamMaskError
from siammask.evaluation.vot.protocol import _check_init_region
from siammask.io.sources import check_frame_size, read_image
from siammask.tracking.tracker import Tracker


@dataclass
class LongTermRun:
    boxes: np.ndarray  # (frames, 4), NaN on frame 0
    scores: np.ndarray  # (frames,), NaN on frame 0
    seconds: float  # tracker time (init + track), frame reading excluded


def run_longterm(tracker: Tracker, frames: Sequence[str], groundtruth: np.ndarray) -> LongTermRun:
    """Track `frames` once from the first frame's ground truth (which must hold the target)."""
    if len(groundtruth) < len(frames):
        raise SiamMaskError(f"ground truth has {len(groundtruth)} lines for {len(frames)} frames")
    if np.isnan(groundtruth[0]).any():
        raise SiamMaskError(f"the target is absent on the first frame ({frames[0]}); tracking starts there")
    boxes = np.full((len(frames), 4), np.nan)
    scores = np.full(len(frames), np.nan)
    seconds = 0.0
    size: tuple[int, int] | None = None
    for f, path in enumerate(frames):
        frame = read_image(path, f"frame {f}")
        size = check_frame_size(frame, size, f"image {path} (frame {f})")
        if f == 0:
            _check_init_region(groundtruth[0], size, f"ground truth line 1 (frame 0, {path})")
        tic = time.perf_counter()
        if f == 0:
            tracker.init(frame, groundtruth[0])
        else:
            result = tracker.track(frame)
            boxes[f] = result.outline_box
            scores[f] = result.confidence  # score x colour match: docs/longterm.md
        seconds += time.perf_counter() - tic
    return LongTermRun(boxes, scores, seconds)
