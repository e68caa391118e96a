"""What the page can open: an uploaded file (a video, a GIF, a zip of images) or a file under --media.

Everything is checked before a run: the source must open and decode its first frame, so a bad upload
is answered with one line on the page (SiamMaskError) and never reaches a job.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siammask.errors import SiamMaskError
from siammask.io.sources import IMAGE_EXTENSIONS, natural_key, open_source

VIDEO_EXTENSIONS = (".mp4", ".avi", ".webm", ".mkv", ".mov", ".gif", ".zip")
# a zip of JPEGs barely compresses; more than this ratio over the upload limit is a zip bomb
ZIP_EXPANSION = 4
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
    first: np.ndarray  # BGR, shown on the page before tracking


def safe_name(name: str) -> str:
    """The upload's file name reduced to a plain base name (no folders, no odd characters)."""
    base = _SAFE_NAME.sub("_", os.path.basename(name.replace("\\", "/"))).strip("._") or "video"
    return base[:100]


def check_extension(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in VIDEO_EXTENSIONS:
        raise SiamMaskError(f"{name}: not a video this page opens ({', '.join(VIDEO_EXTENSIONS)})")
    return suffix


def extract_zip(archive: Path, folder: Path, max_bytes: int) -> Path:
    """The images of a zip, renumbered in natural order into `folder` (no member path is used, so
    none can escape the folder)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist()
                       if not m.is_dir() and Path(m.filename).suffix.lower() in IMAGE_EXTENSIONS]
            if not members:
                raise SiamMaskError(f"{archive.name}: the zip holds no images ({', '.join(IMAGE_EXTENSIONS)})")
            if sum(m.file_size for m in members) > ZIP_EXPANSION * max_bytes:
                raise SiamMaskError(f"{archive.name}: the images unpack to more than {ZIP_EXPANSION}x the upload limit")
            members.sort(key=lambda m: natural_key(Path(m.filename.replace("\\", "/"))))
            folder.mkdir()
            for index, member in enumerate(members):
                target = folder / f"{index:06d}{Path(member.filename).suffix.lower()}"
                with zf.open(member) as src, open(target, "xb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise SiamMaskError(f"{archive.name}: not a readable zip ({exc})") from None
    return folder


def open_video(path: Path, name: str) -> Video:
    """Open `path` and decode its first frame; a bad file is one SiamMaskError line."""
    try:
        with open_source(path) as source:
            first = next(iter(source), None)
    except SiamMaskError as exc:
        raise SiamMaskError(f"{name}: {_without_path(str(exc), path)}") from None
    if first is None:
        raise SiamMaskError(f"{name}: no frames")
    return Video(name, path, int(first.shape[1]), int(first.shape[0]), source.length, source.fps, first)


def _without_path(text: str, path: Path) -> str:
    """The message without the server's temporary path (the page names the file as the user did)."""
    return text.replace(f"video {path}: ", "").replace(f"folder {path} ", "the upload ").replace(str(path), "it")


def media_files(root: Path, limit: int = 500) -> list[str]:
    """Videos under --media, as paths relative to it (links are not followed)."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            if Path(filename).suffix.lower() in VIDEO_EXTENSIONS and not filename.startswith("."):
                full = Path(dirpath) / filename
                if not full.is_symlink():
                    found.append(full.relative_to(root).as_posix())
                if len(found) >= limit:
                    return found
    return found


def resolve_media(root: Path, relative: str) -> Path:
    """A --media pick as a real path inside `root`: no absolute path, no `..`, no link leading out."""
    parts = Path(relative.replace("\\", "/")).parts
    if not relative or Path(relative).is_absolute() or ".." in parts:
        raise SiamMaskError(f"{relative!r}: not a file under the media folder")
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        raise SiamMaskError(f"{relative!r}: not a file under the media folder")
    return target
