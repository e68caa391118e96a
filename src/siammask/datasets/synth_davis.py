"""Deterministic synthetic multi-object sequences in the DAVIS layout (video object segmentation).

Why: the VOS protocol, its runner and the DAVIS report need a dataset that is small, free, made on
the spot and identical everywhere, laid out exactly as DAVIS 2017 so the same loader runs on it.
Each sequence shows 1..K textured objects of different shapes (ellipse, star, notched box) that
move, rotate and scale along smooth random paths over a textured background under a panning
camera; later objects pass in front of earlier ones, so objects occlude each other. Every frame is
annotated exactly: the label map is the rendered silhouettes, front object on top.

Layout written by `make_davis_dataset`::

    OUT/JPEGImages/480p/davis00/00000.jpg ...     frames (JPEG, 0-based, 5 digits)
    OUT/Annotations/480p/davis00/00000.png ...    palette PNGs: 0 background, k the k-th object
    OUT/ImageSets/2017/val.txt, 2016/val.txt      the sequence names (2016 merges the objects)
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import cv2
import numpy as np

from siammask.datasets.synth import (
    JPEG_QUALITY,
    _background,
    _check_output,
    _int_arg,
    _size_arg,
    _smooth_series,
    _target_texture,
)
from siammask.errors import SiamMaskError
from siammask.files import staged_folder, unexpected_entries
from siammask.io.ownership import RECORD, folder_problem, record_folder
from siammask.tracking.labelmaps import write_label_png

SHAPES = ("ellipse", "star", "notched")
MAX_OBJECTS = 8
KIND = "synthetic DAVIS dataset"  # in the .siammask record


def make_davis_dataset(
    out_dir: str | os.PathLike[str], sequences: int = 3, frames: int = 20, size: tuple[int, int] = (320, 240),
    objects: int = 3, seed: int = 0, overwrite: bool = False,
) -> Path:
    """Write a synthetic DAVIS-layout dataset to `out_dir` and return its path.

    Sequence i holds `objects` objects when i is even and one fewer (at least 1) when odd. The same
    arguments give byte-identical files (numpy Generators seeded with (seed, sequence index)). Built
    in a hidden folder beside `out_dir` and renamed into place; a non-empty `out_dir` is replaced
    only with `overwrite` and only when it holds nothing but a DAVIS layout.
    """
    sequences = _int_arg("sequences", sequences, 1)
    frames = _int_arg("frames", frames, 2)
    objects = _int_arg("objects", objects, 1)
    if objects > MAX_OBJECTS:
        raise SiamMaskError(f"objects must be at most {MAX_OBJECTS}, got {objects}")
    seed = _int_arg("seed", seed, 0)
    width, height = _size_arg(size)
    out = Path(out_dir)
    _check_output(out, overwrite, _owner_problem)
    try:
        with staged_folder(out) as tmp:  # renamed into place whole, as synth's VOT layout
            names = [f"davis{i:02d}" for i in range(sequences)]
            for index, name in enumerate(names):
                count = objects if index % 2 == 0 else max(1, objects - 1)
                _write_sequence(tmp, name, np.random.default_rng([seed, index]), frames, width, height, count)
            for year in ("2016", "2017"):
                (tmp / "ImageSets" / year).mkdir(parents=True)
                (tmp / "ImageSets" / year / "val.txt").write_text("".join(f"{n}\n" for n in names))
            record_folder(tmp, KIND)  # what --force may replace later: this, unchanged
    except OSError as exc:
        raise SiamMaskError(f"cannot write dataset to {out}: {exc.strerror or exc}") from None
    return out


def _owner_problem(folder: Path) -> str | None:
    """None for a folder this module wrote: the three DAVIS folders only, holding at every depth
    exactly the files its .siammask record lists (a user's own DAVIS folder has none)."""
    return (unexpected_entries(folder, ["JPEGImages", "Annotations", "ImageSets", RECORD])
            or folder_problem(folder, KIND))


def _silhouette(shape: str, side: int) -> np.ndarray:
    """A shape's mask (uint8 0/1) on a side x side patch, touching its borders."""
    mask = np.zeros((side, side), np.uint8)
    c, r = (side - 1) / 2, (side - 1) / 2
    if shape == "ellipse":
        cv2.ellipse(mask, (round(c), round(c)), (round(r), round(0.6 * r)), 0, 0, 360, 1, -1)
    elif shape == "star":
        angles = np.arange(10) * math.pi / 5 - math.pi / 2
        radii = np.where(np.arange(10) % 2 == 0, r, 0.45 * r)
        points = np.stack([c + radii * np.cos(angles), c + radii * np.sin(angles)], axis=1)
        cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
    else:  # a box with a notch cut from one side: not convex, not symmetric
        mask[:, :] = 1
        mask[: side // 2, side // 3 : 2 * side // 3] = 0
    return mask


def _write_sequence(
    root: Path, name: str, rng: np.random.Generator, n: int, width: int, height: int, count: int
) -> None:
    frame_dir = root / "JPEGImages" / "480p" / name
    anno_dir = root / "Annotations" / "480p" / name
    frame_dir.mkdir(parents=True)
    anno_dir.mkdir(parents=True)
    short = min(width, height)
    bg_hue = rng.uniform(0, 180)
    margin = int(0.15 * short) + 2
    background = _background(rng, height + 2 * margin, width + 2 * margin, bg_hue)
    pan = np.stack([0.1 * short * _smooth_series(rng, n, 2, (60, 160)) for _ in range(2)], axis=1)
    items = []
    for k in range(count):
        side = max(12, round(short * rng.uniform(0.2, 0.3)))
        hue = bg_hue + 90.0 + 30.0 * k
        # start spread over the width, so that every object is visible on frame 0
        start = np.array([width * (k + 1) / (count + 1), height * rng.uniform(0.35, 0.65)])
        amp = np.array([0.3 * width, 0.25 * height])
        path = np.stack([_smooth_series(rng, n, 2, (40, 120)) for _ in range(2)], axis=1)
        centre = start + amp * (path - path[0])
        angle = math.radians(40) * _smooth_series(rng, n, 2, (50, 150))
        scale = np.exp(math.log(1.25) * _smooth_series(rng, n, 2, (50, 150)))
        items.append((_target_texture(rng, side, side, hue), _silhouette(SHAPES[k % len(SHAPES)], side),
                      np.clip(centre, 0, [width - 1, height - 1]), angle, scale))
    for t in range(n):
        shift = np.array([[1.0, 0.0, -(margin + pan[t, 0])], [0.0, 1.0, -(margin + pan[t, 1])]])
        frame = cv2.warpAffine(background, shift, (width, height), flags=cv2.INTER_LINEAR)
        labels = np.zeros((height, width), np.uint8)
        for k, (texture, silhouette, centre, angle, scale) in enumerate(items):
            side = silhouette.shape[0]
            affine = cv2.getRotationMatrix2D(((side - 1) / 2, (side - 1) / 2), math.degrees(angle[t]), scale[t])
            affine[:, 2] += centre[t] - (side - 1) / 2
            obj = cv2.warpAffine(texture, affine, (width, height), flags=cv2.INTER_LINEAR)
            inside = cv2.warpAffine(silhouette, affine, (width, height), flags=cv2.INTER_NEAREST) > 0
            frame[inside] = obj[inside]  # later objects in front: they occlude earlier ones
            labels[inside] = k + 1
        if t == 0 and len(np.unique(labels)) != count + 1:  # an object hidden on frame 0 cannot be tracked
            raise SiamMaskError(f"{count} objects do not all fit visibly in a {width}x{height} frame; "
                                "use fewer objects or a larger size")
        noise = rng.standard_normal((height, width, 3), dtype=np.float32)
        image = np.clip(np.rint(frame + 2.5 * noise), 0, 255).astype(np.uint8)
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise SiamMaskError(f"JPEG encoding failed for frame {t} of {name}")
        (frame_dir / f"{t:05d}.jpg").write_bytes(buf.tobytes())
        write_label_png(anno_dir / f"{t:05d}.png", labels)
