"""One sequence under the one-pass protocol: the tracker starts on frame 0 from its box and tracks
to the end with no reset, whatever happens (pysot's tools/test.py OPE branch, the GOT-10k toolkit's
Tracker.track). Frame 0's box is the init box itself; every later frame keeps the tracker's box
(`TrackResult.box`, x,y,w,h). Each frame's tracker time is kept too (frame 0: the init), for
GOT-10k's time file and speed."""

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
class OnePassRun:
    boxes: np.ndarray  # (frames, 4) x,y,w,h; frame 0 the init box
    times: np.ndarray  # (frames,) seconds of tracker time per frame, frame reading excluded

    @property
    def seconds(self) -> float:
        return float(np.sum(self.times))


def run_onepass(tracker: Tracker, frames: Sequence[str], init_box: np.ndarray) -> OnePassRun:
    """Track `frames` once from `init_box` (x,y,w,h on the first frame)."""
    init_box = np.asarray(init_box, dtype=np.float64).ravel()
    if init_box.size != 4 or not np.isfinite(init_box).all():
        raise SiamMaskError(f"the first frame's box ({frames[0]}) is not 4 finite values: tracking starts there")
    boxes = np.empty((len(frames), 4))
    times = np.zeros(len(frames))
    size: tuple[int, int] | None = None
    for f, path in enumerate(frames):
        frame = read_image(path, f"frame {f}")
        size = check_frame_size(frame, size, f"image {path} (frame {f})")
        if f == 0:
            _check_init_region(init_box, size, f"ground truth line 1 (frame 0, {path})")
        tic = time.perf_counter()
        if f == 0:
            tracker.init(frame, init_box)
            boxes[0] = init_box
        else:
            boxes[f] = tracker.track(frame).box
        times[f] = time.perf_counter() - tic
    return OnePassRun(boxes, times)
