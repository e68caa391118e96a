"""OTB in its public layout: SEQ/img/0001.jpg and groundtruth_rect.txt, with the benchmark's quirks
read as pysot's OTB100 metadata has them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from siammask.datasets.formats import OTB, detect_format, format_of
from siammask.datasets.onepass import OnePassDataset
from siammask.datasets.otb import OTBDataset, load_otb
from siammask.errors import SiamMaskError
from tests.datasets.onepass_files import SIZE, boxes, write_frames, write_otb


def test_commas_tabs_and_spaces_detected_and_loaded_in_name_order(tmp_path):
    root = tmp_path / "OTB100"
    write_otb(root, "Walking", range(1, 6), boxes(5), sep=",")
    write_otb(root, "Basketball", range(1, 5), boxes(4), sep="\t")
    path = write_otb(root, "Crossing", range(1, 4), boxes(3), sep=" ")
    path.write_text("1,2,10,8\n2\t2\t10\t8\n3 2  10,\t8\n\n")  # BlurCar1 mixes them within one file
    assert detect_format(root) is OTB and OTB.protocol == "ope"
    dataset = OTB.load(root)
    assert isinstance(dataset, OTBDataset) and isinstance(dataset, OnePassDataset) and format_of(dataset) is OTB
    assert dataset.names == ["Basketball", "Crossing", "Walking"]
    assert (dataset.name, dataset.benchmark, dataset.split) == ("OTB100", "OTB", None)
    seq = dataset["Crossing"]
    assert seq.groundtruth.tolist() == boxes(3).tolist() and seq.init_box.tolist() == [1, 2, 10, 8]
    assert not seq.absent.any() and seq.annotated and seq.size == SIZE
    assert [p.name for p in seq.frames] == ["0001.jpg", "0002.jpg", "0003.jpg"]


def test_frames_numbered_from_other_than_one_and_five_digits(tmp_path):
    write_otb(tmp_path, "BlurCar1", range(247, 257), boxes(10))
    write_otb(tmp_path, "Board", range(1, 7), boxes(6), digits=5)
    dataset = load_otb(tmp_path)
    assert [p.name for p in dataset["BlurCar1"].frames] == [f"{n:04d}.jpg" for n in range(247, 257)]
    assert dataset["Board"].frames[0].name == "00001.jpg" and len(dataset["Board"]) == 6


def test_david_boxes_are_its_last_frames_and_extra_frames_are_left_out(tmp_path):
    write_otb(tmp_path, "David", range(1, 21), boxes(11))  # as 471 boxes of frames 300-770
    write_otb(tmp_path, "Football1", range(1, 12), boxes(8))  # 81 frames, 74 boxes
    dataset = load_otb(tmp_path)
    assert [p.name for p in dataset["David"].frames] == [f"{n:04d}.jpg" for n in range(10, 21)]
    assert dataset["David"].groundtruth[0, 0] == 1  # its first box is that of frame 10
    assert [p.name for p in dataset["Football1"].frames] == [f"{n:04d}.jpg" for n in range(1, 9)]


def test_tiger1_starts_on_frame_6_with_its_box(tmp_path):
    write_otb(tmp_path, "Tiger1", range(1, 11), boxes(10))
    seq = load_otb(tmp_path)["Tiger1"]
    assert seq.frames[0].name == "0006.jpg" and len(seq) == 5
    assert seq.init_box.tolist() == boxes(10)[5].tolist()
    # a folder already starting at frame 6 is not cut again, nor a file already cut
    write_otb(tmp_path / "b", "Tiger1", range(6, 11), boxes(5))
    assert load_otb(tmp_path / "b")["Tiger1"].frames[0].name == "0006.jpg"
    write_otb(tmp_path / "c", "Tiger1", range(1, 11), boxes(5))
    assert [p.name for p in load_otb(tmp_path / "c")["Tiger1"].frames] == [f"{n:04d}.jpg" for n in range(6, 11)]


def test_two_targets_in_one_video_are_two_sequences(tmp_path):
    write_otb(tmp_path, "Jogging", range(1, 6), boxes(5), annotation="groundtruth_rect.1.txt")
    (tmp_path / "Jogging" / "groundtruth_rect.2.txt").write_text("5,5,9,9\n" * 5)
    write_otb(tmp_path, "Human4", range(1, 4), boxes(3), annotation="groundtruth_rect.2.txt")
    (tmp_path / "Human4" / "groundtruth_rect.1.txt").write_text("")  # Human4 ships an empty one
    dataset = load_otb(tmp_path)
    assert dataset.names == ["Human4-2", "Jogging-1", "Jogging-2"]
    assert dataset["Jogging-1"].frames == dataset["Jogging-2"].frames
    assert dataset["Jogging-2"].init_box.tolist() == [5, 5, 9, 9] and dataset["Jogging-1"].source == "Jogging"


def test_pysot_meta_file_gives_attributes(tmp_path):
    write_otb(tmp_path, "Basketball", range(1, 4), boxes(3))
    write_otb(tmp_path, "Bolt", range(1, 4), boxes(3))
    meta = {"Basketball": {"attr": ["IV", "OCC"]}, "Bolt": {"attr": ["OCC"]}}
    (tmp_path / "OTB100.json").write_text(json.dumps(meta))
    dataset = load_otb(tmp_path)
    assert dataset["Basketball"].attributes == {"IV": True, "OCC": True}
    assert dataset["Bolt"].attributes == {"IV": False, "OCC": True}
    (tmp_path / "OTB100.json").write_text(json.dumps({"Bolt": {"attr": "OCC"}}))
    with pytest.raises(SiamMaskError, match=r"OTB100.json: 'Bolt'.attr is not a list"):
        load_otb(tmp_path)


@pytest.mark.parametrize("text, message", [
    ("1,2,3,4\n" * 5, r"groundtruth_rect.txt has 5 boxes for 4 frames"),
    ("1,2,3,4\n" * 3, r"groundtruth_rect.txt has 3 boxes for 4 frames"),  # only Diving, Football1... may
    ("1,2,3\n" * 4, r"groundtruth_rect.txt:1: 3 values; a box has 4"),
    ("1,2,3,4\n1,x,3,4\n", r"groundtruth_rect.txt:2: not a number in '1,x,3,4'"),
    ("1,2,3,4\nnan,nan,nan,nan\n", r"groundtruth_rect.txt:2: non-finite value"),
    ("", r"groundtruth_rect.txt is empty"),
    ("1,2,3,4\n\n1,2,3,4\n1,2,3,4\n", r"groundtruth_rect.txt:2: 0 values"),  # a blank line would shift frames
])
def test_bad_annotations_are_one_line_naming_the_file(tmp_path, text, message):
    write_otb(tmp_path, "Bolt", range(1, 5), boxes(4)).write_text(text)
    with pytest.raises(SiamMaskError, match=message):
        load_otb(tmp_path)


def test_missing_files_are_named(tmp_path):
    write_frames(tmp_path / "Bolt" / "img", range(1, 4))
    with pytest.raises(SiamMaskError, match=r"Bolt/groundtruth_rect.txt not found"):
        load_otb(tmp_path)
    write_otb(tmp_path / "b", "Bolt", [1, 2, 4], boxes(3))
    with pytest.raises(SiamMaskError, match=r"frame 3 is missing from .*Bolt/img"):
        load_otb(tmp_path / "b")
    with pytest.raises(SiamMaskError, match=r"dataset .*nowhere: no such folder"):
        load_otb(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SiamMaskError, match=r"no OTB sequence folder"):
        load_otb(tmp_path / "empty")


def test_a_frame_that_is_a_folder_is_refused(tmp_path):
    write_otb(tmp_path, "Bolt", [1, 3], boxes(3))
    (tmp_path / "Bolt" / "img" / "0002.jpg").mkdir()
    with pytest.raises(SiamMaskError, match=r"0002.jpg: is a folder"):
        load_otb(tmp_path)


def test_boxes_as_floats(tmp_path):
    write_otb(tmp_path, "Bolt", range(1, 3), [[1.5, 2.25, 10, 8], [0, -3, 4, 5]])
    assert np.array_equal(load_otb(tmp_path)["Bolt"].groundtruth, [[1.5, 2.25, 10, 8], [0, -3, 4, 5]])


def test_the_got10k_toolkit_reads_the_same_frames_and_boxes(tmp_path, capsys):
    """pip got10k's OTB reader beside ours on folders with the quirks it shares (David's late start,
    Football1's extra frames, BlurCar1's numbering, Jogging's two targets; it names those Jogging.1
    and Jogging.2, pysot Jogging-1 and Jogging-2). Boxes equal within 1e-9."""
    toolkit = pytest.importorskip("got10k.datasets")
    write_otb(tmp_path, "David", range(1, 321), boxes(21, 7.5))  # frames 300-320
    write_otb(tmp_path, "Football1", range(1, 81), boxes(74), sep="\t")
    write_otb(tmp_path, "BlurCar1", range(247, 260), boxes(13))
    write_otb(tmp_path, "Jogging", range(1, 6), boxes(5), annotation="groundtruth_rect.1.txt")
    write_otb(tmp_path, "Jogging", range(1, 6), boxes(5, 40), annotation="groundtruth_rect.2.txt", sep=" ")
    theirs = toolkit.OTB(str(tmp_path), version=2015, download=False)
    capsys.readouterr()  # its warnings for the 95 sequences not there
    mine = load_otb(tmp_path)
    names = {n.replace(".", "-"): i for i, n in enumerate(theirs.seq_names)}
    assert sorted(names) == mine.names
    for seq in mine:
        frames, anno = theirs[names[seq.name]]
        assert [str(p) for p in seq.frames] == frames
        assert np.allclose(seq.groundtruth, anno, rtol=0, atol=1e-9)
