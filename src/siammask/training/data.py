"""Training pairs: two frames of one target, cropped as the tracker crops them, with their labels.

A *track* is one target through one sequence: a VOT sequence (its region each frame: box or
polygon) or one object of a DAVIS sequence (its label map, on the annotated frames where it is
present). A pair is a template frame and a search frame at most `max_gap` apart; the exemplar
(127) is cut around the template box and the search crop (255) around the search box after a
random shift and scale, with `siammask.tracking.crop.crop_subwindow`, so the network sees what it sees when
tracking. Every draw comes from the generator passed in, so a pair depends only on its seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from siammask.errors import SiamMaskError
from siammask.io.sources import read_image
from siammask.model.network import SEARCH_SIZE, TEMPLATE_SIZE
from siammask.tracking.crop import crop_subwindow
from siammask.tracking.geometry import axis_aligned_box, check_start_box

CONTEXT = 0.5  # the tracker's context_amount
HIDDEN = 0.3  # visible fraction under which an occluded target counts as absent


@dataclass(frozen=True)
class Augment:
    """Jitter of the crops (fractions of the crop) and of the pixels; the authors' magnitudes."""

    template_shift: float = 4.0  # exemplar-crop pixels
    template_scale: float = 0.05
    search_shift: float = 64.0  # search-crop pixels: the target need not sit at the centre
    search_scale: float = 0.18
    blur: float = 0.18  # probability of a Gaussian blur of the search crop
    colour: float = 0.1  # std of the per-channel gain
    # probability that an occluder (a patch of another place in the crop) covers part of the
    # target in the search crop; when under HIDDEN of the target stays visible, the pair is a
    # negative (the tracker must not find what cannot be seen)
    occlude: float = 0.15


@dataclass(frozen=True)
class Track:
    """One target in one sequence. `boxes[t]` is (cx, cy, w, h), NaN where the target is absent."""

    name: str
    frames: tuple[Path, ...]
    boxes: np.ndarray
    regions: np.ndarray | None = None  # VOT regions (T, 4 or 8): the mask is the filled region
    labels: tuple[Path | None, ...] | None = None  # DAVIS label maps; the mask is labels == object
    object_id: int = 1
    size: tuple[int, int] | None = None  # (width, height) of every frame; the boxes are within it

    @property
    def usable(self) -> np.ndarray:
        return np.flatnonzero(np.isfinite(self.boxes[:, 0]))

    def mask(self, t: int) -> np.ndarray | None:
        """Frame t's label-map mask (uint8 0/1), or None for VOT tracks (drawn in the crop)."""
        if self.labels is None:
            return None
        from siammask.datasets.davis import read_palette_png

        return object_mask(read_palette_png(self.labels[t]), self.object_id)  # type: ignore[arg-type]


def object_mask(labels: np.ndarray, object_id: int) -> np.ndarray:
    """uint8 0/1 mask of one object (object_id < 0: every object, DAVIS 2016); void is background."""
    from siammask.datasets.davis import VOID_LABEL

    hit = (labels > 0) if object_id < 0 else (labels == object_id)
    return (hit & (labels != VOID_LABEL)).astype(np.uint8)


@dataclass
class Pair:
    """Network inputs and the target in the search crop."""

    exemplar: np.ndarray  # 127x127x3 float32 BGR, 0-255 (after colour jitter)
    search: np.ndarray  # 255x255x3 float32
    box: np.ndarray  # target cx, cy, w, h in search-crop pixels, relative to the crop centre
    mask: np.ndarray  # 255x255 uint8 0/1: the target in the search crop
    negative: bool = False  # the target is not in the search crop: every anchor is background


