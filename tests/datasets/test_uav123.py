"""UAV123 in its public layout: anno/UAV123/SEQ.txt over data_seq/UAV123/FOLDER/, NaN rows absent,
sub-sequences indexing into one frame folder by frame ranges."""

from __future__ import annotations

import json

import numpy as np
import pytest

from siammask.datasets.formats import UAV123, detect_format, format_of
from siammask.datasets.uav123 import SUBSEQUENCE_STARTS, UAV123Dataset, load_uav123
from siammask.errors import SiamMaskError
from tests.datasets.onepass_files import boxes, write_boxes, write_frames


def _uav(root, name, rows, subset="UAV123"):
    return write_boxes(root / "anno" / subset / f"{name}.txt", rows)


def test_nan_rows_are_absent_and_the_folder_is_uav123(tmp_path):
    write_frames(tmp_path / "data_seq" / "UAV123" / "car2", range(1, 6), 6)
    _uav(tmp_path, "car2", [[1, 2, 3, 4], [np.nan] * 4, [2, 2, 3, 4], [np.nan] * 4, [3, 2, 3, 4]])
    (tmp_path / "anno" / "UAV123" / "car2.txt").write_text(
        "1,2,3,4\nNaN,NaN,NaN,NaN\n2,2,3,4\nnan,nan,nan,nan\n3,2,3,4\n")
    assert detect_format(tmp_path) is UAV123
    dataset = UAV123.load(tmp_path)
    assert isinstance(dataset, UAV123Dataset) and format_of(dataset) is UAV123
    assert (dataset.name, dataset.benchmark, dataset.split) == ("UAV123", "UAV123", "UAV123")
    seq = dataset["car2"]
    assert seq.absent.tolist() == [False, True, False, True, False]
    assert np.isnan(seq.groundtruth[[1, 3]]).all() and seq.groundtruth[4].tolist() == [3, 2, 3, 4]
    assert seq.frames[0].name == "000001.jpg" and len(seq) == 5


def test_sub_sequences_read_their_frame_range_of_one_folder(tmp_path):
    assert SUBSEQUENCE_STARTS["UAV123"]["bird1_2"] == 775 and SUBSEQUENCE_STARTS["UAV123"]["uav1_3"] == 2473
    write_frames(tmp_path / "data_seq" / "UAV123" / "bird1", range(1, 790), 6)
    _uav(tmp_path, "bird1_1", boxes(10))
    _uav(tmp_path, "bird1_2", boxes(12, 100))
    dataset = load_uav123(tmp_path)
    assert dataset.names == ["bird1_1", "bird1_2"]
    assert [p.name for p in dataset["bird1_1"].frames] == [f"{n:06d}.jpg" for n in range(1, 11)]
    assert [p.name for p in dataset["bird1_2"].frames] == [f"{n:06d}.jpg" for n in range(775, 787)]
    assert dataset["bird1_2"].source == "bird1" and dataset["bird1_2"].init_box[0] == 100


def test_uav123_10fps_sub_sequences_read_their_own_ranges(tmp_path):
    # the 10 fps subset's parts are not UAV123's divided by three (car1_2: 751 at 30 fps, 251 here)
    write_frames(tmp_path / "data_seq" / "UAV123_10fps" / "car1", range(1, 260), 6)
    _uav(tmp_path, "car1_1", boxes(5), subset="UAV123_10fps")
    _uav(tmp_path, "car1_2", boxes(6, 100), subset="UAV123_10fps")
    dataset = load_uav123(tmp_path)  # the only subset there
    assert dataset.name == "UAV123_10fps"
    assert [p.name for p in dataset["car1_1"].frames] == [f"{n:06d}.jpg" for n in range(1, 6)]
    assert [p.name for p in dataset["car1_2"].frames] == [f"{n:06d}.jpg" for n in range(251, 257)]


