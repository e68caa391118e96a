"""`siammask synth --layout vot-lt`: the target goes away (behind a panel or out of the view) for
15-35 frames and comes back elsewhere; absent frames are nan rows; deterministic and written whole."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from siammask.cli import main
from siammask.datasets.synth_lt import MIN_FRAMES, make_lt_dataset
from siammask.errors import SiamMaskError

SMALL = {"sequences": 2, "frames": 60, "size": (96, 96)}


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _absent_runs(lines: list[str]) -> list[tuple[int, int]]:
    """(first frame, length) of each run of nan rows."""
    runs, start = [], None
    for t, line in enumerate([*lines, "0,0,1,1"]):
        if line == "nan,nan,nan,nan" and start is None:
            start = t
        elif line != "nan,nan,nan,nan" and start is not None:
            runs.append((start, t - start))
            start = None
    return runs


@pytest.fixture(scope="module")
def long_set(tmp_path_factory) -> Path:
    return make_lt_dataset(tmp_path_factory.mktemp("lt") / "d", sequences=3, frames=150, size=(160, 120), seed=2)


def test_same_seed_same_bytes_other_seed_other_frames(tmp_path):
    a = _tree(make_lt_dataset(tmp_path / "a", seed=4, **SMALL))
    assert a == _tree(make_lt_dataset(tmp_path / "b", seed=4, **SMALL))
    assert a != _tree(make_lt_dataset(tmp_path / "c", seed=5, **SMALL))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c"]  # no staging left
    assert (tmp_path / "a" / "list.txt").read_text() == "lt00\nlt01\n"
    assert (tmp_path / "a" / ".siammask").is_file()


def test_every_sequence_has_absences_of_15_to_35_frames(long_set):
    for name in ("lt00", "lt01", "lt02"):
        lines = (long_set / name / "groundtruth.txt").read_text().splitlines()
        assert len(lines) == 150 == len(list((long_set / name).glob("*.jpg")))
        runs = _absent_runs(lines)
        assert len(runs) >= 2, runs  # several absences in a longer sequence
        assert all(15 <= length <= 35 for _, length in runs), runs
        assert runs[0][0] > 0 and runs[-1][0] + runs[-1][1] < 150  # present first and last
        boxes = np.array([[float(v) for v in line.split(",")] for line in lines if "nan" not in line])
        assert (boxes[:, 2:] > 0).all()


def test_short_sequences_hold_one_absence(tmp_path):
    root = make_lt_dataset(tmp_path / "d", sequences=3, frames=MIN_FRAMES, size=(96, 96))
    for name in ("lt00", "lt01", "lt02"):
        runs = _absent_runs((root / name / "groundtruth.txt").read_text().splitlines())
        assert len(runs) == 1 and 15 <= runs[0][1] <= 35, runs


def test_truth_follows_the_pixels(long_set):
    """The target is the only strongly saturated thing drawn (background and panels stay below S 120,
    dark pixels aside): a box where it shows, none where it does not (0.3 and 2 %: this check's tolerances)."""
    covered, leaked, box_area = [], [], []
    for name in ("lt00", "lt01", "lt02"):
        lines = (long_set / name / "groundtruth.txt").read_text().splitlines()
        for t, line in enumerate(lines):
            image = cv2.imread(str(long_set / name / f"{t + 1:08d}.jpg"))
            hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
            saturated = (hsv[..., 1] > 150) & (hsv[..., 2] > 80)  # dark rims' noise reads as saturated
            if "nan" in line:
                leaked.append(int(saturated.sum()))
                continue
            x, y, w, h = (float(v) for v in line.split(","))
            inside = saturated[int(y + 1) : int(y + h), int(x + 1) : int(x + w)]
            covered.append(inside.mean() if inside.size else 0.0)
            box_area.append(w * h)
    assert np.median(covered) > 0.3  # a turned rectangle, with marks, in its upright box
    assert max(leaked) < 0.02 * np.median(box_area)


def test_refusals(tmp_path):
    with pytest.raises(SiamMaskError, match=f"frames must be at least {MIN_FRAMES}"):
        make_lt_dataset(tmp_path / "x", frames=MIN_FRAMES - 1)
    assert not (tmp_path / "x").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(SiamMaskError, match="not empty"):
        make_lt_dataset(tmp_path / "mine", **SMALL)
    with pytest.raises(SiamMaskError):
        make_lt_dataset(tmp_path / "mine", overwrite=True, **SMALL)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_cli_writes_and_force_replaces(tmp_path, capsys):
    out = tmp_path / "lt"
    args = ["synth", str(out), "--layout", "vot-lt", "--sequences", "1", "--frames", "50", "--size", "96x96"]
    assert main(args) == 0
    assert "VOT-LT" in capsys.readouterr().out
    first = _tree(out)
    assert main([*args, "--seed", "3"]) == 1
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--seed", "3", "--force"]) == 0
    assert _tree(out) != first
