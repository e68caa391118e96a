"""The tracker against the reference's per-frame records (open loop) and its own contracts.

Open loop: every tracked frame starts from the record's `pos_in`/`sz_in`; `pos_out`/`sz_out`
must agree within 1e-3 px and the polygon within POLYGON_TOL_PX on >= 99% of frames, and the
overlap with ground truth equal the record's within 1e-6 on those frames.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from siammask.engines.torch_engine import TorchEngine
from siammask.errors import SiamMaskError
from siammask.evaluation.vot.region import region_overlap
from siammask.tracking.tracker import MultiTracker, Tracker
from tests.constants import POLYGON_TOL_PX, golden_records, sequence_frames, sequence_groundtruth

STATE_TOL_PX = 1e-3
OVERLAP_TOL = 1e-6


def open_loop(engine, records: dict) -> tuple[int, list[str]]:
    """Replay each tracked frame from its recorded input state; list the frames that disagree."""
    frames, problems = 0, []
    for seq, recs in records.items():
        paths = sequence_frames(seq)
        gt = sequence_groundtruth(seq)
        tracker = Tracker(engine)
        for rec in recs:
            f = rec["frame"]
            if rec["event"] == "init":
                cx, cy, w, h = rec["init_bbox_cxcywh"]
                tracker.init(cv2.imread(paths[f]), gt[f])
                assert np.allclose(tracker.state.pos, [cx, cy], atol=1e-9)
                assert np.allclose(tracker.state.size, [w, h], atol=1e-9)
            elif rec["event"] in ("track", "lost"):
                tracker.state.pos = np.array(rec["pos_in"])
                tracker.state.size = np.array(rec["sz_in"])
                image = cv2.imread(paths[f])
                result = tracker.track(image)
                frames += 1
                state_err = max(
                    np.abs(tracker.state.pos - rec["pos_out"]).max(),
                    np.abs(tracker.state.size - rec["sz_out"]).max(),
                )
                poly_err = np.abs(result.polygon.ravel() - np.array(rec["polygon"])).max()
                overlap = region_overlap(gt[f], result.polygon.ravel(), (image.shape[1], image.shape[0]))
                if (state_err > STATE_TOL_PX or poly_err > POLYGON_TOL_PX
                        or abs(overlap - rec["overlap"]) > OVERLAP_TOL):
                    problems.append(f"{seq}:{f} state {state_err:.2e} polygon {poly_err:.3f}")
    return frames, problems


@pytest.mark.parametrize("records", ["tracking_records.json", "sparse_masks/tracking_records.json"])
def test_open_loop_matches_reference(request, records):
    model = request.getfixturevalue("sparse_model" if "sparse" in records else "seeded_model")
    frames, problems = open_loop(TorchEngine(model), golden_records(records))
    assert frames > 0
    assert len(problems) <= 0.01 * frames, problems


def _synthetic_frame(shift: int = 0, size=(240, 320)) -> np.ndarray:
    rng = np.random.default_rng(3)
    image = cv2.GaussianBlur(rng.integers(0, 255, (*size, 3), dtype=np.uint8), (0, 0), 4)
    image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX)
    cv2.rectangle(image, (120 + shift, 90), (170 + shift, 140), (20, 200, 240), -1)
    return image


def test_two_trackers_sharing_an_engine_do_not_disturb_each_other(torch_engine):
    frames = [_synthetic_frame(s) for s in (0, 3, 6, 9)]
    alone = Tracker(torch_engine)
    alone.init(frames[0], [120, 90, 50, 50])
    expected = [alone.track(f).polygon for f in frames[1:]]
    a, b = Tracker(torch_engine), Tracker(torch_engine)
    a.init(frames[0], [120, 90, 50, 50])
    b.init(frames[0], [20, 20, 40, 30])  # another target on the same engine, interleaved
    for f, want in zip(frames[1:], expected):
        b.track(f)
        np.testing.assert_array_equal(a.track(f).polygon, want)


@pytest.mark.parametrize("engine_name", ["torch_engine", "onnx_engine"])
def test_multi_tracker_equals_independent_trackers(request, engine_name):
    """K=3 targets in one batched call per graph equal three independent trackers."""
    engine = request.getfixturevalue(engine_name)
    frames = [_synthetic_frame(s) for s in (0, 4, 8)]
    boxes = [[120, 90, 50, 50], [20, 20, 40, 30], [200, 150, 60, 40]]
    multi = MultiTracker(engine)
    multi.init(frames[0], boxes)
    singles = []
    for box in boxes:
        t = Tracker(engine)
        t.init(frames[0], box)
        singles.append(t)
    for f in frames[1:]:
        batch = multi.track(f)
        for single, got in zip(singles, batch):
            want = single.track(f)
            np.testing.assert_allclose(got.polygon, want.polygon, atol=1e-3)
            np.testing.assert_allclose(got.box, want.box, atol=1e-4)


def test_grayscale_and_bgra_frames_are_converted(torch_engine):
    frame = _synthetic_frame()
    tracker = Tracker(torch_engine)
    tracker.init(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), [120, 90, 50, 50])
    result = tracker.track(cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA))
    assert result.polygon.shape == (4, 2)
    assert result.binary_mask().shape == frame.shape[:2]


def test_frame_size_change_is_an_error(torch_engine):
    tracker = Tracker(torch_engine)
    tracker.init(_synthetic_frame(), [120, 90, 50, 50])
    with pytest.raises(SiamMaskError, match="differs from the first frame"):
        tracker.track(_synthetic_frame(size=(200, 300)))


@pytest.mark.parametrize("box", [[10, 10, 0, 5], [10, 10, -3, 5], [1, 2, 3], [np.nan, 1, 2, 3]])
def test_bad_boxes_are_refused(torch_engine, box):
    with pytest.raises(SiamMaskError):
        Tracker(torch_engine).init(_synthetic_frame(), box)


def test_sixteen_bit_frame_is_refused(torch_engine):
    with pytest.raises(SiamMaskError, match="8-bit"):
        Tracker(torch_engine).init(np.zeros((50, 50, 3), np.uint16), [10, 10, 20, 20])
