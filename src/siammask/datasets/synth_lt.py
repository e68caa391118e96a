"""Deterministic synthetic long-term tracking sequences in the VOT2018-LT layout.

Why: long-term tracking is about the target disappearing and coming back, which `synth`'s
sequences never do. Here each sequence renders the same kind of textured target over the same
cluttered, panning background (synth.py's renderer), but the target goes away for 15-35 frames,
one way or the other, and comes back somewhere else:

- behind an opaque panel: a textured panel slides in from the side over the target, the target
  moves behind it to another place, the panel slides out and uncovers it there;
- out of the view: the target leaves through the nearest border and comes back through another.

A sequence of M frames holds as many absences as fit (at least one; frames >= MIN_FRAMES). The
ground truth is exact and derived from the rendered pixels: a frame where less than
ABSENT_VISIBLE of the target's area can be seen (covered or outside the frame) is absent and
written `nan,nan,nan,nan` as VOT2018-LT writes it; a partly visible target keeps its box (the
axis-aligned box of its rotated rectangle, clipped to the frame), x,y,w,h.

Layout written by `make_lt_dataset`::

    OUT/list.txt                    sequence names, one a line (lt00, lt01, ...)
    OUT/lt00/00000001.jpg ...       frames, JPEG, 1-based, 8 digits
    OUT/lt00/groundtruth.txt        x,y,w,h per frame (4 decimals), nan,nan,nan,nan when absent

Coordinates follow synth.py's (OpenCV: pixel (i, j)'s centre is the point (i, j)).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from siammask.datasets.synth import (
    _background,
    _check_output,
    _episodes,
    _finish_frame,
    _int_arg,
    _jpeg_writer,
    _paste_patch,
    _size_arg,
    _smooth_series,
    _target_texture,
)
from siammask.errors import SiamMaskError
from siammask.files import staged_folder, unexpected_entries
from siammask.io.ownership import RECORD, folder_problem, record_folder

__all__ = ["make_lt_dataset", "MIN_FRAMES", "ABSENT_VISIBLE"]

KIND = "synthetic VOT-LT dataset"  # in the .siammask record
ABSENT_VISIBLE = 0.01  # under 1 % of the target's area visible: absent
ABSENCE = (15, 31)  # planned hidden frames; the rendered count may run a few longer (kept <= 35)
FIRST_PRESENT = (10, 25)  # frames before the first absence
PRESENT = (12, 40)  # frames between two absences
MIN_AFTER = 10  # present frames after the last absence
RAMP = 6  # frames the target takes to leave or come back (or holds still while the panel slides)
MIN_FRAMES = FIRST_PRESENT[0] + ABSENCE[0] + MIN_AFTER + 2 * RAMP
PANEL_SLIDE = 6  # frames the panel takes to slide in or out


def make_lt_dataset(
    out_dir: str | os.PathLike[str],
    sequences: int = 3,
    frames: int = 120,
    size: tuple[int, int] = (320, 240),
    seed: int = 0,
    overwrite: bool = False,
) -> Path:
    """Write a synthetic VOT-LT dataset to `out_dir` and return its path.

    The same arguments give byte-identical files (numpy Generators seeded with (seed, sequence
    index)); built in a hidden folder and renamed into place, an existing dataset replaced only
    with `overwrite` and only when its .siammask record says synth wrote it, unchanged.
    """
    sequences = _int_arg("sequences", sequences, 1)
    frames = _int_arg("frames", frames, MIN_FRAMES)
    seed = _int_arg("seed", seed, 0)
    width, height = _size_arg(size)
    out = Path(out_dir)
    _check_output(out, overwrite, _owner_problem)
    try:
        with staged_folder(out) as tmp:
            names = [f"lt{i:02d}" for i in range(sequences)]
            for index, name in enumerate(names):
                (tmp / name).mkdir()
                rng = np.random.default_rng([seed, index, 27])  # 27: not synth's streams
                boxes = _render(rng, frames, width, height, _jpeg_writer(tmp / name))
                (tmp / name / "groundtruth.txt").write_text("".join(f"{_box_line(b)}\n" for b in boxes))
            (tmp / "list.txt").write_text("".join(f"{n}\n" for n in names))
            record_folder(tmp, KIND)
    except OSError as exc:
        raise SiamMaskError(f"cannot write dataset to {out}: {exc.strerror or exc}") from None
    return out


def _owner_problem(folder: Path) -> str | None:
    try:
        names = (folder / "list.txt").read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        return "no list.txt: not a dataset"
    return unexpected_entries(folder, ["list.txt", RECORD, *names]) or folder_problem(folder, KIND)


def _box_line(box: np.ndarray) -> str:
    if not np.all(np.isfinite(box)):
        return "nan,nan,nan,nan"
    return ",".join(f"{v:.4f}" for v in box)


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class _Absence:
    """One absence: the target holds or ramps around `hidden` = [start, stop) frames."""

    start: int
    stop: int
    kind: str  # "panel" or "out"


def _plan(rng: np.random.Generator, n: int) -> list[_Absence]:
    """Absences in time order: 6 frames of ramp each side, present stretches between them."""
    ramp = RAMP
    t = int(rng.integers(FIRST_PRESENT[0], min(FIRST_PRESENT[1], n - MIN_FRAMES + FIRST_PRESENT[0]) + 1))
    absences = []
    while True:
        start = t + ramp
        room = n - MIN_AFTER - ramp - start  # hidden frames that still leave the tail present
        if room < ABSENCE[0]:
            break
        length = int(rng.integers(ABSENCE[0], min(ABSENCE[1], room) + 1))
        absences.append(_Absence(start, start + length, "panel" if rng.uniform() < 0.5 else "out"))
        t = start + length + ramp + int(rng.integers(PRESENT[0], PRESENT[1] + 1))
    return absences


# --------------------------------------------------------------------------- motion


def _segment_paths(
    rng: np.random.Generator, n: int, width: int, height: int, reach: float, speed: float, count: int
) -> list[np.ndarray]:
    """`count` independent smooth paths over the whole timeline (one for each present stretch)."""
    paths = []
    for _ in range(count):
        path = np.empty((n, 2))
        for axis, extent in enumerate((width, height)):
            free = max(0.0, extent / 2 - reach)
            anchor = extent / 2 + rng.uniform(-0.6, 0.6) * free
            amp = min(free - abs(anchor - extent / 2), 0.25 * extent)
            min_period = max(40.0, 2 * math.pi * max(amp, 1.0) / speed)
            path[:, axis] = anchor + amp * _smooth_series(rng, n, 3, (min_period, 2.5 * min_period))
        paths.append(path)
    return paths


def _ramp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """`steps` points from a (exclusive) to b (inclusive), eased at both ends."""
    s = 0.5 - 0.5 * np.cos(np.pi * np.arange(1, steps + 1) / steps)
    return a + s[:, None] * (b - a)


def _outside(rng: np.random.Generator, p: np.ndarray, width: int, height: int, reach: float,
             nearest: bool) -> np.ndarray:
    """A point `reach` beyond a border: the nearest one to `p`, or a random one."""
    gaps = [p[0], width - p[0], p[1], height - p[1]]
    side = int(np.argmin(gaps)) if nearest else int(rng.integers(0, 4))
    q = p.copy() if nearest else np.array([rng.uniform(0, width), rng.uniform(0, height)])
    q[side // 2] = -reach if side % 2 == 0 else (width if side < 2 else height) + reach
    return q


@dataclass
class _Panel:
    """An opaque textured panel at `rest` (top-left) during frames [begin, end), sliding in and out."""

    texture: np.ndarray
    rest: np.ndarray
    begin: int
    end: int
    travel: np.ndarray  # offset from rest where it starts and ends (off the frame)

    def offset(self, t: int) -> np.ndarray | None:
        if not self.begin <= t < self.end:
            return None
        into = min(t - self.begin + 1, self.end - t) / PANEL_SLIDE
        return self.travel * (1.0 - min(1.0, into))


def _centres(
    rng: np.random.Generator, n: int, width: int, height: int, reach: float, speed: float,
    absences: list[_Absence], bg_hue: float,
) -> tuple[np.ndarray, list[_Panel]]:
    """The target's centre every frame and the panels that hide it."""
    paths = _segment_paths(rng, n, width, height, reach, speed, len(absences) + 1)
    centre = paths[0].copy()
    panels = []
    ramp = RAMP
    for k, absence in enumerate(absences):
        before, after = absence.start - ramp - 1, absence.stop + ramp  # last / first frame on a path
        p1 = centre[before]
        nxt = paths[k + 1]
        if absence.kind == "out":
            q1 = _outside(rng, p1, width, height, reach, nearest=True)
            q2 = _outside(rng, nxt[after], width, height, reach, nearest=False)
            centre[before + 1 : absence.start] = _ramp(p1, q1, ramp)
            centre[absence.start : absence.stop] = q1
            centre[absence.stop : after] = np.vstack([q2, _ramp(q2, nxt[after], ramp)[:-1]])
        else:
            # hide at p1, move behind the panel to p2, reappear there; the next path starts at p2
            # towards the middle, so that the new place stays in the frame
            heading = rng.uniform(-0.5, 0.5) + (0.0 if p1[0] < width / 2 else math.pi)
            shift = rng.uniform(1.0, 2.0) * reach * np.array([math.cos(heading), math.sin(heading)])
            p2 = np.clip(p1 + shift, [reach, reach], [width - reach, height - reach])
            nxt = nxt - nxt[after] + p2
            paths[k + 1] = nxt
            centre[before + 1 : absence.start] = p1
            centre[absence.start : absence.stop] = _ramp(p1, p2, absence.stop - absence.start)
            centre[absence.stop : after] = p2
            panels.append(_make_panel(rng, p1, p2, reach, width, height, absence, bg_hue))
        centre[after:] = nxt[after:]
    return centre, panels


