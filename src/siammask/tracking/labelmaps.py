"""Label maps as DAVIS stores them: 8-bit palette PNGs, index 0 background, k the k-th object.

The palette is DAVIS's own (the PASCAL VOC colour map: index bits spread over the high bits of
R, G and B), so our result PNGs look like the dataset's annotations in any viewer; evaluation reads
the indices only.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from siammask.errors import SiamMaskError


def davis_palette() -> list[int]:
    """256 RGB triplets, flattened (768 values): the PASCAL VOC / DAVIS colour map."""
    palette = []
    for index in range(256):
        r = g = b = 0
        c = index
        for shift in range(7, -1, -1):  # bit 0 of each 3-bit group lands on the colour's top bit first
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        palette += [r, g, b]
    return palette


_PALETTE = davis_palette()


def write_label_png(path: str | os.PathLike[str], labels: np.ndarray) -> Path:
    """Write a uint8 label map as a palette PNG (written straight to `path`: callers stage folders)."""
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype != np.uint8:
        raise SiamMaskError(f"a label map is a 2-D uint8 array, got {labels.dtype} {labels.shape}")
    height, width = labels.shape
    image = Image.frombytes("P", (width, height), np.ascontiguousarray(labels).tobytes())
    image.putpalette(_PALETTE)
    path = Path(path)
    image.save(path, format="PNG", optimize=False)
    return path
