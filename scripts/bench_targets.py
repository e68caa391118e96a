"""Object-frames per second with K targets batched in one tracker against K separate passes.

    python scripts/bench_targets.py --checkpoint seeded.pth [--targets 3] [--frames 10] [--threads 2]
    python scripts/bench_targets.py --model models/seeded --targets 3 --json targets.json

The VOS protocol tracks all objects of a sequence in one MultiTracker (one engine call per stage
per frame for K objects); the reference tracks each object in its own pass over the video. Both
are timed here on the same frames: a synthetic DAVIS-layout sequence with K objects (made on the
spot, deterministic), each object started from its first-frame mask's bounding rectangle. Frame
reading is outside the timings; each variant gets one warm-up frame first.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from siammask.engines.factory import load_engine
from siammask.evaluation.davis import load_davis
from siammask.evaluation.vos_protocol import object_box
from siammask.sources import read_image
from siammask.synth_davis import make_davis_dataset
from siammask.tracker import MultiTracker


def timed_pass(engine, config, frames: list[np.ndarray], boxes: list) -> float:  # noqa: ANN001
    """Seconds `MultiTracker` spends tracking `boxes` over `frames[2:]` (frame 1 warms up)."""
    tracker = MultiTracker(engine, config)
    tracker.init(frames[0], boxes)
    tracker.track(frames[1])
    start = time.perf_counter()
    for frame in frames[2:]:
        tracker.track(frame)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="SiamMask .pth (PyTorch)")
    source.add_argument("--model", help="exported ONNX folder (ONNX Runtime)")
    parser.add_argument("--targets", type=int, default=3, help="K objects (default 3)")
    parser.add_argument("--frames", type=int, default=10, help="timed frames per pass (default 10)")
    parser.add_argument("--size", default="854x480", help="frame size WxH (default DAVIS 480p, 854x480)")
    parser.add_argument("--threads", type=int, help="engine threads")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))

    engine, config = load_engine(args.checkpoint, args.model, threads=args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        root = make_davis_dataset(Path(tmp) / "davis", sequences=1, frames=args.frames + 2,
                                  size=(width, height), objects=args.targets)
        seq = load_davis(root, 2017).sequences[0]
        frames = [read_image(p) for p in seq.frames]
        labels = seq.labels(0)
    boxes = [object_box(labels, i) for i in seq.object_ids]
    k, n = len(boxes), args.frames
    batched = timed_pass(engine, config, frames, boxes)
    separate = sum(timed_pass(engine, config, frames, [box]) for box in boxes)
    figures = {
        "engine": f"{engine.name} {engine.precision}", "targets": k, "frames": n, "size": [width, height],
        "batched_object_fps": k * n / batched, "separate_object_fps": k * n / separate,
        "speedup": separate / batched,
    }
    print(f"{figures['engine']}, {k} targets, {n} frames of {width}x{height}")
    print(f"  batched (one tracker):  {figures['batched_object_fps']:.2f} object-frames/s")
    print(f"  separate ({k} passes):    {figures['separate_object_fps']:.2f} object-frames/s")
    print(f"  batching speed-up:      {figures['speedup']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
