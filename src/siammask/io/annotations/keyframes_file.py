"""`track --keyframes FILE`: keyframes read from a CSV file or a CVAT for video 1.1 XML.

CSV: one row a keyframe, `frame,target,x,y,w,h` or `frame,target,x1,y1,...,x4,y4` (a header row
optional; frames and targets 0-based); a row `frame,target` with no region ends the target there.
CVAT XML: each `<track>` is a target (numbered in file order); its shapes marked keyframe="1"
are the keyframes, except those marked source="auto" (the tracked frames siammask writes as
keyframes for CVAT's importer, cvat.py): a polygon (4 points as given, more as their bounding box),
a box (rotated by its `rotation`), a mask (its bounding box); outside="1" ends the target there.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np

from siammask.errors import SiamMaskError
from siammask.files import read_input_text
from siammask.tracking.keyframes import Keyframe
from siammask.tracking.tracker import parse_box

MAX_KEYFRAME_BYTES = 64 << 20  # far above any real annotation of one video


def read_keyframes(path: str | Path) -> list[Keyframe]:
    """The keyframes of `path` (.xml: CVAT for video 1.1, anything else: CSV), refused in one line."""
    path = Path(path)
    what = f"--keyframes {path}"
    text = read_input_text(path, what, MAX_KEYFRAME_BYTES)
    keys = _cvat(text, what) if path.suffix.lower() == ".xml" else _csv(text, what)
    if not keys:
        raise SiamMaskError(f"{what}: no keyframe in the file")
    return keys


def _region(values: list[float], where: str) -> tuple[float, ...]:
    if len(values) not in (4, 8):
        raise SiamMaskError(f"{where}: expected x,y,w,h or 8 polygon values, got {len(values)} values")
    try:
        parse_box(values)
    except SiamMaskError as exc:
        raise SiamMaskError(f"{where}: {exc}") from None
    return tuple(values)


def _csv(text: str, what: str) -> list[Keyframe]:
    keys = []
    for number, line in enumerate(text.splitlines(), start=1):
        cells = [c.strip() for c in line.split(",")]
        if not any(cells):
            continue
        where = f"{what} line {number}"
        try:
            numbers = [float(c) for c in cells if c]
        except ValueError:
            if number == 1:  # the header
                continue
            raise SiamMaskError(f"{where}: expected numbers, got {line.strip()[:60]!r}") from None
        if len(numbers) < 2 or any(not float(v).is_integer() for v in numbers[:2]):
            raise SiamMaskError(f"{where}: expected frame,target (whole numbers) then the region")
        frame, target = int(numbers[0]), int(numbers[1])
        region = _region(numbers[2:], where) if numbers[2:] else None
        keys.append(Keyframe(frame, target, region))
    return keys


def _cvat(text: str, what: str) -> list[Keyframe]:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise SiamMaskError(f"{what}: not XML ({exc})") from None
    tracks = root.findall("track")
    if not tracks:
        raise SiamMaskError(f"{what}: no <track> (a CVAT for video 1.1 export holds one per object)")
    keys = []
    for target, track in enumerate(tracks):
        for shape in track:
            if not _set_by_a_person(shape):
                continue
            where = f"{what}: track {track.get('id', target)} frame {shape.get('frame')}"
            try:
                frame = int(shape.get("frame", ""))
                region = None if shape.get("outside") == "1" else _shape_region(shape, where)
            except ValueError:
                raise SiamMaskError(f"{where}: a <{shape.tag}> with missing or bad values") from None
            keys.append(Keyframe(frame, target, region))
    return keys


def _set_by_a_person(shape: ElementTree.Element) -> bool:
    """A keyframe shape not written by a tracker: CVAT's own exports carry no per-shape source (a
    track's keyframes are what a person set there); ours mark tracked frames source="auto"."""
    return (shape.tag in ("polygon", "box", "mask") and shape.get("keyframe") == "1"
            and shape.get("source") != "auto")


def _shape_region(shape: ElementTree.Element, where: str) -> tuple[float, ...]:
    if shape.tag == "polygon":
        points = [float(v) for pair in shape.get("points", "").split(";") for v in pair.split(",")]
        if len(points) == 8:
            return _region(points, where)
        xy = np.asarray(points).reshape(-1, 2)
        low, high = xy.min(axis=0), xy.max(axis=0)
        return _region([low[0], low[1], high[0] - low[0], high[1] - low[1]], where)
    if shape.tag == "mask":
        return _region([float(shape.get(k, "")) for k in ("left", "top", "width", "height")], where)
    x1, y1, x2, y2 = (float(shape.get(k, "")) for k in ("xtl", "ytl", "xbr", "ybr"))
    angle = math.radians(float(shape.get("rotation", "0")))
    if angle == 0:
        return _region([x1, y1, x2 - x1, y2 - y1], where)
    centre = np.array([(x1 + x2) / 2, (y1 + y2) / 2])
    corners = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]]) - centre
    turn = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])  # clockwise on screen
    return _region([float(v) for v in (corners @ turn.T + centre).ravel()], where)
