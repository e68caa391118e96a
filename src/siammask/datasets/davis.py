"""DAVIS-layout datasets (video object segmentation): frames, palette label maps, sequence lists.

    DAVIS/
      ImageSets/2016/val.txt, ImageSets/2017/val.txt   one sequence name a line
      JPEGImages/480p/<seq>/00000.jpg ...             frames
      Annotations/480p/<seq>/00000.png ...            palette PNGs: 0 background, 1..K objects

Label maps are read with Pillow, which keeps the palette indices (OpenCV would decode the palette
into colours). 255 is DAVIS's "void" label; the official evaluation counts it as background, and so
do we. Year 2016 is single-object: every object is merged into one (label 1), as the reference's
`track_vos` does without `--mot`. Everything that can be checked is checked when the dataset is
loaded, so that `eval` never tracks half a dataset before finding a broken annotation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siammask.datasets.sequence_list import SequenceList
from siammask.errors import SiamMaskError
from siammask.files import MAX_IMAGE_BYTES, check_input_file, read_input_text
from siammask.io.sources import check_image_pixels, open_image

YEARS = (2016, 2017)
RESOLUTION = "480p"
VOID_LABEL = 255


@dataclass(frozen=True)
class DavisSequence:
    """One sequence. `annotations[t]` is frame t's label map or None (not annotated); `object_ids`
    are the ids present in frame 0 (1..K; (1,) in 2016 mode), `size` is (width, height)."""

    name: str
    frames: tuple[Path, ...]
    annotations: tuple[Path | None, ...]
    object_ids: tuple[int, ...]
    size: tuple[int, int]
    merge_objects: bool = False

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def frame_names(self) -> list[str]:
        """Frame stems ('00000', ...): the names DAVIS result PNGs take."""
        return [p.stem for p in self.frames]

    def labels(self, t: int) -> np.ndarray:
        """Frame t's label map, uint8 HxW: 0 background (void included), 1..K objects (1 in 2016 mode)."""
        path = self.annotations[t]
        if path is None:
            raise SiamMaskError(f"sequence {self.name}: frame {self.frames[t].name} has no annotation")
        labels = read_palette_png(path)
        labels[labels == VOID_LABEL] = 0
        return (labels > 0).astype(np.uint8) if self.merge_objects else labels


@dataclass(frozen=True)
class DavisDataset(SequenceList["DavisSequence"]):
    """Sequences in list order."""

    root: Path
    year: int
    split: str
    sequences: tuple[DavisSequence, ...]

    def labels(self, seq: DavisSequence | str, t: int) -> np.ndarray:
        """Frame t's label map of `seq` (a sequence or its name); see DavisSequence.labels."""
        return (self[seq] if isinstance(seq, str) else seq).labels(t)


def is_davis_dataset(path: str | os.PathLike[str]) -> bool:
    """True when `path` has DAVIS's three folders (JPEGImages/480p, Annotations/480p, ImageSets)."""
    root = Path(path)
    return all((root / sub).is_dir() for sub in (f"JPEGImages/{RESOLUTION}", f"Annotations/{RESOLUTION}", "ImageSets"))


def load_davis(path: str | os.PathLike[str], year: int = 2017, split: str = "val") -> DavisDataset:
    """Read the sequence list ImageSets/<year>/<split>.txt and check every sequence it names: frames
    present, first frame annotated, annotations palette PNGs of the frames' size, object ids of later
    frames among frame 0's. Every annotation is decoded once here (a few ms each)."""
    root = Path(path)
    if year not in YEARS:
        raise SiamMaskError(f"DAVIS year {year!r}: use 2016 or 2017")
    if not is_davis_dataset(root):
        raise SiamMaskError(
            f"{root} is not a DAVIS dataset: expected JPEGImages/{RESOLUTION}, Annotations/{RESOLUTION} and ImageSets"
        )
    if not split or "/" in split or "\\" in split or ".." in split:
        raise SiamMaskError(f"DAVIS split {split!r}: a plain name such as val or train")
    names = _read_list(root / "ImageSets" / str(year) / f"{split}.txt")
    sequences = tuple(_load_sequence(root, name, merge=year == 2016) for name in names)
    return DavisDataset(root=root, year=year, split=split, sequences=sequences)


