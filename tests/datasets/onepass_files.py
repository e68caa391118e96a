"""Small one-pass benchmark folders written by the tests: frames are copies of one tiny JPEG (the
readers list frames and read only the first one's size), annotations as each benchmark writes them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np

SIZE = (32, 24)  # width, height of every frame
_JPEG = cv2.imencode(".jpg", np.full((SIZE[1], SIZE[0], 3), 100, np.uint8))[1].tobytes()


def write_frames(folder: Path, numbers: Iterable[int], digits: int = 4) -> Path:
    """Frames `numbers` of `folder`, named with `digits` digits (0 for no padding, as TrackingNet)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in numbers:
        (folder / f"{n:0{digits}d}.jpg").write_bytes(_JPEG)
    return folder


def boxes(count: int, start: float = 1.0) -> np.ndarray:
    """`count` distinct boxes: x = start, start + 1, ...; y 2, w 10, h 8."""
    return np.array([[start + i, 2.0, 10.0, 8.0] for i in range(count)])


def write_boxes(path: Path, rows: Sequence[Sequence[float]], sep: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(sep.join(f"{v:g}" for v in row) + "\n" for row in rows))
    return path


def write_otb(root: Path, name: str, frames: Iterable[int], rows: Sequence[Sequence[float]], sep: str = ",",
              digits: int = 4, annotation: str = "groundtruth_rect.txt") -> Path:
    write_frames(root / name / "img", frames, digits)
    return write_boxes(root / name / annotation, rows, sep)


def write_lasot(root: Path, name: str, rows: Sequence[Sequence[float]], occluded: Sequence[int] = (),
                out_of_view: Sequence[int] = ()) -> Path:
    """CAT/CAT-N under `root` (CAT is the name before its last '-')."""
    seq = root / name.rsplit("-", 1)[0] / name
    n = len(rows)
    write_frames(seq / "img", range(1, n + 1), 8)
    write_boxes(seq / "groundtruth.txt", rows)
    for file, flags in (("full_occlusion.txt", occluded), ("out_of_view.txt", out_of_view)):
        values = list(flags) or [0] * n
        (seq / file).write_text(",".join(str(v) for v in values) + "\n")
    return seq


def write_got10k(split_dir: Path, name: str, rows: Sequence[Sequence[float]], frames: int | None = None,
                 absence: Sequence[int] | None = None, cover: Sequence[int] | None = None,
                 labels: bool = True) -> Path:
    """A GOT-10k sequence in `split_dir` (appended to its list.txt); `rows` may be the first line only."""
    seq = split_dir / name
    n = frames or len(rows)
    write_frames(seq, range(1, n + 1), 8)
    write_boxes(seq / "groundtruth.txt", rows)
    if labels:
        (seq / "absence.label").write_text("".join(f"{v}\n" for v in (absence or [0] * n)))
        (seq / "cover.label").write_text("".join(f"{v}\n" for v in (cover or [8] * n)))
        (seq / "cut_by_image.label").write_text("0\n" * n)
        (seq / "meta_info.ini").write_text(f"[METAINFO]\nobject_class: shape\nresolution: ({SIZE[0]}, {SIZE[1]})\n")
    with open(split_dir / "list.txt", "a") as handle:
        handle.write(f"{name}\n")
    return seq
