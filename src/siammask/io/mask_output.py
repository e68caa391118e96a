"""Masks out of `track`: per-frame label maps (DAVIS's palette PNGs) and COCO RLE.

A label map holds target k as k + 1 (0 background): per pixel the target whose mask probability is
highest where it exceeds the tracker's seg_thr, as the reference's --save_mask writes for several
objects. Frame 0 carries the given regions (no mask is predicted there): each target's box or
polygon filled, an earlier target winning where they overlap, as ties go on later frames. A target
the tracker judges absent (TrackResult.present False) takes no pixel: its label is missing from that
frame's map, and the other targets' pixels are decided without it.

The label-map folder is filled hidden beside its final place and renamed when the run ends, so a run
that fails half-way leaves no folder that looks finished.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from siammask.errors import SiamMaskError
from siammask.files import CommitOnSuccess, commit_folder, staging_folder
from siammask.tracking.labelmaps import write_label_png
from siammask.tracking.mask import label_map
from siammask.tracking.tracker import TrackResult

_SUBPIXEL_BITS = 4  # cv2.fillPoly's fixed point: polygons filled to 1/16 px


def region_mask(result: TrackResult, image_size: tuple[int, int]) -> np.ndarray:
    """A target's whole-frame uint8 mask: its mask above seg_thr (all zeros when absent), or (init
    frame) its region filled."""
    if result.mask is not None:
        return result.binary_mask()
    width, height = image_size
    out = np.zeros((height, width), dtype=np.uint8)
    if not result.present:
        return out
    corners = np.round(np.asarray(result.polygon, dtype=np.float64).reshape(-1, 2) * (1 << _SUBPIXEL_BITS))
    cv2.fillPoly(out, [corners.astype(np.int32)], 1, lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
    return out


def frame_labels(results: Sequence[TrackResult], image_size: tuple[int, int]) -> np.ndarray:
    """One frame's label map of K targets (target k -> k + 1)."""
    if len(results) > 255:
        raise SiamMaskError(f"a label map holds at most 255 targets, got {len(results)}")
    if all(r.mask is not None for r in results):
        shown = [(r.mask, k + 1) for k, r in enumerate(results) if r.present]  # absent: no pixel
        masks, labels = [m for m, _ in shown], [label for _, label in shown]
        return label_map(masks, labels, results[0].seg_thr, image_size)  # type: ignore[arg-type]
    width, height = image_size
    out = np.zeros((height, width), dtype=np.uint8)
    for k in range(len(results) - 1, -1, -1):  # earlier targets drawn last: they win overlaps
        out[region_mask(results[k], image_size) > 0] = k + 1
    return out


def rle(mask: np.ndarray) -> dict[str, Any]:
    """COCO run-length encoding of a binary mask: {"size": [h, w], "counts": str} (pycocotools)."""
    from pycocotools import mask as coco_mask

    encoded = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in encoded["size"]], "counts": encoded["counts"].decode("ascii")}


def check_masks_folder(path: str | os.PathLike[str]) -> Path:
    """Refuse, before any tracking, a --masks folder that cannot be made or would replace files."""
    folder = Path(path)
    if not folder.parent.is_dir():
        raise SiamMaskError(f"--masks {folder}: folder {folder.parent} does not exist")
    if folder.exists() and not folder.is_dir():
        raise SiamMaskError(f"--masks {folder}: is a file")
    if folder.is_dir() and any(folder.iterdir()):
        raise SiamMaskError(f"--masks {folder}: the folder is not empty (choose a new or empty one)")
    if not os.access(folder.parent, os.W_OK | os.X_OK):
        raise SiamMaskError(f"--masks {folder}: {folder.parent} is not writable")
    return folder


class LabelMapWriter(CommitOnSuccess):
    """Writes `<frame>.png` (00000.png, ...) per frame into a hidden folder; `close()` renames it
    to `folder`, `abort()` removes it."""

    def __init__(self, folder: str | os.PathLike[str], image_size: tuple[int, int]) -> None:
        self.folder = check_masks_folder(folder)
        self.image_size = image_size
        self.frames_written = 0
        self._stage: Path | None = staging_folder(self.folder)

    def write(self, frame: int, results: Sequence[TrackResult], init: bool = False) -> None:
        if self._stage is None:
            raise SiamMaskError(f"--masks {self.folder}: already closed")
        try:
            write_label_png(self._stage / f"{frame:05d}.png", frame_labels(results, self.image_size))
        except OSError as exc:
            self.abort()
            raise SiamMaskError(f"--masks {self.folder}: cannot be written ({exc.strerror or exc})") from None
        self.frames_written += 1

    def close(self) -> list[Path]:
        if self._stage is None:
            return [self.folder]
        try:
            commit_folder(self._stage, self.folder)  # over the empty folder checked at the start
        except OSError as exc:
            self.abort()
            raise SiamMaskError(f"--masks {self.folder}: cannot be written ({exc.strerror or exc})") from None
        self._stage = None
        return [self.folder]

    def abort(self) -> None:
        if self._stage is not None:
            shutil.rmtree(self._stage, ignore_errors=True)
        self._stage = None
