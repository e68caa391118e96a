"""CVAT for video 1.1 XML: one `<track>` per target, a `<polygon>` (or with --rle a `<mask>`) per
frame, outside="1" where the target is absent (its last region repeated, as CVAT keeps one).
Frames are the source's indices (start_frame 0).

Every shape is keyframe="1": CVAT's importer keeps only a track's keyframe shapes and interpolates
between them (cvat/apps/dataset_manager/formats/cvat.py, load_anno), so a tracked frame written as
keyframe="0" would be lost on import. Which frames a person set is told by a per-shape attribute
CVAT's importer does not read: source="manual" on the plan's keyframes, source="auto" on tracked
frames; `--keyframes FILE.xml` takes the keyframe shapes that are not source="auto"
(keyframes_file.py), so a file written here gives back exactly the plan's keyframes.

A CVAT mask is the run lengths, row by row, of its bounding box (left, top, width, height),
starting with a run of zeros, as CVAT 2.x exports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from siammask.io.annotations.base import LABEL, AnnotationWriter, commit_text, shown
from siammask.tracking.tracker import TrackResult


def mask_runs(mask: np.ndarray) -> tuple[str, tuple[int, int, int, int]] | None:
    """CVAT's mask RLE of a binary mask and its box (left, top, width, height); None if empty."""
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return None
    left, top, right, bottom = int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())
    flat = (mask[top:bottom + 1, left:right + 1] > 0).ravel().astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flat, [1 - flat[-1]]])))  # where runs change
    runs = np.diff(np.concatenate([[0], edges]))
    return ",".join(str(int(r)) for r in runs), (left, top, right - left + 1, bottom - top + 1)


def _points(polygon: np.ndarray) -> str:
    return ";".join(f"{round(float(x), 4) + 0.0:.4f},{round(float(y), 4) + 0.0:.4f}"
                    for x, y in np.asarray(polygon, float).reshape(-1, 2))


def _source(keyframe: bool) -> str:
    """A shape's origin: `manual` where a person set it (a keyframe), `auto` where it was tracked."""
    return "manual" if keyframe else "auto"


class CvatWriter(AnnotationWriter):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.shapes: dict[int, list[str]] = {k: [] for k in range(self.plan.targets)}
        self._last: dict[int, str] = {}  # target -> its last region's attributes (repeated when outside)

    def add(self, frame: int, results: Sequence[TrackResult]) -> None:
        for k, result in enumerate(results):
            key = self.keyframe(frame, k)
            if shown(result, key):
                region = self._region(result)
                if region is None:  # a present target whose mask has no pixel: outside, as CVAT has no empty mask
                    self._outside(frame, k, key)
                    continue
                self._last[k] = region
                tag = "mask" if self.rle else "polygon"
                self.shapes[k].append(f'<{tag} frame="{frame}" keyframe="1" outside="0" occluded="0" '
                                      f'{region} z_order="0" source="{_source(key)}"/>')
            else:
                self._outside(frame, k, key)

    def _outside(self, frame: int, k: int, key: bool) -> None:
        if k in self._last:  # before its first region a track has no shape
            tag = "mask" if self.rle else "polygon"
            self.shapes[k].append(f'<{tag} frame="{frame}" keyframe="1" outside="1" occluded="0" '
                                  f'{self._last[k]} z_order="0" source="{_source(key)}"/>')

    def _region(self, result: TrackResult) -> str | None:
        if not self.rle:
            return f'points="{_points(result.polygon)}"'
        runs = mask_runs(self.mask(result))
        if runs is None:
            return None
        counts, (left, top, width, height) = runs
        return f'rle="{counts}" left="{left}" top="{top}" width="{width}" height="{height}"'

    def text(self) -> str:
        width, height = self.image_size
        size = self.length if self.length is not None else (max(self.frames) + 1 if self.frames else 0)
        tracks = "".join(
            f'  <track id="{k}" label="{LABEL}" source="auto">\n' + "".join(f"    {s}\n" for s in shapes)
            + "  </track>\n" for k, shapes in self.shapes.items() if shapes)
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n'
            f'    <task>\n      <name>{quoteattr(self.source)[1:-1]}</name>\n      <size>{size}</size>\n'
            '      <mode>interpolation</mode>\n      <overlap>0</overlap>\n      <start_frame>0</start_frame>\n'
            f'      <stop_frame>{max(size - 1, 0)}</stop_frame>\n      <labels>\n        <label>\n'
            f'          <name>{LABEL}</name>\n          <type>any</type>\n          <attributes/>\n'
            '        </label>\n      </labels>\n'
            f'      <original_size>\n        <width>{width}</width>\n        <height>{height}</height>\n'
            '      </original_size>\n    </task>\n  </meta>\n' + tracks + "</annotations>\n")

    def close(self) -> list[Path]:
        commit_text(self.path, self.text())
        return [self.path]
