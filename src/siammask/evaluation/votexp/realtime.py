"""vot-toolkit 0.9's real-time runtime (`vot.tracker.RealtimeTrackerRuntime`) as a clock.

The budget is one frame interval (1 / the sequence's fps). A frame whose tracker time exceeds it
leaves a debt of (time - interval); while the debt exceeds an interval, the next frame is not given
to the tracker: it gets the tracker's last answer again and the debt shrinks by an interval. When
the debt no longer exceeds an interval the next frame is tracked and the rest of the debt is
forgiven. The first `grace` over-budget frames after each start (the initialisation counts) leave
no debt. The toolkit's rules, including those two forgivenesses, are kept as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

REALTIME_GRACE = 3  # vot2020/shortterm.yaml's realtime experiment


@dataclass
class RealtimeClock:
    grace: int
    interval: float  # seconds a frame
    _countdown: int = 0
    _debt: float = 0.0

    def started(self, seconds: float) -> None:
        """The tracker was initialised, taking `seconds`."""
        self._countdown = self.grace
        self._debt = 0.0
        self._charge(seconds)

    def skips_next(self) -> bool:
        """Whether the next frame goes by while the tracker is still busy (called once a frame)."""
        if self._debt > self.interval:
            self._debt -= self.interval
            return True
        self._debt = 0.0
        return False

    def tracked(self, seconds: float) -> None:
        """The tracker answered a frame, taking `seconds`."""
        self._charge(seconds)

    def _charge(self, seconds: float) -> None:
        if seconds > self.interval:
            if self._countdown > 0:
                self._countdown -= 1
                self._debt = 0.0
            else:
                self._debt = seconds - self.interval