def test_a_later_part_with_no_known_start_is_refused(tmp_path):
    # another subset's parts in a shared folder: the first part starts on the folder's first frame;
    # a later one, read from there, would be the first part's frames: refused, the way out named
    write_frames(tmp_path / "data_seq" / "MyUAV" / "kite", range(1, 30), 6)
    _uav(tmp_path, "kite_1", boxes(5), subset="MyUAV")
    assert load_uav123(tmp_path)["kite_1"].frames[0].name == "000001.jpg"
    _uav(tmp_path, "kite_2", boxes(5), subset="MyUAV")
    with pytest.raises(SiamMaskError, match=r"kite_2.txt: kite_2 is a part of the video kite/ whose first frame "
                                            r"is not known for subset MyUAV; put pysot's meta file \(MyUAV.json"):
        load_uav123(tmp_path)
    (tmp_path / "MyUAV.json").write_text(json.dumps({"kite_2": {"img_names": ["kite/000021.jpg"]}}))
    assert load_uav123(tmp_path)["kite_2"].frames[0].name == "000021.jpg"


def test_a_sub_sequence_with_a_folder_of_its_own_reads_it_whole(tmp_path):
    write_frames(tmp_path / "data_seq" / "UAV123" / "bird1_2", range(1, 6), 6)
    _uav(tmp_path, "bird1_2", boxes(5))
    assert load_uav123(tmp_path)["bird1_2"].frames[0].name == "000001.jpg"
    _uav(tmp_path, "bird1_2", boxes(4))  # frames after the annotation's last line are left out
    assert len(load_uav123(tmp_path)["bird1_2"].frames) == 4


def test_pysot_meta_file_gives_starts_and_attributes(tmp_path):
    write_frames(tmp_path / "data_seq" / "UAV123" / "group9", range(1, 40), 6)
    _uav(tmp_path, "group9_2", boxes(5))
    meta = {"group9_2": {"img_names": ["group9/000031.jpg"], "attr": ["Fast Motion"]}}
    (tmp_path / "UAV123.json").write_text(json.dumps(meta))
    seq = load_uav123(tmp_path)["group9_2"]
    assert seq.frames[0].name == "000031.jpg" and len(seq) == 5
    assert seq.attributes == {"Fast Motion": True}


def test_uav20l_reads_uav123_frames(tmp_path):
    write_frames(tmp_path / "data_seq" / "UAV123" / "bird1", range(1, 9), 6)
    _uav(tmp_path, "bird1", boxes(8), subset="UAV20L")
    dataset = load_uav123(tmp_path)  # the only subset there
    assert dataset.name == "UAV20L" and len(dataset["bird1"]) == 8
    assert load_uav123(tmp_path, split="UAV20L").names == ["bird1"]
    with pytest.raises(SiamMaskError, match=r"anno/UAV10 not found"):
        load_uav123(tmp_path, split="UAV10")


def test_a_folder_without_anno_is_named(tmp_path):
    with pytest.raises(SiamMaskError, match=r"anno not found: UAV123's annotations are anno/UAV123/SEQ.txt"):
        load_uav123(tmp_path)


def test_bad_input_is_one_line(tmp_path):
    _uav(tmp_path, "car9", boxes(3))
    (tmp_path / "data_seq" / "UAV123").mkdir(parents=True)
    with pytest.raises(SiamMaskError, match=r"car9.txt: no frame folder .*data_seq/UAV123/car9"):
        load_uav123(tmp_path)
    write_frames(tmp_path / "data_seq" / "UAV123" / "car9", range(1, 3), 6)
    with pytest.raises(SiamMaskError, match=r"frame 3 is missing from .*car9: the ground truth needs frames 1 to 3"):
        load_uav123(tmp_path)
    write_frames(tmp_path / "data_seq" / "UAV123" / "car1", [1, 2, 4], 6)  # shared by car1_1 (no table entry)
    _uav(tmp_path, "car1_1", boxes(3))
    with pytest.raises(SiamMaskError, match=r"frame 3 is missing from .*car1: the ground truth needs frames 1 to 3"):
        load_uav123(tmp_path)
    (tmp_path / "anno" / "UAV123" / "car1_1.txt").unlink()
    (tmp_path / "anno" / "UAV123" / "car9.txt").write_text("NaN,NaN,NaN,NaN\n1,2,3,4\n")
    with pytest.raises(SiamMaskError, match=r"car9.txt:1: the target is absent \(NaN\) on the first frame"):
        load_uav123(tmp_path)
    (tmp_path / "anno" / "UAV123" / "car9.txt").write_text("1,2,3,4\nNaN,2,3,4\n")
    with pytest.raises(SiamMaskError, match=r"car9.txt:2: non-finite value"):
        load_uav123(tmp_path)
