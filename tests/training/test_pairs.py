"""Training pairs: the target where the labels say, the mask over it, the same pair for the same seed."""

from __future__ import annotations

import numpy as np
import pytest

from siammask.datasets.davis import load_davis
from siammask.datasets.vot import load_dataset
from siammask.errors import SiamMaskError
from siammask.training.data import (
    Augment,
    Track,
    check_pairable,
    davis_tracks,
    exemplar_side,
    make_negative,
    make_pair,
    vot_tracks,
)

STILL = Augment(template_shift=0, template_scale=0, search_shift=0, search_scale=0, blur=0, colour=0, occlude=0)


def _mask_box(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([(xs.min() + xs.max()) / 2 - 127, (ys.min() + ys.max()) / 2 - 127])


def test_vot_pair_has_the_target_at_its_box_and_its_polygon_as_mask(vot_data, rng):
    track = vot_tracks(load_dataset(vot_data))[0]
    pair = make_pair(track, rng, 3, STILL)
    assert pair.exemplar.shape == (127, 127, 3) and pair.search.shape == (255, 255, 3)
    # no shift: the target is at the crop centre, give or take the one frame pixel by which
    # crop_subwindow's rounding (the reference's) moves it; its size is scaled as the tracker scales
    k = max(127 / exemplar_side(w, h) for w, h in track.boxes[:, 2:])  # crop pixels a frame pixel
    assert np.all(np.abs(pair.box[:2]) <= 1.05 * k + 0.5)
    np.testing.assert_allclose(_mask_box(pair.mask), pair.box[:2], atol=3)
    # the polygon's area is what the axis-aligned box keeps (the reference's area-preserving box)
    assert abs(pair.mask.sum() / (pair.box[2] * pair.box[3]) - 1) < 0.15


def test_shifted_pair_moves_box_and_mask_together(vot_data):
    track = vot_tracks(load_dataset(vot_data))[1]
    for seed in range(4):
        pair = make_pair(track, np.random.default_rng(seed), 3, Augment(blur=0, occlude=0))
        np.testing.assert_allclose(_mask_box(pair.mask), pair.box[:2], atol=4)


def test_same_seed_same_pair(vot_data):
    track = vot_tracks(load_dataset(vot_data))[0]
    a, b = (make_pair(track, np.random.default_rng(7), 3, Augment(blur=1.0)) for _ in range(2))
    assert np.array_equal(a.search, b.search) and np.array_equal(a.mask, b.mask) and np.array_equal(a.box, b.box)
    c = make_pair(track, np.random.default_rng(8), 3, Augment(blur=1.0))
    assert not np.array_equal(a.search, c.search)


def test_davis_tracks_one_per_object_with_the_label_map_as_mask(davis_data, rng):
    dataset = load_davis(davis_data)
    tracks = davis_tracks(dataset)
    assert len(tracks) == sum(len(s.object_ids) for s in dataset)
    pair = make_pair(tracks[0], rng, 3, STILL)
    assert pair.mask.sum() > 50
    np.testing.assert_allclose(_mask_box(pair.mask), pair.box[:2], atol=3)


def test_box_outside_the_frame_is_refused(vot_data, tmp_path):
    import shutil

    copy = tmp_path / "d"
    shutil.copytree(vot_data, copy)
    gt = copy / "synth00" / "groundtruth.txt"
    lines = gt.read_text().splitlines()
    lines[2] = "500,500,520,500,520,520,500,520"  # the frames are 160x120
    gt.write_text("\n".join(lines) + "\n")
    with pytest.raises(SiamMaskError, match="synth00: groundtruth.txt line 3: box .* outside the 160x120 image"):
        vot_tracks(load_dataset(copy))


def test_a_track_without_two_frames_cannot_pair():
    one = Track("one", (), np.array([[10.0, 10, 5, 5], [np.nan] * 4]))
    with pytest.raises(SiamMaskError, match="needs two"):
        check_pairable([one])


def test_negative_pair_from_another_sequence_has_no_target(vot_data, rng):
    tracks = vot_tracks(load_dataset(vot_data))  # every frame shows its target: the search comes from elsewhere
    for seed in range(3):
        pair = make_negative(tracks[0], tracks, np.random.default_rng(seed), 3, STILL)
        assert pair.negative and pair.mask.sum() == 0 and np.all(np.isnan(pair.box))
        assert pair.search.shape == (255, 255, 3) and pair.exemplar.shape == (127, 127, 3)
        assert pair.search.std() > 1  # a picture, not the padding colour


def test_negative_pair_uses_the_frames_where_the_target_is_absent(davis_data):
    from dataclasses import replace

    track = davis_tracks(load_davis(davis_data))[0]
    boxes = track.boxes.copy()
    boxes[2:] = np.nan  # the target gone from frame 2 on: those frames are the negatives, cut where it was
    gone = replace(track, boxes=boxes)
    pair = make_negative(gone, [gone], np.random.default_rng(0), 3, STILL)
    assert pair.negative and pair.mask.sum() == 0
    # with no other sequence and no absent frame, a positive pair is all there is
    assert not make_negative(track, [track], np.random.default_rng(0), 3, STILL).negative


def test_occluder_hides_part_of_the_mask_and_the_box_follows_what_is_visible(vot_data):
    track = vot_tracks(load_dataset(vot_data))[0]
    plain = make_pair(track, np.random.default_rng(0), 3, STILL)
    seen = {"partly": 0, "hidden": 0}
    for seed in range(12):
        pair = make_pair(track, np.random.default_rng(seed), 3, Augment(occlude=1.0, blur=0))
        if pair.negative:  # under 30 % left in view: absent
            seen["hidden"] += 1
            continue
        seen["partly"] += 1
        if pair.mask.sum():
            ys, xs = np.nonzero(pair.mask)
            # the box is the visible mask's bounding box (crop pixels from the centre), 1 px tolerance
            np.testing.assert_allclose(pair.box[2:], [xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()], atol=1)
    assert seen["partly"] and seen["hidden"]
    assert plain.mask.sum() > 0
