"""Drawing tracking results over frames, and writing the overlay video.

What a user looks at to judge a run: each target's mask tinted in its colour, the rotated box
around it, and the score; a target the tracker judges absent is drawn nowhere, only named
"absent" in the frame's top-left corner. The video is written to a temporary file next to the destination and
renamed at the end, so an interrupted or failed run never leaves a half-written video that
looks complete.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from siammask.errors import SiamMaskError
from siammask.files import CommitOnSuccess, check_new_file, commit_file, temporary_sibling
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

# extension -> encoder (None: GIF, written with Pillow); the encoders are PyAV's FFmpeg's
VIDEO_FORMATS: dict[str, str | None] = {".mp4": "libx264", ".avi": "mjpeg", ".gif": None}
# encoder -> (FFmpeg codec, pixel format, encoder options). yuv420p H.264 is what every browser
# plays; crf 20 keeps the thin polygon lines and the label text sharp, veryfast keeps it quick.
VIDEO_CODECS: dict[str, tuple[str, str, dict[str, str]]] = {
    "libx264": ("libx264", "yuv420p", {"crf": "20", "preset": "veryfast"}),
    "mjpeg": ("mjpeg", "yuvj420p", {}),
}
# the MP4 index (moov) up front, so a browser starts playing before the whole file has come
CONTAINER_OPTIONS: dict[str, dict[str, str]] = {".mp4": {"movflags": "+faststart"}}
# FFmpeg's muxer for each extension (named: a file object carries no name to guess it from)
CONTAINER_FORMATS: dict[str, str] = {".mp4": "mp4", ".avi": "avi"}
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
    score (the frame the tracker was initialised on) is labelled "init". A result that is not
    `present` gets no tint and no outline (its polygon is no detection): its label, "absent" by
    default, is written in its colour in the frame's top-left corner, one line per absent target.
    `mask_threshold` is the tracker's segmentation threshold (the config's seg_thr, 0.3).
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
    absent_row = 0
    for k, result in enumerate(results):
        color = tuple(int(c) for c in (colors[k] if colors is not None else target_color(k)))
        if labels is not None:
            text = labels[k]
        else:
            text = "absent" if not result.present else f"{result.score:.2f}" if math.isfinite(result.score) else "init"
            if len(results) > 1:
                text = f"{k}: {text}"
        if not result.present:
            _put_corner_label(out, text, absent_row, color, font_scale, thickness)
            absent_row += 1
            continue
        _tint_mask(out, result, color, alpha, mask_threshold)
        points = np.round(np.asarray(result.polygon, dtype=np.float64).reshape(-1, 2)).astype(np.int32)
        cv2.polylines(out, [points.reshape(-1, 1, 2)], True, color, thickness, cv2.LINE_AA)
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


def _put_corner_label(
    image: np.ndarray, text: str, row: int, color: tuple[int, ...], scale: float, thickness: int
) -> None:
    """Text in the top-left corner, `row` lines down: where absent targets are named."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    weight = max(1, thickness - 1)
    (_, th), base = cv2.getTextSize(text, font, scale, weight)
    y = (row + 1) * (th + base + 2 * thickness)
    cv2.putText(image, text, (2 * thickness, y), font, scale, (0, 0, 0), weight + 2, cv2.LINE_AA)
    cv2.putText(image, text, (2 * thickness, y), font, scale, color, weight, cv2.LINE_AA)


def check_video_path(path: str | Path) -> Path:
    """Refuse an unsupported extension or a missing folder before any work is done."""
    return check_new_file(path, "video", VIDEO_FORMATS)


