"""What long-term tracking costs a frame (`siammask bench --long-term`): short-term against
long-term while the target is present (the same normal search: it must cost the same), and
long-term while it searches wide (the crop the tracker picks for the frame, and the
lost_instance_size cap).

All on the same frames of a synthetic sequence (made on the spot, deterministic) whose target
never leaves, so every timed frame is a present one; short-term and long-term present frames are
timed in turns, frame by frame (a comparison of two runs one after the other measured the
machine's drift: -12 % to +1 % for the same work); the wide search is timed by marking the
target absent before each frame, as the tracker does after a frame judged absent. Frame reading is
outside the timings; each variant gets one warm-up frame first.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from siammask.datasets.synth import make_dataset
from siammask.datasets.vot import load_dataset
from siammask.engines.factory import EngineSpec
from siammask.io.sources import read_image
from siammask.tracking.tracker import MultiTracker


def _frame_times(tracker: MultiTracker, frames: list[np.ndarray], wide: bool) -> list[float]:
    """Seconds per frame over frames[2:] (frame 1 warms up); `wide`: searched wide every frame."""
    times = []
    for k, frame in enumerate(frames[1:]):
        if wide:
            tracker.targets[0].searching = True
        start = time.perf_counter()
        tracker.track(frame)
        if k:
            times.append(time.perf_counter() - start)
    return times


def _paired_times(trackers: list[MultiTracker], frames: list[np.ndarray]) -> tuple[list[list[float]], int]:
    """Seconds per frame of each tracker over frames[2:], the trackers taking turns frame by frame
    (the first one first on even frames, last on odd ones), so that a drift of the machine's speed
    (clock, other work) weighs on both alike. The target is in view on every frame, so each frame
    is timed as a present one: a target the previous frame judged absent (a low score on a small
    frame) is put back to the normal search first; how often that happened is the second value."""
    times: list[list[float]] = [[] for _ in trackers]
    judged_absent = 0
    for k, frame in enumerate(frames[1:]):
        order = list(range(len(trackers))) if k % 2 == 0 else list(reversed(range(len(trackers))))
        for i in order:
            for target in trackers[i].targets:
                judged_absent += target.searching
                target.searching = False
            start = time.perf_counter()
            trackers[i].track(frame)
            if k:
                times[i].append(time.perf_counter() - start)
    return times, judged_absent


def measure_long_term(spec: EngineSpec, frames: int, size: tuple[int, int]) -> dict[str, Any]:
    """Median milliseconds a frame: short-term, long-term present, long-term wide (picked and capped)."""
    engine, config = spec.build()
    with tempfile.TemporaryDirectory() as tmp:
        root = make_dataset(Path(tmp) / "synth", sequences=1, frames=frames + 2, size=size)
        seq = load_dataset(root).sequences[0]
        images = [read_image(p) for p in seq.frames]
    box = seq.groundtruth[0]
    figures: dict[str, Any] = {"engine": f"{engine.name} {engine.precision}", "frames": frames, "size": list(size)}
    short = dataclasses.replace(config, long_term=False)
    long = dataclasses.replace(config, long_term=True)
    capped_size = long.lost_instance_size
    present = [MultiTracker(engine, settings) for settings in (short, long)]
    for tracker in present:
        tracker.init(images[0], [box])
    (short_times, long_times), judged_absent = _paired_times(present, images)
    figures["short_term_ms"] = 1000 * float(np.median(short_times))
    figures["long_term_present_ms"] = 1000 * float(np.median(long_times))
    figures["present_frames_judged_absent"] = judged_absent
    for label, settings, wide in (("long_term_wide", long, True), ("long_term_wide_cap", long, True)):
        tracker = MultiTracker(engine, settings)
        tracker.init(images[0], [box])
        if label == "long_term_wide_cap":
            tracker._wide_size = lambda target: capped_size  # type: ignore[method-assign]  # the cap itself
        times = _frame_times(tracker, images, wide)
        figures[f"{label}_ms"] = 1000 * float(np.median(times))
        if label == "long_term_wide":
            figures["wide_size"] = tracker._wide_size(tracker.targets[0])
    figures["wide_cap_size"] = capped_size
    figures["present_overhead"] = figures["long_term_present_ms"] / figures["short_term_ms"] - 1
    return figures


def format_long_term(figures: dict[str, Any]) -> str:
    width, height = figures["size"]
    return "\n".join([
        f"{figures['engine']}, {figures['frames']} frames of {width}x{height} (median per frame)",
        f"  short-term:                      {figures['short_term_ms']:.1f} ms",
        f"  long-term, target present:       {figures['long_term_present_ms']:.1f} ms "
        f"({100 * figures['present_overhead']:+.1f}%)",
        f"  long-term, searching wide ({figures['wide_size']}):  {figures['long_term_wide_ms']:.1f} ms",
        f"  long-term, widest ({figures['wide_cap_size']}):          {figures['long_term_wide_cap_ms']:.1f} ms",
    ])
