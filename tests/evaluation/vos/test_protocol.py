"""The VOS protocol against the reference's track_vos (tests/data/golden_vos, seeded weights).

Tolerances: per-object states within 1e-3 px of vos_records.json and scores within 1e-5 when each
frame is replayed from the record's pos_in/sz_in (open loop: the closed loop drifts by float noise,
1e-4 px, until a near tie flips a cell choice, so it is compared over its first frames only);
label maps equal to the reference's on every pixel except near ties by our own probabilities
(two objects' sigmoids saturated at 1.0, or a value on seg_thr; gap <= 1e-5), and those on at most
0.1% of a frame's pixels. In the closed loop the state has drifted by float noise, so the masks are
pasted from a warp a hair away from the reference's and a pixel may flip that is no near tie by our
own probabilities (2 pixels on frame 3 of vos01 on an AVX2 machine): there only the 0.1% share
holds; pixel exactness is gated on the open loop.
"""

from __future__ import annotations

import numpy as np
import pytest

from siammask.evaluation.vos.protocol import object_box, start_tracker, track_sequence_vos
from siammask.io.sources import read_image
from siammask.tracking.mask import PastedMask, label_map
from tests.evaluation.vos.golden import (
    SEQUENCES,
    davis_config,
    first_labels,
    frames,
    near_tie_disagreements,
    object_ids,
    records,
    reference_labels,
)

POS_TOL_PX = 1e-3
SCORE_TOL = 1e-5
TIE_TOL = 1e-5
MAX_TIE_SHARE = 1e-3
FAST_FRAMES = (1, 13, 26, 39)  # spread over the 40 frames; every frame under -m slow


def check_labels(ours, theirs, probabilities, ids, seg_thr, where, exact=True):
    if exact:
        bad = near_tie_disagreements(ours, theirs, probabilities, ids, seg_thr, TIE_TOL)
        assert bad == 0, f"{where}: {bad} pixels differ from the reference's label map beyond near ties"
    share = np.count_nonzero(ours != theirs) / ours.size
    assert share <= MAX_TIE_SHARE, f"{where}: {share:.2%} of the pixels differ (near ties)"


def check_state(result, record, where):
    assert record["event"] == "track"
    assert np.abs(result.center - record["pos_out"]).max() <= POS_TOL_PX, where
    assert np.abs(result.box[2:] - record["sz_out"]).max() <= POS_TOL_PX, where
    assert abs(result.score - record["score"]) <= SCORE_TOL, where
    # a mask pixel on the threshold may flip: 0.1% of the mask
    assert abs(result.mask_pixels - record["mask_pixels"]) <= max(1, record["mask_pixels"] // 1000), where


def test_label_map_is_argmax_plus_threshold():
    """label_map (per-mask rectangles) equals the reference's whole-frame formula, ties included."""
    rng = np.random.default_rng(3)
    size = (23, 17)
    for _ in range(30):
        masks = []
        for _ in range(rng.integers(1, 5)):
            x, y = rng.integers(0, 20), rng.integers(0, 14)
            w, h = rng.integers(0, size[0] - x + 1), rng.integers(0, size[1] - y + 1)
            values = rng.choice([0.2, 0.35, 0.5, 1.0], size=(h, w)).astype(np.float32)  # ties, threshold
            masks.append(PastedMask(values, (int(x), int(y), int(w), int(h)), size))
        ids = list(rng.permutation(np.arange(1, 9))[: len(masks)])
        full = np.stack([m.full() for m in masks]).astype(np.float64)
        expected = np.where(full.max(0) > 0.35, np.array(ids)[full.argmax(0)], 0)
        assert np.array_equal(label_map(masks, ids, 0.35, size), expected)


@pytest.mark.parametrize("mode", ["davis2017", "davis2016"])
@pytest.mark.parametrize("seq", SEQUENCES)
def test_objects_start_from_their_mask_bounding_rectangle(mode, seq):
    labels = first_labels(seq, mode)
    for k, object_id in enumerate(object_ids(labels)):
        x, y, w, h = object_box(labels, object_id)
        init = records(mode)[seq][k][0]
        assert init["event"] == "init"
        assert [x + w / 2, y + h / 2] == init["pos_out"] and [w, h] == init["sz_out"]


def open_loop(engine, mode, seq, frame_indices):
    """Replay `frame_indices` of `seq` from the record's states, all objects in one tracker."""
    config = davis_config()
    labels = first_labels(seq, mode)
    ids = object_ids(labels)
    paths = frames(seq)
    tracker = start_tracker(engine, config, read_image(paths[0]), labels, ids)
    for f in frame_indices:
        for k, target in enumerate(tracker.targets):
            target.pos = np.array(records(mode)[seq][k][f]["pos_in"], dtype=np.float64)
            target.size = np.array(records(mode)[seq][k][f]["sz_in"], dtype=np.float64)
        results = tracker.track(read_image(paths[f]))
        for k, result in enumerate(results):
            check_state(result, records(mode)[seq][k][f], f"{mode} {seq} object {ids[k]} frame {f}")
        ours = label_map([r.mask for r in results], ids, config.seg_thr, tracker.image_size)
        probabilities = np.stack([r.probabilities() for r in results])
        check_labels(ours, reference_labels(mode, seq, f), probabilities, ids, config.seg_thr, f"{mode} {seq} {f}")


@pytest.mark.parametrize("mode", ["davis2017", "davis2016"])
@pytest.mark.parametrize("seq", SEQUENCES)
def test_open_loop_matches_reference(torch_engine, mode, seq):
    open_loop(torch_engine, mode, seq, FAST_FRAMES)


def test_open_loop_matches_reference_onnx(onnx_engine):
    """The exported graphs (ONNX Runtime), 3 objects batched, at the same tolerances."""
    open_loop(onnx_engine, "davis2017", "vos00", (1, 39))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["davis2017", "davis2016"])
