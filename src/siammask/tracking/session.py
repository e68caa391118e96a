"""One tracking run: numbered frames in, the tracker's results out to the callers' sinks.

`siammask track`, the page's jobs and the demo's overlay all run this loop; each brings its own
frame source and sinks (result files, an overlay video, a progress bar, a live view). The session
knows neither files nor sources, so it sits on the tracking floor.

The frames come as (frame_index, frame) pairs and each target keeps the index it started on, so
later start frames, backward runs and keyframes can join without changing the sinks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from siammask.errors import SiamMaskError
from siammask.tracking.tracker import MultiTracker, TrackResult, init_result

Frame = tuple[int, np.ndarray]  # (frame_index, BGR image)
# told every frame: (frame_index, frame, one result per target, whether it is the init frame)
FrameSink = Callable[[int, np.ndarray, list[TrackResult], bool], None]


def numbered(frames: Iterable[np.ndarray], start: int = 0) -> Iterator[Frame]:
    """A plain frame iterable as (frame_index, frame) pairs."""
    return enumerate(frames, start=start)


def first_frame(frames: Iterator[Frame], description: str) -> Frame:
    """The next (index, frame) pair, or the error every tracking command gives for an empty source."""
    first = next(frames, None)
    if first is None:
        raise SiamMaskError(f"{description}: no frames")
    return first


@dataclass
class SessionOutcome:
    """How a run ended: frames told to the sinks (the init frame included) and why it stopped."""

    frames: int = 0
    track_seconds: float = 0.0  # in tracker.track only: what a frame rate is computed from
    interrupted: KeyboardInterrupt | None = None  # Ctrl-C or SIGTERM (errors.Terminated) in the loop
    stopped: bool = False  # the caller's `proceed` said stop

    @property
    def tracked(self) -> int:
        """Frames the tracker ran on (the init frame is given, not tracked)."""
        return max(0, self.frames - 1)


@dataclass
class TrackingSession:
    """Runs `tracker` from `boxes` over numbered frames once, telling every sink each frame in order.

    `proceed`, when given, is asked before each tracked frame (after it was read); False ends the
    run as a stop (the page's stop button; it may also block while the page pauses).
    """

    tracker: MultiTracker
    boxes: Sequence[Sequence[float]]
    sinks: list[FrameSink] = field(default_factory=list)
    proceed: Callable[[], bool] | None = None
    start_frames: list[int] = field(default_factory=list)  # per target: the frame it was initialised on
    outcome: SessionOutcome = field(default_factory=SessionOutcome, init=False)  # live while running
    _first: Frame | None = field(default=None, init=False, repr=False)

    def start(self, first: Frame) -> None:
        """Initialise every target on `first` (a bad box fails here, before any sink is opened)."""
        index, frame = first
        self.tracker.init(frame, self.boxes)
        self.start_frames = [index] * len(self.boxes)
        self._first = first

    def run(self, frames: Iterable[Frame]) -> SessionOutcome:
        """Tell the sinks the init frame (starting on the first pair when `start` was not called),
        then track the rest. Ctrl-C or SIGTERM in the loop ends the run, not the program: the
        sinks keep what they were told, and the outcome says why it ended. `outcome` is kept up to
        date frame by frame, for a caller that reports while the run goes on."""
        frames = iter(frames)
        if self._first is None:
            self.start(first_frame(frames, "the source"))
        assert self._first is not None
        index, frame = self._first
        self.outcome = outcome = SessionOutcome()
        self._tell(index, frame, [init_result(b) for b in self.boxes], True)
        outcome.frames = 1
        try:
            for index, frame in frames:
                if self.proceed is not None and not self.proceed():
                    outcome.stopped = True
                    break
                start = time.perf_counter()
                results = self.tracker.track(frame)
                outcome.track_seconds += time.perf_counter() - start
                self._tell(index, frame, results, False)
                outcome.frames += 1
        except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM: stop and keep what was tracked, whole
            outcome.interrupted = stop
        return outcome

    def _tell(self, index: int, frame: np.ndarray, results: list[TrackResult], init: bool) -> None:
        for sink in self.sinks:
            sink(index, frame, results, init)
