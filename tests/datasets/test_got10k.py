"""GOT-10k in its public layout: val|test/list.txt, SEQ/groundtruth.txt (test: the first line),
absence.label, cover.label, cut_by_image.label, meta_info.ini."""

from __future__ import annotations

import numpy as np
import pytest

from siammask.datasets.formats import GOT10K, VOT, detect_format, format_of
from siammask.datasets.got10k import GOT10kDataset, load_got10k
from siammask.errors import SiamMaskError
from tests.datasets.onepass_files import boxes, write_boxes, write_frames, write_got10k


@pytest.fixture()
def got(tmp_path):
    root = tmp_path / "GOT-10k"
    write_got10k(root / "val", "GOT-10k_Val_000001", boxes(5), absence=[0, 0, 1, 0, 0], cover=[8, 3, 0, 5, 8])
    write_got10k(root / "val", "GOT-10k_Val_000002", boxes(3))
    write_got10k(root / "test", "GOT-10k_Test_000001", boxes(1), frames=4, labels=False)
    return root


def test_val_split_with_labels_and_meta(got):
    assert detect_format(got) is GOT10K and detect_format(got / "val") is GOT10K and GOT10K.protocol == "ope"
    dataset = GOT10K.load(got)  # val by default
    assert isinstance(dataset, GOT10kDataset) and format_of(dataset) is GOT10K
    assert (dataset.name, dataset.benchmark, dataset.split) == ("GOT-10k_val", "GOT-10k", "val")
    assert dataset.names == ["GOT-10k_Val_000001", "GOT-10k_Val_000002"]  # list.txt's order
    seq = dataset["GOT-10k_Val_000001"]
    assert seq.absent.tolist() == [False, False, True, False, False] and np.isnan(seq.groundtruth[2]).all()
    assert seq.shipped_groundtruth.tolist() == boxes(5).tolist()
    assert seq.labels["cover"].tolist() == [8, 3, 0, 5, 8]
    assert seq.tags["absence"].tolist() == seq.absent.tolist() and not seq.tags["cut_by_image"].any()
    assert seq.meta == {"object_class": "shape", "resolution": "(32, 24)"}
    assert dataset.annotated and load_got10k(got / "val").split == "val"


def test_test_split_has_the_first_box_only(got):
    dataset = load_got10k(got, split="test")
    assert dataset.split == "test" and not dataset.annotated
    seq = dataset["GOT-10k_Test_000001"]
    assert len(seq) == 4 and seq.init_box.tolist() == boxes(1)[0].tolist()
    assert np.isnan(seq.groundtruth[1:]).all() and not seq.absent.any() and not seq.annotated
    assert load_got10k(got / "test").split == "test"


def test_a_split_folder_by_another_name_takes_its_split_from_the_names(tmp_path):
    write_got10k(tmp_path / "mine", "GOT-10k_Val_000007", boxes(3))
    assert detect_format(tmp_path / "mine") is GOT10K
    assert load_got10k(tmp_path / "mine").split == "val"


def test_a_fifo_named_list_txt_does_not_hang_detection(tmp_path):
    import os

    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "d" / "list.txt")
    assert not GOT10K.detect(tmp_path / "d")


def test_a_vot_folder_stays_vot(tmp_path):
    write_frames(tmp_path / "vot" / "bag", range(1, 4), 8)
    write_boxes(tmp_path / "vot" / "bag" / "groundtruth.txt", boxes(3))
    (tmp_path / "vot" / "list.txt").write_text("bag\n")
    assert detect_format(tmp_path / "vot") is VOT


def test_bad_files_are_one_line(got):
    seq = got / "val" / "GOT-10k_Val_000002"
    (seq / "cover.label").write_text("8\n9\n8\n")
    with pytest.raises(SiamMaskError, match=r"cover.label: value 2 is '9'; a cover is an integer 0 to 8"):
        load_got10k(got)
    (seq / "cover.label").write_text("8\n8\n")
    with pytest.raises(SiamMaskError, match=r"cover.label: 2 cover values for 3 frames"):
        load_got10k(got)
    (seq / "cover.label").write_text("8\n8\n8\n")
    (seq / "absence.label").write_text("1\n0\n0\n")
    with pytest.raises(SiamMaskError, match=r"absence.label: the target is absent on the first frame"):
        load_got10k(got)
    (seq / "absence.label").write_text("0\n0\n0\n")
    (seq / "groundtruth.txt").write_text("1,2,3,4\n1,2,3,4\n")
    with pytest.raises(SiamMaskError, match=r"GOT-10k_Val_000002/groundtruth.txt has 2 lines for 3 frames"):
        load_got10k(got)
    with open(got / "val" / "list.txt", "a") as handle:
        handle.write("GOT-10k_Val_000001\n")
    with pytest.raises(SiamMaskError, match=r"list.txt:3: sequence 'GOT-10k_Val_000001' listed twice"):
        load_got10k(got)
    with pytest.raises(SiamMaskError, match=r"GOT-10k split 'dev'"):
        load_got10k(got, split="dev")
    (got / "val" / "GOT-10k_Val_000001" / "meta_info.ini").unlink()
    (got / "val" / "GOT-10k_Val_000001" / "absence.label").unlink()
    with pytest.raises(SiamMaskError, match=r"no GOT-10k split"):
        load_got10k(got / "val" / "GOT-10k_Val_000001")


def test_one_sequence_folder(got):
    folder = got / "val" / "GOT-10k_Val_000002"
    assert detect_format(folder) is GOT10K
    dataset = load_got10k(folder)
    assert dataset.names == ["GOT-10k_Val_000002"] and dataset.split == "val" and dataset.annotated


def test_the_got10k_toolkit_reads_the_same_frames_boxes_and_labels(tmp_path):
    """pip got10k's own reader beside ours, on a synthetic val split (boxes equal within 1e-9)."""
    toolkit = pytest.importorskip("got10k.datasets")
    from siammask.datasets.synth_onepass import make_onepass_dataset

    root = make_onepass_dataset(tmp_path / "g", "got10k", sequences=2, frames=50, size=(96, 96), seed=5)
    theirs = toolkit.GOT10k(str(root), subset="val", return_meta=True)
    mine = load_got10k(root)
    assert theirs.seq_names == mine.names
    for index, seq in enumerate(mine):
        frames, anno, meta = theirs[index]
        assert [str(p) for p in seq.frames] == frames
        assert np.allclose(seq.shipped_groundtruth, anno, rtol=0, atol=1e-9)
        assert (seq.labels["cover"] == meta["cover"]).all() and (seq.absent == meta["absence"].astype(bool)).all()
        assert seq.meta["resolution"] == meta["resolution"]
