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
