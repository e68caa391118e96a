"""LaSOT in its public layout: CAT/CAT-N/img/, groundtruth.txt, full_occlusion.txt, out_of_view.txt,
and testing_set.txt picking the test subset."""

from __future__ import annotations

import numpy as np
import pytest

from siammask.datasets.formats import LASOT, OTB, detect_format, format_of
from siammask.datasets.lasot import LaSOTDataset, load_lasot
from siammask.errors import SiamMaskError
from tests.datasets.onepass_files import boxes, write_lasot, write_otb


@pytest.fixture()
def lasot(tmp_path):
    root = tmp_path / "LaSOTBenchmark"
    write_lasot(root, "airplane-1", boxes(5), occluded=[0, 1, 0, 0, 0], out_of_view=[0, 0, 0, 1, 0])
    write_lasot(root, "airplane-13", boxes(4))
    write_lasot(root, "bird-2", boxes(3))
    (root / "testing_set.txt").write_text("airplane-1\nbird-2\n")
    return root


def test_test_subset_and_absent_frames(lasot):
    assert detect_format(lasot) is LASOT
    dataset = LASOT.load(lasot)
    assert isinstance(dataset, LaSOTDataset) and format_of(dataset) is LASOT
    assert (dataset.name, dataset.benchmark, dataset.split) == ("LaSOT", "LaSOT", "test")
    assert dataset.names == ["airplane-1", "bird-2"]
    seq = dataset["airplane-1"]
    assert seq.absent.tolist() == [False, True, False, True, False]
    assert np.isnan(seq.groundtruth[[1, 3]]).all() and seq.groundtruth[2].tolist() == boxes(5)[2].tolist()
    assert seq.shipped_groundtruth.tolist() == boxes(5).tolist()  # what the file says, absent rows too
    assert seq.tags["full_occlusion"].tolist() == [False, True, False, False, False]
    assert seq.tags["out_of_view"].tolist() == [False, False, False, True, False]
    assert seq.frames[0].name == "00000001.jpg" and seq.frames[0].parent.name == "img"


def test_other_splits_and_a_category_folder(lasot):
    assert load_lasot(lasot, split="all").names == ["airplane-1", "airplane-13", "bird-2"]
    assert load_lasot(lasot, split="train").names == ["airplane-13"]
    category = load_lasot(lasot / "airplane")  # its split from the testing_set.txt above it
    assert detect_format(lasot / "airplane") is LASOT
    assert category.names == ["airplane-1"] and category.split == "test"
    assert load_lasot(lasot / "airplane", split="all").names == ["airplane-1", "airplane-13"]
    (lasot / "testing_set.txt").unlink()
    assert load_lasot(lasot).split is None and len(load_lasot(lasot)) == 3
    with pytest.raises(SiamMaskError, match=r"testing_set.txt not found: the LaSOT test split"):
        load_lasot(lasot, split="test")
    with pytest.raises(SiamMaskError, match=r"LaSOT split 'val'"):
        load_lasot(lasot, split="val")


def test_frames_after_the_last_line_are_left_out(lasot):
    (lasot / "bird" / "bird-2" / "groundtruth.txt").write_text("1,2,3,4\n1,2,3,4\n")  # as monkey-17
    for file in ("full_occlusion.txt", "out_of_view.txt"):
        (lasot / "bird" / "bird-2" / file).write_text("0,0\n")
    seq = load_lasot(lasot)["bird-2"]
    assert [p.name for p in seq.frames] == ["00000001.jpg", "00000002.jpg"]
    (lasot / "bird" / "bird-2" / "out_of_view.txt").write_text("0,1,1\n")  # flags for every frame
    assert load_lasot(lasot)["bird-2"].tags["out_of_view"].tolist() == [False, True]


def test_lasot_and_otb_folders_are_told_apart(tmp_path, lasot):
    write_otb(tmp_path / "otb", "Bolt", range(1, 4), boxes(3))
    assert detect_format(tmp_path / "otb") is OTB
    assert not OTB.detect(lasot) and not LASOT.detect(tmp_path / "otb")


def test_bad_files_are_one_line(lasot):
    (lasot / "testing_set.txt").write_text("airplane-1\nzebra-9\n")
    with pytest.raises(SiamMaskError, match=r"testing_set.txt names 'zebra-9', which is not a sequence folder"):
        load_lasot(lasot)
    (lasot / "testing_set.txt").write_text("airplane-1\n")
    flags = lasot / "airplane" / "airplane-1" / "out_of_view.txt"
    flags.write_text("0,0,0,0\n")
    with pytest.raises(SiamMaskError, match=r"out_of_view.txt: 4 out_of_view values for 5 frames"):
        load_lasot(lasot)
    flags.write_text("0,0,2,0,0\n")
    with pytest.raises(SiamMaskError, match=r"out_of_view.txt: value 3 is '2'; a out_of_view is an integer 0 to 1"):
        load_lasot(lasot)
    flags.write_text("1,0,0,0,0\n")
    with pytest.raises(SiamMaskError, match=r"absent \(full_occlusion / out_of_view\) on the first frame"):
        load_lasot(lasot)
    flags.write_text("0,0,0,0,0\n")
    (lasot / "airplane" / "airplane-1" / "groundtruth.txt").write_text("1,2,3,4\n" * 6)
    with pytest.raises(SiamMaskError, match=r"airplane-1/groundtruth.txt has 6 lines for 5 frames"):
        load_lasot(lasot)
    (lasot / "airplane" / "airplane-1" / "full_occlusion.txt").unlink()
    (lasot / "airplane" / "airplane-1" / "groundtruth.txt").write_text("1,2,3,4\n" * 5)
    with pytest.raises(SiamMaskError, match=r"full_occlusion.txt: cannot be read"):
        load_lasot(lasot)
