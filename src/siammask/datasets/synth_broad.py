"""A broad synthetic training generator (DAVIS layout), separate from `siammask synth`'s renderer.

Why: a model trained on one renderer learns that renderer (the old embedded default tracked
synth.py's textured rectangles and little else). This generator draws what synth.py never does,
so that synth.py's sequences (and synth_lt's, built on the same renderer) stay held-out data from
a generator the training never saw:

- shapes: ellipses, random polygons, blobs with irregular outlines, stars, rounded boxes; soft
  (blurred) or hard edges; most with inner parts of other colours (strokes, small shapes), as real
  objects have;
- textures: smooth noise at several scales, 1/f ("natural image") noise, stripes, checks, linear
  gradients, mixed through random palettes of 2-3 colours;
- backgrounds of the same families with clutter shapes, and distractor objects, some drawn with
  the target's own palette and shape (labelled as objects of their own: a hard negative for the
  others);
- changes of scale, aspect and rotation along smooth paths; objects that leave the view and come
  back; opaque occluders (unlabelled) sliding over the scene; lighting that drifts over time;
  motion blur.

Every frame's label map is exact: the visible pixels of each object (an object covered by an
occluder or outside the frame is absent there, as DAVIS marks it). Layout::

    OUT/JPEGImages/480p/broad00/00000.jpg ...     frames
    OUT/Annotations/480p/broad00/00000.png ...    palette PNGs: 0 background, k the k-th object
    OUT/ImageSets/2017/train.txt, 2016/train.txt  the sequence names
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import cv2
import numpy as np

from siammask.datasets.synth import JPEG_QUALITY, _check_output, _int_arg, _size_arg
from siammask.errors import SiamMaskError
from siammask.files import staged_folder, unexpected_entries
from siammask.io.ownership import RECORD, folder_problem, record_folder
from siammask.tracking.labelmaps import write_label_png

KIND = "broad synthetic DAVIS dataset"  # in the .siammask record
SHAPES = ("ellipse", "polygon", "blob", "star", "rounded")
TEXTURES = ("noise", "pink", "stripes", "checks", "gradient")
MIN_PIXELS = 25  # an object smaller than this on the first frame is left unlabelled
PATCH = 96  # side of an object's shape and texture before it is warped into the frame
PARTS_SHARE = 0.6  # objects (targets, distractors, clutter) painted with inner parts


def make_broad_dataset(
    out_dir: str | os.PathLike[str], sequences: int = 40, frames: int = 50, size: tuple[int, int] = (320, 240),
    objects: int = 3, seed: int = 0, overwrite: bool = False,
) -> Path:
    """Write a broad synthetic DAVIS-layout training set to `out_dir` and return its path.

    Each sequence holds 1..`objects` labelled objects (tracks), plus unlabelled occluders and
    clutter. The same arguments give the same files (numpy Generators seeded with (seed, index)).
    Built in a hidden folder and renamed into place; an existing `out_dir` is replaced only with
    `overwrite` and only when this module wrote it."""
    sequences = _int_arg("sequences", sequences, 1)
    frames = _int_arg("frames", frames, 2)
    objects = _int_arg("objects", objects, 1)
    seed = _int_arg("seed", seed, 0)
    width, height = _size_arg(size)
    out = Path(out_dir)
    _check_output(out, overwrite, _owner_problem)
    try:
        with staged_folder(out) as tmp:
            names = [f"broad{i:02d}" for i in range(sequences)]
            for index, name in enumerate(names):
                rng = np.random.default_rng([seed, index])
                count = int(rng.integers(1, objects + 1))
                _write_sequence(tmp, name, rng, frames, width, height, count)
            for year in ("2016", "2017"):
                (tmp / "ImageSets" / year).mkdir(parents=True)
                (tmp / "ImageSets" / year / "train.txt").write_text("".join(f"{n}\n" for n in names))
            record_folder(tmp, KIND)
    except OSError as exc:
        raise SiamMaskError(f"cannot write dataset to {out}: {exc.strerror or exc}") from None
    return out


def _owner_problem(folder: Path) -> str | None:
    return (unexpected_entries(folder, ["JPEGImages", "Annotations", "ImageSets", RECORD])
            or folder_problem(folder, KIND))


# --------------------------------------------------------------------------- textures


def _smooth(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """Noise in [0, 1] with about `cells` blobs across: a random grid resized bicubically."""
    grid = rng.uniform(0, 1, (max(2, cells), max(2, cells))).astype(np.float32)
    return np.clip(cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC), 0, 1)


def _pink(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """1/f^a noise (a in 1..2, as natural images' spectra fall), scaled to [0, 1]."""
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    spectrum = (rng.standard_normal(f.shape) + 1j * rng.standard_normal(f.shape)) / f ** rng.uniform(1.0, 2.0)
    field = np.fft.irfft2(spectrum, s=(height, width))
    field -= field.min()
    return (field / max(field.max(), 1e-9)).astype(np.float32)


def _field(rng: np.random.Generator, kind: str, height: int, width: int) -> np.ndarray:
    """A scalar pattern in [0, 1] of one texture family."""
    if kind == "noise":
        a = _smooth(rng, height, width, int(rng.integers(2, 6)))
        b = _smooth(rng, height, width, int(rng.integers(8, 30)))
        return 0.6 * a + 0.4 * b
    if kind == "pink":
        return _pink(rng, height, width)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, math.pi)
    u = xx * math.cos(angle) + yy * math.sin(angle)
    v = -xx * math.sin(angle) + yy * math.cos(angle)
    period = rng.uniform(5, 30)
    if kind == "stripes":
        wave = np.sin(2 * math.pi * u / period)
        return (0.5 + 0.5 * np.tanh(rng.uniform(0.5, 6) * wave)).astype(np.float32)
    if kind == "checks":
        return ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
    return (u - u.min()) / max(float(np.ptp(u)), 1e-6)  # gradient


