"""VOT-layout dataset loader."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from siammask.datasets.vot import TAG_NAMES, load_dataset, load_sequence
from siammask.errors import SiamMaskError
from siammask.io.sources import list_images
from tests.evaluation.helpers import DATASET, SEQUENCES, make_dataset, make_sequence


def test_golden_dataset():
    """3 sequences x 120 frames, 8-value ground truth, 320x240, tags from VOT2016.json (size_change every 3rd)."""
    ds = load_dataset(DATASET)
    assert ds.name == "VOT2016"
    assert ds.names == list(SEQUENCES)
    for seq in ds:
        assert len(seq) == 120 and seq.groundtruth.shape == (120, 8)
        assert seq.frames[0].name == "00000001.jpg"
        assert (seq.width, seq.height) == (320, 240)
        assert set(seq.tags) == set(TAG_NAMES)
        np.testing.assert_array_equal(seq.tags["size_change"], np.arange(120) % 3 == 0)
        assert not seq.tags["occlusion"].any()
    first = np.loadtxt(DATASET / "synth00" / "groundtruth.txt", delimiter=",")[0]
    np.testing.assert_array_equal(ds["synth00"].groundtruth[0], first)


def test_color_subfolder_and_tag_files(tmp_path):
    """Frames in color/ (png), 4-value ground truth, tag files (a short one padded with 0), size from frame 1."""
    root = make_dataset(tmp_path / "ds", ["s1"], frames=4, color=True, size=(40, 30))
    (root / "s1" / "occlusion.tag").write_text("0\n1\n1\n0\n")
    (root / "s1" / "camera_motion.tag").write_text("1\n")
    (root / "VOT2016.json").write_text(json.dumps({"s1": {"occlusion": [1, 1, 1, 1]}}))  # tag files win
    ds = load_dataset(root)
    seq = ds["s1"]
    assert [p.parent.name for p in seq.frames] == ["color"] * 4
    assert seq.groundtruth.shape == (4, 4)
    assert seq.size == (40, 30)
    np.testing.assert_array_equal(seq.tags["occlusion"], [False, True, True, False])
    np.testing.assert_array_equal(seq.tags["camera_motion"], [True, False, False, False])
    assert not seq.tags["size_change"].any()


def test_meta_file_named_after_folder(tmp_path):
    """Without tag files, tags come from `<folder>.json`; the dataset takes its name."""
    root = make_dataset(tmp_path / "VOT2018", ["a"], frames=2)
    (root / "VOT2018.json").write_text(json.dumps({"a": {"illum_change": [0, 1]}}))
    ds = load_dataset(root)
    assert ds.name == "VOT2018"
    np.testing.assert_array_equal(ds["a"].tags["illum_change"], [False, True])


@pytest.mark.parametrize(
    ("lines", "frames", "needle"),
    [
        (["1,2,3,4", "1,2,3"], 2, "groundtruth.txt:2"),
        (["1,2,3,4", "1,2,nan,4"], 2, "groundtruth.txt:2"),
        (["1,2,x,4", "1,2,3,4"], 2, "groundtruth.txt:1"),
        (["1,2,3,4", ""], 2, "groundtruth.txt:2"),
        (["1,2,3,4", "1,2,3,4,5,6,7,8"], 2, "groundtruth.txt:2"),
        (["1,2,3,4"], 2, "1 lines for 2 frames"),
    ],
)
def test_bad_groundtruth(tmp_path, lines, frames, needle):
    """Wrong value counts, NaN, text, blank or missing lines: a one-line SiamMaskError naming file and line."""
    root = make_dataset(tmp_path / "ds", ["s"], frames=frames, lines=lines)
    with pytest.raises(SiamMaskError) as err:
        load_dataset(root)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_bad_layouts(tmp_path):
    """Missing list.txt, sequence folder, groundtruth or frames; bad tag values: SiamMaskError."""
    with pytest.raises(SiamMaskError, match="list.txt"):
        load_dataset(tmp_path)
    root = make_dataset(tmp_path / "a", ["s"])
    (root / "list.txt").write_text("s\nmissing\n")
    with pytest.raises(SiamMaskError, match="missing"):
        load_dataset(root)
    (root / "list.txt").write_text("s\n")
    (root / "s" / "groundtruth.txt").unlink()
    with pytest.raises(SiamMaskError, match="groundtruth.txt not found"):
        load_dataset(root)
    empty = tmp_path / "b"
    make_dataset(empty, ["s"], frames=0, lines=["1,2,3,4"])
    with pytest.raises(SiamMaskError, match="no frames"):
        load_dataset(empty)
    tagged = make_dataset(tmp_path / "c", ["s"], frames=2)
    (tagged / "s" / "occlusion.tag").write_text("0\n2\n")
    with pytest.raises(SiamMaskError, match="occlusion.tag:2"):
        load_dataset(tagged)


def test_sequence_helper_writes_png(tmp_path):
    """The helper's frames are readable (guards the other tests)."""
    folder = make_sequence(tmp_path, "x", frames=1)
    assert (folder / "00000001.png").stat().st_size > 0


def _blank(path, value=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((24, 32, 3), value, np.uint8))


def test_frames_listed_as_track_lists_them(tmp_path):
    """One listing rule (io.sources.find_images): natural order, .bmp and upper-case extensions,
    the folder's own frames before color/'s; `track` and the VOT loader agree frame for frame."""
    seq = tmp_path / "seq"
    names = ["1.jpg", "2.jpg", "3.bmp", "4.JPG", "5.png", "6.jpeg", "7.jpg", "8.jpg", "9.jpg", "10.jpg"]
    for k, name in enumerate(names):
        _blank(seq / name, 10 * k)
    _blank(seq / "color" / "00000001.jpg")
    (seq / "groundtruth.txt").write_text("1,2,10,8\n" * len(names))
    loaded = load_sequence(seq)
    assert loaded.frames == list_images(seq)
    assert [p.name for p in loaded.frames] == names
    # without frames of its own, both take color/'s
    for name in names:
        (seq / name).unlink()
    (seq / "groundtruth.txt").write_text("1,2,10,8\n")
    assert load_sequence(seq).frames == list_images(seq) == [seq / "color" / "00000001.jpg"]


def test_broken_frame_link_refused_before_tracking(tmp_path):
    """Listed like any frame (so not silently skipped), then refused by name: frame i is line i."""
    folder = make_sequence(tmp_path, "s", frames=3)
    (folder / "00000002.png").unlink()
    (folder / "00000002.png").symlink_to(folder / "gone.png")
    assert folder / "00000002.png" in list_images(folder)
    with pytest.raises(SiamMaskError, match=r"00000002\.png is missing \(a broken link\)"):
        load_sequence(folder)


def test_unreadable_first_frame_named_when_its_size_is_needed(tmp_path):
    folder = make_sequence(tmp_path, "s", frames=2)
    (folder / "00000001.png").write_bytes(b"not a png")
    seq = load_sequence(folder)  # frames are listed, not decoded
    with pytest.raises(SiamMaskError, match=r"00000001\.png \(frame 0\): unreadable"):
        _ = seq.size
