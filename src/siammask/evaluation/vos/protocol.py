"""The reference's video-object-segmentation protocol (tools/test.py `track_vos`, --mask --refine).

Each object starts on frame 0 from the bounding rectangle of its first-frame mask (cv2.boundingRect
x, y, w, h; centre x + w/2, y + h/2, size w, h) and is never re-initialised. The first-frame masks
stand as frame 0's prediction. Every later frame's label map is, per pixel, the object whose mask
probability is highest where that maximum exceeds seg_thr, else background (what --save_mask
writes).

The reference tracks each object in its own pass over the video; here all K objects of a sequence
go through one MultiTracker, so each frame costs one batched engine call per stage. The objects'
states never mix (each keeps its own kernels, position and size), so the result is that of K
separate passes.

Labels: the reference writes `argmax + 1`, i.e. the object's index + 1; we write the object's id,
which is the same for DAVIS's ids 1..K and stays right for ids with gaps.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from siammask.engine_contract import Engine
from siammask.errors import SiamMaskError
from siammask.tracking.config import TrackerConfig
from siammask.tracking.mask import label_map
from siammask.tracking.tracker import MultiTracker, TrackResult, check_target_count


@dataclass(frozen=True)
class VosFrame:
    """One frame of a sequence: its label map and, on tracked frames, each object's result."""

    index: int
    labels: np.ndarray  # uint8 h x w: 0 background, else the object's id
    results: list[TrackResult] | None  # None on frame 0 (the first-frame masks stand)
    seconds: float  # tracker time for this frame (all objects)


def object_box(first_labels: np.ndarray, object_id: int) -> tuple[int, int, int, int]:
    """x, y, w, h of the bounding rectangle of `object_id`'s pixels, as cv2.boundingRect gives it."""
    mask = (first_labels == object_id).astype(np.uint8)
    if not mask.any():
        raise SiamMaskError(f"object {object_id} has no pixel in the first frame's annotation")
    x, y, w, h = cv2.boundingRect(mask)
    return int(x), int(y), int(w), int(h)


def first_frame_labels(first_labels: np.ndarray, object_ids: Sequence[int]) -> np.ndarray:
    """Frame 0's prediction: the annotation itself, restricted to the tracked objects."""
    labels = np.asarray(first_labels)
    return np.where(np.isin(labels, list(object_ids)), labels, 0).astype(np.uint8)


def merge_objects(labels: np.ndarray) -> np.ndarray:
    """DAVIS 2016 mode: every object merged into one (id 1), as the reference binarises."""
    return (np.asarray(labels) > 0).astype(np.uint8)


def _read(frame: str | np.ndarray) -> np.ndarray:
    if isinstance(frame, np.ndarray):
        return frame
    from siammask.io.sources import read_image

    return read_image(str(frame))


def start_tracker(
    engine: Engine, config: TrackerConfig, frame: np.ndarray, first_labels: np.ndarray, object_ids: Sequence[int]
) -> MultiTracker:
    """A MultiTracker holding every object of `object_ids`, started from their first-frame masks."""
    if len(object_ids) == 0:
        raise SiamMaskError("no object to track: the first frame's annotation is empty")
    if len(set(object_ids)) != len(object_ids):
        raise SiamMaskError(f"object ids repeat: {list(object_ids)}")
    first_labels = np.asarray(first_labels)
    if first_labels.shape != frame.shape[:2]:
        raise SiamMaskError(
            f"annotation {first_labels.shape[1]}x{first_labels.shape[0]} differs from the frame's "
            f"{frame.shape[1]}x{frame.shape[0]}"
        )
    tracker = MultiTracker(engine, config)
    tracker.init(frame, [object_box(first_labels, int(i)) for i in object_ids])
    return tracker


def track_sequence_vos(
    engine: Engine, config: TrackerConfig, frames: Iterable[str | np.ndarray], first_labels: np.ndarray,
    object_ids: Sequence[int],
) -> Iterator[VosFrame]:
    """Run the VOS protocol over `frames` (paths or BGR arrays), yielding each frame's label map.

    `first_labels` is frame 0's annotation (object ids, 0 background); `object_ids` the objects to
    track, in the order the reference tracks them (ascending ids), which decides ties.
    """
    ids = [int(i) for i in object_ids]
    check_target_count(len(ids), "objects")  # before any frame is read (MultiTracker checks again)
    tracker: MultiTracker | None = None
    for index, item in enumerate(frames):
        frame = _read(item)
        start = time.perf_counter()
        if tracker is None:
            tracker = start_tracker(engine, config, frame, first_labels, ids)
            seconds = time.perf_counter() - start
            yield VosFrame(index, first_frame_labels(first_labels, ids), None, seconds)
            continue
        results = tracker.track(frame)
        masks = [r.mask for r in results]
        assert tracker.image_size is not None and all(m is not None for m in masks)
        labels = label_map(masks, ids, config.seg_thr, tracker.image_size)  # type: ignore[arg-type]
        yield VosFrame(index, labels, results, time.perf_counter() - start)
    if tracker is None:
        raise SiamMaskError("the sequence has no frames")
