"""Where frames come from: a video file, a folder of images, or a camera.

Every source yields BGR uint8 frames of one size, as the tracker wants them, and reports what
goes wrong as one SiamMaskError line naming the file or frame, so that a bad frame in the middle
of a long sequence is found without a traceback. Frames are numbered from 0, as in the tracking
output files.

Every image read (frames here, DAVIS label maps and results, the page's uploads) is first held to
one pixel budget, read from its header before anything is decoded: MAX_PIXELS (50 megapixels),
or the environment variable SIAMMASK_MAX_PIXELS (check_image_pixels, open_image).
"""

from __future__ import annotations

import io
import itertools
import math
import os
import re
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import cv2
import numpy as np
from PIL import BmpImagePlugin, Image, JpegImagePlugin, PngImagePlugin, UnidentifiedImageError

from siammask.errors import SiamMaskError, first_line
from siammask.files import MAX_IMAGE_BYTES, check_input_file, native_path, read_input
from siammask.tracking.frames import as_bgr

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
IMAGE_PATTERNS = ", ".join("*" + e for e in IMAGE_EXTENSIONS)  # as messages name them
# A complete JPEG ends with the EOI marker; entropy-coded data never holds FF D9, so its absence
# from the file's tail means the file was cut short (OpenCV would decode the rest as grey).
_JPEG_EOI = b"\xff\xd9"
# What libjpeg says (on stderr, as OpenCV leaves its messages there) when the image data are cut
# short or damaged: it fills the rest with grey and goes on, so these warnings are errors here.
_JPEG_DAMAGE = ("Corrupt JPEG data", "Premature end of JPEG file")
# Pixel budget: the most pixels (width x height) one image may declare, checked in its header
# before anything is decoded (a 1 MB PNG can declare 20000x20000, 1.2 GB once decoded). 50
# megapixels holds 8K video frames and 48-megapixel photos; SIAMMASK_MAX_PIXELS changes it.
MAX_PIXELS = 50_000_000
PIXELS_VARIABLE = "SIAMMASK_MAX_PIXELS"
# The formats a frame or label map may be (by content, whatever the name); Pillow reads their
# headers (JPEG includes the multi-picture JPEG some cameras write).
IMAGE_FORMATS = ("JPEG", "PNG", "BMP")
# imported to register them: Image.open(formats=...) would otherwise import every plugin Pillow has
_PLUGINS = (BmpImagePlugin, JpegImagePlugin, PngImagePlugin)
_CAMERA_RE = re.compile(r"\d+")
_DIGITS_RE = re.compile(r"(\d+)")


@contextmanager
def _opencv_quiet() -> Iterator[None]:
    """Hold OpenCV's own warnings back while probing files; our error says what went wrong."""
    logging = cv2.utils.logging
    level = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging.setLogLevel(level)


# fd 2 is one per process: two threads redirecting it at once would leave it pointing nowhere
_STDERR_LOCK = threading.RLock()


@contextmanager
def _native_stderr_quiet() -> Iterator[None]:
    """Silence FFmpeg's own log lines (e.g. "moov atom not found") while a file is probed.

    They are written by native code straight to file descriptor 2, beyond OpenCV's log level;
    our SiamMaskError says what went wrong in one line instead. Skipped where fd 2 is not a file.
    """
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):
            yield
            return
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 2)
            finally:
                os.close(devnull)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@contextmanager
def _native_stderr_captured() -> Iterator[list[str]]:
    """What native code (libjpeg, libpng) writes to file descriptor 2 while the block runs, as
    lines in the list yielded (filled when the block ends). Where fd 2 cannot be redirected the
    list stays empty and nothing is captured."""
    lines: list[str] = []
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            # in memory where Linux allows it, else an unnamed temporary file
            captured = (os.fdopen(os.memfd_create("siammask-stderr"), "w+b") if hasattr(os, "memfd_create")
                        else tempfile.TemporaryFile("w+b"))
        except (OSError, ValueError, AttributeError):  # no usable stderr or no file to catch it in
            yield lines
            return
        with captured:
            try:
                saved = os.dup(2)
            except OSError:
                yield lines
                return
            try:
                os.dup2(captured.fileno(), 2)
                yield lines
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            captured.seek(0)
            text = captured.read(1 << 16).decode("utf-8", "replace")
        lines.extend(line for line in text.splitlines() if line.strip())


