"""One tracking run: numbered frames in, the tracker's results out to the callers' sinks.

`siammask track`, the page's jobs and the demo's overlay all run this loop; each brings its own
frame source and sinks (result files, an overlay video, a progress bar, a live view). The session
knows neither files nor sources, so it sits on the tracking floor.

The frames come as (frame_index, frame) pairs, numbered as the source numbers them. `TrackingSession`
runs every target forward from one frame; `KeyframeSession` runs a keyframe plan
(tracking/keyframes.py: start frames, forward, backward or both, re-initialisations), telling the
same sinks each frame once, in increasing order, with each target's result from the run the plan
gives it (a keyframe's frame carries its region, a frame no run covers the target absent).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from siammask.errors import SiamMaskError
from siammask.tracking.keyframes import Plan, Run
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
    steps: int | None = None  # a keyframe session's tracker calls (frames tracked, both passes)

    @property
    def tracked(self) -> int:
        """Frames the tracker ran on (the init frame is given, not tracked)."""
        return self.steps if self.steps is not None else max(0, self.frames - 1)


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


def absent_result() -> TrackResult:
    """A target no run covers on a frame (before its first keyframe, after its end): absent, no region."""
    nowhere = np.full((4, 2), np.nan)
    return TrackResult(nowhere, np.full(4, np.nan), float("nan"), None, 0, False, present=False)


class _Pass:
    """The runs of one direction through one MultiTracker: targets join on their keyframe's frame
    (one batched template call per frame) and leave after their last frame, so a run's result is a
    fresh start from its keyframe whatever else is tracked beside it."""

    def __init__(self, tracker: MultiTracker, runs: list[Run]) -> None:
        self.tracker, self.runs = tracker, runs
        self.active: list[Run] = []
        self.seconds = 0.0

    def frames(self, descending: bool) -> list[int]:
        """Every frame a run starts on or covers, in the order the pass goes."""
        wanted: set[int] = set()
        for run in self.runs:
            assert run.last is not None
            low, high = (run.last, run.keyframe) if descending else (run.keyframe, run.last)
            wanted.update(range(low, high + 1))
        return sorted(wanted, reverse=descending)

    def busy(self, index: int) -> bool:
        return any(r.covers(index) for r in self.active) or any(r.keyframe == index for r in self.runs)

    def step(self, index: int, frame: np.ndarray) -> dict[int, TrackResult]:
        """Track the runs that cover `index`, then start those whose keyframe it is."""
        keep = [k for k, run in enumerate(self.active) if run.covers(index)]
        if len(keep) != len(self.active):
            self.tracker.targets = [self.tracker.targets[k] for k in keep]
            self.active = [self.active[k] for k in keep]
        results = {}
        if self.active:
            start = time.perf_counter()
            tracked = self.tracker.track(frame)
            self.seconds += time.perf_counter() - start  # tracking only, as TrackingSession times it
            results = {run.target: r for run, r in zip(self.active, tracked)}
        starting = [run for run in self.runs if run.keyframe == index]
        if starting:
            self.tracker.add(frame, [run.region for run in starting])
            self.active += starting
        return results


@dataclass
class KeyframeSession:
    """Runs a keyframe plan: the backward runs first (frames in decreasing order, by index through
    `frame_at`; their results held), then the forward runs while every frame of the plan's span is
    told to the sinks in increasing order. `tracker` makes a fresh MultiTracker per direction.

    With only forward runs the frames are streamed (a camera works; nothing is held), and a plan of
    all targets on one frame tracks exactly as `TrackingSession` does. `proceed` is asked before each
    tracked frame; a stop or Ctrl-C during the backward runs ends the run with nothing told.
    """

    tracker: Callable[[], MultiTracker]
    plan: Plan
    sinks: list[FrameSink] = field(default_factory=list)
    proceed: Callable[[], bool] | None = None
    outcome: SessionOutcome = field(default_factory=SessionOutcome, init=False)

    def run(self, frames: Iterable[Frame], frame_at: Callable[[int], np.ndarray] | None = None) -> SessionOutcome:
        """Tell the sinks every frame of the plan; `frames` and `frame_at` as `told` takes them."""
        try:
            for index, frame, results, init in self.told(frames, frame_at):
                for sink in self.sinks:
                    sink(index, frame, results, init)
                self.outcome.frames += 1
        except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM: keep what was told, whole
            self.outcome.interrupted = stop
        return self.outcome

    def told(self, frames: Iterable[Frame], frame_at: Callable[[int], np.ndarray] | None = None,
             ) -> Iterator[tuple[int, np.ndarray, list[TrackResult], bool]]:
        """(index, frame, one result per target, whether every target is on a keyframe) for each frame
        of the plan's span in increasing order, as they are ready: forward runs stream. `frames`: the
        source's numbered frames from (at most) the plan's first frame on; `frame_at(index)`: any
        frame by index, needed when the plan has backward runs."""
        self.outcome = SessionOutcome(steps=0)
        held: dict[tuple[int, int], TrackResult] = {}
        if self.plan.backward:
            if frame_at is None:
                raise SiamMaskError("tracking backward needs frames by index (a video file or an image folder)")
            if not self._backward(frame_at, held):
                return
        yield from self._forward(frames, held)

    def _tracked(self, runner: _Pass, index: int, frame: np.ndarray) -> dict[int, TrackResult] | None:
        """One tracked step, timed; None when `proceed` says stop."""
        if runner.active and self.proceed is not None and not self.proceed():
            self.outcome.stopped = True
            return None
        before = runner.seconds
        results = runner.step(index, frame)
        self.outcome.track_seconds += runner.seconds - before
        self.outcome.steps = (self.outcome.steps or 0) + (1 if results else 0)
        return results

    def _backward(self, frame_at: Callable[[int], np.ndarray], held: dict[tuple[int, int], TrackResult]) -> bool:
        runner = _Pass(self.tracker(), self.plan.backward)
        for index in runner.frames(descending=True):
            results = self._tracked(runner, index, frame_at(index))
            if results is None:
                return False
            held.update({(index, target): r for target, r in results.items()})
        return True

    def _forward(self, frames: Iterable[Frame], held: dict[tuple[int, int], TrackResult],
                 ) -> Iterator[tuple[int, np.ndarray, list[TrackResult], bool]]:
        runner = _Pass(self.tracker(), self.plan.forward)
        first, last = self.plan.first_frame, self.plan.last_frame
        for index, frame in frames:
            if index < first:
                continue
            if last is not None and index > last:
                break
            results: dict[int, TrackResult] = {}
            if runner.busy(index):
                tracked = self._tracked(runner, index, frame)
                if tracked is None:
                    return
                results = tracked
            yield (index, frame, *self._combined(index, results, held))

    def _combined(self, index: int, results: dict[int, TrackResult], held: dict[tuple[int, int], TrackResult],
                  ) -> tuple[list[TrackResult], bool]:
        combined = []
        for target in range(self.plan.targets):
            key = self.plan.keyframe_at(index, target)
            if key is not None:
                combined.append(init_result(key.region) if key.region is not None else absent_result())
            else:
                combined.append(results.get(target) or held.pop((index, target), None) or absent_result())
        return combined, all(self.plan.is_keyframe(index, t) for t in range(self.plan.targets))
