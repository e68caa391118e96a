"""Baseline result files: the reference's format, read and written."""

from __future__ import annotations

import pytest

from siammask.errors import SiamMaskError
from siammask.evaluation.vot.results import (
    FAILURE,
    INIT,
    SKIP,
    find_trackers,
    format_region,
    read_tracker,
    read_trajectory,
    result_path,
    write_trajectory,
)
from tests.evaluation.helpers import RESULTS, SEQUENCES


def test_read_golden_results():
    """The reference's files: 120 lines each, first an init, codes as ints, regions as 8 floats."""
    assert find_trackers(RESULTS) == ["Reference"]
    results = read_tracker(RESULTS, "Reference", SEQUENCES)
    for seq in SEQUENCES:
        (traj,) = results[seq]
        assert len(traj) == 120
        assert traj[0] == INIT
        assert FAILURE in traj and SKIP in traj
        assert all(isinstance(r, int) or len(r) == 8 for r in traj)


@pytest.mark.parametrize("seq", SEQUENCES)
def test_rewrite_golden_is_byte_identical(tmp_path, seq):
    """Reading a reference file and writing it back gives the same bytes (exact)."""
    src = result_path(RESULTS, "Reference", seq)
    dst = result_path(tmp_path, "Reference", seq)
    write_trajectory(dst, read_trajectory(src))
    assert dst.read_bytes() == src.read_bytes()


def test_format_like_vot_float2str():
    """Values go through float32 then %.4f: trailing zeros kept, float32 rounding visible (exact strings)."""
    assert format_region([258, 225.0, 162.5, 0.1]) == "258.0000,225.0000,162.5000,0.1000"
    # float32 first: %.4f of the doubles would give 2.0000 and 0.0001
    assert format_region([2.00005, 0.00005, 0, -1]) == "2.0001,0.0000,0.0000,-1.0000"
    assert format_region(2) == "2"
    with pytest.raises(ValueError):
        format_region(3)


def test_round_trip(tmp_path):
    """Write then read: codes unchanged, values equal to 4 decimals (tolerance 5e-5)."""
    regions = [INIT, (10.123456, 20.5, 30.0, 40.25), FAILURE, SKIP, SKIP, [1, 2, 3, 4, 5, 6, 7, 8.00004]]
    path = tmp_path / "a" / "a_001.txt"
    write_trajectory(path, regions)
    back = read_trajectory(path)
    assert back[0] == INIT and back[2] == FAILURE and back[3] == SKIP
    assert back[1] == pytest.approx(regions[1], abs=5e-5)
    assert back[5] == pytest.approx(regions[5], abs=5e-5)
    assert [p.name for p in path.parent.iterdir()] == ["a_001.txt"]  # no temporary file left


def test_failed_write_keeps_old_file(tmp_path):
    """An unwritable region leaves the previous file as it was and no temporary file."""
    path = tmp_path / "s_001.txt"
    write_trajectory(path, [INIT])
    with pytest.raises(ValueError):
        write_trajectory(path, [INIT, (1.0, 2.0, 3.0)])
    assert path.read_text() == "1\n"
    assert len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("1\n1,2,3,4\nabc\n", 3),
        ("1\n\n1,2,3,4\n", 2),
        ("3\n", 1),
        ("1\n1,2,3,4,5\n", 2),
        ("1\nm1,2,3\n", 2),
        ("1\n1,2,inf,4\n", 2),
    ],
)
def test_malformed_file(tmp_path, text, line):
    """A malformed line: SiamMaskError on one line naming file and line number."""
    path = tmp_path / "bad_001.txt"
    path.write_text(text)
    with pytest.raises(SiamMaskError) as err:
        read_trajectory(path)
    message = str(err.value)
    assert f"{path}:{line}" in message and "\n" not in message


def test_missing_results(tmp_path):
    """No file for a sequence, or no tracker folder: SiamMaskError."""
    write_trajectory(result_path(tmp_path, "T", "one"), [INIT])
    with pytest.raises(SiamMaskError, match="two"):
        read_tracker(tmp_path, "T", ["one", "two"])
    with pytest.raises(SiamMaskError, match="U"):
        read_tracker(tmp_path, "U", ["one"])
    with pytest.raises(SiamMaskError):
        read_trajectory(tmp_path / "nope.txt")


def test_repetitions_in_order(tmp_path):
    """`_001`, `_002`, ... are read in order; other files (e.g. `_time.txt`) are ignored."""
    write_trajectory(result_path(tmp_path, "T", "s", 2), [INIT, SKIP])
    write_trajectory(result_path(tmp_path, "T", "s", 1), [INIT, FAILURE])
    (result_path(tmp_path, "T", "s").parent / "s_time.txt").write_text("0.1\n0.2\n")
    assert read_tracker(tmp_path, "T", ["s"])["s"] == [[INIT, FAILURE], [INIT, SKIP]]


def test_a_multistart_only_tracker_is_not_a_supervised_one(tmp_path):
    """VOT2020's multistart runs live in baseline/ too (SEQ_<anchor, 8 digits>.txt): a tracker with
    only those is not listed for the supervised report, one with SEQ_001.txt is."""
    for name, file in (("Multi", "seq/seq_00000010.txt"), ("Super", "seq/seq_001.txt")):
        path = tmp_path / name / "baseline" / file
        path.parent.mkdir(parents=True)
        path.write_text("1\n")
    assert find_trackers(tmp_path) == ["Super"]
