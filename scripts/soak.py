#!/usr/bin/env python3
"""Soak run: track N frames (default 10,000) of a small synthetic sequence and watch memory.

The sequence (default 60 frames of 96x96, from `siammask.datasets.synth`) is played in a loop; the tracker is
re-initialised from the ground truth each time the loop starts over, so both the template and the
search paths run for the whole soak. Every frame is decoded from disk, tracked, and its polygon
streamed to a results file, as `siammask track` does. Peak RSS (VmHWM in /proc/self/status) and RSS
(VmRSS) are taken after a warm-up and at the end; the growth of the peak after warm-up is the figure
that matters (a leak of even a few KB a frame shows at 10,000 frames).

    python scripts/soak.py --model models/seeded                 # an exported folder (ONNX Runtime)
    python scripts/soak.py --frames 2000 --json soak.json        # no --model: exports the seeded weights

Linux only (/proc). Exit status 1 when the peak grew by --max-growth percent or more (default 5).
Figures of a run are in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path


def memory_kb() -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of this process, in KiB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=int, default=10_000, help="frames to track in all (default 10000)")
    p.add_argument("--warmup", type=int, default=200, help="frames before the baseline is taken (default 200)")
    p.add_argument("--model", help="exported folder (default: export the seeded weights to a temporary folder)")
    p.add_argument("--checkpoint", help="a .pth checkpoint instead of --model (runs PyTorch)")
    p.add_argument("--threads", type=int, help="engine threads")
    p.add_argument("--size", type=int, default=96, help="frame width and height (default 96)")
    p.add_argument("--loop", type=int, default=60, help="frames of the synthetic sequence played in a loop")
    p.add_argument("--sample-every", type=int, default=500, help="print memory every N frames")
    p.add_argument("--max-growth", type=float, default=5.0, help="fail at this peak-RSS growth (percent)")
    p.add_argument("--json", help="write the figures here")
    args = p.parse_args(argv)
    if args.warmup >= args.frames:
        p.error("--warmup must be smaller than --frames")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from siammask.datasets.synth import make_dataset
    from siammask.datasets.vot import load_sequence
    from siammask.engines.factory import load_engine
    from siammask.io.outputs import ResultWriter
    from siammask.io.sources import read_image
    from siammask.tracking.tracker import Tracker, init_result

    with tempfile.TemporaryDirectory(prefix="siammask-soak-") as tmp:
        tmp_path = Path(tmp)
        model, checkpoint = args.model, args.checkpoint
        if model is None and checkpoint is None:
            from siammask.deploy.export import export
            from siammask.model.seeded import write_checkpoint

            print("exporting the seeded weights ...", flush=True)
            model = str(export(write_checkpoint(tmp_path / "seeded.pth"), tmp_path / "model"))
        root = make_dataset(tmp_path / "synth", sequences=1, frames=args.loop, size=(args.size, args.size), seed=11)
        sequence = load_sequence(root / "synth00")
        engine, config = load_engine(checkpoint=checkpoint, model=model, threads=args.threads)
        tracker = Tracker(engine, config)
        samples: list[dict[str, float]] = []
        baseline: dict[str, int] | None = None
        inits = 0
        start = time.perf_counter()
        with ResultWriter(tmp_path / "soak.txt", 1) as writer:
            for n in range(args.frames):
                k = n % len(sequence)
                frame = read_image(sequence.frames[k])
                if k == 0:
                    tracker.init(frame, sequence.groundtruth[0])
                    inits += 1
                    writer.write(n, [init_result(sequence.groundtruth[0])], init=True)
                else:
                    writer.write(n, [tracker.track(frame)])
                done = n + 1
                if done == args.warmup:
                    baseline = memory_kb()
                if done == args.warmup or done % args.sample_every == 0 or done == args.frames:
                    mem = memory_kb()
                    elapsed = time.perf_counter() - start
                    samples.append({"frames": done, "seconds": round(elapsed, 1), "rss_mib": mem["VmRSS"] / 1024,
                                    "peak_mib": mem["VmHWM"] / 1024})
                    print(f"{done:>6} frames  {elapsed:7.0f} s  {done / elapsed:5.2f} fps  "
                          f"RSS {mem['VmRSS'] / 1024:7.1f} MiB  peak {mem['VmHWM'] / 1024:7.1f} MiB", flush=True)
        seconds = time.perf_counter() - start
    assert baseline is not None
    end = memory_kb()
    growth_peak = 100.0 * (end["VmHWM"] - baseline["VmHWM"]) / baseline["VmHWM"]
    growth_rss = 100.0 * (end["VmRSS"] - baseline["VmRSS"]) / baseline["VmRSS"]
    figures = {
        "frames": args.frames, "warmup": args.warmup, "frame_size": [args.size, args.size], "loop": args.loop,
        "inits": inits, "engine": engine.name, "threads": args.threads, "seconds": round(seconds, 1),
        "fps": round(args.frames / seconds, 2),
        "peak_rss_mib_after_warmup": round(baseline["VmHWM"] / 1024, 1),
        "peak_rss_mib_end": round(end["VmHWM"] / 1024, 1),
        "peak_rss_growth_pct": round(growth_peak, 2),
        "rss_mib_after_warmup": round(baseline["VmRSS"] / 1024, 1),
        "rss_mib_end": round(end["VmRSS"] / 1024, 1),
        "rss_growth_pct": round(growth_rss, 2),
        "python": platform.python_version(), "machine": f"{platform.machine()}, {_cpus()} CPUs",
        "samples": samples,
    }
    print(f"peak RSS {figures['peak_rss_mib_after_warmup']} MiB after {args.warmup} frames -> "
          f"{figures['peak_rss_mib_end']} MiB after {args.frames}: {growth_peak:+.2f}% "
          f"(RSS {growth_rss:+.2f}%), {figures['fps']} fps, {inits} inits")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")
    return 0 if growth_peak < args.max_growth else 1


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
