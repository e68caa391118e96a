"""Paths and small builders shared by the evaluation tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
DATASET = GOLDEN / "dataset"
RESULTS = GOLDEN / "results" / "VOT2016"
SEQUENCES = ("synth00", "synth01", "synth02")


def make_sequence(
    root: Path,
    name: str,
    frames: int = 3,
    lines: list[str] | None = None,
    color: bool = False,
    suffix: str = ".png",
    size: tuple[int, int] = (32, 24),
) -> Path:
    """A tiny sequence folder: blank frames and a groundtruth of one rectangle a line."""
    folder = root / name
    images = folder / "color" if color else folder
    images.mkdir(parents=True, exist_ok=True)
    for i in range(1, frames + 1):
        cv2.imwrite(str(images / f"{i:08d}{suffix}"), np.zeros((size[1], size[0], 3), np.uint8))
    if lines is None:
        lines = ["1,2,10,8"] * frames
    (folder / "groundtruth.txt").write_text("".join(line + "\n" for line in lines))
    return folder


def make_dataset(root: Path, names: list[str], **kwargs) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "list.txt").write_text("".join(n + "\n" for n in names))
    for name in names:
        make_sequence(root, name, **kwargs)
    return root
