"""What one server may hold at once, and the one-line refusals when it is full.

One budget for every page: sessions open, runs not finished (each one a thread), targets tracked
at once (a target costs memory in every run), bytes in the temporary folder (uploads, unpacked
frames, previews, results). A frame's pixels are held to the shared budget of io.sources
($SIAMMASK_MAX_PIXELS), read from its header before it is decoded. A request that would go over
the budget is refused with a status and one line saying which limit and how to get under it,
never a failure somewhere later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from siammask.errors import SiamMaskError

MB = 1024 * 1024
MAX_TARGETS_PER_RUN = 32
RUNS_PER_SESSION = 2  # a page's run and the one it queued behind it
FINISHED_RUNS_KEPT = 3  # a page's older runs (and their files) go when a new one starts
MAX_JSON_BYTES = 64 * 1024  # the page's JSON bodies are a few hundred bytes


class Refused(SiamMaskError):
    """A request the page made wrongly, too late or over a limit: its HTTP status and one line."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def bounded(value: float, name: str, low: float, high: float) -> float:
    """A numeric setting checked once where it enters: finite and within [low, high] (NaN and
    infinity would turn a limit or the idle reaping off without a word)."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise SiamMaskError(f"{name} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise SiamMaskError(f"{name} must be between {low:g} and {high:g}, got {value:g}")
    return value


@dataclass(frozen=True)
class Limits:
    """The server-wide budget (every value checked finite and in range on creation)."""

    max_upload_mb: float = 500.0
    idle_timeout: float = 1800.0  # seconds
    max_sessions: int = 64
    max_runs: int = 8  # runs running or queued, over every page
    max_targets: int = MAX_TARGETS_PER_RUN  # targets of those runs together
    max_temp_mb: float | None = None  # None: 8x the upload limit (an upload, its zip's frames, results)

    def __post_init__(self) -> None:
        bounded(self.max_upload_mb, "--max-upload-mb", 0.001, 1_000_000)
        bounded(self.idle_timeout, "the idle timeout (seconds)", 0.001, 7 * 24 * 3600)  # a week at most
        bounded(self.max_sessions, "--max-sessions", 1, 100_000)
        bounded(self.max_runs, "--max-runs", 1, 1024)
        bounded(self.max_targets, "--max-targets", 1, 4096)
        if self.max_temp_mb is not None:
            bounded(self.max_temp_mb, "--max-temp-mb", 1, 100_000_000)

    @property
    def upload_bytes(self) -> int:
        return int(self.max_upload_mb * MB)

    @property
    def temp_bytes(self) -> int:
        return int((self.max_temp_mb if self.max_temp_mb is not None else 8 * self.max_upload_mb) * MB)
