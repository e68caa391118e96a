"""VOT-LT datasets: a VOT layout whose ground truth marks absent frames nan,nan,nan,nan."""

from __future__ import annotations

import numpy as np
import pytest

from siammask.datasets.formats import VOT, VOTLT, detect_format, format_of
from siammask.datasets.votlt import LongTermDataset, load_votlt, present_frames
from siammask.errors import SiamMaskError
from tests.evaluation.helpers import make_dataset

LINES = ["1,2,10,8", "nan,nan,nan,nan", "NaN,NaN,NaN,NaN", "3,4,10,8"]


def test_nan_rows_are_absent_frames_and_the_folder_is_votlt(tmp_path):
    root = make_dataset(tmp_path / "lt", ["a", "b"], frames=4, lines=LINES, color=True)
    assert detect_format(root) is VOTLT
    dataset = VOTLT.load(root)
    assert isinstance(dataset, LongTermDataset) and format_of(dataset) is VOTLT and VOTLT.protocol == "longterm"
    seq = dataset["a"]
    assert present_frames(seq).tolist() == [True, False, False, True]
    assert np.isnan(seq.groundtruth[1:3]).all() and seq.groundtruth[3].tolist() == [3, 4, 10, 8]


def test_a_vot_folder_without_nan_stays_vot_but_loads_long_term(tmp_path):
    root = make_dataset(tmp_path / "vot", ["a"], frames=3)
    assert detect_format(root) is VOT
    assert format_of(VOT.load(root)) is VOT
    assert present_frames(load_votlt(root)["a"]).all()


def test_first_frame_absent_is_one_line(tmp_path):
    root = make_dataset(tmp_path / "lt", ["a"], frames=3, lines=["nan,nan,nan,nan", "1,2,3,4", "1,2,3,4"])
    with pytest.raises(SiamMaskError, match=r"groundtruth.txt:1: the target is absent \(nan\) on the first frame"):
        load_votlt(root)


def test_partly_nan_and_wrong_counts_are_refused(tmp_path):
    root = make_dataset(tmp_path / "lt", ["a"], frames=3, lines=["1,2,3,4", "nan,2,3,4", "1,2,3,4"])
    with pytest.raises(SiamMaskError, match="groundtruth.txt:2: non-finite value"):
        load_votlt(root)
    root = make_dataset(tmp_path / "lt2", ["a"], frames=3, lines=["1,2,3,4", "nan,nan,nan,nan"])
    with pytest.raises(SiamMaskError, match="has 2 lines for 3 frames"):
        load_votlt(root)


def test_the_synthetic_long_term_set_is_votlt(tmp_path):
    from siammask.datasets.synth_lt import make_lt_dataset

    root = make_lt_dataset(tmp_path / "d", sequences=1, frames=50, size=(96, 96))
    assert detect_format(root) is VOTLT
    assert (~present_frames(VOTLT.load(root)["lt00"])).sum() >= 15
