"""Third catalogue (issue 26), hostile input files: the DAVIS path and `report` behind the same
special-file guard as the VOT path (A), a pixel budget read from image headers (B), sizes and
structures claimed by dataset files (C, D), reads that take what the file holds (N), damaged JPEG
data (F), a missing dataset folder, names with control characters kept off the terminal (M).

Each case runs the CLI in-process and asserts one `siammask: error:` line (or a clean output).
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from siammask.errors import SiamMaskError

from .helpers import BOX, assert_one_line_error, cli, textured_frame, write_dataset, write_frames

# --------------------------------------------------------------------------------------------
# helpers


def write_davis(root: Path, names: tuple[str, ...] = ("a", "b"), frames: int = 4) -> Path:
    """A small DAVIS folder: one object a sequence, every frame annotated."""
    for name in names:
        for t in range(frames):
            jpg = root / "JPEGImages" / "480p" / name / f"{t:05d}.jpg"
            jpg.parent.mkdir(parents=True, exist_ok=True)
            assert cv2.imwrite(str(jpg), textured_frame(t))
            labels = np.zeros((96, 96), np.uint8)
            labels[30 + t : 54 + t, 30 + t : 54 + t] = 1
            png = root / "Annotations" / "480p" / name / f"{t:05d}.png"
            png.parent.mkdir(parents=True, exist_ok=True)
            write_palette_png(png, labels)
    for year in ("2016", "2017"):
        (root / "ImageSets" / year).mkdir(parents=True, exist_ok=True)
        (root / "ImageSets" / year / "val.txt").write_text("".join(n + "\n" for n in names))
    return root


def write_palette_png(path: Path, labels: np.ndarray) -> None:
    image = Image.fromarray(labels, mode="P")
    image.putpalette([0, 0, 0, 128, 0, 0] + [255] * (3 * 254))
    image.save(path)


def write_results(results: Path, davis: Path, tracker: str = "T") -> Path:
    """A tracker's label maps: the ground truth itself, in the submission layout."""
    for seq in sorted((davis / "Annotations" / "480p").iterdir()):
        out = results / tracker / seq.name
        out.mkdir(parents=True)
        for png in seq.iterdir():
            (out / png.name).write_bytes(png.read_bytes())
    return results / tracker


