"""`siammask synth --layout davis`: a DAVIS-layout multi-object dataset, deterministic, loadable,
every frame annotated, written whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from siammask.cli import main
from siammask.datasets.davis import load_davis
from siammask.datasets.synth_davis import make_davis_dataset
from siammask.errors import SiamMaskError

SMALL = {"sequences": 2, "frames": 5, "size": (160, 120), "objects": 3}


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_frames(tmp_path):
    a = _tree(make_davis_dataset(tmp_path / "a", seed=4, **SMALL))
    assert a == _tree(make_davis_dataset(tmp_path / "b", seed=4, **SMALL))
    assert a != _tree(make_davis_dataset(tmp_path / "c", seed=5, **SMALL))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c"]  # no staging left


def test_layout_loads_as_davis_with_the_objects(tmp_path):
    root = make_davis_dataset(tmp_path / "d", **SMALL)
    for year, expected in ((2017, [(1, 2, 3), (1, 2)]), (2016, [(1,), (1,)])):
        dataset = load_davis(root, year)
        assert dataset.names == ["davis00", "davis01"]
        assert [s.object_ids for s in dataset] == expected
        for seq in dataset:
            assert len(seq) == 5 and seq.size == (160, 120)
            assert all(a is not None for a in seq.annotations)
    seq = load_davis(root, 2017)["davis00"]
    areas = np.array([np.bincount(seq.labels(t).ravel(), minlength=4)[1:4] for t in range(5)])
    assert (areas[0] > 0).all()  # every object visible where tracking starts
    assert len({tuple(a) for a in areas}) > 1  # and they move


def test_refusals(tmp_path):
    with pytest.raises(SiamMaskError, match="objects must be at most"):
        make_davis_dataset(tmp_path / "x", objects=9)
    assert not (tmp_path / "x").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(SiamMaskError, match="notes.txt"):
        make_davis_dataset(tmp_path / "mine", overwrite=True, **SMALL)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_cli(tmp_path, capsys):
    out = tmp_path / "davis"
    args = ["synth", str(out), "--layout", "davis", "--sequences", "1", "--frames", "3", "--size", "96x72",
            "--objects", "2"]
    assert main(args) == 0
    assert "DAVIS-layout" in capsys.readouterr().out
    assert load_davis(out, 2017)["davis00"].object_ids == (1, 2)
    assert main(args) == 1  # exists: needs --force
    assert main([*args, "--force"]) == 0
