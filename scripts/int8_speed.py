"""End-to-end speed of fp32 and INT8 exports, measured side by side (A/B interleaved).

The machine these numbers come from is shared: another process's burst would favour whichever
model ran at a quiet moment. So the models track the same sequence in lockstep, one frame each
in turn, each through its own engine and tracker; a burst then lands on all of them alike. The
tracker's whole frame is timed (crop, search, decode, refine, mask paste, rotated box; frame
decoding excluded), and separately the search call alone.

    python scripts/int8_speed.py --model /tmp/q/fp32 --model /tmp/q/int8 --threads 2 \\
        --sequence tests/data/golden/dataset/synth00 --frames 60
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from siammask.engine_contract import Engine, EngineProxy, SearchResult, TemplateKernels
from siammask.engines.onnx_engine import OnnxEngine
from siammask.io.sources import read_image
from siammask.tracking.tracker import Tracker


class SearchTimer(EngineProxy):
    """Engine proxy adding up the time spent in search calls."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.search_seconds: list[float] = []

    def search(self, x: np.ndarray, kernels: TemplateKernels) -> SearchResult:
        tic = time.perf_counter()
        out = super().search(x, kernels)
        self.search_seconds.append(time.perf_counter() - tic)
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, action="append", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sequence", type=Path, default=Path("tests/data/golden/dataset/synth00"))
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    frames = [read_image(p) for p in sorted(args.sequence.glob("*.jpg"))[: args.frames + 1]]
    box = np.loadtxt(args.sequence / "groundtruth.txt", delimiter=",")[0]
    runs = []
    for model in args.model:
        timer = SearchTimer(OnnxEngine(model, threads=args.threads))
        tracker = Tracker(timer, timer.engine.tracker_config)
        tracker.init(frames[0], box)
        runs.append({"model": model, "timer": timer, "tracker": tracker, "frame_seconds": []})
    for f, frame in enumerate(frames[1:]):
        for run in runs:
            tic = time.perf_counter()
            run["tracker"].track(frame)
            if f >= args.warmup:
                run["frame_seconds"].append(time.perf_counter() - tic)
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").is_file() else []
    rows = []
    for run in runs:
        frame_ms = [1000 * s for s in run["frame_seconds"]]
        search_ms = [1000 * s for s in run["timer"].search_seconds[args.warmup :]]
        rows.append({
            "model": str(run["model"]), "precision": run["timer"].precision, "threads": args.threads,
            "frames": len(frame_ms), "frame_median_ms": statistics.median(frame_ms), "frame_min_ms": min(frame_ms),
            "fps_median": 1000 / statistics.median(frame_ms), "fps_best": 1000 / min(frame_ms),
            "search_median_ms": statistics.median(search_ms), "search_min_ms": min(search_ms),
        })
    base = rows[0]
    print(f"load average {' '.join(load)}; {args.threads} threads; {base['frames']} frames of {args.sequence.name}")
    print(f"{'model':24s} {'precision':>12s} {'frame ms (median/min)':>22s} {'FPS (median/best)':>18s} "
          f"{'search ms (median/min)':>23s} {'speed-up':>8s}")
    for row in rows:
        print(f"{Path(row['model']).name[:24]:24s} {row['precision']:>12s} {row['frame_median_ms']:11.1f} /"
              f"{row['frame_min_ms']:7.1f}  {row['fps_median']:8.2f} /{row['fps_best']:6.2f}  "
              f"{row['search_median_ms']:11.1f} /{row['search_min_ms']:7.1f}  "
              f"{base['frame_median_ms'] / row['frame_median_ms']:7.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"load": load, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
