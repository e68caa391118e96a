"""The one-pass types and shared readers, --format names, and detection across every layout: a folder
of one layout is never read as another."""

from __future__ import annotations

import numpy as np
import pytest

from siammask.datasets import formats
from siammask.datasets.onepass import OnePassSequence, numbered_frames, read_boxes, read_flags
from siammask.errors import SiamMaskError
from tests.datasets.onepass_files import boxes, write_boxes, write_frames, write_got10k, write_lasot, write_otb


def test_sequence_absent_defaults_to_nan_rows_and_init_box_is_row_0():
    gt = np.array([[1, 2, 3, 4], [np.nan] * 4, [2, 2, 3, 4]])
    seq = OnePassSequence(name="a", frames=[], groundtruth=gt, tags={})
    assert seq.absent.tolist() == [False, True, False] and seq.init_box.tolist() == [1, 2, 3, 4]
    assert seq.source == "a" and seq.shipped_groundtruth is gt and seq.attributes == {}


def test_a_name_that_cannot_name_a_result_file_is_refused():
    with pytest.raises(SiamMaskError, match=r"sequence 'a\\nb': must be a plain name"):
        OnePassSequence(name="a\nb", frames=[], groundtruth=np.zeros((1, 4)), tags={})


def test_read_boxes_separators_and_nan(tmp_path):
    path = tmp_path / "gt.txt"
    path.write_text("1,2,3,4\r\n5\t6\t7\t8\n9 10 11 12\nNaN,NaN,NaN,NaN\n\n \n")
    got = read_boxes(path, 4, absent=True)
    assert got[:3].tolist() == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]] and np.isnan(got[3]).all()
    assert read_boxes(path, 4, first_only=True).tolist() == [[1, 2, 3, 4]]
    path.write_bytes(b"1,2,3,4\n" * 2000)
    with pytest.raises(SiamMaskError, match=r"gt.txt: 16000 bytes for 2 frames"):
        read_boxes(path, 2)  # refused before it is read


def test_read_flags_one_line_or_one_a_line(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("0,1,1.0,0\n")
    assert read_flags(path, 4).tolist() == [0, 1, 1, 0]
    path.write_text("3\n0\n8\n")
    assert read_flags(path, 3, "cover", 8).tolist() == [3, 0, 8]
    path.write_text("0,-1\n")
    with pytest.raises(SiamMaskError, match=r"f.txt: value 2 is '-1'"):
        read_flags(path, 2)


def test_numbered_frames_refuses_a_number_twice(tmp_path):
    write_frames(tmp_path, [1, 2], 4)
    write_frames(tmp_path, [1], 1)
    with pytest.raises(SiamMaskError, match=r"are both frame 1"):
        numbered_frames(tmp_path)


def test_format_names():
    assert formats.format_named("got10k") is formats.GOT10K is formats.format_named("GOT-10k")
    assert formats.format_named("LaSOT") is formats.LASOT and formats.format_named("vot-lt") is formats.VOTLT
    assert set(formats.FORMAT_CHOICES) >= {"otb", "uav123", "nfs", "lasot", "got-10k", "trackingnet", "vot"}
    with pytest.raises(SiamMaskError, match=r"--format otb2: unknown dataset format \(use davis, "):
        formats.format_named("otb2")
    assert {f.protocol for f in formats.FORMATS if f.name in ("OTB", "UAV123", "NFS", "LaSOT", "GOT-10k",
                                                             "TrackingNet")} == {"ope"}


def test_every_layout_is_detected_as_itself(tmp_path):
    write_otb(tmp_path / "otb", "Bolt", range(1, 4), boxes(3))
    write_lasot(tmp_path / "lasot", "cat-1", boxes(3))
    write_got10k(tmp_path / "got" / "val", "GOT-10k_Val_000001", boxes(3))
    write_frames(tmp_path / "uav" / "data_seq" / "UAV123" / "car1", range(1, 4), 6)
    write_boxes(tmp_path / "uav" / "anno" / "UAV123" / "car1.txt", boxes(3))
    write_frames(tmp_path / "nfs" / "bee" / "30" / "bee", range(1, 3), 5)
    (tmp_path / "nfs" / "bee" / "30" / "bee.txt").write_text('1 1 2 3 4 1 0 0 0 "x"\n' * 2)
    write_frames(tmp_path / "net" / "TEST" / "frames" / "a", range(3), 0)
    write_boxes(tmp_path / "net" / "TEST" / "anno" / "a.txt", boxes(1))
    write_frames(tmp_path / "vot" / "bag", range(1, 4), 8)
    write_boxes(tmp_path / "vot" / "bag" / "groundtruth.txt", boxes(3))
    (tmp_path / "vot" / "list.txt").write_text("bag\n")
    expected = {"otb": "OTB", "lasot": "LaSOT", "got": "GOT-10k", "got/val": "GOT-10k", "uav": "UAV123",
                "nfs": "NFS", "net": "TrackingNet", "net/TEST": "TrackingNet", "vot": "VOT"}
    for folder, name in expected.items():
        fmt = formats.detect_format(tmp_path / folder)
        assert fmt.name == name, folder
        others = [f.name for f in formats.FORMATS if f is not fmt and f.detect(tmp_path / folder)]
        # no other reader claims it, but VOT's (any list.txt) a GOT-10k split folder: GOT-10k goes first
        assert others == (["VOT"] if folder == "got/val" else []), (folder, others)
        dataset = fmt.load(tmp_path / folder)
        assert formats.format_of(dataset) is fmt and len(dataset) == 1
    assert formats.FORMATS.index(formats.GOT10K) < formats.FORMATS.index(formats.VOTLT)


def test_a_named_format_wins_over_detection(tmp_path):
    write_otb(tmp_path / "otb", "Bolt", range(1, 4), boxes(3))
    assert formats.dataset_format(tmp_path / "otb") is formats.OTB
    assert formats.dataset_format(tmp_path / "otb", "lasot") is formats.LASOT
    with pytest.raises(SiamMaskError, match=r"no LaSOT sequence folder"):
        formats.dataset_format(tmp_path / "otb", "lasot").load(tmp_path / "otb")


def test_one_sequence_folder_or_the_download_folder_above_is_a_dataset(tmp_path):
    write_otb(tmp_path / "otb", "Bolt", range(1, 4), boxes(3))
    seq = write_lasot(tmp_path / "lasot", "cat-1", boxes(3))
    write_frames(tmp_path / "nfs" / "bee" / "30" / "bee", range(1, 3), 5)
    (tmp_path / "nfs" / "bee" / "30" / "bee.txt").write_text('1 1 2 3 4 1 0 0 0 "x"\n' * 2)
    uav = tmp_path / "Dataset_UAV123" / "UAV123"
    write_frames(uav / "data_seq" / "UAV123" / "car1", range(1, 4), 6)
    write_boxes(uav / "anno" / "UAV123" / "car1.txt", boxes(3))
    for folder, fmt, name in ((tmp_path / "otb" / "Bolt", formats.OTB, "Bolt"), (seq, formats.LASOT, "cat-1"),
                              (tmp_path / "nfs" / "bee", formats.NFS, "bee"),
                              (tmp_path / "Dataset_UAV123", formats.UAV123, "car1")):
        assert formats.detect_format(folder) is fmt, folder
        assert [f.name for f in formats.FORMATS if f is not fmt and f.detect(folder)] == [], folder
        assert fmt.load(folder).names == [name]
