"""What the page can open: an uploaded file (a video, a GIF, a zip of images) or a file under --media.

Everything is checked before a run: the frame size is read from the header and held to the pixel
budget before anything is decoded (a small file may declare a huge image), then the source must open
and decode its first frame, so a bad upload is answered with one line on the page (SiamMaskError)
and never reaches a job. What the session keeps of it is a bounded JPEG preview, not the frame.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from siammask.errors import SiamMaskError, printable
from siammask.files import native_path
from siammask.io.sources import IMAGE_EXTENSIONS, natural_key, open_source

VIDEO_EXTENSIONS = (".mp4", ".avi", ".webm", ".mkv", ".mov", ".gif", ".zip")
# a zip of JPEGs barely compresses; more than this ratio over the upload limit is a zip bomb
ZIP_EXPANSION = 4
PREVIEW_SIDE = 1920  # the page's first frame and live view: at most this many pixels a side
PREVIEW_QUALITY = 90
MAX_PICK_CHARS = 1024  # a --media pick is a relative path the listing gave
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Video:
    """An opened, checked video: `path` is what open_source reads (a file, or a folder of frames)."""

    name: str  # what the user picked (the upload's file name): results name their source by it
    path: Path
    width: int
    height: int
    frames: int | None
    fps: float | None
    preview: bytes  # the first frame as a JPEG of at most PREVIEW_SIDE a side, shown before tracking
    folder: Path | None = None  # the session's folder holding its upload (or unpacked frames)


def default_max_pixels() -> int:
    """The shared pixel budget of a frame (io.sources: $SIAMMASK_MAX_PIXELS, else its default)."""
    from siammask.io.sources import max_pixels

    return max_pixels()


def check_pixels(width: int, height: int, what: str, limit: int) -> None:
    """Refuse a frame size over the pixel budget, before it is decoded."""
    if width * height > limit:
        from siammask.io.sources import PIXELS_VARIABLE

        raise SiamMaskError(f"{what}: {width}x{height} pixels, more than the {limit} a frame may have "
                            f"(set {PIXELS_VARIABLE} to allow more)")


def check_image_file(path: Path, what: str, limit: int) -> None:
    """An image file's size from its header alone (io.sources' shared check), held to `limit`."""
    from siammask.io.sources import check_image_pixels

    check_image_pixels(path, what, limit)


def check_video_file(path: Path, what: str, limit: int) -> None:
    """A video's frame size as its container declares it, held to `limit` before any frame is decoded."""
    with native_path(path) as name:
        capture = cv2.VideoCapture(name)
    try:
        if capture.isOpened():
            width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
            height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
            check_pixels(width, height, what, limit)
    finally:
        capture.release()


def preview_jpeg(frame: np.ndarray) -> bytes:
    """`frame` shrunk to at most PREVIEW_SIDE a side, as a JPEG: what the page shows of it."""
    height, width = frame.shape[:2]
    scale = PREVIEW_SIDE / max(width, height)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, PREVIEW_QUALITY])
    if not ok:
        raise SiamMaskError("the first frame could not be encoded for the page")
    return data.tobytes()


def safe_name(name: str) -> str:
    """The upload's file name reduced to a plain base name (no folders, no odd characters)."""
    base = _SAFE_NAME.sub("_", os.path.basename(name.replace("\\", "/"))).strip("._") or "video"
    return base[:100]


