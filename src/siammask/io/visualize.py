"""Drawing tracking results over frames, and writing the overlay video.

What a user looks at to judge a run: each target's mask tinted in its colour, the rotated box
around it, and the score. The video is written to a temporary file next to the destination and
renamed at the end, so an interrupted or failed run never leaves a half-written video that
looks complete.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from siammask.errors import SiamMaskError
from siammask.io.files import CommitOnSuccess, check_new_file, commit_file, native_path, temporary_sibling
from siammask.tracking.frames import as_bgr
from siammask.tracking.tracker import TrackResult

# BGR, distinct on natural images; target k gets PALETTE[k % len(PALETTE)].
PALETTE: tuple[tuple[int, int, int], ...] = (
    (0, 0, 255),  # red
    (0, 220, 0),  # green
    (255, 140, 0),  # blue
    (0, 220, 255),  # yellow
    (255, 0, 255),  # magenta
    (255, 255, 0),  # cyan
    (0, 128, 255),  # orange
    (160, 0, 255),  # pink
)

# extension -> OpenCV fourcc (None: GIF, written with Pillow)
VIDEO_FORMATS: dict[str, str | None] = {".mp4": "mp4v", ".avi": "MJPG", ".gif": None}
DEFAULT_FPS = 25.0


def target_color(index: int) -> tuple[int, int, int]:
    """The BGR colour target `index` is drawn in (the palette repeats after 8 targets)."""
    return PALETTE[index % len(PALETTE)]


def draw_overlay(
    frame: np.ndarray,
    results: TrackResult | Sequence[TrackResult],
    colors: Sequence[tuple[int, int, int]] | None = None,
    alpha: float = 0.45,
    mask_threshold: float = 0.3,
    labels: Sequence[str] | None = None,
) -> np.ndarray:
    """A copy of `frame` with each result's mask tinted, its polygon outlined and its score written.

    `colors` (BGR) default to the palette, by target index. The label is the score ("0.97"),
    prefixed by the target index when there are several targets; a result without a finite
    score (the frame the tracker was initialised on) is labelled "init". `mask_threshold` is
    the tracker's segmentation threshold (the config's seg_thr, 0.3).
    """
    if isinstance(results, TrackResult):
        results = [results]
    if colors is not None and len(colors) < len(results):
        raise SiamMaskError(f"{len(results)} targets but only {len(colors)} colours given")
    if labels is not None and len(labels) != len(results):
        raise SiamMaskError(f"{len(results)} targets but {len(labels)} labels given")
    out = as_bgr(frame).copy()
    height, width = out.shape[:2]
    thickness = max(2, round(min(width, height) / 240))
    font_scale = max(0.45, min(width, height) / 600)
    for k, result in enumerate(results):
        color = tuple(int(c) for c in (colors[k] if colors is not None else target_color(k)))
        _tint_mask(out, result, color, alpha, mask_threshold)
        points = np.round(np.asarray(result.polygon, dtype=np.float64).reshape(-1, 2)).astype(np.int32)
        cv2.polylines(out, [points.reshape(-1, 1, 2)], True, color, thickness, cv2.LINE_AA)
        if labels is not None:
            text = labels[k]
        else:
            text = f"{result.score:.2f}" if math.isfinite(result.score) else "init"
            if len(results) > 1:
                text = f"{k}: {text}"
        _put_label(out, text, points, color, font_scale, thickness)
    return out


def _tint_mask(
    image: np.ndarray, result: TrackResult, color: tuple[int, ...], alpha: float, threshold: float
) -> None:
    """Blend `color` into the pixels where the mask exceeds `threshold` (only its ROI is touched)."""
    if result.mask is None:
        return
    x, y, w, h = result.mask.roi
    if w == 0 or h == 0:
        return
    region = image[y : y + h, x : x + w]
    selected = result.mask.values[: region.shape[0], : region.shape[1]] > threshold
    if not selected.any():
        return
    tint = np.asarray(color, dtype=np.float32)
    region[selected] = np.clip(region[selected] * (1 - alpha) + tint * alpha + 0.5, 0, 255).astype(np.uint8)


def _put_label(
    image: np.ndarray, text: str, points: np.ndarray, color: tuple[int, ...], scale: float, thickness: int
) -> None:
    """Text above the polygon's top corner (inside it at the image top), outlined dark to stay legible."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    weight = max(1, thickness - 1)
    (tw, th), base = cv2.getTextSize(text, font, scale, weight)
    top = points[int(np.argmin(points[:, 1]))]
    height, width = image.shape[:2]
    x = int(np.clip(top[0] - tw // 2, 0, max(0, width - tw)))
    y = int(top[1]) - thickness - base
    if y - th < 0:  # no room above: just inside the polygon, under its top corner
        y = int(top[1]) + th + 2 * thickness
    y = int(np.clip(y, th, max(th, height - base)))
    cv2.putText(image, text, (x, y), font, scale, (0, 0, 0), weight + 2, cv2.LINE_AA)
    cv2.putText(image, text, (x, y), font, scale, color, weight, cv2.LINE_AA)


def check_video_path(path: str | Path) -> Path:
    """Refuse an unsupported extension or a missing folder before any work is done."""
    return check_new_file(path, "video", VIDEO_FORMATS)


class OverlayWriter(CommitOnSuccess):
    """Writes frames to .mp4 (mp4v), .avi (MJPG) or .gif, atomically.

    Frames go to a hidden temporary file beside `path`; `close()` renames it into place, and
    `abort()` (or leaving a `with` block by an exception) deletes it. A GIF keeps its frames in
    memory (palettised, 1 byte per pixel) until `close()`: fine for clips, not for hours.
    """

    def __init__(self, path: str | Path, fps: float | None = None) -> None:
        self.path = check_video_path(path)
        self.fps = float(fps) if fps and math.isfinite(fps) and fps > 0 else DEFAULT_FPS
        self.fourcc = VIDEO_FORMATS[self.path.suffix.lower()]
        self.frames_written = 0
        self.frame_size: tuple[int, int] | None = None
        self._tmp = temporary_sibling(self.path)
        self._writer: cv2.VideoWriter | None = None
        self._gif_frames: list = []
        self._closed = False

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR frame; every frame must have the first frame's size."""
        if self._closed:
            raise SiamMaskError(f"video {self.path}: already closed")
        frame = as_bgr(frame)
        size = (int(frame.shape[1]), int(frame.shape[0]))
        if self.frame_size is None:
            self.frame_size = size
            self._start(size)
        elif size != self.frame_size:
            raise SiamMaskError(
                f"video {self.path}: frame {self.frames_written} is {size[0]}x{size[1]}, "
                f"the video is {self.frame_size[0]}x{self.frame_size[1]}"
            )
        if self.fourcc is None:
            from PIL import Image

            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            self._gif_frames.append(Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE))
        else:
            assert self._writer is not None
            self._writer.write(np.ascontiguousarray(frame))
        self.frames_written += 1

    def _start(self, size: tuple[int, int]) -> None:
        if self.fourcc is None:
            return
        with native_path(self._tmp, writing=True) as name:  # a non-UTF-8 folder name crashes OpenCV
            writer = cv2.VideoWriter(name, cv2.VideoWriter_fourcc(*self.fourcc), self.fps, size)
        if not writer.isOpened():
            writer.release()
            self._tmp.unlink(missing_ok=True)
            raise SiamMaskError(f"video {self.path}: OpenCV cannot write {self.fourcc} here (no such encoder?)")
        self._writer = writer

    def close(self) -> Path:
        """Finish the file and move it into place; returns its path."""
        if self._closed:
            return self.path
        if self.frames_written == 0:
            self.abort()
            raise SiamMaskError(f"video {self.path}: no frames to write")
        try:
            if self.fourcc is None:
                first, *rest = self._gif_frames
                duration = max(20, round(1000 / self.fps))
                first.save(self._tmp, format="GIF", save_all=True, append_images=rest, duration=duration, loop=0)
                self._gif_frames = []
            else:
                assert self._writer is not None
                self._writer.release()
                self._writer = None
            if not self._tmp.is_file() or self._tmp.stat().st_size == 0:
                raise SiamMaskError(f"video {self.path}: the encoder wrote nothing")
            commit_file(self._tmp, self.path, "video")
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return self.path

    def abort(self) -> None:
        """Drop everything written so far; the destination is left as it was."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        self._gif_frames = []
        self._tmp.unlink(missing_ok=True)
        self._closed = True