def _make_panel(rng: np.random.Generator, p1: np.ndarray, p2: np.ndarray, reach: float, width: int,
                height: int, absence: _Absence, bg_hue: float) -> _Panel:
    top_left = np.minimum(p1, p2) - reach - 3.0
    bottom_right = np.maximum(p1, p2) + reach + 3.0
    ph, pw = (bottom_right - top_left)[::-1].astype(int) + 1
    hue = bg_hue + rng.uniform(-30, 30)
    texture = np.ascontiguousarray(_background(rng, int(ph), int(pw), hue))
    cv2.rectangle(texture, (0, 0), (int(pw) - 1, int(ph) - 1), (25.0, 25.0, 25.0), max(2, int(min(pw, ph)) // 20))
    # slides in from the side nearer to it and out the same way, fully covering by absence.start
    left = (p1[0] + p2[0]) / 2 < width / 2
    travel = np.array([-(bottom_right[0] + 2) if left else width - top_left[0] + 2, 0.0])
    # at rest over frames [start, stop): slides in during the frames before, out during those after
    return _Panel(texture, top_left, absence.start - PANEL_SLIDE + 1, absence.stop + PANEL_SLIDE - 1, travel)


# --------------------------------------------------------------------------- rendering


def _render(
    rng: np.random.Generator, n: int, width: int, height: int, sink: Callable[[int, np.ndarray], None]
) -> np.ndarray:
    """Render one sequence into `sink`; return its (n, 4) boxes, nan rows where absent."""
    short = min(width, height)
    bg_hue = rng.uniform(0, 180)
    target_hue = bg_hue + rng.choice([-1.0, 1.0]) * rng.uniform(55, 90)
    base = short * rng.uniform(0.16, 0.24)
    aspect = rng.uniform(0.6, 1.6)
    w0, h0 = base * math.sqrt(aspect), base / math.sqrt(aspect)
    max_log_scale = math.log(1.2)
    scale = np.exp(max_log_scale * _smooth_series(rng, n, 3, (50, 150)))
    angle = rng.uniform(-0.4, 0.4) + math.radians(rng.uniform(10, 40)) * _smooth_series(rng, n, 2, (60, 200))
    reach = 0.5 * math.hypot(w0, h0) * math.exp(max_log_scale)  # the largest half-diagonal
    absences = _plan(rng, n)
    centre, panels = _centres(rng, n, width, height, reach, 0.025 * short + 1.0, absences, bg_hue)

    pan = 0.15 * short
    margin = int(math.ceil(pan)) + 2
    camera = _episodes(rng, n, np.zeros(2), int(rng.integers(0, 3)), (15, 40), lambda r: r.uniform(-pan, pan, 2))
    gain = _episodes(rng, n, np.array(1.0), int(rng.integers(0, 3)), (10, 30), lambda r: r.uniform(0.8, 1.15))
    background = _background(rng, height + 2 * margin, width + 2 * margin, bg_hue)
    patch_w = max(8, math.ceil(w0 * math.exp(max_log_scale)))
    patch_h = max(8, math.ceil(h0 * math.exp(max_log_scale)))
    texture = _target_texture(rng, patch_h, patch_w, target_hue)
    patch_mask = np.ones((patch_h, patch_w), np.float32)

    corners_unit = np.array([[-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5], [0.5, 0.5]])
    boxes = np.full((n, 4), np.nan)
    for t in range(n):
        rot = np.array([[math.cos(angle[t]), -math.sin(angle[t])], [math.sin(angle[t]), math.cos(angle[t])]])
        w, h = w0 * scale[t], h0 * scale[t]
        shift = np.array([[1.0, 0.0, -(margin + camera[t, 0])], [0.0, 1.0, -(margin + camera[t, 1])]])
        frame = cv2.warpAffine(background, shift, (width, height), flags=cv2.INTER_LINEAR)
        frame, alpha = _paste_patch(frame, texture, patch_mask, centre[t], rot, (w, h))
        for panel in panels:
            frame, alpha = _cover(frame, alpha, panel, t)
        if float(alpha.sum()) >= ABSENT_VISIBLE * w * h:
            boxes[t] = _clipped_box(centre[t] + (corners_unit * [w, h]) @ rot.T, width, height)
        sink(t, _finish_frame(rng, frame, gain[t]))
    return boxes


def _cover(frame: np.ndarray, alpha: np.ndarray, panel: _Panel, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw `panel` at frame `t` (when it is in view) and take what it hides off the target's coverage."""
    offset = panel.offset(t)
    if offset is None:
        return frame, alpha
    height, width = frame.shape[:2]
    ph, pw = panel.texture.shape[:2]
    ones = np.ones((ph, pw), np.float32)
    pos = panel.rest + offset
    affine = np.array([[1.0, 0.0, pos[0]], [0.0, 1.0, pos[1]]])
    obj = cv2.warpAffine(panel.texture, affine, (width, height), flags=cv2.INTER_LINEAR)
    cover = cv2.warpAffine(ones, affine, (width, height), flags=cv2.INTER_LINEAR)[..., None]
    return frame + cover * (obj - frame), alpha * (1.0 - cover)


def _clipped_box(polygon: np.ndarray, width: int, height: int) -> np.ndarray:
    """x,y,w,h of the polygon's bounding box within the frame (pixel centres at integers)."""
    lo = np.maximum(polygon.min(axis=0), -0.5)
    hi = np.minimum(polygon.max(axis=0), [width - 0.5, height - 0.5])
    return np.array([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]])
