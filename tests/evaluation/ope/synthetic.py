"""Small one-pass datasets made in the tests: ground truth with the cases the measures treat
apart (absent rows, zero-size boxes, centres at or below 0), and tracker results near it, off it,
and missing (nan)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from siammask.datasets.onepass import OnePassDataset, OnePassSequence
from siammask.evaluation.ope.results import result_paths, write_result

SIZE = (160, 120)
ATTRIBUTES = ("OCC", "FM", "SV")


def truth(rng: np.random.Generator, frames: int, absent_rate: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(groundtruth with NaN rows where absent, absent flags): a box drifting over a 160x120 image."""
    w, h = rng.uniform(12, 40), rng.uniform(12, 40)
    start = rng.uniform([0, 0], [SIZE[0] - w, SIZE[1] - h])
    steps = np.cumsum(rng.normal(0, 3, (frames, 2)), axis=0)
    xy = np.clip(start + steps, [-w / 2, -h / 2], [SIZE[0] - w / 2, SIZE[1] - h / 2])
    wh = np.column_stack([w * np.exp(np.cumsum(rng.normal(0, 0.02, frames))),
                          h * np.exp(np.cumsum(rng.normal(0, 0.02, frames)))])
    gt = np.round(np.column_stack([xy, wh]), 2)
    gt[rng.uniform(size=frames) < 0.04, 2] = 0  # empty boxes: never a success
    gt[1:4, 0] = [-gt[1, 2], -0.3, 0.0]  # centres at or left of 0: pysot's distance -1
    absent = rng.uniform(size=frames) < absent_rate
    absent[0] = False
    gt[absent] = np.nan
    return gt, absent


def results_for(rng: np.random.Generator, gt: np.ndarray) -> np.ndarray:
    """A tracker's boxes: near the truth, some far off, a few nan; frame 0 the init box."""
    held = gt.copy()
    for t in range(1, len(gt)):  # where the truth is absent a tracker keeps its last box
        if np.isnan(held[t]).any():
            held[t] = held[t - 1]
    boxes = held + rng.normal(0, 4, gt.shape) * np.array([1, 1, 0.5, 0.5])
    wrong = rng.uniform(size=len(gt)) < 0.2
    boxes[wrong, :2] += rng.uniform(15, 60, (wrong.sum(), 2))
    boxes[:, 2:] = np.maximum(boxes[:, 2:], 1)
    boxes[rng.uniform(size=len(gt)) < 0.03] = np.nan
    boxes[0] = gt[0]
    return np.round(boxes, 4)


def frame_file(root: Path, size: tuple[int, int] = SIZE) -> Path:
    path = root / "frame.jpg"
    if not path.exists():
        root.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), np.full((size[1], size[0], 3), 90, np.uint8))
    return path


def dataset(root: Path, benchmark: str, seed: int, count: int = 4, frames: int = 60, absent_rate: float = 0.0,
            attributes: bool = True, names: list[str] | None = None) -> OnePassDataset:
    """A one-pass dataset held in memory, every frame the same image on disk (the measures read
    only boxes; pysot's Video reads the first frame's size)."""
    rng = np.random.default_rng(seed)
    image = frame_file(root)
    sequences = []
    for i in range(count):
        gt, absent = truth(rng, frames + 7 * i, absent_rate)
        attrs = {a: bool(rng.uniform() < 0.5) for a in ATTRIBUTES} if attributes else {}
        if attributes:
            attrs["OCC"] = i % 2 == 0  # every attribute has a sequence, OCC two
        name = names[i] if names else f"seq{i}"
        sequences.append(OnePassSequence(name=name, frames=[image] * len(gt), groundtruth=gt, tags={},
                                         size_hint=SIZE, absent=absent, attributes=attrs))
    return OnePassDataset(root=root, name=f"{benchmark}-synthetic", benchmark=benchmark, split=None,
                          sequences=sequences)


def write_results(ds: OnePassDataset, results: Path, tracker: str, seed: int, file_names: dict | None = None) -> dict:
    """Write a tracker's results of `ds` in the benchmark's layout; the boxes by sequence."""
    rng = np.random.default_rng(seed + 1000)
    written = {}
    for seq in ds:
        boxes = results_for(rng, seq.groundtruth)
        box, times = result_paths(results, tracker, seq.name, ds.benchmark)
        if file_names and seq.name in file_names:
            box = box.with_name(file_names[seq.name])
        write_result(box, times, boxes, rng.uniform(0.005, 0.05, len(boxes)))
        written[seq.name] = boxes
    return written