def header_only_png(width: int, height: int, palette: bool = False) -> bytes:
    """A PNG of a few dozen bytes whose header declares `width` x `height`: what a decoder
    allocates from before it finds the data missing."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    body = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3 if palette else 2, 0, 0, 0))
    if palette:
        body += chunk(b"PLTE", bytes(6))
    body += chunk(b"IDAT", zlib.compress(bytes(1024))) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


@contextmanager
def fifo_unblocked(path: Path) -> Iterator[None]:
    """Make a FIFO at `path` for the block. Should a regression open it for reading (which blocks
    until a writer comes), a writer comes and goes at once, so the reader gets an empty file and
    the test fails on its assertions instead of hanging."""
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    stop = threading.Event()

    def writer() -> None:
        while not stop.wait(0.05):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # succeeds only while a reader waits
            except OSError:
                continue
            os.close(fd)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# --------------------------------------------------------------------------------------------
# A. the DAVIS path and report read through the special-file guard


DAVIS_INPUTS = ["ImageSets/2017/val.txt", "Annotations/480p/a/00002.png", "JPEGImages/480p/b/00003.jpg"]


@pytest.mark.parametrize("relative", DAVIS_INPUTS)
def test_davis_fifo_input_is_refused_not_read(tmp_path, capsys, relative):
    davis = write_davis(tmp_path / "dav")
    with fifo_unblocked(davis / relative):
        rc, _, err = cli(capsys, "report", "--dataset", davis, "--results", tmp_path / "r")
    assert_one_line_error(rc, err, Path(relative).name, "FIFO")


@pytest.mark.parametrize("relative", DAVIS_INPUTS)
def test_davis_input_linked_to_dev_zero_is_refused(tmp_path, capsys, relative):
    davis = write_davis(tmp_path / "dav")
    (davis / relative).unlink()
    (davis / relative).symlink_to("/dev/zero")  # would be read until memory runs out
    rc, _, err = cli(capsys, "report", "--dataset", davis, "--results", tmp_path / "r")
    assert_one_line_error(rc, err, Path(relative).name, "device")


def test_eval_on_davis_with_a_fifo_frame_is_refused_before_tracking(tmp_path, capsys, exported_model):
    davis = write_davis(tmp_path / "dav")
    with fifo_unblocked(davis / "JPEGImages/480p/b/00002.jpg"):  # not annotated frames are checked too
        (davis / "Annotations/480p/b/00002.png").unlink()
        rc, _, err = cli(capsys, "eval", "--dataset", davis, "--model", exported_model, "--results", tmp_path / "r")
    assert_one_line_error(rc, err, "00002.jpg", "FIFO")
    assert not (tmp_path / "r").exists()  # refused when the dataset was loaded, before any tracking


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_report_on_a_special_result_file_names_it(tmp_path, capsys, kind):
    davis = write_davis(tmp_path / "dav")
    tracker = write_results(tmp_path / "r", davis)
    result = tracker / "a" / "00001.png"
    if kind == "fifo":
        with fifo_unblocked(result):
            rc, _, err = cli(capsys, "report", "--dataset", davis, "--results", tmp_path / "r")
        line = assert_one_line_error(rc, err, "00001.png", "FIFO")
    else:
        result.unlink()
        result.symlink_to("/dev/zero")
        rc, _, err = cli(capsys, "report", "--dataset", davis, "--results", tmp_path / "r")
        line = assert_one_line_error(rc, err, "00001.png", "device")
    assert "not found" not in line


def test_report_on_good_davis_results_still_scores(tmp_path, capsys):
    davis = write_davis(tmp_path / "dav")
    write_results(tmp_path / "r", davis)
    rc, out, err = cli(capsys, "report", "--dataset", davis, "--results", tmp_path / "r")
    assert rc == 0, err
    assert "J&F-Mean" in out


# --------------------------------------------------------------------------------------------
# B. a pixel budget, read from the header before anything is decoded


def test_a_frame_declaring_too_many_pixels_is_refused_by_name(tmp_path, capsys, exported_model):
    frames = tmp_path / "frames"
    write_frames(frames, 3)
    (frames / "00000004.png").write_bytes(header_only_png(20000, 20000))  # 1.2 GB once decoded
    rc, _, err = cli(capsys, "track", frames, f"--box={BOX}", "--model", exported_model, "--no-progress",
                     "--output", tmp_path / "t.json")
    assert_one_line_error(rc, err, "00000004.png", "400000000 pixels, more than the", "SIAMMASK_MAX_PIXELS")
    assert not (tmp_path / "t.json").exists()


def test_a_davis_annotation_declaring_too_many_pixels_is_refused(tmp_path, capsys):
    davis = write_davis(tmp_path / "dav")
    (davis / "Annotations/480p/a/00001.png").write_bytes(header_only_png(20000, 10000, palette=True))
    rc, _, err = cli(capsys, "report", "--dataset", davis, "--results", tmp_path / "r")
    line = assert_one_line_error(rc, err, "00001.png", "200000000 pixels, more than the")
    assert "DecompressionBomb" not in line


def test_the_pixel_budget_is_settable(tmp_path, capsys, monkeypatch):
    from siammask.io.sources import MAX_PIXELS, check_image_pixels, max_pixels

    davis = write_davis(tmp_path / "dav")
    frame = davis / "JPEGImages/480p/a/00000.jpg"
    assert max_pixels() == MAX_PIXELS
    assert check_image_pixels(frame, "frame") == (96, 96)
    assert check_image_pixels(frame.read_bytes(), "frame") == (96, 96)
    monkeypatch.setenv("SIAMMASK_MAX_PIXELS", "9000")  # 96 x 96 = 9216
    rc, _, err = cli(capsys, "report", "--dataset", davis, "--results", tmp_path / "r")
    assert_one_line_error(rc, err, "00000.jpg", "96x96, 9216 pixels, more than the 9000")
    monkeypatch.setenv("SIAMMASK_MAX_PIXELS", "lots")
    rc, _, err = cli(capsys, "report", "--dataset", davis, "--results", tmp_path / "r")
    assert_one_line_error(rc, err, "SIAMMASK_MAX_PIXELS", "positive whole number")
    monkeypatch.setenv("SIAMMASK_MAX_PIXELS", str(150_000_000))  # a budget above the default allows more
    assert check_image_pixels(header_only_png(12000, 12000), "big") == (12000, 12000)
    monkeypatch.setenv("SIAMMASK_MAX_PIXELS", str(500_000_000))  # but never past what Pillow opens at all
    with pytest.raises(SiamMaskError, match="big: 400000000 pixels, more than the .* Pillow opens"):
        check_image_pixels(header_only_png(20000, 20000), "big")


# --------------------------------------------------------------------------------------------
# C, D. sizes and structures claimed by dataset files


def test_groundtruth_is_counted_before_it_is_parsed(tmp_path, capsys):
    dataset = write_dataset(tmp_path / "ds", ["a"], frames=4)
    gt = dataset / "a" / "groundtruth.txt"
    gt.write_text(gt.read_text() + "not a region\n")  # parsing would stop at line 5
    rc, _, err = cli(capsys, "report", "--dataset", dataset, "--results", tmp_path / "r")
    assert_one_line_error(rc, err, "groundtruth.txt", "5 lines for 4 frames")
    gt.write_text(gt.read_text() + "x" * (2 << 20))  # 2 MB for 4 frames: not read at all
    rc, _, err = cli(capsys, "report", "--dataset", dataset, "--results", tmp_path / "r")
    assert_one_line_error(rc, err, "groundtruth.txt", "bytes for 4 frames")


def test_a_result_file_far_longer_than_its_sequence_is_not_read(tmp_path, capsys):
    dataset = write_dataset(tmp_path / "ds", ["a"], frames=4)
    seq = tmp_path / "r" / "T" / "baseline" / "a"
    seq.mkdir(parents=True)
    (seq / "a_001.txt").write_text("1\n" + "0\n" * 1_000_000)  # 2 MB for 4 frames
    rc, _, err = cli(capsys, "report", "--dataset", dataset, "--results", tmp_path / "r")
    assert_one_line_error(rc, err, "a_001.txt", "bytes for 4 frames")


def test_a_vot_frame_that_is_a_fifo_is_named_when_the_dataset_loads(tmp_path, capsys):
    dataset = write_dataset(tmp_path / "ds", ["a"], frames=4)
    with fifo_unblocked(dataset / "a" / "00000003.jpg"):
        rc, _, err = cli(capsys, "report", "--dataset", dataset, "--results", tmp_path / "r")
    assert_one_line_error(rc, err, "00000003.jpg", "FIFO")


@pytest.mark.parametrize("entry", ["[1, 2, 3]", '"bag"', "7"])
def test_meta_file_entries_of_the_wrong_type_are_refused(tmp_path, capsys, entry):
    dataset = write_dataset(tmp_path / "VOT2016", ["a"])
    (dataset / "VOT2016.json").write_text('{"a": ' + entry + '}')
    rc, _, err = cli(capsys, "report", "--dataset", dataset, "--results", tmp_path / "r")
    assert_one_line_error(rc, err, "VOT2016.json", "entry 'a'", "expected an object")


# --------------------------------------------------------------------------------------------
# N. a read takes what the file holds, not its cap


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc to size the address space")
def test_reading_a_small_input_does_not_reserve_its_cap(tmp_path):
    frame = write_frames(tmp_path / "frames", 1)[0]
    code = (
        "import resource, sys\n"
        "from siammask.files import read_input\n"
        "from siammask.io.sources import read_image\n"
        "size = [int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmSize:')][0]\n"
        "room = size + (200 << 20)\n"  # 200 MiB more than the process holds: far below the 1 GiB cap
        "resource.setrlimit(resource.RLIMIT_AS, (room, room))\n"
        "data = read_input(sys.argv[1], 'frame', 1 << 30)\n"
        "image = read_image(sys.argv[1])\n"
        "print(len(data), image.shape)\n"
    )
    run = subprocess.run([sys.executable, "-c", code, str(frame)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[0] == str(frame.stat().st_size)


def test_an_input_over_its_cap_is_still_refused(tmp_path):
    from siammask.files import read_input

    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 5000)
    with pytest.raises(SiamMaskError, match="5000 bytes, more than the 4 KiB"):
        read_input(path, "big.txt", 4096)
    assert read_input(path, "big.txt", 5000) == b"x" * 5000


# --------------------------------------------------------------------------------------------
# F. a JPEG cut short and closed with an end marker is not a whole frame


def test_jpeg_cut_and_ended_with_eoi_is_refused(tmp_path, capfd, exported_model):
    frames = tmp_path / "frames"
    write_frames(frames, 3)
    data = (frames / "00000002.jpg").read_bytes()
    (frames / "00000002.jpg").write_bytes(data[: len(data) // 2] + b"\xff\xd9")
    rc, _, err = cli(capfd, "track", frames, f"--box={BOX}", "--model", exported_model, "--no-progress",
                     "--output", tmp_path / "t.json")
    # capfd: libjpeg's own warning on file descriptor 2 would be a second line
    assert_one_line_error(rc, err, "00000002.jpg", "truncated or damaged JPEG")
    assert not (tmp_path / "t.json").exists()


@pytest.mark.parametrize("progressive", [0, 1])
def test_whole_jpegs_pass_and_cut_ones_do_not(tmp_path, progressive):
    from siammask.io.sources import read_image

    image = cv2.GaussianBlur(np.random.default_rng(3).integers(0, 255, (96, 96, 3), np.uint8), (5, 5), 0)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_PROGRESSIVE, progressive])
    data = encoded.tobytes()
    whole = tmp_path / "whole.jpg"
    whole.write_bytes(data)
    assert np.array_equal(read_image(whole), cv2.imdecode(encoded, cv2.IMREAD_COLOR))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2] + b"\xff\xd9")
    with pytest.raises(SiamMaskError, match="cut.jpg: .*truncated"):
        read_image(cut)


# --------------------------------------------------------------------------------------------
# a missing dataset folder; M. names with control characters never reach the terminal raw


def test_a_missing_dataset_folder_is_named_as_missing(tmp_path, capsys):
    rc, _, err = cli(capsys, "report", "--dataset", tmp_path / "nothing", "--results", tmp_path / "r")
    line = assert_one_line_error(rc, err, "nothing", "no such folder")
    assert "list.txt" not in line
    rc, _, err = cli(capsys, "eval", "--dataset", tmp_path / "nothing", "--results", tmp_path / "r",
                     "--model", tmp_path / "no-model")
    assert_one_line_error(rc, err, "nothing", "no such folder")


def test_davis_list_entry_with_escape_sequences_is_refused_escaped(tmp_path, capsys):
    davis = write_davis(tmp_path / "dav")
    (davis / "ImageSets/2017/val.txt").write_text("a\n\x1b[2J\x1b[Hb\n")  # would clear the screen
    rc, out, err = cli(capsys, "report", "--dataset", davis, "--results", tmp_path / "r")
    assert_one_line_error(rc, err, "val.txt:2", "\\x1b[2J")
    assert "\x1b" not in out + err


def test_report_table_escapes_tracker_folder_names(tmp_path, capsys):
    dataset = write_dataset(tmp_path / "ds", ["a"], frames=4)
    name = "T\x1b[2J\rX"
    seq = tmp_path / "r" / name / "baseline" / "a"
    seq.mkdir(parents=True)
    (seq / "a_001.txt").write_text("1\n31.0,31.0,24.0,24.0\n32.0,32.0,24.0,24.0\n33.0,33.0,24.0,24.0\n")
    rc, out, err = cli(capsys, "report", "--dataset", dataset, "--results", tmp_path / "r", "--eao-interval", "1,4")
    assert rc == 0, err
    assert "\x1b" not in out and "\r" not in out
    assert "T\\x1b[2J\\rX" in out


@pytest.mark.parametrize("layout", ["vot", "davis"])
def test_eval_progress_escapes_the_tracker_name(tmp_path, capsys, exported_model, layout):
    dataset = write_dataset(tmp_path / "ds", ["a"]) if layout == "vot" else write_davis(tmp_path / "dav", ("a",))
    rc, out, err = cli(capsys, "eval", "--dataset", dataset, "--results", tmp_path / "r", "--model", exported_model,
                       "--tracker-name", "T\x1b]0;owned\x07")
    assert_one_line_error(rc, err, "tracker name")
    assert "\x1b" not in out + err and "\x07" not in out + err
