"""The annotation formats `track --output` writes: one row each (name, file suffix or a folder,
its writer). A path ending in a row's suffix picks it (whatever --format says); any other path is a
folder in --format's format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siammask.errors import SiamMaskError
from siammask.files import check_new_file
from siammask.io.annotations.base import AnnotationWriter


@dataclass(frozen=True)
class AnnotationFormat:
    name: str
    suffix: str | None  # a file's suffix (.xml); None: the output is a folder
    describe: str
    writer: Callable[[], type[AnnotationWriter]]  # imported when used


def _cvat() -> type[AnnotationWriter]:
    from siammask.io.annotations.cvat import CvatWriter
    return CvatWriter


def _mots() -> type[AnnotationWriter]:
    from siammask.io.annotations.mots import MotsWriter
    return MotsWriter


def _vos() -> type[AnnotationWriter]:
    from siammask.io.annotations.vos import VosWriter
    return VosWriter


def _coco() -> type[AnnotationWriter]:
    from siammask.io.annotations.coco import CocoWriter
    return CocoWriter


FORMATS = (
    AnnotationFormat("cvat", ".xml", "CVAT for video 1.1 XML: a track per target, polygons (masks with --rle)", _cvat),
    AnnotationFormat("mots", None, "MOTS: instances/ 16-bit PNGs and instances_txt/ (KITTI-MOTS encoding)", _mots),
    AnnotationFormat("vos", None, "YouTube-VOS/DAVIS Annotations/<video>/ palette PNGs and meta.json", _vos),
    AnnotationFormat("coco", None, "COCO video instances: annotations/instances_default.json, masks as RLE", _coco),
)
ANNOTATION_CHOICES = tuple(f.name for f in FORMATS)


def _by_name(name: str) -> AnnotationFormat:
    return next(f for f in FORMATS if f.name == name)


def check_annotation_output(path: str | Path, fmt: str | None) -> tuple[str, Path]:
    """(format, path) for an --output that is not a results file, refused in one line before any
    tracking: an unknown suffix without --format, a file format given a folder, a folder that is
    not new or empty."""
    from siammask.io.mask_output import check_masks_folder

    path = Path(path)
    by_suffix = [f for f in FORMATS if f.suffix and path.suffix.lower() == f.suffix]
    chosen = by_suffix[0] if by_suffix else _by_name(fmt) if fmt else None  # a file's suffix wins
    if chosen is None:
        raise SiamMaskError(f"--output {path}: unknown extension (expected .txt, .csv, .json or .xml), or give "
                            f"--format {'|'.join(ANNOTATION_CHOICES)} for a folder")
    if chosen.suffix is not None:
        return chosen.name, check_new_file(path, "output", (chosen.suffix,))
    try:
        return chosen.name, check_masks_folder(path)
    except SiamMaskError as exc:
        raise SiamMaskError(str(exc).replace("--masks", f"--output ({chosen.name})", 1)) from None


def open_annotation_writer(name: str, path: Path, plan: Any, source: Any, image_size: tuple[int, int],
                           rle: bool = False) -> AnnotationWriter:
    """The writer of format `name` (a row of FORMATS) into `path`."""
    return _by_name(name).writer()(path, plan, source, image_size, rle)
