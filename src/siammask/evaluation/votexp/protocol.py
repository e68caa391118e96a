"""One pass of the tracker over a sequence, as vot-toolkit 0.9's unsupervised and multistart
experiments run it: initialised from the ground truth on the first frame of `order` (frame 0; an
anchor), then tracked over the rest of `order` (to the last frame, or backward to frame 0) with no
reset, whatever the overlap. With a real-time clock, a frame the tracker has no time for is not read
or tracked: it repeats the tracker's last answer (realtime.py).

Timing: a frame's time is what a TraX tracker spends between vot-toolkit's request and its answer,
less the pipe: reading and decoding the frame, then `Tracker.init` / `Tracker.track`, measured with
`time.perf_counter` in this process. Those times drive the real-time clock and are written to the
`_time.value` files; `seconds` (for fps) counts the tracker calls only, as the other protocols do.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from siammask.errors import SiamMaskError
from siammask.evaluation.vot.protocol import _check_init_region
from siammask.evaluation.vot.results import INIT, MaskRegion
from siammask.evaluation.votexp.realtime import RealtimeClock
from siammask.io.sources import check_frame_size, read_image
from siammask.tracking.tracker import Tracker


@dataclass
class PassRun:
    """A pass in its own frame order: the result lines (INIT, then each frame's polygon values)."""

    regions: list[int | list[float] | MaskRegion] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # per frame, seconds; 0 for a frame gone by
    seconds: float = 0.0  # tracker calls only
    skipped: int = 0  # frames the real-time clock let go by


def run_pass(
    tracker: Tracker, frames: Sequence[str], groundtruth: np.ndarray, order: Sequence[int],
    clock: RealtimeClock | None = None, masks: Sequence[MaskRegion] | None = None,
) -> PassRun:
    """Track `frames` in `order` (frame indices), starting from the ground truth of `order[0]`.
    `masks`: the ground truth is masks (VOT2020 on): the tracker starts from their boxes
    (`groundtruth`) and answers with its mask, as our TraX server answers a mask-initialised client."""
    run = PassRun()
    size: tuple[int, int] | None = None
    # an answer before any track: the region the run starts from
    last: list[float] | MaskRegion = masks[order[0]] if masks is not None else [
        float(v) for v in np.ravel(groundtruth[order[0]])]
    for step, f in enumerate(order):
        if step and clock is not None and clock.skips_next():
            run.regions.append(last if isinstance(last, MaskRegion) else list(last))
            run.times.append(0.0)
            run.skipped += 1
            continue
        start = time.perf_counter()
        frame = read_image(frames[f], f"frame {f}")
        size = check_frame_size(frame, size, f"image {frames[f]} (frame {f})")
        if step == 0:
            where = f"ground truth line {f + 1} (frame {f}, {frames[f]})"
            if masks is not None and masks[f].is_empty:
                raise SiamMaskError(f"{where}: the target's mask is empty there; a run cannot start from it")
            _check_init_region(groundtruth[f], size, where)
        tic = time.perf_counter()
        if step == 0:
            tracker.init(frame, groundtruth[f])
            run.regions.append(INIT)
        else:
            result = tracker.track(frame)
            if masks is not None:
                last = MaskRegion.from_binary(result.binary_mask())
                run.regions.append(last)
            else:
                last = [float(v) for v in result.polygon.ravel()]
                run.regions.append(list(last))
        toc = time.perf_counter()
        run.seconds += toc - tic
        run.times.append(toc - start)
        if clock is not None:
            (clock.tracked if step else clock.started)(toc - start)
    return run


def anchor_order(frames: int, anchor: int, backward: bool) -> list[int]:
    """The frames a run from `anchor` visits: to the last frame, or back to frame 0."""
    return list(range(anchor, -1, -1)) if backward else list(range(anchor, frames))
