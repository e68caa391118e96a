"""`siammask track --masks DIR` and `--rle`: label maps and COCO RLE masks, on 3 frames of the
golden DAVIS sequence vos01 (2 objects) with the seeded checkpoint and config_davis.json's settings.

Started from the objects' first-frame bounding rectangles, `track` is the VOS protocol's tracker,
so its label maps must be the protocol's (which the golden tests tie to the reference's)."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from siammask.cli import main
from siammask.evaluation.vos.protocol import object_box, track_sequence_vos
from siammask.tracking.labelmaps import davis_palette
from tests.commands.test_track import assert_one_line_error
from tests.evaluation.vos.golden import davis_config, first_labels, frames, object_ids

pytest.importorskip("torch")
pycocotools_mask = pytest.importorskip("pycocotools.mask")

SEQ = "vos01"
FRAMES = 3


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clip") / SEQ
    folder.mkdir()
    for path in frames(SEQ)[:FRAMES]:
        shutil.copy(path, folder)
    return folder


@pytest.fixture(scope="module")
def config_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "davis.json"
    # the colour test of presence off (tests/settings.py): the VOS protocol writes every object
    path.write_text(json.dumps({**davis_config().to_dict(), "appearance_thr": 0.0}))
    return path


def boxes():
    labels = first_labels(SEQ, "davis2017")
    return labels, object_ids(labels), [object_box(labels, i) for i in object_ids(labels)]


def read_map(path):
    with Image.open(path) as image:
        assert image.mode == "P" and image.getpalette()[:30] == davis_palette()[:30]
        return np.array(image)


def test_masks_and_rle_are_the_vos_protocol(capsys, tmp_path, clip, config_file, seeded_checkpoint, torch_engine):
    labels, ids, rects = boxes()
    assert ids == [1, 2]
    masks, out_json = tmp_path / "masks", tmp_path / "r.json"
    args = ["track", str(clip), "--checkpoint", str(seeded_checkpoint), "--config", str(config_file),
            "--masks", str(masks), "--output", str(out_json), "--rle", "--no-progress"]
    for x, y, w, h in rects:
        args += ["--box", f"{x},{y},{w},{h}"]
    assert main(args) == 0
    assert str(masks) in capsys.readouterr().out
    assert sorted(p.name for p in masks.iterdir()) == [f"{t:05d}.png" for t in range(FRAMES)]
    assert not list(tmp_path.glob(".*")), "a staging folder was left behind"
    data = json.loads(out_json.read_text())

    # frame 0: the given boxes filled, target k as k + 1
    first = read_map(masks / "00000.png")
    for k, (x, y, w, h) in enumerate(rects):
        ys, xs = np.nonzero(first == k + 1)
        assert xs.min() >= x and xs.max() <= x + w and ys.min() >= y and ys.max() <= y + h
        assert len(xs) >= w * h - (first[y : y + h, x : x + w] != k + 1).sum()
        rle = data["frames"][0]["targets"][k]["mask"]
        region = pycocotools_mask.decode({**rle, "counts": rle["counts"].encode()}) > 0
        assert region[first == k + 1].all() and region.sum() >= w * h  # the box, overlaps included
    # tracked frames: exactly the protocol's label maps and each target's thresholded mask
    settings = dataclasses.replace(davis_config(), appearance_thr=0.0)  # as the --config file above
    protocol = list(track_sequence_vos(torch_engine, settings, frames(SEQ)[:FRAMES], labels, ids))
    for t in range(1, FRAMES):
        assert np.array_equal(read_map(masks / f"{t:05d}.png"), protocol[t].labels)
        for k, result in enumerate(protocol[t].results):
            rle = data["frames"][t]["targets"][k]["mask"]
            assert rle["size"] == list(labels.shape)
            decoded = pycocotools_mask.decode({**rle, "counts": rle["counts"].encode()})
            assert np.array_equal(decoded, result.binary_mask())
            assert decoded.sum() == result.mask_pixels


@pytest.mark.parametrize(("setup", "extra", "fragments"), [
    ("nonempty", ["--masks", "{tmp}/full"], ["--masks", "not empty"]),
    ("none", ["--masks", "{tmp}/no/such/masks"], ["--masks", "does not exist"]),
    ("none", ["--rle"], ["--rle", ".json"]),
])
def test_bad_mask_options_exit_1_before_tracking(capsys, tmp_path, clip, seeded_checkpoint, setup, extra, fragments):
    if setup == "nonempty":
        (tmp_path / "full").mkdir()
        (tmp_path / "full" / "mine.png").write_bytes(b"keep")
    args = [a.format(tmp=tmp_path) for a in extra]
    rc = main(["track", str(clip), "--checkpoint", str(seeded_checkpoint), "--box", "10,10,40,40", *args])
    assert_one_line_error(rc, capsys.readouterr().err, *fragments)
    if setup == "nonempty":
        assert [p.name for p in (tmp_path / "full").iterdir()] == ["mine.png"]


def test_failure_mid_run_leaves_no_mask_folder(capsys, tmp_path, clip, seeded_checkpoint):
    broken = tmp_path / "clip"
    shutil.copytree(clip, broken)
    last = sorted(broken.iterdir())[-1]
    last.write_bytes(last.read_bytes()[:200])  # truncated JPEG on the last frame
    rc = main(["track", str(broken), "--checkpoint", str(seeded_checkpoint), "--box", "10,10,40,40",
               "--masks", str(tmp_path / "masks")])
    assert_one_line_error(rc, capsys.readouterr().err, "truncated")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip"]