def natural_key(path: Path) -> tuple[list[object], str]:
    """Sort 2.jpg before 10.jpg; zero-padded names (VOT's 00000001.jpg) sort as plain text. The
    name itself breaks ties (1.jpg and 01.jpg, a.jpg and A.jpg), so the order never depends on
    the order the file system lists them in."""
    parts = [int(part) if part.isdigit() else part.lower() for part in _DIGITS_RE.split(path.name)]
    return parts, path.name


def _size_text(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def check_frame_size(frame: np.ndarray, first: tuple[int, int] | None, label: str) -> tuple[int, int]:
    """`frame`'s (width, height), refused when a first frame of another size came before it: the
    tracker's state is in pixels of the first frame. `label` names the frame in the message."""
    size = (int(frame.shape[1]), int(frame.shape[0]))
    if first is not None and size != first:
        raise SiamMaskError(
            f"{label} is {_size_text(size)} but the first frame is {_size_text(first)}: "
            "all frames of a sequence must have the same size"
        )
    return size


class FrameSource:
    """Iterable of BGR uint8 frames, all of one size.

    `length` is the number of frames when known (image folders, most video files; None for a
    camera) so progress bars can show a total; `fps` is the frame rate when the source has one.
    Iterating again starts from the first frame (a camera goes on from where it is).
    """

    kind = "source"

    def __init__(self, description: str, length: int | None = None, fps: float | None = None) -> None:
        self.description = description
        self.length = length
        self.fps = fps

    def _read(self) -> Iterator[tuple[np.ndarray, str]]:
        """Raw frames, each with the label an error message names it by."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[np.ndarray]:
        first: tuple[int, int] | None = None
        for frame, label in self._read():
            frame = as_bgr(frame)
            first = check_frame_size(frame, first, label)
            yield frame

    def close(self) -> None:
        """Release the device or file handle (no-op for image files)."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description!r}, length={self.length}, fps={self.fps})"


def max_pixels() -> int:
    """The pixel budget in force: $SIAMMASK_MAX_PIXELS (a positive whole number) or MAX_PIXELS."""
    text = os.environ.get(PIXELS_VARIABLE, "").strip()
    if not text:
        return MAX_PIXELS
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise SiamMaskError(f"{PIXELS_VARIABLE}={text[:40]!r}: must be a positive whole number of pixels "
                            f"(default {MAX_PIXELS})")
    return value


@contextmanager
def open_image(
    source: str | os.PathLike[str] | bytes, what: str, limit: int | None = None,
    formats: Sequence[str] = IMAGE_FORMATS,
) -> Iterator[Image.Image]:
    """An image opened by Pillow from its header only, nothing decoded yet, refused in one line
    naming `what` when it is not one of `formats` or declares more pixels than `limit` (default:
    max_pixels()). Decoding it (np.asarray, .load()) in the block is then bounded by the budget.

    `source` is the file's bytes, or a path, which is checked first as every input is (no FIFO,
    device or folder, at most MAX_IMAGE_BYTES) and opened without blocking."""
    budget = max_pixels() if limit is None else limit
    stream: BinaryIO
    if isinstance(source, bytes | bytearray | memoryview):
        stream = io.BytesIO(source)
    else:
        check_input_file(source, what, MAX_IMAGE_BYTES)
        try:
            stream = os.fdopen(os.open(source, os.O_RDONLY | os.O_NONBLOCK), "rb")
        except OSError as exc:
            raise SiamMaskError(f"{what}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    with stream:
        image = _open_header(stream, what, formats, budget)
        with image:
            width, height = image.size
            if width * height > budget:
                raise SiamMaskError(
                    f"{what}: {width}x{height}, {width * height} pixels, more than the {budget} an image may have "
                    f"(set {PIXELS_VARIABLE} to allow more)"
                )
            yield image


def _open_header(stream: BinaryIO, what: str, formats: Sequence[str], budget: int) -> Image.Image:
    # Pillow's own bomb check (a warning, then an error at twice its limit) stands behind ours:
    # its warning says nothing our budget has not, its error is refused as ours is
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(stream, formats=list(formats))
        except Image.DecompressionBombError as exc:  # over twice Pillow's limit: over ours too, as a rule
            count = re.search(r"\((\d+) pixels\)", str(exc))
            pixels = f"{count.group(1)} pixels" if count else "too many pixels"
            if budget < _pillow_limit():
                raise SiamMaskError(f"{what}: {pixels}, more than the {budget} an image may have (set "
                                    f"{PIXELS_VARIABLE} to allow more, up to Pillow's {_pillow_limit()})") from None
            raise SiamMaskError(f"{what}: {pixels}, more than the {_pillow_limit()} Pillow opens "
                                f"({PIXELS_VARIABLE} cannot go beyond it)") from None
        except (OSError, ValueError, EOFError, SyntaxError) as exc:  # Pillow's ways of saying "not this"
            names = ", ".join(formats[:-1]) + f" or {formats[-1]}" if len(formats) > 1 else formats[0]
            # "cannot identify image file <_io.BytesIO ...>" says nothing more than we do
            detail = "" if isinstance(exc, UnidentifiedImageError) else f": {first_line(exc, 80)}"
            raise SiamMaskError(f"{what}: unreadable or truncated image (not a readable {names}{detail})") from None


def _pillow_limit() -> int:
    """The most pixels Pillow opens at all: twice its MAX_IMAGE_PIXELS (unlimited when None)."""
    limit = Image.MAX_IMAGE_PIXELS
    return 2 * int(limit) if limit else sys.maxsize


def check_image_pixels(
    source: str | os.PathLike[str] | bytes, what: str, limit: int | None = None,
    formats: Sequence[str] = IMAGE_FORMATS,
) -> tuple[int, int]:
    """(width, height) of an image read from its header, refused as `open_image` refuses: over
    the pixel budget, or not an image of `formats`. Nothing is decoded."""
    with open_image(source, what, limit, formats) as image:
        return image.size


def read_image(path: str | Path, label: str | None = None) -> np.ndarray:
    """One image file as BGR uint8. Refused by name: an unreadable, truncated or damaged file, a
    non-image, one declaring more pixels than the budget (checked before decoding)."""
    path = Path(path)
    where = f"image {path}" + (f" ({label})" if label else "")
    data = read_input(path, where, MAX_IMAGE_BYTES)
    if not data:
        raise SiamMaskError(f"{where}: empty file")
    check_image_pixels(data, where)
    jpeg = data[:2] == b"\xff\xd8"
    if jpeg and not jpeg_complete(data):
        raise SiamMaskError(f"{where}: truncated JPEG (no end-of-image marker)")
    return decode_image(data, where, jpeg)


def decode_image(data: bytes, where: str, jpeg: bool) -> np.ndarray:
    """OpenCV's decoding of an image's bytes (BGR uint8), whose size was checked. What libjpeg and
    libpng write to stderr is caught: a JPEG whose data end early or are damaged (libjpeg fills
    the rest with grey and only warns) is refused, and their lines become part of our one line."""
    with _opencv_quiet(), _native_stderr_captured() as messages:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    damage = [m for m in messages if jpeg and m.startswith(_JPEG_DAMAGE)]
    library = [m for m in messages if m.startswith(("libpng", "libjpeg", *_JPEG_DAMAGE))]
    for other in (m for m in messages if m not in library):
        print(other, file=sys.stderr)  # another thread's, or a harmless library note: not ours to drop
    if image is None:
        detail = f" ({library[0][:100]})" if library else ""
        raise SiamMaskError(f"{where}: unreadable or truncated image{detail}")
    if damage:
        raise SiamMaskError(f"{where}: truncated or damaged JPEG data (libjpeg: {damage[0][:100]})")
    return image


def jpeg_complete(data: bytes) -> bool:
    """Whether a JPEG's image data reach their end-of-image marker. OpenCV decodes a truncated JPEG
    as grey without a word, so the marker is looked for — after the first start-of-scan, found by
    walking the header segments (an EXIF thumbnail carries an end marker of its own), and anywhere
    after it: bytes after the end (a Motion Photo's video, a camera's trailer) are allowed."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return False  # not a marker where one must be: a damaged header
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the entropy-coded data follow
            return data.find(_JPEG_EOI, pos + 2) >= 0
        if marker == 0xD9:
            return False  # an end before any scan: no image data at all
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            pos += 2
            continue
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return False


class ImageFiles(FrameSource):
    """A sequence of image files, in the order given."""

    kind = "images"

    def __init__(self, paths: Sequence[str | Path], description: str | None = None) -> None:
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise SiamMaskError("no image files given")
        super().__init__(description or f"{len(self.paths)} image files", len(self.paths))

    def _read(self) -> Iterator[tuple[np.ndarray, str]]:
        for index, path in enumerate(self.paths):
            label = f"frame {index} ({path.name})"
            yield read_image(path, f"frame {index}"), label


def _is_image_entry(path: Path) -> bool:
    """An image by its name, whatever it is: a broken link, a FIFO or a device named like a frame
    counts, so that its frame is refused by name when read instead of silently skipped."""
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.is_dir()


def _images_in(folder: Path) -> list[Path]:
    try:
        entries = list(folder.iterdir())
    except OSError as exc:
        raise SiamMaskError(f"folder {folder}: cannot be read ({exc.strerror or exc})") from None
    return sorted((p for p in entries if _is_image_entry(p)), key=natural_key)


def find_images(folder: str | Path) -> list[Path]:
    """The one rule for a sequence's frames, used by `track` and by the VOT dataset loader alike:
    the folder's own images (IMAGE_EXTENSIONS, any case) in natural order, else those of its
    `color/` subfolder (the VOT2018+ layout); empty when neither has any.

    The folder's own images win because they are what the user named; `color/` only stands in
    for a folder that holds no frames itself. Broken links and special files named like images
    are listed, so that whoever reads them names them instead of a frame silently going missing.
    """
    folder = Path(folder)
    images = _images_in(folder)
    color = folder / "color"
    if not images and color.is_dir():
        images = _images_in(color)
    return images


def list_images(folder: str | Path) -> list[Path]:
    """`find_images`, refusing a folder that gives none (empty, or no images in it or its `color/`)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SiamMaskError(f"folder {folder}: no such folder")
    images = find_images(folder)
    if images:
        return images
    if not any(folder.iterdir()):
        raise SiamMaskError(f"folder {folder} is empty")
    raise SiamMaskError(f"folder {folder} holds no images ({IMAGE_PATTERNS})")


class ImageFolder(ImageFiles):
    """The images of a folder (or of its `color/` subfolder), sorted by name."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        super().__init__(list_images(self.folder), str(self.folder))


def _capture_fps(capture: cv2.VideoCapture) -> float | None:
    fps = float(capture.get(cv2.CAP_PROP_FPS))
    return fps if math.isfinite(fps) and 0 < fps < 1000 else None


class VideoFile(FrameSource):
    """A video file decoded by OpenCV (FFmpeg backend): mp4, avi, mkv, ..."""

    kind = "video"

    def __init__(self, path: str | Path, strict: bool = False) -> None:
        self.path = Path(path)
        self.strict = strict
        check_input_file(self.path, f"video {self.path}")  # a FIFO or a device would block or never end
        self._capture: cv2.VideoCapture | None = self._open()
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.declared = count if count > 0 else None
        super().__init__(str(self.path), self.declared, _capture_fps(self._capture))

    def _open(self) -> cv2.VideoCapture:
        with _opencv_quiet(), _native_stderr_quiet(), native_path(self.path) as name:
            capture = cv2.VideoCapture(name)
        if not capture.isOpened():
            capture.release()
            raise SiamMaskError(f"video {self.path}: cannot be opened (not a video, or an unsupported codec)")
        return capture

    def _read(self) -> Iterator[tuple[np.ndarray, str]]:
        capture, self._capture = self._capture or self._open(), None
        try:
            index = 0
            while True:
                with _native_stderr_quiet():  # FFmpeg's own lines about a damaged stream: ours says it
                    ok, frame = capture.read()
                if not ok or frame is None:
                    break
                yield frame, f"frame {index}"
                index += 1
            if index == 0:
                raise SiamMaskError(f"video {self.path}: no frame could be decoded")
            if self.declared is not None and index < self.declared:
                self._short(index)
        finally:
            capture.release()

    def _short(self, decoded: int) -> None:
        """Fewer frames decoded than the container declares: a truncated or damaged file. Said on
        stderr (the run keeps what it tracked), or refused with strict."""
        text = f"video {self.path}: only {decoded} of the {self.declared} frames it declares could be decoded"
        if self.strict:
            raise SiamMaskError(text + " (--strict)")
        print(f"siammask: warning: {text} (truncated or damaged?)", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class Camera(FrameSource):
    """A camera by OpenCV index: endless until the device stops delivering frames."""

    kind = "camera"

    def __init__(self, index: int) -> None:
        self.index = int(index)
        with _opencv_quiet():
            self._capture = cv2.VideoCapture(self.index)
        if not self._capture.isOpened():
            self._capture.release()
            raise SiamMaskError(f"camera {self.index}: cannot be opened (no such device, or it is in use)")
        super().__init__(f"camera {self.index}", None, _capture_fps(self._capture))

    def _read(self) -> Iterator[tuple[np.ndarray, str]]:
        index = 0
        while True:
            ok, frame = self._capture.read()
            if not ok or frame is None:
                if index == 0:
                    raise SiamMaskError(f"camera {self.index}: opened but delivers no frames")
                return
            yield frame, f"frame {index}"
            index += 1

    def close(self) -> None:
        self._capture.release()


def open_source(source: str | Path | int | Sequence[str | Path], strict: bool = False) -> FrameSource:
    """A frame source from what a user typed: a folder, a video file, or a camera index.

    An integer, or a string of digits that names no existing file, is a camera index ("0" is the
    default camera). A list of paths is taken as image files in that order.
    """
    if isinstance(source, int):
        return Camera(source)
    if not isinstance(source, str | Path):
        return ImageFiles(list(source))
    text = str(source)
    path = Path(source)
    if isinstance(source, str) and _CAMERA_RE.fullmatch(text.strip()) and not path.exists():
        return Camera(int(text))
    if not text.strip():
        raise SiamMaskError("no source given")
    if not path.exists():
        raise SiamMaskError(f"{path}: no such file or folder")
    if path.is_dir():
        return ImageFolder(path)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        raise SiamMaskError(f"{path} is a single image: pass the folder that holds the sequence's frames")
    return VideoFile(path, strict=strict)


# What a video's frames held for backward tracking may take: decoded frames are kept in memory (a
# seek in a compressed video lands on keyframes and is not exact), at most half the memory
# available and never more than this.
MAX_HELD_BYTES = 8 << 30


def frames_from(source: FrameSource, start: int) -> Iterator[tuple[int, np.ndarray]]:
    """The source's frames numbered from 0, from index `start` on (image files before it are not read)."""
    if isinstance(source, ImageFiles) and start > 0:
        rest = source.paths[start:]
        return enumerate(iter(ImageFiles(rest, source.description)) if rest else iter(()), start=start)
    return itertools.islice(enumerate(source), start, None)


class FramesByIndex:
    """Frames `first`..`last` of a source by index, for tracking backward: image files are read when
    asked; a video is decoded forward once and those frames held (bounded by memory); a camera
    cannot go back and is refused in one line."""

    def __init__(self, source: FrameSource, first: int, last: int) -> None:
        self.source, self.first, self.last = source, first, last
        self._held: list[np.ndarray] | None = None
        if isinstance(source, Camera):
            raise SiamMaskError(f"{source.description}: tracking backward needs earlier frames again, which a camera "
                                "cannot give (record it to a video file first)")

    def __call__(self, index: int) -> np.ndarray:
        if isinstance(self.source, ImageFiles):
            if not 0 <= index < len(self.source.paths):
                raise SiamMaskError(f"{self.source.description}: no frame {index}")
            return as_bgr(read_image(self.source.paths[index], f"frame {index}"))
        if self._held is None:
            self._held = self._decode()
        if not self.first <= index < self.first + len(self._held):
            raise SiamMaskError(f"{self.source.description}: frame {index} could not be decoded "
                                f"(the video ends at frame {self.first + len(self._held) - 1})")
        return self._held[index - self.first]

    def _decode(self) -> list[np.ndarray]:
        from siammask.files import size_text
        from siammask.system import available_memory

        held: list[np.ndarray] = []
        available = available_memory()
        budget = min(MAX_HELD_BYTES, available // 2) if available is not None else MAX_HELD_BYTES
        for index, frame in frames_from(self.source, 0):
            if index > self.last:
                break
            if index < self.first:
                continue
            need = frame.nbytes * (self.last - self.first + 1)
            if need > budget:
                raise SiamMaskError(
                    f"{self.source.description}: tracking backward holds frames {self.first}..{self.last} decoded "
                    f"({size_text(need)}), more than the {size_text(budget)} it may take: extract the frames to a "
                    "folder (ffmpeg -i VIDEO DIR/%05d.png) and track the folder")
            held.append(frame)
        if not held:
            raise SiamMaskError(f"{self.source.description}: frame {self.first} could not be decoded")
        return held
