"""vot-toolkit's multistart and unsupervised arithmetic (evaluation/votexp/analyses.py) on cases
small enough to work out by hand; anchors and frame rates read as vot-toolkit reads them. The
agreement with vot-toolkit itself on real result files is tests/ecosystem/test_vot_experiments.py."""

from __future__ import annotations

import numpy as np
import pytest

from siammask.errors import SiamMaskError
from siammask.evaluation.votexp import analyses
from siammask.evaluation.votexp.analyses import AnchorRun
from siammask.evaluation.votexp.anchors import read_anchors, read_fps

EXACT = 1e-12  # sums of a few doubles


def _run(overlaps, empty=None) -> AnchorRun:
    overlaps = np.asarray(overlaps, dtype=float)
    return AnchorRun(overlaps, np.zeros(len(overlaps), bool) if empty is None else np.asarray(empty, bool))


def test_failure_is_the_first_of_grace_low_frames_in_a_row():
    # the init frame (overlap 0) counts among the low frames
    assert analyses.progress(_run([0, 0.9, 0.05, 0.2, 0.0, 0.8]), grace=2) == 6  # no two low frames in a row
    assert analyses.progress(_run([0, 0.9, 0.05, 0.1, 0.0, 0.8]), grace=3) == 2  # 0.1 is low: fails at 2
    assert analyses.progress(_run([0, 0.9, 0.05, 0.1, 0.0, 0.8]), grace=4) == 6
    assert analyses.progress(_run([0, 0.0, 0.5]), grace=2) == 0  # fails on the init frame
    # frames whose ground truth is empty are never low
    assert analyses.progress(_run([0, 0.9, 0.0, 0.0, 0.0], [0, 0, 1, 0, 1]), grace=2) == 5
    # grace 0 never fails (the count goes below 0 and never meets it)
    assert analyses.progress(_run([0, 0, 0, 0]), grace=0) == 4


def test_ar_by_hand():
    runs = [_run([0, 0.8, 0.6, 0.0, 0.0]), _run([0, 0.5, 0.5])]  # the first fails at frame 3 (grace 2)
    ar = analyses.sequence_ar(runs, length=9, grace=2)
    assert ar.accuracy_weight == 3 + 3 and ar.robustness_weight == 9
    assert abs(ar.robustness - 6 / 8) < EXACT
    assert abs(ar.accuracy - (0.8 + 0.6 + 0.5 + 0.5) / 6) < EXACT
    other = analyses.SequenceAR(0.2, 0.5, 2.0, 3)
    accuracy, robustness = analyses.average_ar([ar, other])
    assert abs(accuracy - (ar.accuracy * 6 + 0.2 * 2) / 8) < EXACT
    assert abs(robustness - (0.75 * 9 + 0.5 * 3) / 12) < EXACT


def test_eao_curve_by_hand():
    failed = _run([0, 0.6, 0.0, 0.0, 0.2])  # fails at frame 2 (grace 2): overlaps after it become 0
    whole = _run([0, 1.0, 0.5])
    curve, active = analyses.sequence_eao([failed, whole], high=7, grace=2)
    # failed: lengths 1..4 the running mean of [0.6, 0, 0, 0]; lengths 5, 6 its sum over j - 1
    failed_phi = [0, 0.6, 0.3, 0.2, 0.15, 0.6 / 4, 0.6 / 5]
    whole_phi = [0, 1.0, 0.75]  # then inactive: it did not fail
    expected = [0] + [(failed_phi[1] + whole_phi[1]) / 2, (failed_phi[2] + whole_phi[2]) / 2] + failed_phi[3:]
    np.testing.assert_allclose(curve, expected, rtol=0, atol=EXACT)
    np.testing.assert_array_equal(active, [0, 2, 2, 1, 1, 1, 1])
    # the dataset's curve weighs each sequence's points by their active runs
    other = (np.full(7, 0.5), np.array([0, 1, 1, 1, 1, 1, 1.0]))
    total = analyses.eao_curve([(curve, active), other], high=7)
    assert abs(total[1] - (curve[1] * 2 + 0.5) / 3) < EXACT and abs(total[4] - (curve[4] + 0.5) / 2) < EXACT
    # the score reads indices low .. high of a curve of `high` points: index `high` is never there
    assert abs(analyses.eao_score(total, 5, 7) - np.mean(total[5:7])) < EXACT
    assert np.isnan(analyses.eao_score(total, 7, 7))


