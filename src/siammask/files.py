"""File helpers shared by the writers: hashes, output-path checks, folders written atomically.

Kept free of torch and onnx so that the torch-free runtime can use every one of them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from siammask.errors import SiamMaskError


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_new_file(path: str | Path, what: str, extensions: Iterable[str]) -> Path:
    """Refuse an unsupported extension, a missing folder or a folder in the way, before any work."""
    path = Path(path)
    extensions = list(extensions)
    if path.suffix.lower() not in extensions:
        raise SiamMaskError(
            f"{what} {path}: unsupported extension {path.suffix or '(none)'!r} (use {', '.join(extensions)})"
        )
    if not path.parent.is_dir():
        raise SiamMaskError(f"{what} {path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise SiamMaskError(f"{what} {path}: is a folder")
    return path


def write_text_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`: a reader (or a
    resumed run) sees the old file or the whole new one, never half. OSErrors reach the caller,
    who names the file in its own words; the temporary file is removed whatever happens."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def staged_folder(output: str | Path) -> Iterator[Path]:
    """A hidden folder beside `output` to fill; it replaces `output` only when the block ends
    without an error, so an interrupted export or quantization never leaves half a model."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        yield staging
        if output.exists():
            shutil.rmtree(output)
        staging.replace(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise



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
