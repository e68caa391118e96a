"""Frames as the network wants them: BGR uint8, 3 channels, as cv2.imread gives."""

from __future__ import annotations

import cv2
import numpy as np

from siammask.errors import SiamMaskError


def as_bgr(frame: np.ndarray) -> np.ndarray:
    """Grayscale and BGRA frames become BGR; anything else but uint8 BGR is refused."""
    if not isinstance(frame, np.ndarray):
        raise SiamMaskError(f"a frame must be a numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise SiamMaskError(f"frames must be 8-bit (uint8), got {frame.dtype}")
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1):
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return frame
    raise SiamMaskError(f"a frame must be HxW, HxWx3 or HxWx4, got shape {frame.shape}")
