"""MOTS (KITTI-MOTS instance encoding): `instances/<video>/<frame:06d>.png`, 16-bit, each pixel
class_id * 1000 + instance_id (0 background), and `instances_txt/<video>.txt`, a line per target
per frame: `frame object_id class_id height width rle` (COCO's compressed RLE). Every target is
class 1, `target` (instances/labels.txt, as Datumaro reads it); target k is instance k, object id
1000 + k. Where masks overlap a pixel goes to one target, as in the label maps of --masks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from siammask.errors import SiamMaskError
from siammask.io.annotations.base import LABEL, shown, video_name
from siammask.io.annotations.folder import FolderWriter
from siammask.io.mask_output import frame_labels, rle
from siammask.tracking.session import absent_result
from siammask.tracking.tracker import TrackResult

CLASS_ID = 1
INSTANCE_BASE = 1000  # KITTI-MOTS: object id = class id * 1000 + instance id


class MotsWriter(FolderWriter):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.video = video_name(self.source)
        self.lines: list[str] = []
        assert self.stage is not None
        (self.stage / "instances" / self.video).mkdir(parents=True)

    def add(self, frame: int, results: Sequence[TrackResult]) -> None:
        assert self.stage is not None
        kept = [r if shown(r, self.keyframe(frame, k)) else absent_result() for k, r in enumerate(results)]
        labels = frame_labels(kept, self.image_size).astype(np.uint16)
        ids = np.where(labels > 0, CLASS_ID * INSTANCE_BASE + labels - 1, 0).astype(np.uint16)
        path = self.stage / "instances" / self.video / f"{frame:06d}.png"
        if not cv2.imwrite(str(path), ids):
            raise SiamMaskError(f"output {self.path}: cannot write {path.name}")
        width, height = self.image_size
        for k in range(len(results)):
            pixels = (labels == k + 1).astype(np.uint8)
            if pixels.any():
                counts = rle(pixels)["counts"]
                self.lines.append(f"{frame} {CLASS_ID * INSTANCE_BASE + k} {CLASS_ID} {height} {width} {counts}")

    def finish(self, stage: Path) -> None:
        (stage / "instances" / "labels.txt").write_text(LABEL + "\n", encoding="utf-8")
        (stage / "instances_txt").mkdir()
        (stage / "instances_txt" / f"{self.video}.txt").write_text(
            "".join(line + "\n" for line in self.lines), encoding="utf-8")

