"""A tracking run started from the page: the writers of `siammask track`, frame by frame, in a thread.

The files are written by the same classes `siammask track` uses (ResultWriter, LabelMapWriter,
OverlayWriter over draw_overlay), fed the same way, so a download equals what track writes for the
same video and boxes. Each tracked frame is also kept as a JPEG for the page's live view (the
overlay video's frame: an absent target drawn nowhere, named "absent" in the corner), and the
tracker's own presence judgement of each target is the job's `absent` list. A run may be
long-term (the settings' long_term turned on or off for this run only).
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import threading
import zipfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from siammask.engine_contract import Engine
from siammask.errors import SiamMaskError
from siammask.serve.videos import Video
from siammask.tracking.config import TrackerConfig
from siammask.tracking.session import TrackingSession, first_frame, numbered
from siammask.tracking.tracker import MultiTracker

log = logging.getLogger("siammask.serve")


class Job:
    """One run over one video with K boxes; `start()` runs it in a thread once the session's
    previous job has finished (the session lock), `pause`/`resume`/`stop` steer it."""

    def __init__(
        self, job_id: str, folder: Path, video: Video, boxes: Sequence[Sequence[float]], engine: Engine,
        config: TrackerConfig, session_lock: threading.Lock, long_term: bool | None = None,
    ) -> None:
        """`long_term` None: the settings' own mode; True or False: that mode for this run."""
        self.id = job_id
        self.folder = folder
        self.video = video
        self.boxes = [list(map(float, b)) for b in boxes]
        self.engine = engine
        config = config or TrackerConfig()
        if long_term is not None and long_term != config.long_term:
            config = dataclasses.replace(config, long_term=long_term)
        self.config = config
        self.state = "queued"  # queued, running, paused, done, stopped, failed
        self.message = "waiting for this page's previous run to finish"
        self.frames_done = 0
        self.total = video.frames
        self.track_seconds = 0.0
        self.absent = [False] * len(self.boxes)  # the newest frame's: the tracker's presence judgement
        self.files: dict[str, Path] = {}
        self.seq = 0  # bumps with every new live-view frame
        self._jpeg = b""
        self._lock = threading.Lock()
        self._session_lock = session_lock
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._thread = threading.Thread(target=self._run, name=f"siammask-job-{job_id[:6]}", daemon=True)
        self.on_finish: Callable[[Job], None] | None = None  # told once the files are written (or not)

    # --- steering -----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def pause(self) -> None:
        if self.state == "running":
            self._running.clear()
            self.state = "paused"

    def resume(self) -> None:
        if self.state == "paused":
            self.state = "running"
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "stopped", "failed")

    # --- what the page reads ------------------------------------------------------------------
    def frame(self) -> tuple[int, bytes]:
        with self._lock:
            return self.seq, self._jpeg

    def snapshot(self) -> dict[str, Any]:
        fps = (self.frames_done - 1) / self.track_seconds if self.track_seconds > 0 else None
        left = None
        if fps and self.total is not None and self.state == "running":  # paused: nothing counts down
            left = max(0, self.total - self.frames_done) / fps
        return {
            "id": self.id, "state": self.state, "message": self.message, "frames": self.frames_done,
            "total": self.total, "fps": fps, "seconds_left": left, "absent": list(self.absent),
            "long_term": self.config.long_term, "files": sorted(self.files), "seq": self.seq,
        }

    # --- the run ------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            with self._session_lock:
                if self._stop.is_set():
                    self.state, self.message = "stopped", "stopped before it started"
                    return
                self.state, self.message = "running", "tracking"
                self._track_saying_why()
        finally:
            if self.on_finish is not None:
                self.on_finish(self)

    def _track_saying_why(self) -> None:
        """Run; whatever ends it is one line in the job's message and one in the log."""
        try:
            self._track()
        except SiamMaskError as exc:
            self.state, self.message = "failed", f"failed: {exc}"
            log.warning("job %s failed: %s", self.id[:6], exc)
        except OSError as exc:  # the server's disk, not the user's input
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
            self.state = "failed"
            self.message = ("failed: the server's disk is full (nothing kept)" if full
                            else f"failed: the server could not write the results ({exc.strerror or exc})")
            log.error("job %s failed: %s", self.id[:6], exc)
        except MemoryError:
            self.state, self.message = "failed", "failed: the server ran out of memory (fewer targets?)"
            log.error("job %s failed: out of memory with %d targets", self.id[:6], len(self.boxes))
        except Exception as exc:  # a bug, not bad input: one line here, never a traceback on the page
            self.state, self.message = "failed", "failed: internal error (see the server log)"
            log.error("job %s failed: %s: %s", self.id[:6], type(exc).__name__, exc)

    def _track(self) -> None:
        from siammask.io.mask_output import LabelMapWriter
        from siammask.io.outputs import ResultWriter
        from siammask.io.sources import open_source
        from siammask.io.visualize import OverlayWriter, draw_overlay

        targets = len(self.boxes)
        with ExitStack() as stack:
            source = stack.enter_context(open_source(self.video.path))
            frames = numbered(source)
            first = first_frame(frames, self.video.name)
            image_size = (int(first[1].shape[1]), int(first[1].shape[0]))
            session = TrackingSession(MultiTracker(self.engine, self.config), self.boxes, proceed=self._proceed)
            session.start(first)
            writers = [
                stack.enter_context(ResultWriter(self.folder / name, targets, self.video.name, image_size, source.fps))
                for name in ("results.json", "results.csv", "results.txt")
            ]
            writers.append(stack.enter_context(LabelMapWriter(self.folder / "masks", image_size)))
            overlay = stack.enter_context(OverlayWriter(self.folder / "overlay.mp4", source.fps))

            def emit(index: int, frame: np.ndarray, results: list, init: bool) -> None:
                for writer in writers:
                    writer.write(index, results, init=init)
                drawn = draw_overlay(frame, results)
                overlay.write(drawn)
                self.absent = [not (init or r.present) for r in results]
                self._publish(drawn)
                self.track_seconds = session.outcome.track_seconds
                self.frames_done = index + 1

            session.sinks.append(emit)
            session.run(frames)
            written = [f for w in writers for f in w.close()] + [overlay.close()]
        stopped = self._stop.is_set()
        self._collect(written)
        fps = self.snapshot()["fps"]
        rate = f", {fps:.1f} frames/s" if fps else ""
        self.message = (f"stopped after {self.frames_done} frames{rate} (files kept)" if stopped
                        else f"done: {self.frames_done} frames{rate}")
        self.state = "stopped" if stopped else "done"

    def _proceed(self) -> bool:
        """Asked before each tracked frame: wait while paused; False once stopped."""
        self._running.wait()
        return not self._stop.is_set()

    def _publish(self, image: np.ndarray) -> None:
        from siammask.serve.videos import preview_jpeg

        data = preview_jpeg(image)  # the live view is bounded as the first frame's preview is
        with self._lock:
            self._jpeg = data
            self.seq += 1

    def _collect(self, written: list[Path]) -> None:
        """The downloads: each result file as written, the label maps as one zip."""
        files: dict[str, Path] = {}
        for path in written:
            if path.is_dir():  # the label maps
                archive = self.folder / "masks.zip"
                with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:  # PNGs are compressed already
                    for png in sorted(path.glob("*.png")):
                        zf.write(png, png.name)
                files[archive.name] = archive
            else:
                files[path.name] = path
        self.files = files
