"""Time the VOT metrics on synthetic results the size of VOT2016 (60 sequences, ~21k frames).

    python scripts/bench_metrics.py [--sequences 60] [--frames 21455] [--seed 0]

Ground truth: rotated boxes drifting over frames of VOT2016's image sizes. Results: the ground
truth jittered by a few pixels, with failures (the supervised protocol's 2, four skipped 0, then
1) at random frames. Prints the metrics and the time `evaluate` takes (overlaps included).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from siammask.datasets.vot import TAG_NAMES, Dataset, Sequence
from siammask.evaluation.vot.metrics import evaluate
from siammask.evaluation.vot.results import FAILURE, INIT, SKIP

SIZES = [(1280, 720), (640, 360), (480, 360), (320, 240), (640, 480)]


def rotated_boxes(rng: np.random.Generator, frames: int, size: tuple[int, int]) -> np.ndarray:
    """(frames, 8) corners of a box of slowly varying size and angle drifting inside the image."""
    w, h = size
    t = np.arange(frames)
    side = rng.uniform(20, min(w, h) / 3, 2)
    sx = side[0] * (1 + 0.2 * np.sin(t / 37.0))
    sy = side[1] * (1 + 0.2 * np.cos(t / 53.0))
    angle = rng.uniform(0, np.pi) + 0.3 * np.sin(t / 71.0)
    cx = w / 2 + (w / 3) * np.sin(t / rng.uniform(60, 200) + rng.uniform(0, 6))
    cy = h / 2 + (h / 3) * np.sin(t / rng.uniform(60, 200) + rng.uniform(0, 6))
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) / 2
    c, s = np.cos(angle), np.sin(angle)
    px = corners[None, :, 0] * sx[:, None]
    py = corners[None, :, 1] * sy[:, None]
    x = cx[:, None] + c[:, None] * px - s[:, None] * py
    y = cy[:, None] + s[:, None] * px + c[:, None] * py
    return np.stack([x, y], axis=2).reshape(frames, 8)


def synthetic_run(rng: np.random.Generator, gt: np.ndarray) -> list:
    """A supervised run: jittered ground truth, failures at random (about one per 300 frames)."""
    regions: list = []
    restart = 0
    for f in range(len(gt)):
        if f < restart:
            regions.append(SKIP)
        elif f == restart:
            regions.append(INIT)
        elif rng.random() < 1 / 300:
            regions.append(FAILURE)
            restart = f + 5
        else:
            jitter = rng.normal(0, 3, 8) + np.tile(rng.normal(0, 4, 2), 4)
            regions.append(tuple(np.round(gt[f] + jitter, 4).tolist()))
    return regions


def synthetic(sequences: int, frames: int, seed: int) -> tuple[Dataset, dict]:
    rng = np.random.default_rng(seed)
    lengths = rng.uniform(0.3, 1.7, sequences)
    lengths = np.maximum((lengths / lengths.sum() * frames).astype(int), 20)
    seqs, results = [], {}
    for i, length in enumerate(lengths):
        size = SIZES[i % len(SIZES)]
        gt = rotated_boxes(rng, int(length), size)
        tags = {name: rng.random(int(length)) < 0.2 for name in TAG_NAMES}
        name = f"seq{i:02d}"
        frames_list = [Path(f"{name}/{k:08d}.jpg") for k in range(1, int(length) + 1)]
        seqs.append(Sequence(name, frames_list, gt, tags, size_hint=size))
        results[name] = [synthetic_run(rng, gt)]
    return Dataset(Path("synthetic"), "VOT2016", seqs), results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequences", type=int, default=60)
    parser.add_argument("--frames", type=int, default=21455)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    dataset, results = synthetic(args.sequences, args.frames, args.seed)
    total = sum(len(s) for s in dataset)
    tic = time.perf_counter()
    m = evaluate(dataset, results)
    seconds = time.perf_counter() - tic
    print(f"{len(dataset)} sequences, {total} frames, {m.lost_number:.0f} failures")
    print(f"accuracy {m.accuracy:.4f}  robustness {m.robustness:.3f}  EAO pysot {m.eao_pysot:.4f}  vot {m.eao_vot:.4f}")
    print(f"metrics time: {seconds:.2f} s")


if __name__ == "__main__":
    main()
