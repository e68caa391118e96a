"""The YouTube-VOS / DAVIS `Annotations/` layout: `Annotations/<video>/<frame:05d>.png`, palette
PNGs with target k as k + 1 (0 background), and a YouTube-VOS `meta.json` naming each object's
frames. Where masks overlap a pixel goes to one target, as in the label maps of --masks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from siammask.files import json_text
from siammask.io.annotations.base import LABEL, shown, video_name
from siammask.io.annotations.folder import FolderWriter
from siammask.io.mask_output import frame_labels
from siammask.tracking.labelmaps import write_label_png
from siammask.tracking.tracker import TrackResult


class VosWriter(FolderWriter):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.video = video_name(self.source)
        self.seen: dict[int, list[str]] = {k: [] for k in range(self.plan.targets)}
        assert self.stage is not None
        (self.stage / "Annotations" / self.video).mkdir(parents=True)

    def add(self, frame: int, results: Sequence[TrackResult]) -> None:
        from siammask.tracking.session import absent_result

        assert self.stage is not None
        kept = [r if shown(r, self.keyframe(frame, k)) else absent_result() for k, r in enumerate(results)]
        labels = frame_labels(kept, self.image_size)
        write_label_png(self.stage / "Annotations" / self.video / f"{frame:05d}.png", labels)
        for k in range(len(results)):
            if (labels == k + 1).any():
                self.seen[k].append(f"{frame:05d}")

    def finish(self, stage: Path) -> None:
        objects = {str(k + 1): {"category": LABEL, "frames": frames} for k, frames in self.seen.items()}
        meta = {"videos": {self.video: {"objects": objects}}}
        (stage / "meta.json").write_text(json_text(meta), encoding="utf-8")
