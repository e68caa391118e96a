"""Frame sources: folders, videos, cameras, and the one-line errors for what users get wrong."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from siammask.errors import SiamMaskError
from siammask.io.sources import (
    Camera,
    ImageFiles,
    ImageFolder,
    VideoFile,
    find_images,
    list_images,
    open_source,
    read_image,
)
from tests.constants import DATASET


def frame(value: int, size: tuple[int, int] = (32, 24)) -> np.ndarray:
    image = np.zeros((size[1], size[0], 3), np.uint8)
    image[:, :, 0] = value
    image[2:6, 2:6] = 255 - value
    return image


def write_images(folder: Path, names: list[str], size: tuple[int, int] = (32, 24)) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k, name in enumerate(names):
        assert cv2.imwrite(str(folder / name), frame(10 * k, size))


def test_folder_natural_order_and_formats(tmp_path):
    write_images(tmp_path, ["10.png", "2.png", "1.bmp", "3.JPG"])
    (tmp_path / "notes.txt").write_text("not an image")
    source = open_source(str(tmp_path))
    assert isinstance(source, ImageFolder)
    assert [p.name for p in source.paths] == ["1.bmp", "2.png", "3.JPG", "10.png"]
    assert source.length == 4 and source.fps is None
    frames = list(source)
    assert len(frames) == 4
    assert all(f.dtype == np.uint8 and f.shape == (24, 32, 3) for f in frames)
    assert [int(f[10, 10, 0]) for f in frames] == pytest.approx([20, 10, 30, 0], abs=3)  # 3.JPG is lossy
    assert len(list(source)) == 4  # iterating again starts over


def test_vot_folder_and_color_subfolder(tmp_path):
    source = open_source(DATASET / "synth00")
    assert source.length == len(list((DATASET / "synth00").glob("*.jpg")))
    first = next(iter(source))
    assert first.shape == (240, 320, 3)
    write_images(tmp_path / "seq" / "color", ["00000001.jpg", "00000002.jpg"])
    (tmp_path / "seq" / "groundtruth.txt").write_text("1,2,3,4\n")
    assert [p.name for p in list_images(tmp_path / "seq")] == ["00000001.jpg", "00000002.jpg"]


def test_own_images_win_over_color_subfolder(tmp_path):
    """The folder named is the folder listed; color/ only stands in for a folder without frames."""
    write_images(tmp_path, ["1.jpg", "2.jpg"])
    write_images(tmp_path / "color", ["00000001.png"])
    assert [p.name for p in list_images(tmp_path)] == ["1.jpg", "2.jpg"]
    for p in tmp_path.glob("*.jpg"):
        p.unlink()
    assert [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)] == ["color/00000001.png"]


def test_same_number_twice_sorts_by_name(tmp_path):
    """1.jpg and 01.jpg (a.png and A.png) tie in natural order: the name decides, not the file system."""
    write_images(tmp_path, ["1.jpg", "01.jpg", "a.png", "A.png", "2.jpg"])
    assert [p.name for p in list_images(tmp_path)] == ["01.jpg", "1.jpg", "2.jpg", "A.png", "a.png"]


def test_broken_link_and_fifo_are_listed_then_named(tmp_path):
    """Named like frames, they are listed (a frame must not go missing silently) and refused when read."""
    write_images(tmp_path, ["1.png"])
    (tmp_path / "2.png").symlink_to(tmp_path / "gone.png")
    os.mkfifo(tmp_path / "3.png")
    (tmp_path / "4.png").mkdir()  # a folder is never a frame
    assert [p.name for p in find_images(tmp_path)] == ["1.png", "2.png", "3.png"]
    frames = iter(open_source(tmp_path))
    next(frames)
    with pytest.raises(SiamMaskError, match=r"2\.png \(frame 1\): cannot be read"):
        next(frames)
    with pytest.raises(SiamMaskError, match=r"3\.png \(frame 2\): is a FIFO"):
        read_image(tmp_path / "3.png", "frame 2")


def test_find_images_is_empty_where_list_images_refuses(tmp_path):
    (tmp_path / "color").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    assert find_images(tmp_path) == []
    with pytest.raises(SiamMaskError, match=r"holds no images \(\*\.jpg, \*\.jpeg, \*\.png, \*\.bmp\)"):
        list_images(tmp_path)
    with pytest.raises(SiamMaskError, match="no such folder"):
        list_images(tmp_path / "missing")


def test_grayscale_images_become_bgr(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    cv2.imwrite(str(tmp_path / "a.png"), np.full((8, 8), 77, np.uint8))
    (image,) = list(open_source(tmp_path))
    assert image.shape == (8, 8, 3) and (image == 77).all()


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: None, "no such file or folder"),
        (lambda p: p.mkdir(), "is empty"),
        (lambda p: (p.mkdir(), (p / "a.txt").write_text("x")), "holds no images"),
        (lambda p: p.write_bytes(b"\x00" * 1000), "cannot be opened"),
        (lambda p: shutil.copy(DATASET / "synth00" / "00000001.jpg", p), "single image"),
    ],
    ids=["missing", "empty-folder", "no-images", "bad-video", "single-image"],
)
def test_open_errors_are_one_line(tmp_path, setup, message):
    path = tmp_path / ("thing.jpg" if "single" in message else "thing.mp4" if "opened" in message else "thing")
    setup(path)
    with pytest.raises(SiamMaskError, match=message) as info:
        open_source(str(path))
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_truncated_jpeg_mid_sequence_is_named(tmp_path):
    for k in range(3):
        shutil.copy(DATASET / "synth00" / f"{k + 1:08d}.jpg", tmp_path)
    bad = tmp_path / "00000002.jpg"
    bad.write_bytes(bad.read_bytes()[:5000])
    frames = iter(open_source(tmp_path))
    assert next(frames).shape == (240, 320, 3)
    with pytest.raises(SiamMaskError, match=r"00000002\.jpg \(frame 1\): truncated JPEG"):
        next(frames)


def test_unreadable_png_is_named(tmp_path):
    write_images(tmp_path, ["a.png", "b.png"])
    (tmp_path / "b.png").write_bytes((tmp_path / "b.png").read_bytes()[:40])
    with pytest.raises(SiamMaskError, match=r"b\.png \(frame 1\): unreadable or truncated"):
        list(open_source(tmp_path))
    with pytest.raises(SiamMaskError, match="empty file"):
        (tmp_path / "c.png").write_bytes(b"")
        read_image(tmp_path / "c.png")


def test_frame_size_change_is_named(tmp_path):
    write_images(tmp_path, ["1.png", "2.png"])
    cv2.imwrite(str(tmp_path / "3.png"), frame(0, (40, 24)))
    with pytest.raises(SiamMaskError, match=r"frame 2 \(3\.png\) is 40x24 but the first frame is 32x24"):
        list(open_source(tmp_path))


def test_explicit_file_list(tmp_path):
    write_images(tmp_path, ["b.png", "a.png"])
    source = open_source([tmp_path / "b.png", tmp_path / "a.png"])
    assert isinstance(source, ImageFiles)
    assert [int(f[10, 10, 0]) for f in source] == [0, 10]
    with pytest.raises(SiamMaskError, match="no image files"):
        open_source([])


def test_video_file_length_fps_and_frames(tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 12.0, (32, 24))
    for k in range(5):
        writer.write(frame(40 * k))
    writer.release()
    with open_source(str(path)) as source:
        assert isinstance(source, VideoFile)
        assert source.length == 5 and source.fps == pytest.approx(12.0)
        frames = list(source)
    assert len(frames) == 5 and frames[0].shape == (24, 32, 3)
    assert [int(f[12, 20, 0]) for f in frames] == pytest.approx([0, 40, 80, 120, 160], abs=4)
    assert len(list(source)) == 5  # a second pass reopens the file


def test_camera_index(monkeypatch):
    opened = []

    class FakeCapture:
        def __init__(self, index):
            opened.append(index)
            self.left = 2

        def isOpened(self):  # noqa: N802 - OpenCV's name
            return opened[-1] == 3

        def get(self, prop):
            return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

        def read(self):
            self.left -= 1
            return (True, frame(0)) if self.left >= 0 else (False, None)

        def release(self):
            pass

    monkeypatch.setattr("siammask.io.sources.cv2.VideoCapture", FakeCapture)
    with open_source("3") as camera:
        assert isinstance(camera, Camera) and camera.length is None and camera.fps == 30.0
        assert len(list(camera)) == 2  # ends when the device stops delivering
    with pytest.raises(SiamMaskError, match="camera 7: cannot be opened"):
        open_source("7")
    assert opened == [3, 7]


def test_digits_naming_a_folder_are_a_path(tmp_path, monkeypatch):
    write_images(tmp_path / "0", ["a.png"])
    monkeypatch.chdir(tmp_path)
    assert isinstance(open_source("0"), ImageFolder)