def _palette(rng: np.random.Generator, base_hue: float | None = None) -> np.ndarray:
    """2-3 BGR colours (float32 0-255) from a random hue family (or around `base_hue`)."""
    hue = rng.uniform(0, 180) if base_hue is None else base_hue
    n = int(rng.integers(2, 4))
    hsv = np.stack([
        np.mod(hue + rng.uniform(-30, 30, n), 180),
        rng.uniform(0, 255, n), rng.uniform(20, 255, n),
    ], axis=1)
    return cv2.cvtColor(hsv.astype(np.uint8)[None], cv2.COLOR_HSV2BGR)[0].astype(np.float32)


def _texture(rng: np.random.Generator, height: int, width: int, palette: np.ndarray) -> np.ndarray:
    """A BGR texture: one or two pattern families mapped through the palette."""
    field = _field(rng, str(rng.choice(TEXTURES)), height, width)
    if rng.uniform() < 0.5:  # a second family on top, so textures mix scales
        field = 0.65 * field + 0.35 * _field(rng, str(rng.choice(TEXTURES)), height, width)
    stops = np.linspace(0, 1, len(palette))
    return np.stack([np.interp(field, stops, palette[:, c]) for c in range(3)], axis=-1).astype(np.float32)


# --------------------------------------------------------------------------- shapes