@pytest.mark.parametrize("seq", SEQUENCES)
def test_open_loop_matches_reference_every_frame(torch_engine, mode, seq):
    open_loop(torch_engine, mode, seq, range(1, len(frames(seq))))


@pytest.mark.parametrize(("mode", "seq"), [("davis2017", "vos01"), ("davis2016", "vos02")])
def test_closed_loop_first_frames_match_reference(torch_engine, mode, seq):
    """The protocol end to end: frame 0 is the annotation, then the tracked label maps."""
    config = davis_config()
    labels = first_labels(seq, mode)
    ids = object_ids(labels)
    for vf in track_sequence_vos(torch_engine, config, frames(seq)[:5], labels, ids):
        theirs = reference_labels(mode, seq, vf.index)
        if vf.results is None:
            assert vf.index == 0 and np.array_equal(vf.labels, theirs)
            continue
        for k, result in enumerate(vf.results):
            check_state(result, records(mode)[seq][k][vf.index], f"{mode} {seq} object {ids[k]} frame {vf.index}")
        probabilities = np.stack([r.probabilities() for r in vf.results])
        check_labels(vf.labels, theirs, probabilities, ids, config.seg_thr, f"{mode} {seq} {vf.index}", exact=False)


class CountingEngine:
    """Delegates to an engine, counting the calls per stage and the batch each call carried."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.calls: dict[str, list[int]] = {"template": [], "search": [], "refine": []}

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def template(self, z):
        self.calls["template"].append(len(z))
        return self.engine.template(z)

    def search(self, x, kernels):
        self.calls["search"].append(len(x))
        return self.engine.search(x, kernels)

    def refine(self, out, kernels, rows, cols):
        self.calls["refine"].append(len(rows))
        return self.engine.refine(out, kernels, rows, cols)


def test_batched_objects_equal_separate_passes(torch_engine):
    """K objects in one tracker: one engine call per stage per frame, and what K passes give."""
    config = davis_config()
    seq, n = "vos00", 4
    labels = first_labels(seq, "davis2017")
    ids = object_ids(labels)
    assert len(ids) == 3
    counting = CountingEngine(torch_engine)
    batched = list(track_sequence_vos(counting, config, frames(seq)[:n], labels, ids))
    assert counting.calls == {"template": [3], "search": [3] * (n - 1), "refine": [3] * (n - 1)}
    separate = [list(track_sequence_vos(torch_engine, config, frames(seq)[:n], labels, [i])) for i in ids]
    assert np.array_equal(batched[0].labels, labels)
    for t in range(1, n):
        alone = [passes[t].results[0] for passes in separate]
        together = batched[t].results
        for a, b in zip(alone, together):
            assert np.abs(a.center - b.center).max() <= POS_TOL_PX and np.abs(a.box - b.box).max() <= POS_TOL_PX
            assert abs(a.score - b.score) <= SCORE_TOL
        from_separate = label_map([r.mask for r in alone], ids, config.seg_thr, (labels.shape[1], labels.shape[0]))
        probabilities = np.stack([r.probabilities() for r in together])
        check_labels(batched[t].labels, from_separate, probabilities, ids, config.seg_thr, f"frame {t}")