class OverlayWriter(CommitOnSuccess):
    """Writes frames to .mp4 (H.264), .avi (Motion JPEG) or .gif, atomically, and checks what it wrote.

    MP4 is H.264 (High profile, yuv420p, the index up front) because that is what browsers play;
    MPEG-4 Part 2 (OpenCV's mp4v) plays in none. PyAV's FFmpeg (libx264 is in its wheels) encodes
    and reports a failed write, which OpenCV's VideoWriter never does. Frames go to a hidden
    temporary file beside `path`; `close()` re-opens it, counts its frames, and only then renames
    it into place, so a disk that filled up or a file-size limit never replaces a good video with
    a cut one. `abort()` (or leaving a `with` block by an exception) deletes it. A GIF keeps its
    frames in memory (palettised, 1 byte per pixel) until `close()`: fine for clips, not for hours.
    H.264 needs even sizes: an odd width or height gets one more column or row (the edge repeated).
    """

    def __init__(self, path: str | Path, fps: float | None = None) -> None:
        self.path = check_video_path(path)
        self.fps = float(fps) if fps and math.isfinite(fps) and fps > 0 else DEFAULT_FPS
        self.codec = VIDEO_FORMATS[self.path.suffix.lower()]
        self.frames_written = 0
        self.frame_size: tuple[int, int] | None = None
        self._tmp = temporary_sibling(self.path)
        self._container: Any = None
        self._stream: Any = None
        self._file: Any = None
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
        if self.codec is None:
            from PIL import Image

            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            self._gif_frames.append(Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE))
        else:
            self._encode(frame)
        self.frames_written += 1

    def _start(self, size: tuple[int, int]) -> None:
        if self.codec is None:
            return
        import av

        codec, pix_fmt, options = VIDEO_CODECS[self.codec]
        width, height = _even(size) if self.codec == "libx264" else size
        suffix = self.path.suffix.lower()
        try:
            # FFmpeg writes through a file Python opened: a path that is not UTF-8 never reaches native
            # code, and the file stays open for as long as FFmpeg writes (it opens its output lazily)
            self._file = open(self._tmp, "w+b", buffering=0)  # unbuffered: a failed write fails where it happens
            self._container = av.open(self._file, "w", format=CONTAINER_FORMATS[suffix],
                                      options=dict(CONTAINER_OPTIONS.get(suffix, {})))
            self._stream = self._container.add_stream(codec, rate=Fraction(self.fps).limit_denominator(1001))
            self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, pix_fmt
            self._stream.options = dict(options)
        except (av.FFmpegError, OSError, ValueError) as exc:
            self.abort()
            raise SiamMaskError(f"video {self.path}: cannot be written ({_reason(exc)})") from None

    def _encode(self, frame: np.ndarray | None) -> None:
        """Encode one frame (None: flush the encoder) and write its packets; a failed write is an error."""
        import av

        try:
            picture = None
            if frame is not None:
                width, height = self._stream.width, self._stream.height
                if (width, height) != (frame.shape[1], frame.shape[0]):
                    frame = cv2.copyMakeBorder(frame, 0, height - frame.shape[0], 0, width - frame.shape[1],
                                               cv2.BORDER_REPLICATE)
                picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="bgr24")
                picture.pts = self.frames_written
            for packet in self._stream.encode(picture):
                self._container.mux(packet)
        except (av.FFmpegError, OSError) as exc:
            raise SiamMaskError(f"video {self.path}: cannot be written ({_reason(exc)})") from None

    def close(self) -> Path:
        """Finish the file, check it holds every frame, and move it into place; returns its path."""
        if self._closed:
            return self.path
        if self.frames_written == 0:
            self.abort()
            raise SiamMaskError(f"video {self.path}: no frames to write")
        try:
            if self.codec is None:
                first, *rest = self._gif_frames
                duration = max(20, round(1000 / self.fps))
                first.save(self._tmp, format="GIF", save_all=True, append_images=rest, duration=duration, loop=0)
                self._gif_frames = []
            else:
                self._encode(None)
                self._finish_container()
            if not self._tmp.is_file() or self._tmp.stat().st_size == 0:
                raise SiamMaskError(f"video {self.path}: the encoder wrote nothing")
            found = count_video_frames(self._tmp)
            if found != self.frames_written:
                raise SiamMaskError(
                    f"video {self.path}: the file written holds {found} of {self.frames_written} frames when read "
                    "back (disk full or a file-size limit?); nothing was replaced"
                )
            commit_file(self._tmp, self.path, "video")
        except OSError as exc:
            self.abort()
            raise SiamMaskError(f"video {self.path}: cannot be written ({_reason(exc)})") from None
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return self.path

    def _finish_container(self) -> None:
        import av

        container, self._container, self._stream = self._container, None, None
        if container is None:
            return
        try:
            container.close()
        except (av.FFmpegError, OSError) as exc:
            raise SiamMaskError(f"video {self.path}: cannot be written ({_reason(exc)})") from None
        finally:
            self._close_file()

    def _close_file(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            handle.close()

    def abort(self) -> None:
        """Drop everything written so far; the destination is left as it was."""
        container, self._container, self._stream = self._container, None, None
        if container is not None:
            try:
                container.close()
            except Exception:  # the file is deleted below whatever state it is in
                pass
        self._close_file()
        self._gif_frames = []
        self._tmp.unlink(missing_ok=True)
        self._closed = True


def count_video_frames(path: str | Path) -> int:
    """How many frames a video or GIF holds when read back (demuxed, not decoded: cheap); 0 when it
    cannot be opened at all."""
    path = Path(path)
    if path.suffix.lower() == ".gif":
        from PIL import Image

        try:
            with Image.open(path) as image:
                return int(getattr(image, "n_frames", 1))
        except (OSError, ValueError, SyntaxError):
            return 0
    import av

    try:
        with open(path, "rb") as handle, av.open(handle) as container:
            stream = container.streams.video[0]
            return sum(1 for packet in container.demux(stream) if packet.size)
    except (av.FFmpegError, OSError, IndexError, ValueError):
        return 0


def _even(size: tuple[int, int]) -> tuple[int, int]:
    return size[0] + size[0] % 2, size[1] + size[1] % 2


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
