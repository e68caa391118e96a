"""The region-limited mask warp equals the reference's whole-frame cv2.warpAffine."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from siammask.tracking.mask import mask_to_image

# remap and warpAffine share the sampling map but may round the last bit of the interpolation
# differently; 1 ulp at mask values <= 1 is 6e-8.
ULP_TOL = 1.2e-7


def reference_paste(mask, crop_box, row, col, image_size):
    s = crop_box[2] / 255
    sub = [crop_box[0] + (col - 4) * 8 * s, crop_box[1] + (row - 4) * 8 * s, s * 127, s * 127]
    k = 127 / sub[2]
    w, h = image_size
    back = [-sub[0] * k, -sub[1] * k, w * k, h * k]
    a, b = (w - 1) / back[2], (h - 1) / back[3]
    mapping = np.array([[a, 0, -a * back[0]], [0, b, -b * back[1]]], dtype=np.float64)
    return cv2.warpAffine(mask, mapping, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=-1)


@pytest.mark.skipif(int(cv2.__version__.split(".")[0]) != 4, reason="emulates OpenCV 4's warpAffine")
@pytest.mark.parametrize("seed", range(40))
def test_region_warp_equals_full_frame_warp(seed):
    rng = np.random.default_rng(seed)
    mask = cv2.GaussianBlur(rng.random((127, 127)).astype(np.float32), (0, 0), 3)
    image_size = (1280, 720) if seed % 2 else (320, 240)
    side = float(rng.uniform(60, 900))
    crop_box = (rng.uniform(-300, image_size[0]), rng.uniform(-300, image_size[1]), side, side)
    row, col = (int(v) for v in rng.integers(0, 25, 2))
    ours = mask_to_image(mask, crop_box, row, col, image_size, 255, 127, 8, 8)
    full = reference_paste(mask, crop_box, row, col, image_size)
    assert np.abs(ours.full() - full).max() <= ULP_TOL
    assert np.array_equal(ours.binary(0.3), (full > 0.3).astype(np.uint8)) or \
        np.abs(full[ours.binary(0.3) != (full > 0.3)] - 0.3).max() <= ULP_TOL
