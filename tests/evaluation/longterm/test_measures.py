"""Long-term precision, recall and F on values worked by hand, and the result files' refusals."""

from __future__ import annotations

import numpy as np
import pytest

from siammask.errors import SiamMaskError
from siammask.evaluation.longterm.measures import Curves, dataset_curves, sequence_curves, thresholds
from siammask.evaluation.longterm.results import existing_result, read_result, result_paths, write_result


def test_thresholds_are_quantiles_of_every_score_highest_first():
    scores = np.concatenate([[np.nan], np.arange(196)[::-1] / 196.0])  # 196 scores, NaN left out
    levels = thresholds(scores)
    assert len(levels) == 100 and levels[0] == np.inf and levels[-1] == -np.inf
    # sorted scores picked at round(linspace(step - 1, n - step, 98)), step = floor(196 / 98) = 2
    picks = np.floor(np.linspace(1, 194, 98) + 0.5).astype(int)
    assert levels[1:-1].tolist() == (picks[::-1] / 196.0).tolist()
    assert levels[1] == 194 / 196 and levels[-2] == 1 / 196
    assert thresholds(np.array([0.5, 0.2, 0.5])).tolist() == [np.inf, 0.5, 0.2, -np.inf]  # few: every value


def test_sequence_curves_by_hand():
    overlaps = np.array([0.0, 0.8, 0.6, 0.0, 0.4])  # frame 0 init; frame 3 absent
    scores = np.array([np.nan, 0.9, 0.5, 0.3, 0.0])
    c = sequence_curves(overlaps, scores, present=4, levels=np.array([np.inf, 0.9, 0.5, -np.inf]))
    # inf: nothing reported; 0.9: frame 1; 0.5: frames 1-2; -inf: score > 0, frames 1-3 (frame 4's 0 is not)
    assert c.precision.tolist() == pytest.approx([1.0, 0.8, 0.7, 1.4 / 3], abs=1e-12)
    assert c.recall.tolist() == pytest.approx([0.0, 0.2, 0.35, 0.35], abs=1e-12)
    both = dataset_curves([c, Curves(c.thresholds, np.full(4, 0.5), np.full(4, 0.5))])
    assert both.precision[1] == pytest.approx(0.65) and both.recall[1] == pytest.approx(0.35)
    assert both.best == int(np.argmax(both.f_score)) and both.f_score[0] == pytest.approx(2 * 0.75 * 0.25)


def test_f_is_zero_where_precision_and_recall_are():
    c = Curves(np.array([1.0, 0.0]), np.array([0.0, 0.5]), np.array([0.0, 0.5]))
    assert c.f_score.tolist() == [0.0, 0.5] and c.best == 1


def _write(tmp_path, frames=4):
    box, conf = result_paths(tmp_path, "T", "s")
    boxes = np.array([[np.nan] * 4, [1, 2, 3, 4], [1.5, 2, 3, 4], [0, 0, 5, 5]], float)[:frames]
    write_result(box, boxes, np.array([np.nan, 0.9, 0.25, 1.0])[:frames])
    return box, conf


def test_files_round_trip_in_pysots_layout(tmp_path):
    box, conf = _write(tmp_path)
    assert box == tmp_path / "T" / "longterm" / "s" / "s_001.txt"
    assert box.read_text().splitlines() == ["1", "1.0000,2.0000,3.0000,4.0000", "1.5000,2.0000,3.0000,4.0000",
                                            "0.0000,0.0000,5.0000,5.0000"]
    assert conf.read_text() == "\n0.900000\n0.250000\n1.000000\n"
    boxes, scores = read_result(box, conf, 4)
    assert np.isnan(boxes[0]).all() and boxes[2].tolist() == [1.5, 2, 3, 4]
    assert np.isnan(scores[0]) and scores[1:].tolist() == [0.9, 0.25, 1.0]
    assert existing_result(box, conf, 4)


@pytest.mark.parametrize("target, text, message", [
    ("box", "1\n1,2,3,4\n1,2,3,4\n", r"s_001.txt: 3 lines for a sequence of 4 frames"),
    ("conf", "\n0.5\nhigh\n0.1\n", r"confidence.value:3: not a number in 'high'"),
    ("conf", "0.3\n0.5\n0.2\n0.1\n", r"confidence.value:1: the init frame's line is empty"),
    ("box", "nan,nan,nan,nan\n1,2,3,4\n1,2,3,4\n1,2,3,4\n", r"s_001.txt:1: a long-term result starts with 1"),
    ("box", "1\n1,2,3\n1,2,3,4\n1,2,3,4\n", r"s_001.txt:2: 3 values; a long-term result line holds x,y,w,h"),
    ("conf", "\n0.5\nnan\n0.1\n", r"confidence.value:3: non-finite value"),
])
def test_bad_result_files_are_one_line_errors(tmp_path, target, text, message):
    box, conf = _write(tmp_path)
    (box if target == "box" else conf).write_text(text)
    with pytest.raises(SiamMaskError, match=message) as info:
        read_result(box, conf, 4)
    assert "\n" not in str(info.value)
    with pytest.raises(SiamMaskError, match="move it away or pass --force"):
        existing_result(box, conf, 4)


def test_a_box_file_without_its_confidence_is_an_interrupted_run(tmp_path):
    box, conf = _write(tmp_path)
    conf.unlink()
    assert existing_result(box, conf, 4) is False


def test_reacquisitions_count_reappearances_found_within_ten_frames():
    from siammask.evaluation.longterm.measures import reacquisitions

    in_view = np.array([True] * 5 + [False] * 5 + [True] * 20 + [False] * 3 + [True] * 15)
    overlaps = np.where(in_view, 0.6, 0.0)
    scores = np.full(len(in_view), 0.9)
    scores[10:19] = 0.1  # the first reappearance (frame 10) reported from frame 19: within 10
    scores[33:] = 0.1  # the second (frame 33) never reported
    found = reacquisitions(overlaps, scores, in_view, threshold=0.5)
    assert (found.reappearances, found.found) == (2, 1) and found.rate == 0.5
    scores[10:20] = 0.1  # frame 20 is the 11th frame after frame 10: too late
    assert reacquisitions(overlaps, scores, in_view, threshold=0.5).found == 0
    overlaps[19:] = 0.0  # reported, but on the background: not found
    scores[10:19] = 0.1
    assert reacquisitions(overlaps, scores, in_view, threshold=0.5).found == 0
