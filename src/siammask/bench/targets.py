"""Object-frames per second with K targets batched in one tracker against K separate passes
(`siammask bench --targets K`).

The VOS protocol tracks all objects of a sequence in one MultiTracker (one engine call per stage
per frame for K objects); the reference tracks each object in its own pass over the video. Both
are timed here on the same frames: a synthetic DAVIS-layout sequence with K objects (made on the
spot, deterministic), each object started from its first-frame mask's bounding rectangle. Frame
reading is outside the timings; each variant gets one warm-up frame first.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from siammask.datasets.davis import load_davis
from siammask.datasets.synth_davis import MAX_OBJECTS, make_davis_dataset
from siammask.engines.factory import EngineSpec
from siammask.errors import SiamMaskError
from siammask.evaluation.vos.protocol import object_box
from siammask.io.sources import read_image
from siammask.tracking.tracker import MultiTracker


def timed_pass(engine: Any, config: Any, frames: list[np.ndarray], boxes: list) -> float:
    """Seconds `MultiTracker` spends tracking `boxes` over `frames[2:]` (frame 1 warms up)."""
    tracker = MultiTracker(engine, config)
    tracker.init(frames[0], boxes)
    tracker.track(frames[1])
    start = time.perf_counter()
    for frame in frames[2:]:
        tracker.track(frame)
    return time.perf_counter() - start


def measure_targets(spec: EngineSpec, targets: int, frames: int, size: tuple[int, int]) -> dict[str, Any]:
    """Batched against separate object-frames per second for one engine."""
    if not 1 <= targets <= MAX_OBJECTS:
        raise SiamMaskError(f"--targets must be between 1 and {MAX_OBJECTS}, got {targets}")
    engine, config = spec.build()
    with tempfile.TemporaryDirectory() as tmp:
        root = make_davis_dataset(Path(tmp) / "davis", sequences=1, frames=frames + 2, size=size, objects=targets)
        seq = load_davis(root, 2017).sequences[0]
        images = [read_image(p) for p in seq.frames]
        labels = seq.labels(0)
    boxes = [object_box(labels, i) for i in seq.object_ids]
    batched = timed_pass(engine, config, images, boxes)
    separate = sum(timed_pass(engine, config, images, [box]) for box in boxes)
    k = len(boxes)
    return {
        "engine": f"{engine.name} {engine.precision}", "targets": k, "frames": frames, "size": list(size),
        "batched_object_fps": k * frames / batched, "separate_object_fps": k * frames / separate,
        "speedup": separate / batched,
    }


def format_targets(figures: dict[str, Any]) -> str:
    k, (width, height) = figures["targets"], figures["size"]
    return "\n".join([
        f"{figures['engine']}, {k} targets, {figures['frames']} frames of {width}x{height}",
        f"  batched (one tracker):  {figures['batched_object_fps']:.2f} object-frames/s",
        f"  separate ({k} passes):    {figures['separate_object_fps']:.2f} object-frames/s",
        f"  batching speed-up:      {figures['speedup']:.2f}x",
    ])
