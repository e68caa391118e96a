"""Overlay drawing and the atomic overlay-video writer (no network: hand-made results)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from siammask.errors import SiamMaskError
from siammask.io.visualize import PALETTE, OverlayWriter, check_video_path, draw_overlay, target_color
from siammask.tracking.geometry import box_corners
from siammask.tracking.mask import PastedMask
from siammask.tracking.tracker import TrackResult

SIZE = (120, 90)  # width, height


def make_result(x: int, y: int, w: int, h: int, score: float = 0.87) -> TrackResult:
    """A result whose mask is exactly the box x,y,w,h (probability 0.9 inside, 0.1 in a margin)."""
    values = np.full((h + 8, w + 8), 0.1, np.float32)
    values[4:-4, 4:-4] = 0.9
    mask = PastedMask(values, (x - 4, y - 4, w + 8, h + 8), SIZE)
    box = np.array([x, y, w, h], float)
    return TrackResult(box_corners(box), box, score, mask, w * h, True)


def grey_frame() -> np.ndarray:
    return np.full((SIZE[1], SIZE[0], 3), 100, np.uint8)


def test_mask_tinted_polygon_drawn_frame_untouched():
    image = grey_frame()
    out = draw_overlay(image, [make_result(20, 20, 30, 24), make_result(70, 40, 30, 30, score=0.5)])
    assert (image == 100).all()  # the input is never drawn on
    assert out.shape == image.shape and out.dtype == np.uint8
    # inside target 0's mask: grey blended towards red; outside every mask: unchanged
    inside = out[32, 35].astype(int)
    assert inside[2] > 140 and inside[0] < 70 and inside[1] < 70
    assert (out[5, 100] == 100).all()
    # margin pixels (0.1 < 0.3) are not tinted
    assert (out[30, 17] == 100).all()
    # target 1 is tinted in the second colour (green)
    inside1 = out[55, 85].astype(int)
    assert inside1[1] > 140 and inside1[2] < 70
    # the polygon outline is drawn in the target colour on the box edge
    edge = out[44, 35].astype(int)
    assert np.abs(edge - PALETTE[0]).max() < 60


def test_custom_colors_and_single_result():
    out = draw_overlay(grey_frame(), make_result(20, 20, 30, 24), colors=[(255, 0, 0)], labels=["car"])
    inside = out[32, 35].astype(int)
    assert inside[0] > 140 and inside[2] < 70  # blue tint
    with pytest.raises(SiamMaskError, match="colours"):
        draw_overlay(grey_frame(), [make_result(20, 20, 30, 24)] * 2, colors=[(0, 0, 255)])


def test_init_result_without_mask_or_score():
    box = np.array([10.0, 10.0, 40.0, 30.0])
    result = TrackResult(box_corners(box), box, math.nan, None, 0, False)
    out = draw_overlay(grey_frame(), [result])
    assert (out[25, 30] == 100).all()  # nothing tinted inside
    assert (out != 100).any(axis=2).sum() > 100  # outline and label were drawn


def test_grayscale_frame_and_palette_cycles():
    out = draw_overlay(np.full((SIZE[1], SIZE[0]), 50, np.uint8), [make_result(20, 20, 30, 24)])
    assert out.shape == (SIZE[1], SIZE[0], 3)
    assert target_color(len(PALETTE)) == target_color(0)


def frames(n: int) -> list[np.ndarray]:
    out = []
    for k in range(n):
        image = grey_frame()
        cv2.rectangle(image, (10 + 10 * k, 20), (40 + 10 * k, 50), (0, 0, 255), -1)
        out.append(image)
    return out


@pytest.mark.parametrize("ext", [".mp4", ".avi"])
def test_video_written_atomically(tmp_path, ext):
    path = tmp_path / f"overlay{ext}"
    with OverlayWriter(path, fps=10) as writer:
        for image in frames(4):
            writer.write(image)
        assert not path.exists()  # only the hidden temporary file exists until close
        assert len(list(tmp_path.iterdir())) == 1
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    capture = cv2.VideoCapture(str(path))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 4
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(10)
    ok, first = capture.read()
    capture.release()
    assert ok and first.shape == (SIZE[1], SIZE[0], 3)


def test_gif(tmp_path):
    from PIL import Image

    path = tmp_path / "overlay.gif"
    with OverlayWriter(path, fps=5) as writer:
        for image in frames(3):
            writer.write(image)
    with Image.open(path) as gif:
        assert gif.n_frames == 3 and gif.size == SIZE
        assert gif.info["duration"] == 200
        rgb = np.asarray(gif.convert("RGB"))
    assert rgb[35, 25, 0] > 200 and rgb[35, 25, 2] < 60  # the red square survives the palette


def test_failure_leaves_nothing(tmp_path):
    path = tmp_path / "overlay.mp4"
    with pytest.raises(SiamMaskError, match="frame 1 is 60x90, the video is 120x90"):
        with OverlayWriter(path) as writer:
            writer.write(grey_frame())
            writer.write(grey_frame()[:, :60])
    assert list(tmp_path.iterdir()) == []
    writer = OverlayWriter(path)
    with pytest.raises(SiamMaskError, match="no frames"):
        writer.close()
    assert list(tmp_path.iterdir()) == []


def test_existing_file_replaced_only_on_success(tmp_path):
    path = tmp_path / "overlay.avi"
    path.write_bytes(b"old")
    writer = OverlayWriter(path)
    writer.write(grey_frame())
    writer.abort()
    assert path.read_bytes() == b"old"
    with OverlayWriter(path) as writer:
        writer.write(grey_frame())
    assert path.stat().st_size > 3


def test_video_path_checks(tmp_path):
    with pytest.raises(SiamMaskError, match="unsupported extension '.mkv'"):
        check_video_path(tmp_path / "a.mkv")
    with pytest.raises(SiamMaskError, match="does not exist"):
        check_video_path(tmp_path / "missing" / "a.mp4")
    assert OverlayWriter(tmp_path / "a.mp4", fps=None).fps == 25.0
