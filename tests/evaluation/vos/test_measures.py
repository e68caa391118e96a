"""J, F, their statistics and the reference's mIoU against the official DAVIS evaluation's figures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siammask.datasets.davis import load_davis
from siammask.errors import SiamMaskError
from siammask.evaluation.vos.measures import (
    boundary_map,
    boundary_measure,
    boundary_radius,
    decay_quarters,
    miou_summary,
    reference_miou,
    region_similarity,
    sequence_measures,
    statistics,
    summarize,
)

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "golden_vos"
TOLERANCE = 1e-6  # against the official evaluation's float64 figures


def golden_labels(year: int, folder: str) -> dict[str, tuple[np.ndarray, np.ndarray, tuple[int, ...]]]:
    """Per sequence: ground-truth and result label maps (frames, H, W), object ids."""
    out = {}
    for seq in load_davis(GOLDEN / "dataset", year=year):
        gt = np.stack([seq.labels(t) for t in range(len(seq))])
        res = np.stack([np.array(Image.open(GOLDEN / f"davis{year}" / folder / seq.name / f"{n}.png"))
                        for n in seq.frame_names])
        out[seq.name] = (gt, res, seq.object_ids)
    return out


@pytest.mark.parametrize(("folder", "metrics"), [("results", "davis_metrics.json"),
                                                 ("perturbed", "perturbed_davis_metrics.json")])
def test_measures_equal_the_official_evaluation(folder, metrics):
    official = json.loads((GOLDEN / "davis2017" / metrics).read_text())
    per_j, per_f = {}, {}
    for name, (gt, res, ids) in golden_labels(2017, folder).items():
        j, f = sequence_measures(gt, res, len(ids))
        assert j.shape == f.shape == (len(ids), len(gt) - 2)
        for k in range(len(ids)):
            per_j[f"{name}_{k + 1}"], per_f[f"{name}_{k + 1}"] = j[k], f[k]
    ours = summarize(per_j, per_f)
    assert list(ours) == list(official)
    for key, value in official.items():
        if key != "per_object":
            assert ours[key] == pytest.approx(value, abs=TOLERANCE), key
    assert list(ours["per_object"]) == list(official["per_object"])
    for name, figures in official["per_object"].items():
        assert ours["per_object"][name]["J"] == pytest.approx(figures["J"], abs=TOLERANCE), name
        assert ours["per_object"][name]["F"] == pytest.approx(figures["F"], abs=TOLERANCE), name


def test_empty_masks():
    empty, blob = np.zeros((20, 30), bool), np.zeros((20, 30), bool)
    blob[5:9, 5:12] = True
    assert region_similarity(empty, empty) == 1.0
    assert boundary_measure(empty, empty) == 1.0
    assert region_similarity(blob, empty) == 0.0 and region_similarity(empty, blob) == 0.0
    assert boundary_measure(blob, empty) == 0.0 and boundary_measure(empty, blob) == 0.0
    assert region_similarity(blob, blob) == 1.0 and boundary_measure(blob, blob) == 1.0


def test_region_similarity_by_hand():
    a, b = np.zeros((10, 10), bool), np.zeros((10, 10), bool)
    a[0:4, 0:4] = True  # 16 pixels
    b[2:6, 2:6] = True  # 16 pixels, 4 shared
    assert region_similarity(a, b) == pytest.approx(4 / 28)


def test_boundary_map_by_hand():
    mask = np.zeros((5, 5), bool)
    mask[1:3, 1:3] = True
    expected = np.array([
        [1, 1, 1, 0, 0],  # above and left of the square: a lower or lower-right neighbour differs
        [1, 0, 1, 0, 0],  # (1, 1): its right, lower and lower-right neighbours are all inside
        [1, 1, 1, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
    ], bool)
    assert np.array_equal(boundary_map(mask), expected)
    # a full mask has no boundary: the image border is not an edge
    assert not boundary_map(np.ones((4, 6), bool)).any()


def test_boundary_tolerance_from_the_diagonal():
    assert boundary_radius((240, 320)) == 4  # ceil(0.008 * 400) = ceil(3.2)
    assert boundary_radius((480, 854)) == 8  # ceil(7.84)
    assert boundary_radius((480, 854), tolerance=3) == 3


def test_boundary_match_within_the_disk_only():
    # two vertical edges 4 px apart match at radius 4 (240x320 image), 5 px apart do not
    gt = np.zeros((240, 320), bool)
    gt[50:150, 100:200] = True
    shifted = np.roll(gt, 4, axis=1)
    far = np.roll(gt, 5, axis=1)
    assert boundary_measure(gt, shifted) == 1.0
    assert 0.0 < boundary_measure(gt, far) < 1.0


def test_decay_quarters_share_their_edges():
    assert decay_quarters(10) == [slice(0, 3), slice(2, 6), slice(5, 8), slice(7, 10)]
    assert decay_quarters(1) == [slice(0, 1)] * 4


def test_statistics_by_hand():
    values = [1.0, 1.0, 0.6, 0.4, 0.2, 0.0]  # edges at 0, 1.25, 2.5, 3.75, 5 -> 0, 1, 3, 4, 5
    stats = statistics(values)
    assert stats.mean == pytest.approx(3.2 / 6)
    assert stats.recall == pytest.approx(3 / 6)
    assert stats.decay == pytest.approx(np.mean(values[0:2]) - np.mean(values[4:6]))
    assert all(math.isnan(v) for v in (statistics([]).mean, statistics([]).recall, statistics([]).decay))


def test_an_object_absent_from_the_result_is_an_empty_mask():
    gt = np.zeros((4, 12, 12), np.uint8)
    gt[:, 1:4, 1:4] = 1
    gt[:, 6:9, 6:9] = 2
    res = np.where(gt == 1, 1, 0).astype(np.uint8)  # object 2 never labelled
    j, f = sequence_measures(gt, res, 2)
    assert np.all(j[0] == 1) and np.all(f[0] == 1)
    assert np.all(j[1] == 0) and np.all(f[1] == 0)


def test_first_and_last_frames_left_out():
    gt = np.ones((5, 6, 6), np.uint8)
    res = np.zeros_like(gt)
    res[1:4] = 1  # right everywhere except the first and last frames
    j, _ = sequence_measures(gt, res, 1)
    assert j.tolist() == [[1.0, 1.0, 1.0]]


def test_result_with_an_unknown_object_id():
    gt = np.ones((3, 6, 6), np.uint8)
    res = gt.copy()
    res[1, 0, 0] = 2
    with pytest.raises(SiamMaskError, match="has object id 2; the sequence has 1 objects"):
        sequence_measures(gt, res, 1)


def test_masks_of_different_sizes():
    with pytest.raises(SiamMaskError, match="masks of shapes"):
        region_similarity(np.zeros((4, 4), bool), np.zeros((4, 5), bool))


@pytest.mark.parametrize("year", [2017, 2016])
def test_reference_miou_at_its_threshold(year):
    """The golden label maps were written at seg_thr 0.35: probabilities that put every labelled
    pixel between 0.35 and 0.40 give back those label maps there, so the 0.35 column must be the
    reference's own figure (and, from label maps, each object's J-Mean)."""
    official = json.loads((GOLDEN / f"davis{year}" / "reference_miou.json").read_text())
    per_sequence = {}
    for name, (gt, res, ids) in golden_labels(year, "results").items():
        probabilities = np.stack([np.where(res == k + 1, 0.375, 0.1) for k in range(len(ids))])
        per_sequence[name] = miou = reference_miou(probabilities, gt, ids)
        expected = np.array(official["per_sequence_object"][name])
        assert miou.dtype == np.float32 and miou.shape == expected.shape
        assert np.allclose(miou[:, :2], expected[:, 1:2], atol=TOLERANCE, rtol=0)  # 0.30 and 0.35 see the same
        j, _ = sequence_measures(gt, res, len(ids))
        assert np.allclose(j.mean(axis=1), expected[:, 1], atol=TOLERANCE, rtol=0)
    summary = miou_summary(per_sequence)
    assert summary["thresholds"] == official["thresholds"]
    assert summary["mean_per_threshold"][1] == pytest.approx(official["mean_per_threshold"][1], abs=TOLERANCE)


def test_reference_miou_thresholds_and_ties():
    gt = np.zeros((3, 2, 2), np.uint8)
    gt[:, 0, 0], gt[:, 1, 1] = 1, 2
    probabilities = np.zeros((2, 3, 2, 2))
    probabilities[0, :, 0, 0] = 0.42  # object 1 is in above 0.40 only
    probabilities[:, :, 1, 1] = 0.5  # a tie: argmax gives the pixel to object 1
    miou = reference_miou(probabilities, gt, (1, 2), thresholds=(0.4, 0.45))
    assert miou[0].tolist() == pytest.approx([0.5, 0.0])  # {00} vs {00, 11}; then only 11, not object 1's
    assert miou[1].tolist() == [0.0, 0.0]
    with pytest.raises(SiamMaskError, match="do not fit"):
        reference_miou(probabilities[:1], gt, (1, 2))