def read_palette_png(path: Path) -> np.ndarray:
    """The palette indices of a palette PNG, uint8 HxW; anything else is refused. Read as every
    input is (no FIFO or device, a size cap, the pixel budget checked in the header first)."""
    what = f"cannot read label map {path}"
    with open_image(path, what, formats=("PNG",)) as image:
        if image.mode != "P":
            raise SiamMaskError(f"{path}: a DAVIS annotation is a palette PNG, this one is mode {image.mode}")
        try:
            return np.array(image, dtype=np.uint8)
        except (OSError, ValueError, SyntaxError) as exc:  # truncated or damaged image data
            raise SiamMaskError(f"{what}: {exc}") from None


def _read_list(listing: Path) -> list[str]:
    if not listing.exists() and not listing.is_symlink():
        raise SiamMaskError(f"sequence list {listing} not found")
    lines = read_input_text(listing, f"sequence list {listing}").splitlines()
    names: list[str] = []
    for i, line in enumerate(lines, start=1):
        name = line.strip()
        if not name:
            continue
        # a name is joined to three folders: it must not climb out of them, and it is shown on
        # the terminal: no control characters (an ESC sequence could rewrite the screen)
        if name in (".", "..") or ".." in name or "/" in name or "\\" in name or not name.isprintable():
            raise SiamMaskError(f"{listing}:{i}: sequence name {name!r} is not a plain folder name")
        if name in names:
            raise SiamMaskError(f"{listing}:{i}: sequence {name!r} listed twice")
        names.append(name)
    if not names:
        raise SiamMaskError(f"{listing} lists no sequences")
    return names


def _load_sequence(root: Path, name: str, merge: bool) -> DavisSequence:
    frame_dir = root / "JPEGImages" / RESOLUTION / name
    anno_dir = root / "Annotations" / RESOLUTION / name
    if not frame_dir.is_dir():
        raise SiamMaskError(f"sequence {name} is listed but {frame_dir} does not exist")
    frames = sorted(p for p in frame_dir.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    if not frames:
        raise SiamMaskError(f"sequence {name}: no frames (*.jpg) in {frame_dir}")
    for frame in frames:  # a FIFO or a device among them is named now, not hours into the run
        check_input_file(frame, f"frame {frame}", MAX_IMAGE_BYTES)
    found = {p.stem: p for p in anno_dir.glob("*.png")} if anno_dir.is_dir() else {}
    stems = {p.stem for p in frames}
    stray = sorted(set(found) - stems)
    if stray:
        raise SiamMaskError(f"sequence {name}: annotation {anno_dir / (stray[0] + '.png')} has no frame")
    annotations = tuple(found.get(p.stem) for p in frames)
    if annotations[0] is None:
        raise SiamMaskError(f"sequence {name}: first frame {frames[0].name} has no annotation in {anno_dir}")
    size = _image_size(frames[0])
    ids = np.zeros(0, dtype=np.int64)
    for t, (frame, anno) in enumerate(zip(frames, annotations)):
        if anno is None:
            continue
        labels = read_palette_png(anno)
        frame_size = _image_size(frame) if t else size
        if (labels.shape[1], labels.shape[0]) != frame_size:
            raise SiamMaskError(
                f"sequence {name}: label map {anno.name} is {labels.shape[1]}x{labels.shape[0]}, "
                f"its frame {frame_size[0]}x{frame_size[1]}"
            )
        if frame_size != size:
            raise SiamMaskError(f"sequence {name}: frame {frame.name} is {frame_size[0]}x{frame_size[1]}, "
                                f"frame {frames[0].name} {size[0]}x{size[1]}")
        present = np.flatnonzero(np.bincount(labels.ravel(), minlength=256)[1:VOID_LABEL]) + 1
        if t == 0:
            ids = present
            if len(ids) == 0:
                raise SiamMaskError(f"sequence {name}: first label map {anno.name} has no object")
            # the official evaluation counts objects 1..max(frame 0): a gap would be an object that
            # is never there (2016 merges them all, so any ids do)
            if not merge and not np.array_equal(ids, np.arange(1, len(ids) + 1)):
                raise SiamMaskError(f"sequence {name}: object ids in {anno.name} are {ids.tolist()}; "
                                    "they must be 1..K")
        elif not merge:
            extra = np.setdiff1d(present, ids)
            if len(extra):
                raise SiamMaskError(
                    f"sequence {name}: object {int(extra[0])} appears in {anno.name} but not in the first frame"
                )
    object_ids = (1,) if merge else tuple(int(i) for i in ids)
    return DavisSequence(name, tuple(frames), annotations, object_ids, size, merge_objects=merge)


def _image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the file's header (nothing decoded), the frame checked as track checks
    it: a regular file, under the size cap and the pixel budget."""
    return check_image_pixels(path, f"cannot read frame {path}")
