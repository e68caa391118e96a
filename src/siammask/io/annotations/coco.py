"""COCO video instances: `annotations/instances_default.json` and an empty `images/default/` for the
frames (the layout Datumaro and CVAT read),
an image per frame (`frame_<frame:06d>.jpg`, with `frame_id` and `video_id`), an annotation per
target per frame where it has pixels: its mask as compressed RLE (iscrowd 0), `bbox`, `area`, and
`attributes` {track_id: the target, keyframe}; a `videos` list names the source. Masks are each
target's own (they may overlap).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pycocotools import mask as coco_mask

from siammask.files import json_text
from siammask.io.annotations.base import LABEL, shown
from siammask.io.annotations.folder import FolderWriter
from siammask.io.mask_output import rle
from siammask.tracking.tracker import TrackResult


class CocoWriter(FolderWriter):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.images: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []

    def add(self, frame: int, results: Sequence[TrackResult]) -> None:
        width, height = self.image_size
        image_id = frame + 1
        self.images.append({"id": image_id, "width": width, "height": height, "file_name": f"frame_{frame:06d}.jpg",
                            "frame_id": frame, "video_id": 1})
        for k, result in enumerate(results):
            key = self.keyframe(frame, k)
            if not shown(result, key):
                continue
            mask = self.mask(result)
            if not mask.any():
                continue
            encoded = rle(mask)
            compressed = {"size": encoded["size"], "counts": encoded["counts"].encode("ascii")}
            self.annotations.append({
                "id": len(self.annotations) + 1, "image_id": image_id, "category_id": 1, "segmentation": encoded,
                "area": float(coco_mask.area(compressed)),
                "bbox": [float(v) for v in coco_mask.toBbox(compressed)], "iscrowd": 0,
                "attributes": {"track_id": k, "keyframe": key, "occluded": False},
            })

    def finish(self, stage: Path) -> None:
        data = {
            "info": {"description": f"siammask track {self.source}"}, "licenses": [],
            "categories": [{"id": 1, "name": LABEL, "supercategory": ""}],
            "videos": [{"id": 1, "name": self.source, "width": self.image_size[0], "height": self.image_size[1]}],
            "images": self.images, "annotations": self.annotations,
        }
        (stage / "annotations").mkdir()
        (stage / "images" / "default").mkdir(parents=True)  # where the frames would go: importers look for it
        (stage / "annotations" / "instances_default.json").write_text(json_text(data, indent=None), encoding="utf-8")