def vot_tracks(dataset: object) -> list[Track]:
    """Tracks of a VOT dataset (siammask.datasets.vot.Dataset), every frame's size and box
    checked before any work, as `eval` and `track` check them: all frames the first one's size
    (read from their headers), each box within the bounds a tracker starts from
    (siammask.tracking.geometry.check_start_box: a pixel a side, at most ten times the frame,
    overlapping it), so a hostile box never becomes a crop of hundreds of GiB."""
    tracks = []
    for seq in dataset:  # type: ignore[attr-defined]
        size = frame_sizes(seq.name, seq.frames)
        boxes = np.array([axis_aligned_box(r) for r in seq.groundtruth], dtype=np.float64)
        for line, box in enumerate(boxes, 1):
            try:
                check_start_box(tuple(box), size)
            except SiamMaskError as exc:
                raise SiamMaskError(f"sequence {seq.name}: groundtruth.txt line {line}: {exc}") from None
        tracks.append(Track(seq.name, tuple(seq.frames), boxes, regions=seq.groundtruth, size=size))
    return tracks


def frame_sizes(name: str, frames: Sequence[Path]) -> tuple[int, int]:
    """The frames' common (width, height), from their headers; a frame of another size is refused."""
    from siammask.io.sources import check_image_pixels

    first: tuple[int, int] | None = None
    for frame in frames:
        size = check_image_pixels(frame, f"sequence {name}: frame {frame}")
        if first is None:
            first = size
        elif size != first:
            raise SiamMaskError(f"sequence {name}: frame {frame.name} is {size[0]}x{size[1]} but the first frame "
                                f"is {first[0]}x{first[1]}: all frames of a sequence must have the same size")
    if first is None:
        raise SiamMaskError(f"sequence {name}: no frames")
    return first