def test_unsupervised_masks_codes_and_burn_in():
    gt = np.array([[0, 0, 10, 10]] * 5, dtype=float)
    same = (0.0, 0.0, 10.0, 10.0)
    half = (5.0, 0.0, 10.0, 10.0)  # 50 of 150 pixels: 1/3
    trajectory = [1, same, 0, 2, half]
    # burnin 1: the init frame only; unknown (0) and failure (2) frames out: mean of 1 and 1/3
    assert abs(analyses.unsupervised_accuracy([trajectory], gt, (20, 20)) - (1 + 1 / 3) / 2) < EXACT
    # burnin 0 keeps the init frame (an empty region: overlap 0)
    assert abs(analyses.unsupervised_accuracy([trajectory], gt, (20, 20), burnin=0) - (1 + 1 / 3) / 3) < EXACT
    # a run with no frame left counts 0, and still counts among the runs
    assert analyses.unsupervised_accuracy([[1, 0, 0, 0, 0], trajectory], gt, (20, 20), burnin=5) == 0
    assert abs(analyses.average_accuracy([0.5, 1.0], [10, 30]) - 0.875) < EXACT


def test_empty_ground_truth_as_vot_toolkit_judges_it():
    assert analyses.region_is_empty(np.array([1, 1, 0, 5.0]))
    assert not analyses.region_is_empty(np.array([1, 1, 2, 5.0]))
    assert analyses.region_is_empty(np.array([0, 3, 4, 3, 4, 3, 0, 3.0]))  # no height
    assert not analyses.region_is_empty(np.array([0, 0, 4, 0, 4, 3, 0, 3.0]))


def test_anchors_and_fps(tmp_path):
    (tmp_path / "anchor.value").write_text("1\n0\n0.0\n-1\n2.5\n")  # 6 frames: the last padded with 0
    anchors = read_anchors(tmp_path, 6)
    assert anchors.forward == (0, 4) and anchors.backward == (3,)
    assert anchors.runs() == [(0, False), (4, False), (3, True)]  # vot-toolkit's order
    assert read_fps(tmp_path) == 30
    (tmp_path / "sequence").write_text("channels.color=color/%08d.jpg\nfps=25\n")
    assert read_fps(tmp_path) == 25


@pytest.mark.parametrize("text, frames, message", [
    (None, 3, "no anchor file"),
    ("0\n0\n0\n", 3, "no anchor (every value is 0)"),
    ("1\nx\n", 3, "anchor.value:2: not a number"),
    ("1\nnan\n", 3, "nan is not an anchor value"),
    ("1\n0\n0\n0\n", 3, "4 lines for a sequence of 3 frames"),
])
def test_bad_anchor_files_are_one_line_errors(tmp_path, text, frames, message):
    if text is not None:
        (tmp_path / "anchor.value").write_text(text)
    with pytest.raises(SiamMaskError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_anchors(tmp_path, frames)


def test_a_fractional_fps_is_refused(tmp_path):
    (tmp_path / "sequence").write_text("fps=29.97\n")
    with pytest.raises(SiamMaskError, match="fps must be a positive integer"):
        read_fps(tmp_path)


def test_result_files_round_trip_and_bad_ones_are_one_line_errors(tmp_path):
    from siammask.evaluation.votexp.results import read_run, write_run

    write_run(tmp_path, "s_00000004", [1, [1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 3.0, 4.25]], [0.01, 0.02, 0.0])
    assert read_run(tmp_path, "s_00000004", 3) == [1, (1.0, 2.0, 3.0, 4.0), (1.5, 2.0, 3.0, 4.25)]
    assert (tmp_path / "s_00000004_time.value").read_text() == "0.010000\n0.020000\n0.000000\n"
    with pytest.raises(SiamMaskError, match="3 lines for a run of 5 frames"):
        read_run(tmp_path, "s_00000004", 5)
    (tmp_path / "s_00000005.txt").write_text("0.5,1,2,3\n1\n")
    with pytest.raises(SiamMaskError, match=r"s_00000005.txt:1: a run starts with 1 \(init\)"):
        read_run(tmp_path, "s_00000005", 2)
    (tmp_path / "s_00000006.bin").write_bytes(b"\0")
    with pytest.raises(SiamMaskError, match="VOT_RESULTS_BINARY=false"):
        read_run(tmp_path, "s_00000006", 2)
