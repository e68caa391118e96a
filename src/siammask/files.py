"""File helpers shared by the writers: hashes, output-path checks, folders written atomically.

Kept free of torch and onnx so that the torch-free runtime can use every one of them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from siammask.errors import SiamMaskError


def json_text(value: Any, indent: int | None = 2) -> str:
    """JSON as every reader takes it: NaN and infinities (a figure that could not be computed)
    become null, never the bare NaN that strict parsers refuse; numpy scalars become numbers."""
    return json.dumps(_finite(value), indent=indent, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()  # numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)  # paths and the like, as json.dumps(default=str) would


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_name(name: str, what: str) -> str:
    """A name that becomes one path component (a tracker, a sequence): it must stay inside its
    folder and name one thing, so no separators, no '.' or '..', no control characters."""
    if not isinstance(name, str) or not name.strip():
        raise SiamMaskError(f"{what} {name!r}: empty")
    if name in (".", "..") or any(c in name for c in "/\\") or not name.isprintable() or not encodable(name):
        raise SiamMaskError(f"{what} {name!r}: must be a plain name (no '/', '\\', '.' or '..', no control "
                            "characters), it names one folder")
    if len(name.encode("utf-8")) > 200:
        raise SiamMaskError(f"{what} {name[:40]!r}...: longer than 200 bytes")
    return name


def regular_destination(path: str | Path, what: str) -> Path:
    """The file to write for `path`: siammask writes regular files only. A device node, FIFO or
    socket at `path` is refused (a rename over /dev/null would replace the node); a symbolic link
    to a regular file gives its target, so the rename replaces the file and keeps the link."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise SiamMaskError(f"{what} {path}: a broken symbolic link; remove it or name another file") from None
        return path
    except OSError as exc:
        raise SiamMaskError(f"{what} {path}: cannot be checked ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise SiamMaskError(f"{what} {path}: is a folder")
    if not stat.S_ISREG(info.st_mode):
        kind = ("a FIFO" if stat.S_ISFIFO(info.st_mode) else "a socket" if stat.S_ISSOCK(info.st_mode)
                else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "not a regular file")
        raise SiamMaskError(f"{what} {path}: is {kind}; siammask writes only regular files")
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def temporary_sibling(path: Path) -> Path:
    """A hidden, unused name next to `path` with the same extension (writers pick the format by it).
    A name that is not valid UTF-8 is not repeated in it: native libraries crash on such names."""
    stem = path.name if encodable(path.name) else "output"
    return path.with_name(f".{stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")


def encodable(path: str | Path) -> bool:
    """Whether a path is valid UTF-8: Linux allows any bytes in a name, Python keeps the others as
    surrogates, and OpenCV's native code crashes (a segmentation fault) on such a string."""
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@contextmanager
def native_path(path: str | Path, writing: bool = False) -> Iterator[str]:
    """A name for `path` that native code (OpenCV, FFmpeg) can take while the block runs.

    A valid UTF-8 path is given as it is. Any other is reached through /proc/self/fd, an ASCII name
    for the same file (reading) or for the same folder (writing: the file's own name must then be
    valid UTF-8, as temporary_sibling's names are). Where /proc is absent it is refused by name.
    """
    path = Path(path)
    if encodable(path):
        yield str(path)
        return
    target = path.parent if writing else path
    if writing and not encodable(path.name):
        raise SiamMaskError(f"{os.fsencode(path)!r}: a file name that is not valid UTF-8 cannot be written")
    if not Path("/proc/self/fd").is_dir():
        raise SiamMaskError(f"{os.fsencode(path)!r}: the path is not valid UTF-8; rename it")
    try:
        fd = os.open(target, os.O_RDONLY | (os.O_DIRECTORY if writing else os.O_NONBLOCK))
    except OSError as exc:
        raise SiamMaskError(f"{os.fsencode(path)!r}: cannot be opened ({exc.strerror or exc})") from None
    try:
        yield f"/proc/self/fd/{fd}" + (f"/{path.name}" if writing else "")
    finally:
        os.close(fd)


def commit_file(tmp: Path, path: Path, what: str) -> None:
    """Rename a finished temporary file over `path`, checking once more that `path` is no device
    (something may have appeared there while the run went on) and giving it the umask's mode."""
    destination = regular_destination(path, what)
    os.chmod(tmp, 0o666 & ~current_umask())
    os.replace(tmp, destination)


@contextmanager
def atomic_file(path: str | Path, what: str) -> Iterator[Path]:
    """Yields a temporary path beside `path` for a writer that wants a file name (savefig,
    torch.save); it becomes `path` when the block ends cleanly and is removed otherwise. A failed
    write (disk full, a file-size limit, a read-only folder) becomes one SiamMaskError line."""
    final = regular_destination(path, what)
    tmp = temporary_sibling(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise SiamMaskError(f"{what} {path}: the writer wrote nothing")
        commit_file(tmp, final, what)
    except OSError as exc:
        raise SiamMaskError(f"{what} {path}: cannot be written ({exc.strerror or exc})") from None
    finally:
        tmp.unlink(missing_ok=True)


# What an input file may weigh before it is read at all: far above any real frame, ground truth,
# result or meta file, far below what would exhaust memory (a link to /dev/zero has no end).
MAX_IMAGE_BYTES = 1 << 30
MAX_TEXT_BYTES = 256 << 20


def check_input_file(path: str | Path, what: str, limit: int | None = None) -> os.stat_result:
    """Refuse by type before any read: a FIFO (which would block), a device (which may never end),
    a socket or a folder is not an input file; nor is one over `limit` bytes. `what` names the
    file in the message ("meta file ds/VOT2016.json")."""
    path = Path(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise SiamMaskError(f"{what}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = ("a folder" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode)
                else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "not a regular file")
        raise SiamMaskError(f"{what}: is {kind}, not a regular file")
    if limit is not None and info.st_size > limit:
        raise SiamMaskError(f"{what}: {info.st_size} bytes, more than the {size_text(limit)} an input may have")
    return info


def size_text(count: int) -> str:
    """A byte count as a message says it: '1 GiB', '256 MiB', '96 KiB', '100 bytes'."""
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if count >= 1 << shift:
            value = count / (1 << shift)
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{count} bytes"


def read_input(path: str | Path, what: str, limit: int = MAX_TEXT_BYTES) -> bytes:
    """The bytes of an input file, checked by `check_input_file` first. Only what the file holds is
    read (its size, then more in blocks should it grow), never more than `limit` bytes: a frame of
    3 KB takes 3 KB, not the cap's worth of address space, and a growing file cannot exhaust memory."""
    path = Path(path)
    check_input_file(path, what, limit)
    try:
        # O_NONBLOCK: should the file be swapped for a FIFO after the check, open does not hang
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb", buffering=0) as handle:
            info = os.fstat(fd)  # what was opened, not what was checked
            if not stat.S_ISREG(info.st_mode):
                raise SiamMaskError(f"{what}: not a regular file (it changed while being opened)")
            data = _read_at_most(handle, info.st_size, limit)
    except OSError as exc:
        raise SiamMaskError(f"{what}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(data) > limit:
        raise SiamMaskError(f"{what}: more than the {size_text(limit)} an input may have")
    return data


_READ_BLOCK = 1 << 20


def _read_at_most(handle: Any, size: int, limit: int) -> bytes:
    """Up to `limit` + 1 bytes of an open file whose size was `size`: one read of that size (plus a
    byte, to see growth), then blocks of 1 MiB while it goes on. The extra byte tells the caller
    that the file is over `limit`."""
    parts: list[bytes] = []
    total = 0
    want = min(size, limit) + 1
    while total <= limit:
        block = handle.read(min(want, limit + 1 - total))
        if not block:
            break
        parts.append(block)
        total += len(block)
        want = _READ_BLOCK
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_input_text(path: str | Path, what: str, limit: int = MAX_TEXT_BYTES) -> str:
    """An input text file (UTF-8, a BOM tolerated), checked as `read_input` checks."""
    data = read_input(path, what, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SiamMaskError(f"{what}: not UTF-8 text (byte {exc.start})") from None


# What one line of a per-frame text file (a region, a tag, a result) may weigh: a polygon of 8
# values takes under 100 bytes. A file far beyond this per frame is refused before it is read.
MAX_LINE_BYTES = 4096


def read_frame_lines(path: str | Path, what: str, frames: int, line_bytes: int = MAX_LINE_BYTES) -> list[str]:
    """The lines of a text input holding one line a frame (ground truth, tags, results) of a
    sequence of `frames` frames: refused unread when it weighs more than `line_bytes` a frame
    (a 100 MB ground truth for 12 frames), so that parsing it is bounded by the sequence."""
    limit = (frames + 1) * line_bytes
    size = check_input_file(path, what).st_size
    if size > limit:
        raise SiamMaskError(f"{what}: {size} bytes for {frames} frames, more than the "
                            f"{size_text(line_bytes)} a line may have")
    return read_input_text(path, what, limit).splitlines()


def check_new_file(path: str | Path, what: str, extensions: Iterable[str]) -> Path:
    """Refuse an unsupported extension, a missing folder, a folder or a non-regular file in the way,
    before any work."""
    path = Path(path)
    extensions = list(extensions)
    if path.suffix.lower() not in extensions:
        raise SiamMaskError(
            f"{what} {path}: unsupported extension {path.suffix or '(none)'!r} (use {', '.join(extensions)})"
        )
    if not path.parent.is_dir():
        raise SiamMaskError(f"{what} {path}: folder {path.parent} does not exist")
    # a link to a regular file gives its target: the temporary file must sit beside what is replaced
    return regular_destination(path, what)


def write_text_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`: a reader (or a
    resumed run) sees the old file or the whole new one, never half. OSErrors reach the caller,
    who names the file in its own words; the temporary file is removed whatever happens."""
    path = regular_destination(path, "file")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        commit_file(Path(tmp), path, "file")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(path: Path) -> None:
    """Delete what a killed run's write_text_atomically left beside `path` (hidden `.<name>.*.tmp`)."""
    if path.parent.is_dir():
        for tmp in path.parent.glob(f".{path.name}.*.tmp"):
            tmp.unlink(missing_ok=True)


def protected_folder(folder: str | Path) -> str | None:
    """Why `folder` may never be replaced whatever the flags say: the file system's root, the home
    folder, the current folder or one of its parents (deleting it would delete the user's work).
    None when it may be replaced."""
    target = Path(os.path.realpath(folder))
    cwd = Path(os.path.realpath(os.getcwd()))
    if target == Path(target.anchor):
        return "the root folder"
    if target == Path(os.path.realpath(Path.home())):
        return "the home folder"
    if target == cwd:
        return "the current folder"
    if target in cwd.parents:
        return "a parent of the current folder"
    return None


def check_output_folder(
    folder: str | Path, force: bool, owner_problem: Callable[[Path], str | None], option: str = "--output",
) -> bool:
    """May the command write `folder`? True when an existing folder will be replaced.

    A missing or empty folder is fine. A non-empty one needs `force`, and even then is replaced
    only when siammask wrote it (`owner_problem` returns None): --force never deletes files that
    another program or the user put there, nor the root, home, current or a parent folder.
    """
    folder = Path(folder)
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise SiamMaskError(f"{option} {folder}: exists and is not a folder")
    if not folder.exists():
        return False
    problem = protected_folder(folder)
    if problem:
        raise SiamMaskError(f"{option} {folder}: refusing to replace {problem}; name a new folder")
    try:
        empty = not any(folder.iterdir())
    except OSError as exc:
        raise SiamMaskError(f"{option} {folder}: cannot be read ({exc.strerror or exc})") from None
    if empty:
        return True
    if not force:
        raise SiamMaskError(f"{option} {folder}: exists and is not empty (use --force to replace it)")
    owner = owner_problem(folder)
    if owner:
        raise SiamMaskError(f"{option} {folder}: not replaced even with --force, siammask did not write it "
                            f"({owner})")
    return True


def unexpected_entries(folder: Path, expected: Iterable[str]) -> str | None:
    """None when `folder` holds only the `expected` names, else a phrase naming the first other one."""
    allowed = set(expected)
    others = sorted(p.name for p in folder.iterdir() if p.name not in allowed)
    if others:
        more = f" and {len(others) - 1} more" if len(others) > 1 else ""
        return f"it holds {others[0]!r}{more}, which siammask does not write there"
    return None


def staging_folder(output: Path) -> Path:
    """A new hidden folder beside `output` (`.<name>.*`, where a killed run's leftovers are looked
    for), to be filled and then renamed to `output` by `commit_folder`."""
    output.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))


def commit_folder(staging: Path, output: Path) -> None:
    """Rename a filled staging folder to `output`, which must be absent or an empty folder: the
    rename replaces an empty one in a single step and fails on one that is not empty, so files that
    appeared there meanwhile are never lost. The folder gets the umask's mode (mkdtemp makes 0700)."""
    os.chmod(staging, 0o777 & ~current_umask())
    staging.replace(output)


def remove_stale_staging(output: Path) -> None:
    """Delete the staging folders a killed run left beside `output` (hidden `.<name>.*`)."""
    if output.parent.is_dir():
        for stale in output.parent.glob(f".{output.name}.*"):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)


@contextmanager
def staged_folder(output: str | Path) -> Iterator[Path]:
    """A hidden folder beside `output` to fill; it replaces `output` only when the block ends
    without an error, so an interrupted export or quantization never leaves half a model.

    The caller has decided with `check_output_folder` that an existing `output` may go; it is moved
    aside first and deleted only once the new folder is in place (a failed rename puts it back).
    """
    output = Path(output)
    if output.exists() and (problem := protected_folder(output)):  # a last guard, whatever the caller did
        raise SiamMaskError(f"{output}: refusing to replace {problem}")
    staging = staging_folder(output)
    try:
        yield staging
        if not output.exists():
            commit_folder(staging, output)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{output.name}.old-", dir=output.parent))
        os.rmdir(old)
        os.rename(output, old)
        try:
            commit_folder(staging, output)
        except OSError:
            os.rename(old, output)
            raise
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def current_umask() -> int:
    """The process's umask (read by setting and restoring it: POSIX has no plain getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class CommitOnSuccess:
    """`with` support for writers that write to temporary files: `close()` (commit) when the block
    ends normally, `abort()` (leave the destination as it was) when it raises."""

    def close(self) -> Any:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