def davis_tracks(dataset: object) -> list[Track]:
    """One track per object of each DAVIS sequence; boxes are the masks' bounding boxes."""
    from siammask.datasets.davis import read_palette_png

    tracks = []
    for seq in dataset:  # type: ignore[attr-defined]
        maps = {t: read_palette_png(p) for t, p in enumerate(seq.annotations) if p is not None}
        for obj in seq.object_ids:
            boxes = np.full((len(seq), 4), np.nan)
            for t, labels in maps.items():
                ys, xs = np.nonzero(object_mask(labels, -1 if seq.merge_objects else obj))
                if len(xs):
                    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
                    boxes[t] = ((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0)
            tracks.append(Track(f"{seq.name}/{obj}", seq.frames, boxes, labels=seq.annotations,
                                object_id=-1 if seq.merge_objects else obj, size=seq.size))
    if not any(len(t.usable) for t in tracks):
        raise SiamMaskError("the DAVIS dataset's label maps hold no object to train on")
    return tracks


def check_pairable(tracks: list[Track]) -> list[Track]:
    """The tracks with two frames to pair; none at all is an error."""
    good = [t for t in tracks if len(t.usable) >= 2]
    if not good:
        raise SiamMaskError("no sequence of the training set has two frames with the target: "
                            "a training pair needs two")
    return good


def exemplar_side(w: float, h: float) -> float:
    """The tracker's exemplar crop side in frame pixels (context around the box)."""
    context = CONTEXT * (w + h)
    return float(np.sqrt((w + context) * (h + context)))


def _read(track: Track, t: int) -> np.ndarray:
    """Frame t, refused when its size is not the track's (the file changed since it was checked)."""
    image = read_image(track.frames[t], "training frame")
    if track.size is not None and (image.shape[1], image.shape[0]) != track.size:
        raise SiamMaskError(f"sequence {track.name}: frame {track.frames[t].name} is {image.shape[1]}x"
                            f"{image.shape[0]} but the first frame is {track.size[0]}x{track.size[1]}: all "
                            "frames of a sequence must have the same size")
    return image


def _crop_map(center: np.ndarray, side: float, out: int) -> tuple[float, float, float]:
    """(x0, y0, k): frame pixel x -> crop pixel (x - x0 + 0.5) * k - 0.5, as crop_subwindow cuts."""
    size = int(side)
    half = (side + 1) / 2
    return float(int(round(center[0] - half))), float(int(round(center[1] - half))), out / size


def _jitter_colour(crop: np.ndarray, rng: np.random.Generator, std: float) -> np.ndarray:
    gain = 1.0 + std * rng.standard_normal(3)
    return np.clip(crop.astype(np.float32) * gain.astype(np.float32), 0, 255)


def _exemplar(track: Track, t: int, rng: np.random.Generator, aug: Augment) -> np.ndarray:
    """The template frame's exemplar crop, barely jittered (the tracker's init box is exact)."""
    z_frame = _read(track, t)
    side_z = exemplar_side(*track.boxes[t, 2:])
    cz = track.boxes[t, :2] + rng.uniform(-1, 1, 2) * aug.template_shift * side_z / TEMPLATE_SIZE
    side_z *= 1 + rng.uniform(-1, 1) * aug.template_scale
    return crop_subwindow(z_frame, cz, TEMPLATE_SIZE, side_z, np.mean(z_frame, axis=(0, 1)))


def _search_window(box: np.ndarray, rng: np.random.Generator, aug: Augment) -> tuple[np.ndarray, float]:
    """(centre, side) of a search crop around `box` (cx, cy, w, h), shifted and scaled at random."""
    side_x = exemplar_side(*box[2:]) * SEARCH_SIZE / TEMPLATE_SIZE * (1 + rng.uniform(-1, 1) * aug.search_scale)
    return np.asarray(box[:2], float) - rng.uniform(-1, 1, 2) * aug.search_shift * side_x / SEARCH_SIZE, side_x


def _finish(exemplar: np.ndarray, search: np.ndarray, box: np.ndarray, mask: np.ndarray, negative: bool,
            rng: np.random.Generator, aug: Augment) -> Pair:
    """Blur and colour jitter, as every pair gets them."""
    if rng.random() < aug.blur:
        search = cv2.GaussianBlur(search, (0, 0), rng.uniform(0.5, 1.5))
    return Pair(_jitter_colour(exemplar, rng, aug.colour), _jitter_colour(search, rng, aug.colour), box,
                (mask > 0).astype(np.uint8), negative)


def make_pair(track: Track, rng: np.random.Generator, max_gap: int, aug: Augment) -> Pair:
    """One augmented pair from `track` (every random draw from `rng`)."""
    usable = track.usable
    t = int(usable[rng.integers(len(usable))])
    near = usable[(np.abs(usable - t) <= max_gap) & (usable != t)]
    s = int(near[rng.integers(len(near))]) if len(near) else t
    exemplar = _exemplar(track, t, rng, aug)
    x_frame = _read(track, s)
    # search: crop centred off the target, at a jittered scale, as a moving target is searched for
    cx, cy, w, h = track.boxes[s]
    centre, side_x = _search_window(track.boxes[s], rng, aug)
    fill = np.mean(x_frame, axis=(0, 1))
    search = crop_subwindow(x_frame, centre, SEARCH_SIZE, side_x, fill)
    x0, y0, k = _crop_map(centre, side_x, SEARCH_SIZE)
    mid = (SEARCH_SIZE - 1) / 2
    box = np.array([(cx - x0 + 0.5) * k - 0.5 - mid, (cy - y0 + 0.5) * k - 0.5 - mid, w * k, h * k])
    frame_mask = track.mask(s)
    if frame_mask is not None:
        mask = crop_subwindow(frame_mask[..., None], centre, SEARCH_SIZE, side_x, np.zeros(1))
        mask = mask.reshape(SEARCH_SIZE, SEARCH_SIZE)
    else:  # VOT: the region (polygon or box) filled in crop pixels, 1/16-pixel precise
        region = track.regions[s]  # type: ignore[index]
        if len(region) == 4:
            rx, ry, rw, rh = region
            region = np.array([rx, ry, rx + rw, ry, rx + rw, ry + rh, rx, ry + rh])
        pts = np.stack([(region[0::2] - x0 + 0.5) * k - 0.5, (region[1::2] - y0 + 0.5) * k - 0.5], axis=1)
        mask = np.zeros((SEARCH_SIZE, SEARCH_SIZE), np.uint8)
        cv2.fillPoly(mask, [np.round(pts * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    negative = False
    if aug.occlude > 0 and rng.random() < aug.occlude:
        search, mask, box, negative = _occlude(search, (mask > 0).astype(np.uint8), box, rng)
    return _finish(exemplar, search, box, mask, negative, rng, aug)


def _occlude(search: np.ndarray, mask: np.ndarray, box: np.ndarray, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Cover part (or all) of the target with a patch cut from elsewhere in the crop. The mask
    keeps the visible part and the box becomes its bounding box; under HIDDEN visible, negative."""
    mid = (SEARCH_SIZE - 1) / 2
    cx, cy, w, h = box[0] + mid, box[1] + mid, box[2], box[3]
    pw, ph = w * rng.uniform(0.4, 1.4), h * rng.uniform(0.4, 1.4)
    # the occluder's centre: somewhere over the target, so it covers from a sliver to all of it
    ox, oy = cx + rng.uniform(-0.6, 0.6) * w, cy + rng.uniform(-0.6, 0.6) * h
    x0, y0 = int(round(ox - pw / 2)), int(round(oy - ph / 2))
    x1, y1 = int(round(ox + pw / 2)), int(round(oy + ph / 2))
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, SEARCH_SIZE), min(y1, SEARCH_SIZE)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return search, mask, box, False
    # the patch: the crop's own pixels from a random place of the same size (background-like texture)
    sx = int(rng.integers(0, SEARCH_SIZE - (x1 - x0) + 1))
    sy = int(rng.integers(0, SEARCH_SIZE - (y1 - y0) + 1))
    search = search.copy()
    search[y0:y1, x0:x1] = search[sy : sy + y1 - y0, sx : sx + x1 - x0].copy()
    before = int(mask.sum())
    mask = mask.copy()
    mask[y0:y1, x0:x1] = 0
    if before == 0 or mask.sum() < HIDDEN * before:
        return search, mask, box, True
    ys, xs = np.nonzero(mask)
    vx0, vx1, vy0, vy1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    return search, mask, np.array([(vx0 + vx1 - 1) / 2 - mid, (vy0 + vy1 - 1) / 2 - mid, vx1 - vx0, vy1 - vy0]), False


def make_negative(track: Track, others: Sequence[Track], rng: np.random.Generator, max_gap: int,
                  aug: Augment) -> Pair:
    """A template of `track` against a search crop without it (DaSiamRPN's negative pairs): a frame
    of `track` where the target is absent (covered or out of the view), cropped where it was last
    seen, as the tracker searches; else a frame of another sequence's track, cropped at a random place
    at the template's scale. Every anchor is background; no box or mask is learnt."""
    usable = track.usable
    t = int(usable[rng.integers(len(usable))])
    exemplar = _exemplar(track, t, rng, aug)
    absent = np.flatnonzero(~np.isfinite(track.boxes[:, 0]))
    near = absent[np.abs(absent - t) <= max_gap]
    folder = track.frames[0].parent
    strangers = [o for o in others if o.frames[0].parent != folder]
    if len(near) and (not strangers or rng.random() < 0.5):
        s = int(near[rng.integers(len(near))])
        last = usable[np.argmin(np.abs(usable - s))]  # where the tracker last saw it
        frame = _read(track, s)
        centre, side_x = _search_window(track.boxes[last], rng, aug)
    elif strangers:
        other = strangers[int(rng.integers(len(strangers)))]
        s = int(other.usable[rng.integers(len(other.usable))])
        frame = _read(other, s)
        height, width = frame.shape[:2]
        centre = np.array([rng.uniform(0, width), rng.uniform(0, height)])
        _, side_x = _search_window(track.boxes[t], rng, aug)
    else:  # nothing without the target: a positive pair instead
        return make_pair(track, rng, max_gap, aug)
    search = crop_subwindow(frame, centre, SEARCH_SIZE, side_x, np.mean(frame, axis=(0, 1)))
    empty = np.zeros((SEARCH_SIZE, SEARCH_SIZE), np.uint8)
    return _finish(exemplar, search, np.full(4, np.nan), empty, True, rng, aug)
