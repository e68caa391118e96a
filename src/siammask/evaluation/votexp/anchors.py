"""What the multistart and realtime experiments read beside a VOT sequence, as vot-toolkit 0.9 reads
it: the anchor frames (`<seq>/anchor.value`, one number a line; > 0 a forward anchor, < 0 a backward
one, 0 none; a short file padded with 0) and the frame rate the real-time budget is taken from (the
`fps=` line of `<seq>/sequence`, else 30, vot-toolkit's default for the VOT2016 layout).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from siammask.errors import SiamMaskError
from siammask.files import read_frame_lines, read_input_text

ANCHOR_FILE = "anchor.value"
DEFAULT_FPS = 30


@dataclass(frozen=True)
class Anchors:
    forward: tuple[int, ...]
    backward: tuple[int, ...]

    def runs(self) -> list[tuple[int, bool]]:
        """(anchor frame, backward) in vot-toolkit's order: forward anchors first, then backward."""
        return [(f, False) for f in self.forward] + [(f, True) for f in self.backward]


def read_anchors(folder: str | Path, frames: int) -> Anchors:
    """A sequence's anchors; a sequence without any is refused (vot-toolkit fails on it too)."""
    path = Path(folder) / ANCHOR_FILE
    if not path.is_file():
        raise SiamMaskError(f"{path}: no anchor file; the multistart and realtime experiments start the tracker "
                            "from the anchor frames it lists (VOT2020 and later ship one per sequence)")
    lines = read_frame_lines(path, f"anchor file {path}", frames)
    if len(lines) > frames:
        raise SiamMaskError(f"{path}: {len(lines)} lines for a sequence of {frames} frames")
    forward, backward = [], []
    for i, line in enumerate(lines):
        try:
            value = float(line.strip())
        except ValueError:
            raise SiamMaskError(f"{path}:{i + 1}: not a number: {line.strip()[:40]!r}") from None
        if math.isnan(value):
            raise SiamMaskError(f"{path}:{i + 1}: nan is not an anchor value (> 0 forward, < 0 backward, 0 none)")
        if value > 0:
            forward.append(i)
        elif value < 0:
            backward.append(i)
    if not forward and not backward:
        raise SiamMaskError(f"{path}: no anchor (every value is 0): nothing to start the tracker from")
    return Anchors(tuple(forward), tuple(backward))


def read_fps(folder: str | Path) -> int:
    """The sequence's frame rate: `fps=N` in its `sequence` file (an integer, as vot-toolkit reads it)."""
    path = Path(folder) / "sequence"
    if not path.is_file():
        return DEFAULT_FPS
    for line in read_input_text(path, f"sequence file {path}").splitlines():
        match = re.match(r"^fps *= *(.*)$", line.strip())
        if match:
            text = match.group(1).strip()
            if not text.isdigit() or int(text) < 1:
                raise SiamMaskError(f"{path}: fps must be a positive integer, got {text[:20]!r}")
            return int(text)
    return DEFAULT_FPS