def _shape(rng: np.random.Generator, kind: str, side: int = PATCH) -> np.ndarray:
    """A float32 alpha mask (0..1) of one shape filling most of a side x side patch."""
    mask = np.zeros((side, side), np.uint8)
    c, r = (side - 1) / 2, 0.46 * side
    if kind == "ellipse":
        cv2.ellipse(mask, (round(c), round(c)), (round(r), round(r * rng.uniform(0.4, 1))), 0, 0, 360, 1, -1)
    elif kind in ("polygon", "star", "blob"):
        n = {"polygon": int(rng.integers(3, 9)), "star": 2 * int(rng.integers(4, 7)), "blob": 48}[kind]
        angles = np.sort(rng.uniform(0, 2 * math.pi, n)) if kind == "polygon" else np.arange(n) * 2 * math.pi / n
        if kind == "star":
            radii = np.where(np.arange(n) % 2 == 0, r, r * rng.uniform(0.35, 0.6))
        elif kind == "blob":  # a radius that wanders smoothly around the outline
            k = np.arange(1, 5)[:, None]
            phase, amp = rng.uniform(0, 2 * math.pi, (4, 1)), rng.uniform(0, 0.15, (4, 1))
            radii = r * (0.75 + (amp * np.sin(k * angles[None] + phase)).sum(0))
        else:
            radii = r * rng.uniform(0.6, 1.0, n)
        points = np.stack([c + radii * np.cos(angles), c + radii * np.sin(angles)], axis=1)
        cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
    else:  # rounded box
        inset, corner = round(side * 0.06), round(side * rng.uniform(0.05, 0.25))
        cv2.rectangle(mask, (inset + corner, inset), (side - 1 - inset - corner, side - 1 - inset), 1, -1)
        cv2.rectangle(mask, (inset, inset + corner), (side - 1 - inset, side - 1 - inset - corner), 1, -1)
        for x in (inset + corner, side - 1 - inset - corner):
            for y in (inset + corner, side - 1 - inset - corner):
                cv2.circle(mask, (x, y), corner, 1, -1)
    alpha = mask.astype(np.float32)
    if rng.uniform() < 0.5:  # a soft outline
        alpha = cv2.GaussianBlur(alpha, (0, 0), rng.uniform(0.8, 2.5))
    return alpha


# --------------------------------------------------------------------------- motion


def _path(rng: np.random.Generator, n: int, low: float, high: float, leaves: bool) -> np.ndarray:
    """A smooth 1-D path of n values, mostly within [low, high]; may run past it when `leaves`."""
    t = np.arange(n) / max(n - 1, 1)
    x = rng.uniform(low, high) + np.zeros(n)
    for k in range(1, 4):
        x += (high - low) * rng.uniform(-0.25, 0.25) / k * np.sin(2 * math.pi * k * rng.uniform(0.3, 1.2) * t
                                                                  + rng.uniform(0, 2 * math.pi))
    if leaves:  # an excursion out of the view and back
        centre, width = rng.uniform(0.3, 0.8), rng.uniform(0.1, 0.3)
        bump = np.exp(-0.5 * ((t - centre) / (width / 2)) ** 2)
        x += np.sign(rng.uniform(-1, 1)) * (high - low) * 1.2 * bump
    return x


