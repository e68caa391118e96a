"""DAVIS layout: the golden dataset reads as the reference reads it; each bad input is one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siammask.datasets.davis import is_davis_dataset, load_davis
from siammask.errors import SiamMaskError

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden_vos" / "dataset"


def write_label_map(path: Path, labels: np.ndarray) -> None:
    image = Image.fromarray(labels.astype(np.uint8), mode="P")
    image.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0] + [255] * (3 * 252))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def make_davis(root: Path, frames: int = 3, size: tuple[int, int] = (16, 12), listed: tuple[str, ...] = ("a",)) -> Path:
    """A tiny DAVIS folder: sequence 'a' with two objects (1 and 2) on every frame."""
    width, height = size
    for name in listed:
        for t in range(frames):
            jpg = root / "JPEGImages" / "480p" / name / f"{t:05d}.jpg"
            jpg.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((height, width, 3), 40 * t, np.uint8)).save(jpg)
            labels = np.zeros((height, width), np.uint8)
            labels[2:5, 2 + t : 6 + t] = 1
            labels[7:10, 8:12] = 2
            write_label_map(root / "Annotations" / "480p" / name / f"{t:05d}.png", labels)
    for year in ("2016", "2017"):
        (root / "ImageSets" / year).mkdir(parents=True, exist_ok=True)
        (root / "ImageSets" / year / "val.txt").write_text("".join(n + "\n" for n in listed))
    return root


def test_golden_dataset_reads_like_the_reference():
    assert is_davis_dataset(GOLDEN)
    davis = load_davis(GOLDEN)
    assert davis.names == ["vos00", "vos01", "vos02"]
    assert [s.object_ids for s in davis] == [(1, 2, 3), (1, 2), (1, 2, 3)]
    seq = davis["vos01"]
    assert len(seq) == 40 and seq.size == (320, 240) and seq.frame_names[0] == "00000"
    labels = davis.labels("vos01", 7)
    assert labels.dtype == np.uint8 and labels.shape == (240, 320)
    # the palette indices, not colours: exactly what the PNG stores
    assert np.array_equal(labels, np.array(Image.open(seq.annotations[7])))


def test_2016_merges_every_object_into_one():
    davis = load_davis(GOLDEN, year=2016)
    seq = davis["vos00"]
    assert seq.object_ids == (1,)
    raw = np.array(Image.open(seq.annotations[3]))
    assert np.array_equal(seq.labels(3), (raw > 0).astype(np.uint8))
    assert set(np.unique(raw)) == {0, 1, 2, 3}


def test_void_label_counts_as_background(tmp_path):
    root = make_davis(tmp_path)
    labels = np.array(Image.open(root / "Annotations/480p/a/00001.png"))
    labels[0, :] = 255
    write_label_map(root / "Annotations/480p/a/00001.png", labels)
    seq = load_davis(root)["a"]
    assert seq.object_ids == (1, 2)
    assert not seq.labels(1)[0].any()


def test_not_a_davis_folder(tmp_path):
    assert not is_davis_dataset(tmp_path)
    with pytest.raises(SiamMaskError, match="not a DAVIS dataset"):
        load_davis(tmp_path)


def test_unknown_year(tmp_path):
    with pytest.raises(SiamMaskError, match="use 2016 or 2017"):
        load_davis(make_davis(tmp_path), year=2018)


def test_first_frame_without_annotation(tmp_path):
    root = make_davis(tmp_path)
    (root / "Annotations/480p/a/00000.png").unlink()
    with pytest.raises(SiamMaskError, match="first frame 00000.jpg has no annotation"):
        load_davis(root)


def test_later_frame_without_annotation_is_allowed_until_read(tmp_path):
    root = make_davis(tmp_path)
    (root / "Annotations/480p/a/00002.png").unlink()
    seq = load_davis(root)["a"]
    assert seq.annotations[2] is None
    with pytest.raises(SiamMaskError, match="00002.jpg has no annotation"):
        seq.labels(2)


def test_label_map_of_another_size(tmp_path):
    root = make_davis(tmp_path)
    write_label_map(root / "Annotations/480p/a/00001.png", np.ones((12, 15), np.uint8))
    with pytest.raises(SiamMaskError, match=r"label map 00001.png is 15x12, its frame 16x12"):
        load_davis(root)


def test_non_palette_png(tmp_path):
    root = make_davis(tmp_path)
    Image.fromarray(np.ones((12, 16, 3), np.uint8)).save(root / "Annotations/480p/a/00001.png")
    with pytest.raises(SiamMaskError, match="palette PNG, this one is mode RGB"):
        load_davis(root)


def test_unreadable_png(tmp_path):
    root = make_davis(tmp_path)
    (root / "Annotations/480p/a/00001.png").write_bytes(b"not a png")
    with pytest.raises(SiamMaskError, match="cannot read label map"):
        load_davis(root)


def test_object_missing_from_first_frame(tmp_path):
    root = make_davis(tmp_path)
    labels = np.array(Image.open(root / "Annotations/480p/a/00002.png"))
    labels[0, 0] = 3
    write_label_map(root / "Annotations/480p/a/00002.png", labels)
    with pytest.raises(SiamMaskError, match="object 3 appears in 00002.png but not in the first frame"):
        load_davis(root)
    # in 2016 every object is the one foreground: nothing to refuse
    assert load_davis(root, year=2016)["a"].labels(2)[0, 0] == 1


def test_gap_in_first_frame_ids(tmp_path):
    root = make_davis(tmp_path)
    labels = np.array(Image.open(root / "Annotations/480p/a/00000.png"))
    labels[labels == 2] = 3
    write_label_map(root / "Annotations/480p/a/00000.png", labels)
    with pytest.raises(SiamMaskError, match=r"object ids in 00000.png are \[1, 3\]; they must be 1..K"):
        load_davis(root)


def test_first_frame_without_objects(tmp_path):
    root = make_davis(tmp_path)
    write_label_map(root / "Annotations/480p/a/00000.png", np.zeros((12, 16), np.uint8))
    with pytest.raises(SiamMaskError, match="has no object"):
        load_davis(root)


def test_listed_sequence_absent(tmp_path):
    root = make_davis(tmp_path)
    (root / "ImageSets/2017/val.txt").write_text("a\nb\n")
    with pytest.raises(SiamMaskError, match="sequence b is listed but .* does not exist"):
        load_davis(root)


def test_sequence_without_frames(tmp_path):
    root = make_davis(tmp_path)
    for p in (root / "JPEGImages/480p/a").iterdir():
        p.unlink()
    with pytest.raises(SiamMaskError, match=r"no frames \(\*.jpg\)"):
        load_davis(root)


def test_annotation_without_frame(tmp_path):
    root = make_davis(tmp_path)
    shutil.copy(root / "Annotations/480p/a/00000.png", root / "Annotations/480p/a/00009.png")
    with pytest.raises(SiamMaskError, match="00009.png has no frame"):
        load_davis(root)


def test_empty_list(tmp_path):
    root = make_davis(tmp_path)
    (root / "ImageSets/2017/val.txt").write_text("\n  \n")
    with pytest.raises(SiamMaskError, match="lists no sequences"):
        load_davis(root)


def test_missing_list(tmp_path):
    root = make_davis(tmp_path)
    with pytest.raises(SiamMaskError, match="sequence list .*train.txt not found"):
        load_davis(root, split="train")


@pytest.mark.parametrize("name", ["..", "../a", "a/b", "x..y", "a\\b"])
def test_names_must_not_escape_the_folders(tmp_path, name):
    root = make_davis(tmp_path)
    (root / "ImageSets/2017/val.txt").write_text(f"a\n{name}\n")
    with pytest.raises(SiamMaskError, match="val.txt:2: sequence name .* is not a plain folder name"):
        load_davis(root)


def test_split_must_be_a_plain_name(tmp_path):
    with pytest.raises(SiamMaskError, match="a plain name"):
        load_davis(make_davis(tmp_path), split="../val")


def test_duplicate_names(tmp_path):
    root = make_davis(tmp_path)
    (root / "ImageSets/2017/val.txt").write_text("a\na\n")
    with pytest.raises(SiamMaskError, match="val.txt:2: sequence 'a' listed twice"):
        load_davis(root)
