"""Square crops around the target, padded with the frame's mean colour (the reference's
get_subwindow_tracking), resized to the network's input size."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def crop_subwindow(
    image: np.ndarray, center: Sequence[float], model_size: int, original_size: float, fill: np.ndarray
) -> np.ndarray:
    """Cut a `original_size`-pixel square centred on `center` and resize it to `model_size`.

    Pixels outside the frame take `fill` (the frame's mean colour, truncated to uint8 as the
    reference's array assignment does). Only the crop is allocated, never a padded copy of the
    whole frame.
    """
    size = int(original_size)
    half = (original_size + 1) / 2
    # round half to even, as Python's round() on the reference's numpy floats
    x0 = int(round(float(center[0]) - half))
    y0 = int(round(float(center[1]) - half))
    h, w = image.shape[:2]
    if 0 <= x0 and 0 <= y0 and x0 + size <= w and y0 + size <= h:
        patch = image[y0 : y0 + size, x0 : x0 + size]
    else:
        patch = np.empty((size, size, image.shape[2]), dtype=np.uint8)
        patch[:] = np.asarray(fill).astype(np.uint8)
        sx0, sy0 = max(0, x0), max(0, y0)
        sx1, sy1 = min(w, x0 + size), min(h, y0 + size)
        if sx1 > sx0 and sy1 > sy0:
            patch[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image[sy0:sy1, sx0:sx1]
    if size != model_size:
        patch = cv2.resize(patch, (model_size, model_size))
    return patch


def to_chw_float(patches: Sequence[np.ndarray]) -> np.ndarray:
    """HxWx3 uint8 BGR crops -> (K,3,H,W) float32, values 0-255 (the network's input)."""
    return np.ascontiguousarray(np.stack(patches).transpose(0, 3, 1, 2), dtype=np.float32)