def check_extension(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in VIDEO_EXTENSIONS:
        raise SiamMaskError(f"{name}: not a video this page opens ({', '.join(VIDEO_EXTENSIONS)})")
    return suffix


def extract_zip(archive: Path, folder: Path, max_bytes: int, max_pixels: int,
                charge: Callable[[int], None] | None = None) -> Path:
    """The images of a zip, renumbered in natural order into `folder` (no member path is used, so
    none can escape the folder). Their unpacked size is `charge`d before they are written, and each
    one's pixel size is read from its header before anything decodes it."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist()
                       if not m.is_dir() and Path(m.filename).suffix.lower() in IMAGE_EXTENSIONS]
            if not members:
                raise SiamMaskError(f"{archive.name}: the zip holds no images ({', '.join(IMAGE_EXTENSIONS)})")
            total = sum(m.file_size for m in members)
            if total > ZIP_EXPANSION * max_bytes:
                raise SiamMaskError(f"{archive.name}: the images unpack to more than {ZIP_EXPANSION}x the upload limit")
            if charge is not None:
                charge(total)
            members.sort(key=lambda m: natural_key(Path(m.filename.replace("\\", "/"))))
            folder.mkdir()
            for index, member in enumerate(members):
                target = folder / f"{index:06d}{Path(member.filename).suffix.lower()}"
                with zf.open(member) as src, open(target, "xb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                check_image_file(target, f"{archive.name}: {_printable_member(member.filename)}", max_pixels)
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise SiamMaskError(f"{archive.name}: not a readable zip ({exc})") from None
    return folder


def _printable_member(name: str) -> str:
    return printable(name)[:200]


def open_video(path: Path, name: str, max_pixels: int) -> Video:
    """Open `path` and decode its first frame; a bad file is one SiamMaskError line. A video's
    declared frame size is held to `max_pixels` first (a zip's frames were, as they were unpacked)."""
    if path.is_file():
        check_video_file(path, name, max_pixels)
    try:
        with open_source(path) as source:
            first = next(iter(source), None)
    except SiamMaskError as exc:
        raise SiamMaskError(f"{name}: {_without_path(str(exc), path)}") from None
    if first is None:
        raise SiamMaskError(f"{name}: no frames")
    check_pixels(int(first.shape[1]), int(first.shape[0]), name, max_pixels)  # a container that did not say
    return Video(name, path, int(first.shape[1]), int(first.shape[0]), source.length, source.fps,
                 preview_jpeg(first))


def _without_path(text: str, path: Path) -> str:
    """The message without the server's temporary path (the page names the file as the user did)."""
    return text.replace(f"video {path}: ", "").replace(f"folder {path} ", "the upload ").replace(str(path), "it")


def _listable(name: str) -> bool:
    """A name the listing shows: not hidden, and valid UTF-8 (a name that is not cannot be sent as
    JSON nor picked back, and must not break the listing for everyone)."""
    if name.startswith("."):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return name.isprintable()


def media_files(root: Path, limit: int = 500) -> list[str]:
    """Videos under --media, as paths relative to it (links are not followed; hidden names and
    names that are not UTF-8 are left out)."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if _listable(d))
        for filename in sorted(filenames):
            if Path(filename).suffix.lower() in VIDEO_EXTENSIONS and _listable(filename):
                full = Path(dirpath) / filename
                if not full.is_symlink():
                    found.append(full.relative_to(root).as_posix())
                if len(found) >= limit:
                    return found
    return found


def resolve_media(root: Path, relative: object) -> Path:
    """A --media pick as a real path inside `root`: a relative path as the listing gives them (no
    absolute path, no `..`, no hidden part, no control character, not over MAX_PICK_CHARS), and
    no link leading out."""
    if not isinstance(relative, str) or not relative:
        raise SiamMaskError("give the path of a file under the media folder, as the list names it")
    shown = repr(printable(relative[:80])) + ("..." if len(relative) > 80 else "")
    refused = SiamMaskError(f"{shown}: not a file under the media folder")
    if len(relative) > MAX_PICK_CHARS or not relative.isprintable():
        raise refused
    parts = Path(relative.replace("\\", "/")).parts
    if Path(relative).is_absolute() or any(p == ".." or p.startswith(".") or not _listable(p) for p in parts):
        raise refused
    try:
        base = root.resolve()
        target = (base / relative).resolve()
        # what the listing shows: no link anywhere on the way (a link may lead out, or to a hidden file)
        if target != base.joinpath(*parts) or not target.is_file():
            raise refused
    except (OSError, ValueError):  # a name too long for the file system, ...
        raise refused from None
    return target
