"""The bench's measuring tools, shared by the parent and every worker (ours and the reference's).

Kept free of the rest of the bench so that any of its modules may use it without a cycle, and
free of torch so that the ONNX Runtime worker can prove it never imports torch.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from siammask.engine_contract import Engine, EngineProxy, SearchResult, TemplateKernels


def summarize(seconds: Sequence[float]) -> dict[str, float | int] | None:
    """Median, mean and minimum in milliseconds; the median is what the table shows, since one
    stray scheduling hiccup on a shared machine moves the mean but not the median."""
    if not seconds:
        return None
    ms = [s * 1000.0 for s in seconds]
    return {"median": statistics.median(ms), "mean": statistics.fmean(ms), "min": min(ms), "n": len(ms)}


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB.

    On Linux it is /proc/self/status VmHWM, the high-water mark of this process image: ru_maxrss
    is kept across execve, so a worker forked from a parent holding torch and an export would
    report the parent's peak instead of its own. Elsewhere ru_maxrss (KiB, bytes on macOS).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def load_average() -> float | None:
    """The 1-minute load average: recorded beside the timings, since on a shared machine other
    processes' load inflates every number (None where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def progress(iterable: Iterable[Any], desc: str, total: int | None = None) -> Iterable[Any]:
    """A tqdm bar on stderr when it is a terminal; plain iteration otherwise (logs stay clean)."""
    try:
        from tqdm import tqdm
    except ModuleNotFoundError:  # tqdm is a dependency, but a bar is never worth a crash
        return iterable
    return tqdm(iterable, desc=desc, total=total, leave=False, disable=None, file=sys.stderr)


def time_calls(fn: Callable[[], Any], repeats: int, warmup: int, desc: str) -> list[float]:
    """Seconds of each of `repeats` calls of `fn`, after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in progress(range(repeats), desc):
        tic = time.perf_counter()
        fn()
        out.append(time.perf_counter() - tic)
    return out


def timing_figures(
    template_s: Sequence[float], search_s: Sequence[float], refine_s: Sequence[float], host_s: Sequence[float],
    frame_s: Sequence[float], init_s: float, frame_shape: tuple[int, ...], polygons: list[list[float]],
) -> dict[str, Any]:
    """One backend's figures, in the layout every bench row has (ours and the reference's alike).

    End-to-end FPS is tracked frames / (init + all track calls), as the reference's track_vot
    computes its speed."""
    return {
        "template_ms": summarize(template_s),
        "search_ms": summarize(search_s),
        "refine_ms": summarize(refine_s),
        "decode_mask_ms": summarize(host_s),
        "frame_ms": summarize(frame_s),
        "init_ms": init_s * 1000.0,
        "fps": len(frame_s) / (init_s + sum(frame_s)),
        "tracked_frames": len(frame_s),
        "frame_size": [int(frame_shape[1]), int(frame_shape[0])],
        "polygons": polygons,
    }


def box_polygon(box: Sequence[float]) -> list[float]:
    """x,y,w,h -> the 8 corner values; polygons pass through. Both our tracker and the reference's
    get_axis_aligned_bbox then start from the very same region."""
    values = [float(v) for v in box]
    if len(values) == 4:
        x, y, w, h = values
        return [x, y, x + w, y, x + w, y + h, x, y + h]
    return values


class TimingEngine(EngineProxy):
    """Wraps an engine and accumulates the time spent in each call.

    The tracker sees an ordinary engine; the bench subtracts `engine_seconds` from the time of
    `Tracker.track` to get the tracker's own per-frame work. The last inputs are kept so that the
    latency loop can replay exactly what the tracker fed the network.
    """

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.seconds = {"template": 0.0, "search": 0.0, "refine": 0.0}
        self.last: dict[str, tuple[Any, ...]] = {}

    @property
    def engine_seconds(self) -> float:
        return sum(self.seconds.values())

    def template(self, z: np.ndarray) -> TemplateKernels:
        tic = time.perf_counter()
        out = super().template(z)
        self.seconds["template"] += time.perf_counter() - tic
        self.last["template"] = (z,)
        return out

    def search(self, x: np.ndarray, kernels: TemplateKernels) -> SearchResult:
        tic = time.perf_counter()
        out = super().search(x, kernels)
        self.seconds["search"] += time.perf_counter() - tic
        self.last["search"] = (x, kernels)
        return out

    def refine(
        self, search: SearchResult, kernels: TemplateKernels, rows: np.ndarray, cols: np.ndarray
    ) -> np.ndarray:
        tic = time.perf_counter()
        out = super().refine(search, kernels, rows, cols)
        self.seconds["refine"] += time.perf_counter() - tic
        self.last["refine"] = (search, kernels, rows, cols)
        return out
