"""What every annotation writer shares: the targets' regions per frame, the keyframes, the frame
names, and the commit of a file or folder only when the run completes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from siammask.errors import SiamMaskError
from siammask.files import CommitOnSuccess, write_text_atomically
from siammask.io.mask_output import region_mask
from siammask.tracking.keyframes import Plan
from siammask.tracking.tracker import TrackResult

LABEL = "target"  # the one label every target carries
_NAME_RE = re.compile(r"[^A-Za-z0-9_-]+")


def video_name(source: str) -> str:
    """A folder-safe name for the video (its file or folder name), as layouts that nest by video want."""
    name = _NAME_RE.sub("_", Path(source.rstrip("/\\")).stem).strip("_")
    return name[:64] or "video"


def shown(result: TrackResult, init: bool) -> bool:
    """Whether a target has a region on this frame (a keyframe's given region counts)."""
    return bool(init or result.present) and bool(np.all(np.isfinite(np.asarray(result.polygon, float))))


class AnnotationWriter(CommitOnSuccess):
    """Told each frame's results by the session; writes its format on `close`, nothing on `abort`."""

    def __init__(self, path: Path, plan: Plan, source: Any, image_size: tuple[int, int], rle: bool = False) -> None:
        self.path, self.plan, self.image_size, self.rle = path, plan, image_size, rle
        self.source = str(getattr(source, "description", source))
        self.length: int | None = getattr(source, "length", None)
        self.frames: list[int] = []

    def keyframe(self, frame: int, target: int) -> bool:
        return self.plan.keyframe_at(frame, target) is not None

    def mask(self, result: TrackResult) -> np.ndarray:
        return region_mask(result, self.image_size)

    def write(self, frame: int, results: Sequence[TrackResult], init: bool = False) -> None:
        self.frames.append(frame)
        self.add(frame, results)

    def add(self, frame: int, results: Sequence[TrackResult]) -> None:
        raise NotImplementedError

    def close(self) -> list[Path]:
        raise NotImplementedError

    def abort(self) -> None:
        """Nothing reached its place yet; subclasses remove their staging."""


def commit_text(path: Path, text: str) -> None:
    """`text` into `path` atomically, a failure said in one line."""
    try:
        write_text_atomically(path, text)
    except OSError as exc:
        raise SiamMaskError(f"output {path}: cannot be written ({exc.strerror or exc})") from None
