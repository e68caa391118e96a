"""Deterministic synthetic tracking sequences in the VOT2016 directory layout.

Why this exists: tests and the demo need a dataset that is small, free to redistribute, made on the
spot and identical on every machine, yet laid out exactly like VOT2016 so that the same loader,
tracker and evaluation code run on it as on the real benchmark. Each sequence shows one textured,
coloured rectangle moving along a smooth random path, rotating and changing size over a textured,
cluttered background, with camera pans, mild illumination changes and sometimes an occluder
passing in front of it. Because everything is generated, the ground truth is exact and every
per-frame attribute tag is computed from the motion that was actually rendered.

Layout written by `make_dataset`::

    OUT/list.txt                    sequence names, one a line (synth00, synth01, ...)
    OUT/synth00/00000001.jpg ...    frames, JPEG, 1-based, 8 digits
    OUT/synth00/groundtruth.txt     x1,y1,x2,y2,x3,y3,x4,y4 per frame (rotated rectangle, 4 decimals)
    OUT/synth00/<attribute>.tag     one 0/1 per frame for camera_motion, illum_change,
                                    motion_change, size_change and occlusion
    OUT/synth00/anchor.value        VOT2020's anchors (multistart): 1 forward / -1 backward / 0 a frame

Coordinates follow OpenCV: the centre of pixel (column i, row j) is the point (i, j), so the
rectangle's edges lie half a pixel outside the outermost pixel centres it covers.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from siammask.datasets.vot import TAG_NAMES
from siammask.errors import SiamMaskError
from siammask.evaluation.vot.results import MaskRegion, format_mask_region
from siammask.files import check_output_folder, staged_folder, unexpected_entries
from siammask.io.ownership import RECORD, folder_problem, record_folder

__all__ = ["make_dataset"]

MIN_SIZE = 64
MAX_SIZE = 4096
JPEG_QUALITY = 90

# Tag thresholds. Attributes describe change over a short window of recent frames, so that one
# smooth but sustained change is tagged over its whole course and not only on a single frame.
TAG_WINDOW = 5  # frames looked back for size, motion and illumination changes
SIZE_CHANGE_AREA_RATIO = 1.15  # area now vs TAG_WINDOW frames ago, either direction
MOTION_CHANGE_PX = 1.0  # |velocity now - velocity TAG_WINDOW frames ago|, pixels per frame
ILLUM_CHANGE_REL = 0.05  # relative change of the global gain over TAG_WINDOW frames
CAMERA_MOTION_PX = 0.5  # background shift between consecutive frames, pixels
OCCLUSION_FRACTION = 0.10  # share of the target's visible area covered by the occluder
ANCHOR_SPACING = 10  # frames between anchors (VOT2020 spaces them ~50 apart in far longer sequences)


@dataclass(frozen=True)
class _Truth:
    """The per-frame truth one sequence was rendered from."""

    polygons: np.ndarray  # (T, 4, 2) rectangle corners
    tags: dict[str, np.ndarray]  # name -> (T,) uint8
    masks: list[MaskRegion]  # the target's visible pixels (the occluder's taken out), each frame; [] unasked


KIND = "synthetic VOT dataset"  # in the .siammask record


def make_dataset(
    out_dir: str | os.PathLike[str],
    sequences: int = 3,
    frames: int = 60,
    size: tuple[int, int] = (320, 240),
    seed: int = 0,
    overwrite: bool = False,
    masks: bool = False,
) -> Path:
    """Write a synthetic VOT2016-style dataset to `out_dir` and return its path; `masks`: the
    ground truth is the target's visible pixels as vot-toolkit's mask lines (VOT2020 on), the same
    frames otherwise.

    `size` is (width, height). The same arguments always give byte-identical files: every random
    draw comes from a numpy Generator seeded with (seed, sequence index), so a sequence does not
    change when more sequences are asked for, and nothing depends on time or the machine's state.

    The dataset is built in a hidden temporary directory beside `out_dir` and renamed into place
    at the end, so an interrupted run leaves no half-written dataset behind. An existing non-empty
    `out_dir` is refused unless `overwrite` is true; even then it is only replaced when it holds a
    `list.txt`, so that a mistyped path cannot wipe an unrelated directory.

    Raises SiamMaskError for invalid arguments or an output path that cannot be used.
    """
    sequences = _int_arg("sequences", sequences, 1)
    frames = _int_arg("frames", frames, 2)
    seed = _int_arg("seed", seed, 0)
    width, height = _size_arg(size)

    out = Path(out_dir)
    _check_output(out, overwrite)
    try:
        # built in a hidden folder beside `out`, renamed into place whole (an old dataset moved
        # aside first and deleted only once the new one is there)
        with staged_folder(out) as tmp:
            names = [f"synth{i:02d}" for i in range(sequences)]
            for index, name in enumerate(names):
                rng = np.random.default_rng([seed, index])
                _write_sequence(tmp / name, rng, frames, width, height, masks)
            (tmp / "list.txt").write_text("".join(f"{n}\n" for n in names))
            record_folder(tmp, KIND)  # what --force may replace later: this, unchanged
    except OSError as exc:
        raise SiamMaskError(f"cannot write dataset to {out}: {exc.strerror or exc}") from None
    return out


# --------------------------------------------------------------------------- argument checks


def _int_arg(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise SiamMaskError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise SiamMaskError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _size_arg(size: object) -> tuple[int, int]:
    try:
        width, height = size  # type: ignore[misc]
    except (TypeError, ValueError):
        raise SiamMaskError(f"size must be (width, height), got {size!r}") from None
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise SiamMaskError(f"size {name} must be an integer, got {value!r}")
        if not MIN_SIZE <= value <= MAX_SIZE:
            raise SiamMaskError(f"size {name} must be between {MIN_SIZE} and {MAX_SIZE}, got {value}")
    return int(width), int(height)


def _check_output(
    out: Path, overwrite: bool, owner_problem: Callable[[Path], str | None] | None = None,
) -> bool:
    """Refuse unusable outputs before any work (every synthetic layout's rule; `owner_problem` says
    whether a folder there is one this generator may replace, default synth's own); return whether
    an existing directory is replaced."""
    if not out.name or out.name in (".", ".."):
        raise SiamMaskError(f"output must name a directory, got {str(out)!r}")
    return check_output_folder(out, overwrite, owner_problem or _dataset_owner_problem, option="output")


def _dataset_owner_problem(folder: Path) -> str | None:
    """None for a dataset synth wrote: list.txt and the sequences it lists, only, and at every
    depth exactly the files its .siammask record lists (a user's own VOT dataset has none)."""
    try:
        names = (folder / "list.txt").read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        return "no list.txt: not a dataset"
    return unexpected_entries(folder, ["list.txt", RECORD, *names]) or folder_problem(folder, KIND)


# --------------------------------------------------------------------------- writing


def make_mask_dataset(
    out_dir: str | os.PathLike[str], sequences: int = 3, frames: int = 60, size: tuple[int, int] = (320, 240),
    seed: int = 0, overwrite: bool = False,
) -> Path:
    """make_dataset's sequences with mask ground truth (VOT2020 on): `siammask synth --layout vot2020`."""
    return make_dataset(out_dir, sequences, frames, size, seed, overwrite, masks=True)


def _write_sequence(seq_dir: Path, rng: np.random.Generator, n: int, width: int, height: int,
                    masks: bool = False) -> None:
    """Render one sequence, writing each frame as soon as it exists so memory stays flat."""
    seq_dir.mkdir()
    truth = _render_sequence(rng, n, width, height, _jpeg_writer(seq_dir), masks)
    lines = (format_mask_region(m) for m in truth.masks) if masks else (
        ",".join(f"{v:.4f}" for v in poly.reshape(-1)) for poly in truth.polygons)
    (seq_dir / "groundtruth.txt").write_text("".join(f"{line}\n" for line in lines))
    for name in TAG_NAMES:
        (seq_dir / f"{name}.tag").write_text("".join(f"{int(v)}\n" for v in truth.tags[name]))
    # an anchor every ANCHOR_SPACING frames: forward in the sequence's first half, backward after
    anchors = [0 if i % ANCHOR_SPACING else 1 if 2 * i < n else -1 for i in range(n)]
    (seq_dir / "anchor.value").write_text("".join(f"{a}\n" for a in anchors))


def _jpeg_writer(seq_dir: Path) -> Callable[[int, np.ndarray], None]:
    """A sink writing frame `index` (0-based) of `seq_dir` as 8-digit 1-based JPEG."""

    def write_frame(index: int, frame: np.ndarray) -> None:
        # cv2.imencode is cv2.imwrite's encoder without its path handling, so non-ASCII output
        # paths work too; BGR input, libjpeg output, deterministic for identical pixels.
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise SiamMaskError(f"JPEG encoding failed for frame {index + 1} of {seq_dir.name}")
        (seq_dir / f"{index + 1:08d}.jpg").write_bytes(buf.tobytes())

    return write_frame


# --------------------------------------------------------------------------- random signals


def _smooth_series(rng: np.random.Generator, n: int, terms: int, period: tuple[float, float]) -> np.ndarray:
    """Sum of random sinusoids, scaled into [-1, 1].

    Normalising by the sum of amplitudes bounds the value by 1 and the slope by 2*pi/period_min,
    which is what keeps the target inside the frame and its speed trackable without clipping.
    """
    t = np.arange(n, dtype=np.float64)
    amps = rng.uniform(0.3, 1.0, terms)
    periods = rng.uniform(period[0], period[1], terms)
    phases = rng.uniform(0.0, 2.0 * np.pi, terms)
    waves = amps[:, None] * np.sin(2.0 * np.pi * t[None, :] / periods[:, None] + phases[:, None])
    return waves.sum(axis=0) / amps.sum()


def _episodes(
    rng: np.random.Generator,
    n: int,
    start: np.ndarray,
    count: int,
    duration: tuple[int, int],
    draw: Callable[[np.random.Generator], object],
) -> np.ndarray:
    """A value that stays put except for `count` smooth (raised-cosine) moves to new random levels.

    Used for camera pans and lighting changes: realistic footage alternates calm stretches with
    changes, which is also what gives the corresponding tags both 0s and 1s. Each move happens in
    its own slot of the timeline, so moves never overlap and the value never leaves the range that
    `draw` samples from (the background canvas margin relies on that).
    """
    start = np.asarray(start, dtype=np.float64)
    values = np.repeat(start[None], n, axis=0)
    slot = (n - 1) // max(count, 1)
    if count == 0 or slot < 2:
        return values
    steps = np.arange(n)
    current = start
    for k in range(count):
        length = int(rng.integers(duration[0], duration[1] + 1))
        length = min(length, slot - 1)
        begin = 1 + k * slot + int(rng.integers(0, slot - length))
        target = np.asarray(draw(rng), dtype=np.float64)
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.clip((steps - begin) / length, 0.0, 1.0))
        values = values + ramp.reshape((n,) + (1,) * start.ndim) * (target - current)
        current = target
    return values


def _noise(rng: np.random.Generator, height: int, width: int, cells: int, channels: int = 1) -> np.ndarray:
    """Smooth noise in about [-1, 1]: a coarse random grid upsampled with bicubic interpolation."""
    aspect = width / height
    gh = max(2, round(cells / math.sqrt(aspect)))
    gw = max(2, round(cells * math.sqrt(aspect)))
    grid = rng.uniform(-1.0, 1.0, (gh + 2, gw + 2, channels)).astype(np.float32)
    up = cv2.resize(grid, (width + 2 * width // gw, height + 2 * height // gh), interpolation=cv2.INTER_CUBIC)
    oy, ox = height // gh, width // gw  # drop the border cells, where cubic upsampling flattens out
    up = up.reshape(up.shape[0], up.shape[1], channels)[oy : oy + height, ox : ox + width]
    return np.clip(up, -1.0, 1.0)


def _hsv_to_bgr(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """OpenCV HSV (hue 0..180) float planes to a BGR float32 image."""
    hsv = np.stack([np.mod(h, 180.0), np.clip(s, 0, 255), np.clip(v, 0, 255)], axis=-1)
    return cv2.cvtColor(np.rint(hsv).astype(np.uint8), cv2.COLOR_HSV2BGR).astype(np.float32)


# --------------------------------------------------------------------------- textures


def _background(rng: np.random.Generator, height: int, width: int, hue: float) -> np.ndarray:
    """Low-frequency coloured noise plus mid-frequency detail and random clutter shapes.

    Clutter gives the tracker edges and corners to be distracted by; it stays in the background's
    colour family (or grey) so the coloured target is always clearly the salient object.
    """
    h = hue + 14.0 * _noise(rng, height, width, 5)[..., 0]
    s = 75.0 + 40.0 * _noise(rng, height, width, 7)[..., 0]
    v = 135.0 + 55.0 * _noise(rng, height, width, 6)[..., 0] + 18.0 * _noise(rng, height, width, 40)[..., 0]
    img = _hsv_to_bgr(h, s, v)
    area = width * height
    for _ in range(int(area / 6000) + 4):
        colour = _hsv_to_bgr(
            np.array([[hue + rng.uniform(-20, 20)]]),
            np.array([[rng.uniform(0, 110)]]),
            np.array([[rng.uniform(40, 230)]]),
        )[0, 0].tolist()
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        extent = int(rng.integers(4, max(6, min(width, height) // 6)))
        kind = int(rng.integers(0, 3))
        if kind == 0:
            cv2.rectangle(img, (cx, cy), (cx + extent, cy + int(extent * rng.uniform(0.3, 1.5))), colour, -1)
        elif kind == 1:
            axes = (extent, max(2, int(extent * rng.uniform(0.3, 1.0))))
            cv2.ellipse(img, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
        else:
            end = (cx + int(rng.integers(-3, 4)) * extent, cy + int(rng.integers(-3, 4)) * extent)
            cv2.line(img, (cx, cy), end, colour, int(rng.integers(1, 4)), cv2.LINE_AA)
    return cv2.GaussianBlur(img, (3, 3), 0)


def _target_texture(rng: np.random.Generator, height: int, width: int, hue: float) -> np.ndarray:
    """A saturated, colourful patch with smooth variation and a few high-contrast marks.

    The marks give the patch internal structure (so rotation and scale are observable), and its
    saturation and hue, far from the background's, make it easy to tell apart.
    """
    h = hue + 12.0 * _noise(rng, height, width, 3)[..., 0]
    s = 200.0 + 45.0 * _noise(rng, height, width, 3)[..., 0]
    v = 170.0 + 60.0 * _noise(rng, height, width, 4)[..., 0] + 12.0 * _noise(rng, height, width, 16)[..., 0]
    img = np.ascontiguousarray(_hsv_to_bgr(h, s, v))
    short = min(width, height)
    for _ in range(int(rng.integers(2, 5))):
        colour = _hsv_to_bgr(
            np.array([[hue + 90.0 + rng.uniform(-25, 25)]]),
            np.array([[rng.uniform(60, 255)]]),
            np.array([[rng.choice([40.0, 245.0])]]),
        )[0, 0].tolist()
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        if rng.uniform() < 0.5:
            axes = (int(rng.integers(2, max(3, short // 3))), int(rng.integers(2, max(3, short // 4))))
            cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
        else:
            end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.line(img, centre, end, colour, max(1, short // 10), cv2.LINE_AA)
    # A dark rim marks the object's boundary, as real objects' silhouettes usually do.
    rim = max(1, short // 24)
    cv2.rectangle(img, (0, 0), (width - 1, height - 1), (30.0, 30.0, 30.0), rim)
    return img


# --------------------------------------------------------------------------- rendering


def _render_sequence(
    rng: np.random.Generator, n: int, width: int, height: int, sink: Callable[[int, np.ndarray], None],
    masks: bool = False,
) -> _Truth:
    """Draw one sequence's motion, render its frames into `sink` and derive its tags from the motion;
    `masks`: the target's visible pixels too (only the vot2020 layout writes them)."""
    short = min(width, height)
    bg_hue = rng.uniform(0, 180)
    target_hue = bg_hue + rng.choice([-1.0, 1.0]) * rng.uniform(55, 90)

    # Object geometry: base size, aspect, and scale/rotation/position over time.
    base = short * rng.uniform(0.16, 0.26)
    aspect = rng.uniform(0.6, 1.6)
    w0, h0 = base * math.sqrt(aspect), base / math.sqrt(aspect)
    max_log_scale = math.log(1.3)
    scale = np.exp(max_log_scale * _smooth_series(rng, n, 3, (50, 150)))
    angle = rng.uniform(-0.5, 0.5) + math.radians(rng.uniform(20, 60)) * _smooth_series(rng, n, 2, (60, 200))

    # Keep the centre at least 80% of the largest half-diagonal from the border: corners may poke
    # out briefly when the rectangle is diagonal and large, but it stays mostly inside.
    half_diag = 0.5 * math.hypot(w0, h0) * math.exp(max_log_scale)
    max_speed = 0.025 * short + 1.0  # px/frame; 7 px at 240 rows, easily trackable
    centre = np.empty((n, 2))
    for axis, extent in enumerate((width, height)):
        amp = max(0.0, extent / 2 - 0.8 * half_diag)
        min_period = max(40.0, 2 * math.pi * amp / max_speed)
        centre[:, axis] = extent / 2 + amp * _smooth_series(rng, n, 3, (min_period, 2.5 * min_period))

    # Camera pans: a background canvas larger than the frame, viewed at a moving offset.
    pan = 0.2 * short
    margin = int(math.ceil(pan)) + 2
    camera = _episodes(
        rng, n, np.zeros(2), int(rng.integers(0, 3)), (15, 40), lambda r: r.uniform(-pan, pan, 2)
    )
    gain = _episodes(rng, n, np.array(1.0), int(rng.integers(0, 3)), (10, 30), lambda r: r.uniform(0.75, 1.2))
    background = _background(rng, height + 2 * margin, width + 2 * margin, bg_hue)

    patch_w = max(8, math.ceil(w0 * math.exp(max_log_scale)))
    patch_h = max(8, math.ceil(h0 * math.exp(max_log_scale)))
    texture = _target_texture(rng, patch_h, patch_w, target_hue)
    patch_mask = np.ones((patch_h, patch_w), np.float32)

    # An occluder crossing the target's path in about half the sequences, never on frame 1.
    occluder = None
    if n >= 20 and rng.uniform() < 0.5:
        t_mid = int(rng.integers(int(0.4 * n), int(0.8 * n)))
        direction = rng.uniform(0, 2 * math.pi)
        velocity = rng.uniform(3, 5) * np.array([math.cos(direction), math.sin(direction)])
        radius = 0.3 * min(w0, h0) * rng.uniform(0.8, 1.2)
        grey = float(rng.uniform(60, 200))
        occluder = (t_mid, centre[t_mid].copy(), velocity, radius, grey)

    corners_unit = np.array([[-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5], [0.5, 0.5]])
    polygons = np.empty((n, 4, 2))
    occluded = np.zeros(n)
    visible_masks = []
    for t in range(n):
        cos_a, sin_a = math.cos(angle[t]), math.sin(angle[t])
        rot = np.array([[cos_a, -sin_a], [sin_a, cos_a]])
        w, h = w0 * scale[t], h0 * scale[t]
        polygons[t] = centre[t] + (corners_unit * [w, h]) @ rot.T

        shift = np.array([[1.0, 0.0, -(margin + camera[t, 0])], [0.0, 1.0, -(margin + camera[t, 1])]])
        frame = cv2.warpAffine(background, shift, (width, height), flags=cv2.INTER_LINEAR)

        frame, alpha = _paste_patch(frame, texture, patch_mask, centre[t], rot, (w, h))

        if occluder is not None:
            t_mid, start, velocity, radius, grey = occluder
            pos = start + velocity * (t - t_mid)
            occ = np.zeros((height, width), np.uint8)
            fixed = (round(pos[0] * 16), round(pos[1] * 16))  # 4 fractional bits: sub-pixel motion
            cv2.circle(occ, fixed, round(radius * 16), 255, -1, cv2.LINE_AA, 4)
            occ_alpha = occ.astype(np.float32)[..., None] / 255.0
            visible = float(alpha.sum())
            if visible > 0:
                occluded[t] = float((alpha * occ_alpha).sum()) / visible
            frame = frame + occ_alpha * (np.float32(grey) - frame)
            if masks:
                alpha = alpha * (1.0 - occ_alpha)  # what the occluder leaves of the target
        if masks:  # the target's pixels: more than half its own (the warped mask is 0.5 on its outline)
            visible_masks.append(MaskRegion.from_binary(alpha[..., 0] > 0.5))

        sink(t, _finish_frame(rng, frame, gain[t]))

    return _Truth(polygons, _tags(centre, scale, camera, gain, occluded), visible_masks)


def _paste_patch(
    frame: np.ndarray, texture: np.ndarray, patch_mask: np.ndarray, centre: np.ndarray, rot: np.ndarray,
    extent: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """`texture` drawn over `frame` as the rectangle of size `extent` (w, h) at `centre` turned by
    `rot`; returns the new frame and the warped coverage (H, W, 1)."""
    height, width = frame.shape[:2]
    patch_h, patch_w = patch_mask.shape
    w, h = extent
    # Patch pixel centres u = 0..patch_w-1 map so that the patch's outer edge (u = -0.5) lands
    # on the rectangle's edge; the warped mask is then 0.5 on the ground-truth outline.
    lin = rot @ np.diag([w / patch_w, h / patch_h])
    offset = centre - lin @ np.array([(patch_w - 1) / 2, (patch_h - 1) / 2])
    affine = np.hstack([lin, offset[:, None]])
    obj = cv2.warpAffine(texture, affine, (width, height), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(patch_mask, affine, (width, height), flags=cv2.INTER_LINEAR)[..., None]
    return frame + alpha * (obj - frame), alpha


def _finish_frame(rng: np.random.Generator, frame: np.ndarray, gain: float) -> np.ndarray:
    """Lighting gain and sensor noise, then 8-bit pixels."""
    height, width = frame.shape[:2]
    noise = rng.standard_normal((height, width, 3), dtype=np.float32)
    frame = frame * np.float32(gain) + 2.5 * noise
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def _tags(
    centre: np.ndarray, scale: np.ndarray, camera: np.ndarray, gain: np.ndarray, occluded: np.ndarray
) -> dict[str, np.ndarray]:
    """Per-frame 0/1 attributes from the rendered motion (thresholds are the module constants)."""
    n = len(scale)
    back = np.maximum(np.arange(n) - TAG_WINDOW, 0)  # frame compared with; frame 0 compares to itself

    area_ratio = (scale / scale[back]) ** 2
    size_change = np.maximum(area_ratio, 1 / area_ratio) > SIZE_CHANGE_AREA_RATIO

    velocity = np.vstack([np.zeros((1, 2)), np.diff(centre, axis=0)])
    velocity[0] = velocity[1] if n > 1 else 0.0  # frame 1 has no past: treat its motion as steady
    motion_change = np.linalg.norm(velocity - velocity[back], axis=1) > MOTION_CHANGE_PX

    cam_step = np.linalg.norm(np.diff(camera, axis=0, prepend=camera[:1]), axis=1)
    camera_motion = cam_step > CAMERA_MOTION_PX

    illum_change = np.abs(gain / gain[back] - 1.0) > ILLUM_CHANGE_REL
    occlusion = occluded > OCCLUSION_FRACTION

    raw = {
        "camera_motion": camera_motion,
        "illum_change": illum_change,
        "motion_change": motion_change,
        "size_change": size_change,
        "occlusion": occlusion,
    }
    return {name: raw[name].astype(np.uint8) for name in TAG_NAMES}
