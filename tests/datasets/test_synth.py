"""The synthetic VOT2016-style dataset: layout, determinism, truthful ground truth, safe writing, CLI."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from siammask.cli import main
from siammask.datasets import synth
from siammask.errors import SiamMaskError

SMALL = {"sequences": 2, "frames": 12, "size": (96, 72)}


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return synth.make_dataset(
        tmp_path_factory.mktemp("synth") / "ds", sequences=3, frames=40, size=(160, 120)
    )


def test_same_seed_gives_identical_bytes(tmp_path):
    a = _tree(synth.make_dataset(tmp_path / "a", seed=3, **SMALL))
    b = _tree(synth.make_dataset(tmp_path / "b", seed=3, **SMALL))
    assert a == b
    c = _tree(synth.make_dataset(tmp_path / "c", seed=4, **SMALL))
    assert a.keys() == c.keys() and a != c


def test_sequence_does_not_depend_on_sequence_count(tmp_path):
    one = _tree(synth.make_dataset(tmp_path / "one", sequences=1, frames=5, size=(64, 64)))
    two = _tree(synth.make_dataset(tmp_path / "two", sequences=2, frames=5, size=(64, 64)))
    assert {k: v for k, v in two.items() if k.startswith("synth00")} == {
        k: v for k, v in one.items() if k.startswith("synth00")
    }


def test_layout(dataset):
    names = (dataset / "list.txt").read_text().splitlines()
    assert names == ["synth00", "synth01", "synth02"]
    for name in names:
        seq = dataset / name
        jpgs = sorted(seq.glob("*.jpg"))
        assert [p.name for p in jpgs] == [f"{i:08d}.jpg" for i in range(1, 41)]
        image = cv2.imread(str(jpgs[0]))
        assert image.shape == (120, 160, 3)
        gt_lines = (seq / "groundtruth.txt").read_text().splitlines()
        assert len(gt_lines) == 40
        for line in gt_lines:
            values = line.split(",")
            assert len(values) == 8
            assert all(len(v.split(".")[1]) == 4 for v in values)
        for tag in ("size_change", "camera_motion", "motion_change", "illum_change", "occlusion"):
            lines = (seq / f"{tag}.tag").read_text().splitlines()
            assert len(lines) == 40 and set(lines) <= {"0", "1"}
    assert not [p for p in dataset.parent.iterdir() if p.name.startswith(".")]  # no temp dirs left


def _polygon_mask(poly: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(poly * 256).astype(np.int32)], 1, cv2.LINE_8, 8)
    return mask.astype(bool)


def test_ground_truth_is_a_rectangle_mostly_inside_the_image(dataset):
    for name in (dataset / "list.txt").read_text().split():
        gt = np.loadtxt(dataset / name / "groundtruth.txt", delimiter=",").reshape(-1, 4, 2)
        sides = np.linalg.norm(np.roll(gt, -1, axis=1) - gt, axis=2)
        np.testing.assert_allclose(sides[:, 0], sides[:, 2], atol=1e-3)  # opposite sides equal
        np.testing.assert_allclose(sides[:, 1], sides[:, 3], atol=1e-3)
        for poly, side in zip(gt, sides, strict=True):
            area = side[0] * side[1]
            inside = _polygon_mask(poly, (120, 160)).sum()
            assert inside >= 0.8 * area


def test_ground_truth_covers_the_rendered_target(dataset):
    """The target is far more saturated than the background: saturation must jump at the outline."""
    gt = np.loadtxt(dataset / "synth01" / "groundtruth.txt", delimiter=",").reshape(-1, 4, 2)
    for t in (0, 13, 39):
        image = cv2.imread(str(dataset / "synth01" / f"{t + 1:08d}.jpg"))
        sat = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)[..., 1].astype(float)
        centre = gt[t].mean(axis=0)
        shrunk = centre + 0.8 * (gt[t] - centre)
        grown = centre + 1.4 * (gt[t] - centre)
        inner = _polygon_mask(shrunk, sat.shape)
        ring = _polygon_mask(grown, sat.shape) & ~_polygon_mask(gt[t], sat.shape)
        assert sat[inner].mean() > sat[ring].mean() + 50


def test_tags_follow_the_motion():
    n = 30
    centre = np.stack([np.arange(n) * 2.0, np.full(n, 50.0)], axis=1)  # steady motion
    centre[20:, 1] += np.arange(10) * 3.0  # then a turn
    scale = np.ones(n)
    scale[10:] = np.linspace(1.0, 1.5, n - 10)
    camera = np.zeros((n, 2))
    gain = np.ones(n)
    occluded = np.zeros(n)
    occluded[5:8] = 0.5
    tags = synth._tags(centre, scale, camera, gain, occluded)
    assert not tags["camera_motion"].any() and not tags["illum_change"].any()
    assert tags["occlusion"].tolist() == [0] * 5 + [1] * 3 + [0] * 22
    assert not tags["size_change"][:10].any() and tags["size_change"][-5:].all()
    assert not tags["motion_change"][:20].any() and tags["motion_change"][21:25].all()


def test_refuses_non_empty_output(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(SiamMaskError, match="not empty"):
        synth.make_dataset(out, **SMALL)
    with pytest.raises(SiamMaskError, match="no list.txt"):  # --force never wipes a non-dataset
        synth.make_dataset(out, overwrite=True, **SMALL)
    assert (out / "keep.txt").read_text() == "mine"


def test_overwrite_replaces_a_dataset_and_empty_dir_is_fine(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    synth.make_dataset(out, sequences=2, frames=3, size=(64, 64))  # empty directory: allowed
    (out / "notes.txt").write_text("mine")  # a file synth did not write: --force keeps its hands off
    with pytest.raises(SiamMaskError, match="'notes.txt'"):
        synth.make_dataset(out, sequences=1, frames=3, size=(64, 64), overwrite=True)
    assert (out / "notes.txt").read_text() == "mine" and (out / "synth01").is_dir()
    (out / "notes.txt").unlink()
    synth.make_dataset(out, sequences=1, frames=3, size=(64, 64), overwrite=True)
    assert (out / "list.txt").read_text() == "synth00\n"
    assert not (out / "synth01").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_interrupted_run_leaves_nothing(tmp_path, monkeypatch):
    calls = []

    def flaky(*args):
        if calls:
            raise KeyboardInterrupt
        calls.append(1)
        return original(*args)

    original = synth._render_sequence
    monkeypatch.setattr(synth, "_render_sequence", flaky)
    with pytest.raises(KeyboardInterrupt):
        synth.make_dataset(tmp_path / "out", **SMALL)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sequences": 0}, "sequences"),
        ({"frames": 1}, "frames"),
        ({"size": (63, 100)}, "width"),
        ({"size": (100, 10)}, "height"),
        ({"size": (100,)}, "size"),
        ({"seed": -1}, "seed"),
        ({"frames": 2.5}, "frames"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(SiamMaskError, match=message):
        synth.make_dataset(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_output_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SiamMaskError, match="not a folder"):
        synth.make_dataset(tmp_path / "file", **SMALL)


def test_cli_end_to_end(tmp_path, capsys):
    out = tmp_path / "cli"
    args = ["synth", str(out), "--sequences", "2", "--frames", "4", "--size", "80x64", "--seed", "5"]
    assert main(args) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and str(out) in printed[0]
    assert (out / "list.txt").read_text().split() == ["synth00", "synth01"]
    assert cv2.imread(str(out / "synth01" / "00000004.jpg")).shape == (64, 80, 3)
    assert _tree(out) == _tree(
        synth.make_dataset(tmp_path / "api", sequences=2, frames=4, size=(80, 64), seed=5)
    )

    assert main(args) == 1  # exists: refused with a one-line message
    err = capsys.readouterr().err
    assert err.startswith("siammask: error:") and "--force" in err and err.count("\n") == 1
    assert main([*args, "--force"]) == 0


def test_cli_bad_size(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:  # malformed: a usage error from argparse
        main(["synth", str(tmp_path / "x"), "--size", "80by64"])
    assert exc.value.code == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err
    assert main(["synth", str(tmp_path / "x"), "--size", "32x32"]) == 1  # well-formed but too small
    assert "between 64 and" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_cli_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["synth", "--help"])
    assert exc.value.code == 0
    assert "examples:" in capsys.readouterr().out


def test_vot2020_layout_is_the_same_sequences_with_mask_ground_truth(tmp_path, capsys):
    """--layout vot2020: the vot layout's frames, tags and anchors byte for byte; the ground truth the
    target's visible pixels as mask lines, inside its rectangle, and read back by the VOT reader."""
    from siammask.datasets.vot import load_dataset
    from siammask.evaluation.vot.results import parse_mask_region

    boxes, masks = tmp_path / "vot", tmp_path / "vot2020"
    assert main(["synth", str(boxes), "--sequences", "1", "--frames", "40", "--size", "96x96", "--seed", "5"]) == 0
    assert main(["synth", str(masks), "--layout", "vot2020", "--sequences", "1", "--frames", "40", "--size", "96x96",
                 "--seed", "5"]) == 0
    assert "mask ground truth" in capsys.readouterr().out
    for path in sorted((boxes / "synth00").iterdir()):
        if path.name != "groundtruth.txt":
            assert (masks / "synth00" / path.name).read_bytes() == path.read_bytes(), path.name
    polygons = np.loadtxt(boxes / "synth00" / "groundtruth.txt", delimiter=",").reshape(-1, 4, 2)
    lines = (masks / "synth00" / "groundtruth.txt").read_text().splitlines()
    assert len(lines) == 40 and all(line.startswith("m") for line in lines)
    for polygon, line in zip(polygons, lines):
        region = parse_mask_region(line, "t")
        if region.is_empty:  # hidden by the occluder
            continue
        left, top, right, bottom = region.bounds
        low, high = polygon.min(axis=0), polygon.max(axis=0)
        assert low[0] - 1 <= left and right <= high[0] + 1 and low[1] - 1 <= top and bottom <= high[1] + 1
        assert region.mask.sum() > 0.5 * cv2.contourArea(polygon.astype(np.float32))
    seq = load_dataset(masks, masks=True)["synth00"]
    assert len(seq.masks) == 40 and np.isfinite(seq.groundtruth[0]).all()
