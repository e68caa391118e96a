"""The tracking session alone: init frame first, every sink told each frame in order, stop and
Ctrl-C end the run with what was told kept, an empty source refused (a stand-in tracker, no engine)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from siammask.errors import SiamMaskError, Terminated
from siammask.tracking.session import TrackingSession, first_frame, numbered
from siammask.tracking.tracker import init_result


class StandIn:
    """Records what the session asks of a tracker; each result is the init result of its box."""

    def __init__(self, fail_at: int | None = None, error: BaseException | None = None) -> None:
        self.boxes: list = []
        self.tracked = 0
        self.fail_at, self.error = fail_at, error

    def init(self, frame: np.ndarray, boxes: list) -> None:
        self.boxes = list(boxes)

    def track(self, frame: np.ndarray) -> list:
        self.tracked += 1
        if self.tracked == self.fail_at:
            raise self.error
        return [init_result(b) for b in self.boxes]


def frames(n: int, start: int = 0):
    return numbered((np.full((8, 8, 3), k, np.uint8) for k in range(n)), start=start)


BOXES = [[1, 1, 3, 3], [2, 2, 4, 4]]


def test_every_sink_is_told_each_frame_in_order_the_init_frame_first():
    told: list[tuple[str, int, bool, int]] = []
    sinks = [lambda i, f, r, init, name=name: told.append((name, i, init, len(r))) for name in ("a", "b")]
    session = TrackingSession(StandIn(), BOXES, sinks)
    outcome = session.run(frames(3, start=5))
    assert told == [(n, i, i == 5, 2) for i in (5, 6, 7) for n in ("a", "b")]
    assert (outcome.frames, outcome.tracked, outcome.stopped, outcome.interrupted) == (3, 2, False, None)
    assert session.start_frames == [5, 5] and outcome is session.outcome
    assert math.isnan(init_result(BOXES[0]).score)


def test_start_initialises_before_any_sink_and_run_goes_on_from_there():
    tracker, told = StandIn(), []
    pairs = frames(3)
    session = TrackingSession(tracker, BOXES)
    session.start(first_frame(pairs, "video"))
    assert tracker.boxes == BOXES and tracker.tracked == 0
    session.sinks.append(lambda i, f, r, init: told.append(i))
    assert session.run(pairs).frames == 3 and told == [0, 1, 2]


def test_proceed_false_stops_before_the_next_frame_is_tracked():
    asked = []

    def proceed() -> bool:
        asked.append(1)
        return len(asked) < 2

    tracker = StandIn()
    outcome = TrackingSession(tracker, BOXES, proceed=proceed).run(frames(5))
    assert outcome.stopped and outcome.frames == 2 and tracker.tracked == 1


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), Terminated()])
def test_an_interrupt_in_the_loop_ends_the_run_and_is_reported(stop):
    told = []
    session = TrackingSession(StandIn(fail_at=2, error=stop), BOXES, [lambda i, f, r, init: told.append(i)])
    outcome = session.run(frames(5))
    assert outcome.interrupted is stop and outcome.frames == 2 and told == [0, 1]


def test_other_errors_go_to_the_caller():
    session = TrackingSession(StandIn(fail_at=1, error=SiamMaskError("bad frame")), BOXES)
    with pytest.raises(SiamMaskError, match="bad frame"):
        session.run(frames(3))


def test_an_empty_source_is_refused_with_its_description():
    with pytest.raises(SiamMaskError, match=r"^clip\.mp4: no frames$"):
        first_frame(frames(0), "clip.mp4")


# --- keyframe sessions, with the seeded export through ONNX Runtime on synth00's frames -------------

SEQ_FRAMES = 12
KEY_TOL_PX = 0.01  # a keyframe run is a fresh tracker from the keyframe: the same arithmetic


@pytest.fixture(scope="module")
def synth_frames():
    from siammask.io.sources import read_image
    from tests.constants import DATASET

    paths = sorted((DATASET / "synth00").glob("*.jpg"))[:SEQ_FRAMES]
    return [read_image(p) for p in paths]


def _plain(engine, frames_list, box) -> list[np.ndarray]:
    """Polygons of a plain forward TrackingSession over `frames_list` (the reference loop)."""
    from siammask.tracking.tracker import MultiTracker

    got: list[np.ndarray] = []
    session = TrackingSession(MultiTracker(engine), [box], [lambda i, f, r, init: got.append(r[0].polygon)])
    session.run(numbered(frames_list))
    return got


def _keyed(engine, frames_list, keys, direction, targets=1) -> dict[int, list]:
    """frame -> the results a KeyframeSession tells its sinks, each frame told once."""
    from siammask.tracking.keyframes import plan
    from siammask.tracking.session import KeyframeSession
    from siammask.tracking.tracker import MultiTracker

    told: dict[int, list] = {}

    def sink(i, f, r, init):
        assert i not in told and (not told or i > max(told))  # once each, increasing
        told[i] = r

    p = plan(keys, direction, len(frames_list))
    outcome = KeyframeSession(lambda: MultiTracker(engine), p, [sink]).run(
        numbered(frames_list), lambda i: frames_list[i])
    assert outcome.frames == len(told) and outcome.interrupted is None
    return told


def _close(a, b) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), atol=KEY_TOL_PX)


def box_at(frame: int) -> tuple[float, ...]:
    from siammask.tracking.geometry import axis_aligned_box
    from tests.constants import DATASET

    line = (DATASET / "synth00" / "groundtruth.txt").read_text().splitlines()[frame]
    cx, cy, w, h = axis_aligned_box(np.array([float(v) for v in line.split(",")]))
    return (cx - w / 2, cy - h / 2, w, h)


def test_start_n_forward_equals_tracking_frames_n_to_end(onnx_engine, synth_frames):
    from siammask.tracking.keyframes import start_keyframes

    n = 4
    got = _keyed(onnx_engine, synth_frames, start_keyframes([box_at(n)], n), "forward")
    want = _plain(onnx_engine, synth_frames[n:], box_at(n))
    assert sorted(got) == list(range(n, SEQ_FRAMES))
    for k, polygon in enumerate(want):
        np.testing.assert_array_equal(got[n + k][0].polygon, polygon)  # the same loop: exactly


def test_start_n_backward_equals_forward_tracking_of_frames_n_to_0(onnx_engine, synth_frames):
    from siammask.tracking.keyframes import start_keyframes

    n = 7
    got = _keyed(onnx_engine, synth_frames, start_keyframes([box_at(n)], n), "backward")
    want = _plain(onnx_engine, synth_frames[n::-1], box_at(n))
    assert sorted(got) == list(range(0, n + 1))
    for k, polygon in enumerate(want):
        np.testing.assert_array_equal(got[n - k][0].polygon, polygon)


def test_after_a_keyframe_a_fresh_run_before_it_the_earlier_run(onnx_engine, synth_frames):
    from siammask.tracking.keyframes import Keyframe

    k = 6
    keys = [Keyframe(0, 0, box_at(0)), Keyframe(k, 0, box_at(k))]
    got = _keyed(onnx_engine, synth_frames, keys, "forward")
    early = _plain(onnx_engine, synth_frames[:k], box_at(0))
    fresh = _plain(onnx_engine, synth_frames[k:], box_at(k))
    for f in range(SEQ_FRAMES):
        _close(got[f][0].polygon, early[f] if f < k else fresh[f - k])
    assert got[k][0].present and math.isnan(got[k][0].score)  # the keyframe's own region


def test_both_directions_the_nearer_keyframe_gives_each_frame(onnx_engine, synth_frames):
    from siammask.tracking.keyframes import Keyframe

    a, b = 2, 9
    keys = [Keyframe(a, 0, box_at(a)), Keyframe(b, 0, box_at(b))]
    got = _keyed(onnx_engine, synth_frames, keys, "both")
    forward_a = _plain(onnx_engine, synth_frames[a:], box_at(a))
    backward_a = _plain(onnx_engine, synth_frames[a::-1], box_at(a))
    forward_b = _plain(onnx_engine, synth_frames[b:], box_at(b))
    backward_b = _plain(onnx_engine, synth_frames[b::-1], box_at(b))
    for f in range(SEQ_FRAMES):
        if f <= a:
            want = backward_a[a - f]
        elif f - a <= b - f:  # nearer keyframe, ties forward (5 - 2 = 3 < 4: frame 5 from 2)
            want = forward_a[f - a]
        elif f <= b:
            want = backward_b[b - f]
        else:
            want = forward_b[f - b]
        _close(got[f][0].polygon, want)


def test_two_targets_joining_on_different_frames_track_as_each_alone(onnx_engine, synth_frames):
    from siammask.tracking.keyframes import Keyframe

    keys = [Keyframe(1, 0, box_at(1)), Keyframe(8, 0, None), Keyframe(4, 1, box_at(4))]
    got = _keyed(onnx_engine, synth_frames, keys, "forward", targets=2)
    zero = _plain(onnx_engine, synth_frames[1:8], box_at(1))
    one = _plain(onnx_engine, synth_frames[4:], box_at(4))
    assert sorted(got) == list(range(1, SEQ_FRAMES))
    for f in range(1, SEQ_FRAMES):
        first, second = got[f]
        if f < 8:
            _close(first.polygon, zero[f - 1])
        else:
            assert not first.present and first.mask is None
        if f < 4:
            assert not second.present
        else:
            _close(second.polygon, one[f - 4])


def test_backward_without_frames_by_index_is_refused():
    from siammask.tracking.keyframes import plan, start_keyframes
    from siammask.tracking.session import KeyframeSession

    p = plan(start_keyframes(BOXES, 2), "backward")
    with pytest.raises(SiamMaskError, match="backward needs frames by index"):
        KeyframeSession(StandIn, p).run(frames(3))
