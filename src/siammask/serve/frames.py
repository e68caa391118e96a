"""A page's video frames by index: to seek on the timeline and to track backward from any frame.

A zip's frames are image files already. A video file is decoded once, when a frame other than the
first is first asked for, into lossless PNGs in the session's folder (each one's bytes counted in
the server's temporary budget as it is written), so every later read gives the decoded pixels
`siammask track` sees and a run from any frame needs no decoding from the start. A plain run from
frame 0 never needs them: it streams from the video as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from siammask.errors import SiamMaskError
from siammask.serve.videos import Video, preview_jpeg

PNG_LEVEL = 1  # fast: these files live as long as the page


class FrameReader:
    """Frames of `video` by index (`at`), in order from any frame (`numbered`), as page previews."""

    def __init__(self, video: Video) -> None:
        self.video = video
        self.folder: Path | None = video.path if video.path.is_dir() else None
        self.count: int | None = len(self._paths()) if self.folder is not None else None
        self._lock = threading.Lock()
        self._by_index: Callable[[int], np.ndarray] | None = None

    @property
    def indexed(self) -> bool:
        return self.folder is not None

    def index(self, folder: Callable[[], Path], charge: Callable[[Path, int], None],
              drop: Callable[[Path], None]) -> None:
        """Decode the video into PNGs in `folder()` once (a refusal by `charge` or a decoding error
        removes them by `drop` and is raised; the next call tries again)."""
        with self._lock:
            if self.folder is not None:
                return
            target = folder()
            try:
                count = 0
                for index, frame in enumerate(self._decoded()):
                    path = target / f"{index:06d}.png"
                    if not cv2.imwrite(str(path), frame, [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL]):
                        raise SiamMaskError(f"{self.video.name}: frame {index} could not be kept for seeking")
                    charge(target, path.stat().st_size)
                    count += 1
            except BaseException:
                drop(target)
                raise
            self.folder, self.count = target, count

    def _decoded(self) -> Iterator[np.ndarray]:
        from siammask.io.sources import open_source

        with open_source(self.video.path) as source:
            yield from source

    def _paths(self) -> list[Path]:
        from siammask.io.sources import list_images

        assert self.folder is not None
        return list_images(self.folder)

    def at(self, index: int) -> np.ndarray:
        """Frame `index` (once `index` was called), read as `siammask track` reads it backward."""
        from siammask.io.sources import FramesByIndex, ImageFolder

        assert self.folder is not None and self.count is not None
        if not 0 <= index < self.count:
            raise SiamMaskError(f"{self.video.name}: no frame {index} (it has {self.count})")
        if self._by_index is None:  # the folder listed once, not per frame
            self._by_index = FramesByIndex(ImageFolder(self.folder), 0, self.count - 1)
        return self._by_index(index)

    @contextmanager
    def numbered(self, first: int) -> Iterator[Iterator[tuple[int, np.ndarray]]]:
        """(index, frame) pairs from `first` on: the PNGs when decoded, else the video streamed."""
        from siammask.io.sources import ImageFolder, frames_from, open_source

        source = ImageFolder(self.folder) if self.folder is not None else open_source(self.video.path)
        with source:
            yield frames_from(source, first)

    def preview(self, index: int) -> bytes:
        """Frame `index` as the page shows it (the first one is the video's preview)."""
        return self.video.preview if index == 0 else preview_jpeg(self.at(index))
