"""The broad training generator: a DAVIS layout the loader reads, deterministic, with objects that
vanish (covered or out of the view) and come back, and label maps that are what the frame shows."""

from __future__ import annotations

import numpy as np
import pytest

from siammask.datasets.davis import load_davis, read_palette_png
from siammask.datasets.synth_broad import make_broad_dataset
from siammask.errors import SiamMaskError
from siammask.training.data import davis_tracks


@pytest.fixture(scope="module")
def broad(tmp_path_factory):
    return make_broad_dataset(tmp_path_factory.mktemp("b") / "broad", sequences=4, frames=24, size=(160, 120),
                              seed=3)


def test_the_davis_loader_reads_it_and_every_object_is_a_track(broad):
    dataset = load_davis(broad, 2017, "train")
    assert [s.name for s in dataset] == ["broad00", "broad01", "broad02", "broad03"]
    tracks = davis_tracks(dataset)
    assert len(tracks) == sum(len(s.object_ids) for s in dataset) >= 4
    # objects leave the view or hide behind occluders: some frames have no target (NaN box)
    absent = sum(int(np.isnan(t.boxes[:, 0]).sum()) for t in tracks)
    assert absent > 0
    assert all(np.isfinite(t.boxes[0, 0]) for t in tracks)  # every object is seen on its first frame


def test_same_seed_same_files_and_another_seed_differs(broad, tmp_path):
    again = make_broad_dataset(tmp_path / "again", sequences=4, frames=24, size=(160, 120), seed=3)
    for rel in ("JPEGImages/480p/broad02/00010.jpg", "Annotations/480p/broad02/00010.png"):
        assert (again / rel).read_bytes() == (broad / rel).read_bytes()
    other = make_broad_dataset(tmp_path / "other", sequences=1, frames=2, size=(160, 120), seed=4)
    assert (other / "JPEGImages/480p/broad00/00000.jpg").read_bytes() != (
        broad / "JPEGImages/480p/broad00/00000.jpg").read_bytes()


def test_every_object_is_visible_on_the_first_frame(broad):
    from siammask.datasets.synth_broad import MIN_PIXELS

    for seq in load_davis(broad, 2017, "train"):
        labels = read_palette_png(seq.annotations[0])
        counts = np.bincount(labels.ravel(), minlength=len(seq.object_ids) + 1)
        assert all(counts[k] >= MIN_PIXELS for k in seq.object_ids), seq.name


def test_an_existing_folder_it_did_not_write_is_not_replaced(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(SiamMaskError):
        make_broad_dataset(mine, sequences=1, frames=2, overwrite=True)
    assert (mine / "notes.txt").read_text() == "keep"


def test_synth_layout_broad_writes_the_training_generator(tmp_path, capsys):
    from siammask.cli import main
    from siammask.datasets.davis import load_davis

    out = tmp_path / "broad"
    assert main(["synth", str(out), "--layout", "broad", "--sequences", "1", "--frames", "4", "--size", "96x96"]) == 0
    assert "broad training sequence" in capsys.readouterr().out
    assert len(load_davis(out, 2017, "train").sequences[0].frames) == 4  # a training set: train.txt


def test_parts_are_painted_inside_the_outline_only():
    """An object's inner parts change its look, never its outline (the label map stays the shape)."""
    from siammask.datasets.synth_broad import PATCH, _paint_parts, _shape

    rng = np.random.default_rng(0)
    alpha = _shape(rng, "ellipse")
    texture = np.full((PATCH, PATCH, 3), 128.0, np.float32)
    before = texture.copy()
    _paint_parts(rng, texture, alpha)
    changed = np.any(texture != before, axis=-1)
    assert changed.any()  # something was painted
    assert not changed[alpha == 0].any()  # and nothing outside the shape
    empty = np.zeros((PATCH, PATCH), np.float32)  # a shape with no inside: nothing to paint, no error
    _paint_parts(rng, texture, empty)
