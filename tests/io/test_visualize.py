"""Overlay drawing and the atomic overlay-video writer (no network: hand-made results)."""

from __future__ import annotations

import math
import shutil

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


def test_absent_target_is_drawn_nowhere_and_named_in_the_corner():
    """An absent result: no tint, no outline where its polygon is; "1: absent" in target 1's colour
    at the top left; the present target is drawn as before."""
    import dataclasses

    present = make_result(20, 20, 30, 24)
    absent = dataclasses.replace(make_result(70, 40, 30, 30, score=0.2), present=False)
    out = draw_overlay(grey_frame(), [present, absent])
    both = draw_overlay(grey_frame(), [present, dataclasses.replace(absent, present=True)])
    assert (out[45:75, 65:105] == 100).all()  # target 1's box, outline and mask: untouched
    assert not (both[45:75, 65:105] == 100).all()  # (the same result, present, is drawn there)
    np.testing.assert_array_equal(out[27:50, 15:45], both[27:50, 15:45])  # target 0 as before (off the labels)
    corner = out[:20, :60].astype(int)
    greenish = (corner[:, :, 1] - np.maximum(corner[:, :, 0], corner[:, :, 2])) > 80  # PALETTE[1] green
    assert greenish.sum() > 10
    single = draw_overlay(grey_frame(), absent)  # one target: the label is "absent", no index
    assert not (single[:20, :60] == 100).all() and (single[45:75, 65:105] == 100).all()


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
        assert not path.exists()  # at most the hidden temporary file exists until close
        assert all(p.name.startswith(".") for p in tmp_path.iterdir())
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


def test_mp4_is_h264_with_an_odd_size_padded(tmp_path):
    """MP4 is H.264 in yuv420p (what browsers play), which needs even sizes: 121x91 becomes 122x92."""
    import av

    from siammask.io.visualize import count_video_frames

    path = tmp_path / "overlay.mp4"
    with OverlayWriter(path, fps=29.97) as writer:
        for image in frames(3):
            writer.write(cv2.copyMakeBorder(image, 0, 1, 0, 1, cv2.BORDER_REPLICATE))
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (122, 92)
        assert float(stream.average_rate) == pytest.approx(29.97, abs=0.01)
    assert count_video_frames(path) == 3


_WRITE_UNDER_LIMIT = """
import sys, numpy as np
from siammask.io.visualize import OverlayWriter
from siammask.errors import SiamMaskError
rng = np.random.default_rng(0)
try:
    with OverlayWriter(sys.argv[1], fps=10) as writer:
        for _ in range(6):
            writer.write(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))  # noise: no compression
except SiamMaskError as exc:
    print(exc)
    sys.exit(1)
"""


@pytest.mark.parametrize("ext", [".mp4", ".avi", ".gif"])
def test_a_cut_write_never_replaces_a_good_video(tmp_path, ext):
    """Under a file-size limit (as under a full disk) the writer says so and the old video stays."""
    import resource
    import subprocess
    import sys

    path = tmp_path / f"good{ext}"
    with OverlayWriter(path) as writer:
        writer.write(grey_frame())
    before = path.read_bytes()

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 10, 16 << 10))

    done = subprocess.run([sys.executable, "-c", _WRITE_UNDER_LIMIT, str(path)], capture_output=True, text=True,
                          timeout=120, preexec_fn=limit)
    assert done.returncode == 1, done.stderr
    assert f"video {path}" in done.stdout and ("cannot be written" in done.stdout or "frames" in done.stdout)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
def test_chromium_plays_the_mp4(tmp_path):
    """The overlay MP4 plays in a browser: headless Chromium loads it (decoded data, its size and length)."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    path = tmp_path / "overlay.mp4"
    with OverlayWriter(path, fps=10) as writer:
        for image in frames(5):
            writer.write(image)
    page = tmp_path / "play.html"
    page.write_text(f'<video id="v" src="{path.name}" muted preload="auto"></video>')
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--allow-file-access-from-files"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        browser.set_script_timeout(30)
        browser.get(page.as_uri())
        state = browser.execute_async_script("""
            const done = arguments[arguments.length - 1], v = document.getElementById('v');
            const report = () => done({ready: v.readyState, width: v.videoWidth, height: v.videoHeight,
                                       duration: v.duration, error: v.error ? v.error.code : null});
            if (v.readyState >= 2 || v.error) report();
            else { v.addEventListener('loadeddata', report); v.addEventListener('error', report);
                   setTimeout(report, 20000); }""")
    finally:
        browser.quit()
    assert state["error"] is None, state
    assert state["ready"] >= 2 and (state["width"], state["height"]) == SIZE
    assert state["duration"] == pytest.approx(0.5, abs=0.05)
