"""`siammask synth --layout otb|lasot|got10k`: small one-pass datasets in the benchmarks' layouts,
deterministic, read back by their readers, written whole under synth's ownership rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from siammask.cli import main
from siammask.datasets.formats import GOT10K, LASOT, OTB, detect_format
from siammask.datasets.synth_onepass import make_onepass_dataset, min_frames
from siammask.errors import SiamMaskError

SMALL = {"sequences": 2, "frames": 50, "size": (96, 96)}


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("layout, fmt", [("otb", OTB), ("lasot", LASOT), ("got10k", GOT10K)])
def test_each_layout_is_deterministic_and_read_by_its_reader(tmp_path, layout, fmt):
    a = make_onepass_dataset(tmp_path / "a", layout, seed=3, **SMALL)
    assert _tree(a) == _tree(make_onepass_dataset(tmp_path / "b", layout, seed=3, **SMALL))
    assert _tree(a) != _tree(make_onepass_dataset(tmp_path / "c", layout, seed=4, **SMALL))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c"]  # no staging left
    assert detect_format(a) is fmt
    dataset = fmt.load(a)
    assert len(dataset) == 2 and all(len(s) == 50 for s in dataset)
    for seq in dataset:
        present = ~seq.absent
        assert (seq.groundtruth[present, 2:] > 0).all() and not seq.absent[0]
        assert seq.size == (96, 96)
        if layout != "otb":  # the target goes away and comes back: 15-35 frames, as synth_lt's
            assert 15 <= seq.absent.sum() <= 35 * 2 and present[-1]


def test_otb_writes_commas_and_tabs(tmp_path):
    root = make_onepass_dataset(tmp_path / "o", "otb", sequences=2, frames=3, size=(64, 64))
    assert "," in (root / "synth00" / "groundtruth_rect.txt").read_text()
    assert "\t" in (root / "synth01" / "groundtruth_rect.txt").read_text()
    assert (root / "synth00" / "img" / "0001.jpg").is_file()


def test_lasot_flags_tell_the_panel_from_leaving_the_view(tmp_path):
    dataset = LASOT.load(make_onepass_dataset(tmp_path / "l", "lasot", sequences=4, frames=60, size=(96, 96)))
    assert dataset.split == "test" and dataset.names == ["synth-1", "synth-2", "synth-3", "synth-4"]
    kinds = set()
    for seq in dataset:
        occluded, out = seq.tags["full_occlusion"], seq.tags["out_of_view"]
        assert not (occluded & out).any() and ((occluded | out) == seq.absent).all()
        kinds |= {"panel"} if occluded.any() else set()
        kinds |= {"out"} if out.any() else set()
        assert (seq.shipped_groundtruth[seq.absent] == 0).all()  # LaSOT's 0,0,0,0 rows
    assert kinds == {"panel", "out"}  # seed 0's four sequences hold both kinds


def test_got10k_labels_and_test_split(tmp_path):
    seq = GOT10K.load(make_onepass_dataset(tmp_path / "g", "got10k", **SMALL))["GOT-10k_Val_000001"]
    cover = seq.labels["cover"]
    assert (cover[seq.absent] == 0).all() and (cover[~seq.absent] > 0).all() and (cover == 8).any()
    assert seq.meta["resolution"] == "(96, 96)"
    test = GOT10K.load(make_onepass_dataset(tmp_path / "t", "got10k", split="test", **SMALL))
    assert test.split == "test" and not test.annotated and test.names[0] == "GOT-10k_Test_000001"
    assert np.isnan(test["GOT-10k_Test_000001"].groundtruth[1:]).all()


def test_refusals(tmp_path):
    with pytest.raises(SiamMaskError, match=f"frames must be at least {min_frames('lasot')}"):
        make_onepass_dataset(tmp_path / "x", "lasot", frames=20)
    with pytest.raises(SiamMaskError, match=r"layout 'vot2': use otb, lasot, got10k"):
        make_onepass_dataset(tmp_path / "x", "vot2")
    with pytest.raises(SiamMaskError, match=r"GOT-10k split 'train'"):
        make_onepass_dataset(tmp_path / "x", "got10k", split="train")
    assert not (tmp_path / "x").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    for layout in ("otb", "lasot", "got10k"):
        with pytest.raises(SiamMaskError, match="not empty"):
            make_onepass_dataset(tmp_path / "mine", layout, **SMALL)
        with pytest.raises(SiamMaskError):
            make_onepass_dataset(tmp_path / "mine", layout, overwrite=True, **SMALL)
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]


def test_force_replaces_only_an_unchanged_dataset_of_the_same_layout(tmp_path):
    out = make_onepass_dataset(tmp_path / "o", "otb", sequences=1, frames=3, size=(64, 64))
    first = _tree(out)
    make_onepass_dataset(out, "otb", sequences=1, frames=3, size=(64, 64), seed=1, overwrite=True)
    assert _tree(out) != first
    with pytest.raises(SiamMaskError):  # an OTB folder is not the LaSOT generator's to replace
        make_onepass_dataset(out, "lasot", overwrite=True, **SMALL)
    (out / "synth00" / "groundtruth_rect.txt").write_text("edited\n")
    with pytest.raises(SiamMaskError):
        make_onepass_dataset(out, "otb", sequences=1, frames=3, size=(64, 64), overwrite=True)
    assert (out / "synth00" / "groundtruth_rect.txt").read_text() == "edited\n"


def test_cli_layouts(tmp_path, capsys):
    for layout, word in (("otb", "OTB"), ("lasot", "LaSOT"), ("got10k", "GOT-10k")):
        out = tmp_path / layout
        args = ["synth", str(out), "--layout", layout, "--sequences", "1", "--frames", "47", "--size", "64x64"]
        assert main(args) == 0
        assert f"{word}-layout" in capsys.readouterr().out
        assert main([*args, "--seed", "3"]) == 1
        assert "--force" in capsys.readouterr().err
        assert main([*args, "--seed", "3", "--force"]) == 0
