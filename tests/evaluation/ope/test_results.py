"""One-pass result files: both layouts written and read back, what other trackers' published
results hold (tabs, spaces, nan, pysot's OTB names, GOT-10k repetitions), how an earlier run's
files are judged, and the submission archives' entries."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from siammask.errors import SiamMaskError
from siammask.evaluation.ope.results import (
    box_files,
    existing_result,
    find_trackers,
    otb_names,
    read_boxes,
    read_times,
    result_paths,
    write_result,
    write_submission,
)

BOXES = np.array([[1.5, 2, 30, 20], [3.25, 4, 31, 21.125], [5, 6, 32, 22]])


def test_layouts_round_trip(tmp_path):
    box, times = result_paths(tmp_path, "T", "car-1", "LaSOT")
    assert box == tmp_path / "T" / "car-1.txt" and times is None
    write_result(box, times, BOXES, np.zeros(3))
    assert box.read_text().splitlines()[0] == "1.5000,2.0000,30.0000,20.0000"
    np.testing.assert_array_equal(read_boxes(box, 3), BOXES)
    box, times = result_paths(tmp_path, "T", "GOT-10k_Val_000001", "GOT-10k")
    assert box.name == "GOT-10k_Val_000001_001.txt" and times.name == "GOT-10k_Val_000001_time.txt"
    write_result(box, times, BOXES, np.array([0.5, 0.01, 0.02]))
    np.testing.assert_allclose(read_times(times, 3), [0.5, 0.01, 0.02])
    assert times.read_text().splitlines()[1] == "0.01000000"


def test_what_published_results_hold(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("1.5\t2\t30\t20\n3.25 4 31 21.125\nnan,nan,nan,nan\n\n")  # tabs, spaces, no box, a final blank
    boxes = read_boxes(path, 3)
    np.testing.assert_array_equal(boxes[:2], BOXES[:2])
    assert np.isnan(boxes[2]).all()
    assert otb_names("Jogging-1") == ["Jogging-1.txt", "jogging_1.txt"]
    assert otb_names("Basketball") == ["Basketball.txt", "basketball.txt"]
    (tmp_path / "T").mkdir()
    (tmp_path / "T" / "jogging_1.txt").write_text("0,0,1,1\n")
    assert box_files(tmp_path, "T", "Jogging-1", "OTB") == [tmp_path / "T" / "jogging_1.txt"]
    with pytest.raises(SiamMaskError, match="no result for sequence Jogging-1"):
        box_files(tmp_path, "T", "Jogging-1", "LaSOT")  # only OTB's toolkit named files so
    seq = tmp_path / "T" / "GOT-10k_Val_000002"
    seq.mkdir()
    for name in ("GOT-10k_Val_000002_001.txt", "GOT-10k_Val_000002_002.txt", "GOT-10k_Val_000002_time.txt"):
        (seq / name).write_text("0,0,1,1\n")
    assert [p.name for p in box_files(tmp_path, "T", "GOT-10k_Val_000002", "GOT-10k")] == [
        "GOT-10k_Val_000002_001.txt", "GOT-10k_Val_000002_002.txt"]  # the toolkit's SEQ_[0-9]*.txt
    assert find_trackers(tmp_path, ["Jogging-1"], "OTB") == ["T"]
    assert find_trackers(tmp_path, ["Jogging-1"], "UAV123") == []


@pytest.mark.parametrize("text, message", [
    ("1,2,3\n" * 3, "r.txt:1: 3 values"),
    ("1,2,3,4\n1,2,x,4\n1,2,3,4\n", "r.txt:2: not a number in '1,2,x,4'"),
    ("1,2,3,4\n1,2,inf,4\n1,2,3,4\n", "r.txt:2: an infinite value"),
    ("1,2,3,4\n" * 2, "r.txt: 2 lines for a sequence of 3 frames"),
])
def test_bad_result_files_are_named(tmp_path, text, message):
    (tmp_path / "r.txt").write_text(text)
    with pytest.raises(SiamMaskError, match=message.replace("(", r"\(")):
        read_boxes(tmp_path / "r.txt", 3)


def test_earlier_files_are_kept_redone_or_refused(tmp_path):
    box, times = result_paths(tmp_path, "T", "S", "GOT-10k")
    assert not existing_result(box, times, 3)  # nothing there
    write_result(box, times, BOXES, np.ones(3))
    assert existing_result(box, times, 3)  # whole: kept
    times.unlink()
    assert not existing_result(box, times, 3)  # a box file without its time file: interrupted
    write_result(box, times, BOXES, np.ones(3))
    box.write_text("1,2,3,4\n")
    with pytest.raises(SiamMaskError, match="1 lines for a sequence of 3 frames; not a result of this sequence"):
        existing_result(box, times, 3)


def test_submission_archives(tmp_path):
    for name in ("a", "b"):
        box, times = result_paths(tmp_path, "T", name, "TrackingNet")
        write_result(box, times, BOXES, np.ones(3))
    (tmp_path / "T" / "siammask-run.json").write_text("{}")  # never in the archive
    path = write_submission(tmp_path, "T", "TrackingNet", [("a", 3), ("b", 3)])
    with zipfile.ZipFile(path) as z:
        assert z.namelist() == ["a.txt", "b.txt"] and z.read("a.txt") == (tmp_path / "T" / "a.txt").read_bytes()
    with pytest.raises(SiamMaskError, match="c.txt not found"):
        write_submission(tmp_path, "T", "TrackingNet", [("a", 3), ("c", 3)])
    with zipfile.ZipFile(path) as z:  # the archive that was there is left whole
        assert z.namelist() == ["a.txt", "b.txt"]


def test_lasot_monkey_17_results_may_be_longer(tmp_path):
    """pysot cuts monkey-17's results to its ground truth (frames after the last box); others must fit."""
    path = tmp_path / "monkey-17.txt"
    path.write_text("1,2,30,20\n" * 5)
    assert read_boxes(path, 3, longer=True).shape == (3, 4)
    with pytest.raises(SiamMaskError, match="5 lines for a sequence of 3 frames"):
        read_boxes(path, 3)