def _paint_parts(rng: np.random.Generator, texture: np.ndarray, alpha: np.ndarray) -> None:
    """Paint 1-5 parts of other colours inside an object's outline (in place): decals, windows,
    limbs. Why: real objects are made of parts with strong inner edges, and a model that never saw
    one fits its box to the most salient part instead of the whole outline."""
    side = texture.shape[0]
    inside = np.argwhere(alpha > 0.5)
    if not len(inside):  # a sliver of a shape: nothing to paint on
        return
    for _ in range(int(rng.integers(1, 6))):
        y, x = inside[int(rng.integers(len(inside)))]
        colour = _palette(rng)
        if rng.uniform() < 0.4:  # a rod or stroke
            part = np.zeros((side, side), np.float32)
            length, angle = rng.uniform(0.15, 0.5) * side, rng.uniform(0, math.pi)
            dx, dy = 0.5 * length * math.cos(angle), 0.5 * length * math.sin(angle)
            cv2.line(part, (round(x - dx), round(y - dy)), (round(x + dx), round(y + dy)), 1.0,
                     int(rng.integers(2, max(3, side // 10))))
            paint = np.broadcast_to(colour[int(rng.integers(len(colour)))], texture.shape)
        else:  # a small textured shape
            small = int(rng.integers(side // 8, side // 3))
            shape = _shape(rng, str(rng.choice(SHAPES)), small)
            part = np.zeros((side, side), np.float32)
            y0, x0 = max(0, y - small // 2), max(0, x - small // 2)
            piece = shape[: side - y0, : side - x0]
            part[y0 : y0 + piece.shape[0], x0 : x0 + piece.shape[1]] = piece
            paint = np.zeros_like(texture)
            paint[y0 : y0 + piece.shape[0], x0 : x0 + piece.shape[1]] = _texture(rng, small, small, colour)[
                : piece.shape[0], : piece.shape[1]]
        part = part * alpha  # parts stay inside the outline, so the label map is unchanged
        texture[:] = texture * (1 - part[..., None]) + paint * part[..., None]


class _Object:
    """A textured shape moving along smooth paths of position, scale, aspect and rotation."""

    def __init__(self, rng: np.random.Generator, n: int, width: int, height: int, palette: np.ndarray,
                 kind: str, leaves: bool, size: float) -> None:
        self.alpha = _shape(rng, kind)
        self.texture = _texture(rng, PATCH, PATCH, palette)
        if rng.uniform() < PARTS_SHARE:
            _paint_parts(rng, self.texture, self.alpha)
        if rng.uniform() < 0.5:  # a dark or light rim, as real outlines often have
            edge = cv2.dilate((self.alpha > 0.5).astype(np.uint8), np.ones((3, 3), np.uint8)) - cv2.erode(
                (self.alpha > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8))
            self.texture[edge > 0] = rng.choice([25.0, 230.0])
        t = np.arange(n) / max(n - 1, 1)
        self.x = _path(rng, n, 0.2 * width, 0.8 * width, leaves and rng.uniform() < 0.6)
        self.y = _path(rng, n, 0.2 * height, 0.8 * height, leaves and rng.uniform() < 0.4)
        self.scale = size / PATCH * np.exp(rng.uniform(-0.5, 0.5) * np.sin(2 * math.pi * rng.uniform(0.2, 1) * t
                                                                            + rng.uniform(0, 6.3)))
        self.aspect = np.exp(rng.uniform(-0.5, 0.5) + rng.uniform(-0.2, 0.2) * np.sin(6 * t + rng.uniform(0, 6.3)))
        self.angle = rng.uniform(0, 360) + rng.uniform(-120, 120) * t

    def warp(self, t: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """(texture, alpha) of frame t in frame pixels."""
        c = (PATCH - 1) / 2
        a = math.radians(self.angle[t])
        sx, sy = self.scale[t] * math.sqrt(self.aspect[t]), self.scale[t] / math.sqrt(self.aspect[t])
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) @ np.diag([sx, sy])
        affine = np.hstack([rot, (np.array([self.x[t], self.y[t]]) - rot @ [c, c])[:, None]])
        tex = cv2.warpAffine(self.texture, affine, (width, height), flags=cv2.INTER_LINEAR)
        alpha = cv2.warpAffine(self.alpha, affine, (width, height), flags=cv2.INTER_LINEAR)
        return tex, alpha


def _write_sequence(root: Path, name: str, rng: np.random.Generator, n: int, width: int, height: int,
                    count: int) -> None:
    frame_dir = root / "JPEGImages" / "480p" / name
    anno_dir = root / "Annotations" / "480p" / name
    frame_dir.mkdir(parents=True)
    anno_dir.mkdir(parents=True)
    short = min(width, height)
    margin = short // 4
    background = _texture(rng, height + 2 * margin, width + 2 * margin, _palette(rng))
    for _ in range(int(rng.integers(4, 16))):  # clutter: small unlabelled shapes painted on
        piece = _Object(rng, 1, width + 2 * margin, height + 2 * margin, _palette(rng),
                        str(rng.choice(SHAPES)), False, short * rng.uniform(0.05, 0.25))
        tex, alpha = piece.warp(0, width + 2 * margin, height + 2 * margin)
        background = background * (1 - alpha[..., None]) + tex * alpha[..., None]
    pan = np.stack([_path(rng, n, -margin * 0.8, margin * 0.8, False) for _ in range(2)], axis=1)
    target_hue = rng.uniform(0, 180)
    target_kind = str(rng.choice(SHAPES))
    labelled = []
    for k in range(count):
        # object 1's look; later ones resemble it (same hue family and shape) half of the time
        similar = k > 0 and rng.uniform() < 0.5
        palette = _palette(rng, target_hue if (k == 0 or similar) else None)
        kind = target_kind if (k == 0 or similar) else str(rng.choice(SHAPES))
        labelled.append(_Object(rng, n, width, height, palette, kind, rng.uniform() < 0.3,
                                short * rng.uniform(0.15, 0.45)))
    occluders = [_Object(rng, n, width, height, _palette(rng), str(rng.choice(SHAPES)), True,
                         short * rng.uniform(0.2, 0.6)) for _ in range(int(rng.integers(0, 3)))]
    light = 1 + 0.3 * _path(rng, n, -0.5, 0.5, False)  # drifting exposure
    tilt = 0.8 + 0.4 * _smooth(rng, height, width, 2)  # and a spatial light gradient
    blur_frames = rng.uniform(size=n) < rng.uniform(0, 0.3)

    def render(t: int) -> tuple[np.ndarray, np.ndarray]:
        shift = np.array([[1.0, 0.0, -(margin + pan[t, 0])], [0.0, 1.0, -(margin + pan[t, 1])]])
        frame = cv2.warpAffine(background, shift, (width, height), flags=cv2.INTER_LINEAR)
        labels = np.zeros((height, width), np.uint8)
        for k, obj in enumerate(labelled):  # later objects in front
            tex, alpha = obj.warp(t, width, height)
            frame = frame * (1 - alpha[..., None]) + tex * alpha[..., None]
            labels[alpha > 0.5] = k + 1
        for occ in occluders:
            tex, alpha = occ.warp(t, width, height)
            frame = frame * (1 - alpha[..., None]) + tex * alpha[..., None]
            labels[alpha > 0.5] = 0
        return frame * (light[t] * tilt)[..., None], labels

    # DAVIS numbers the objects of the first frame 1..K: an object not seen there is drawn but unlabelled
    seen = np.bincount(render(0)[1].ravel(), minlength=count + 1)[1:] >= MIN_PIXELS
    if not seen.any():  # nothing to track from frame 0: the occluders start elsewhere
        occluders.clear()
        first = labelled[0]  # and the first object starts in the middle of the view
        first.x, first.y = first.x + width / 2 - first.x[0], first.y + height / 2 - first.y[0]
        seen = np.bincount(render(0)[1].ravel(), minlength=count + 1)[1:] >= MIN_PIXELS
    relabel = np.zeros(256, np.uint8)
    relabel[1 : count + 1][seen] = np.arange(1, int(seen.sum()) + 1)
    for t in range(n):
        frame, labels = render(t)
        labels = relabel[labels]
        if blur_frames[t]:
            frame = _motion_blur(rng, frame)
        frame = frame + rng.normal(0, rng.uniform(1, 6), frame.shape)
        image = np.clip(np.rint(frame), 0, 255).astype(np.uint8)
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise SiamMaskError(f"JPEG encoding failed for frame {t} of {name}")
        (frame_dir / f"{t:05d}.jpg").write_bytes(buf.tobytes())
        write_label_png(anno_dir / f"{t:05d}.png", labels)


def _motion_blur(rng: np.random.Generator, frame: np.ndarray) -> np.ndarray:
    """A linear blur of random direction and length, as a fast camera or object moves."""
    length = int(rng.integers(3, 10))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), float(rng.uniform(0, 180)), 1.0)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    return cv2.filter2D(frame.astype(np.float32), -1, kernel / max(float(kernel.sum()), 1e-6))
