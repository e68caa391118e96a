"""A tracking run started from the page, in a thread: a keyframe plan's runs through the same
KeyframeSession `siammask track` runs, then the downloads written by the classes track uses.

A job tracks only the runs its Work names (the whole plan for a first run, the runs a correction
changed for a re-track, timeline.py) and merges them with the results kept; the downloads are then
written from every frame of the timeline (ResultWriter, LabelMapWriter, OverlayWriter over
draw_overlay, the CVAT writer, the keyframes as CSV), fed as track feeds them, so a download equals
what track writes for the same video and keyframes. Each tracked frame is also kept as a JPEG for
the page's live view (an absent target drawn nowhere, named "absent" in the corner), and the
tracker's presence judgement of each target is the job's `absent` list. A run may be long-term
(the settings' long_term turned on or off for this run only).
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
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from siammask.engine_contract import Engine
from siammask.errors import SiamMaskError
from siammask.serve.timeline import Results, Timeline, Work, merged, work_for
from siammask.serve.videos import Video
from siammask.tracking.config import TrackerConfig
from siammask.tracking.session import KeyframeSession
from siammask.tracking.tracker import MultiTracker

if TYPE_CHECKING:
    from siammask.serve.frames import FrameReader
    from siammask.tracking.keyframes import Keyframe

log = logging.getLogger("siammask.serve")


class Job:
    """One run over one video with K boxes; `start()` runs it in a thread once the session's
    previous job has finished (the session lock), `pause`/`resume`/`stop` steer it."""

    def __init__(
        self, job_id: str, folder: Path, video: Video, boxes: Sequence[Sequence[float]], engine: Engine,
        config: TrackerConfig, session_lock: threading.Lock, long_term: bool | None = None,
        work: Work | None = None, reader: FrameReader | None = None, retrack: bool = False,
    ) -> None:
        """`long_term` None: the settings' own mode; True or False: that mode for this run. `work`:
        the keyframe plan and the runs to track (None: `boxes` on frame 0, forward); `retrack`: a
        correction (stopped, it changes nothing)."""
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
        self.work, self.reader, self.retrack = work, reader, retrack
        self.prepare: Callable[[FrameReader], None] | None = None  # decodes the frames for backward runs
        self.commit: Callable[[Timeline], None] | None = None  # hands the finished timeline to the page
        self.timeline: Timeline | None = None

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
            "retrack": self.retrack,
            "retracked": self.work.retracked if self.work is not None else None,
            "of": self.work.of if self.work is not None else self.video.frames,
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
        from siammask.serve.frames import FrameReader
        from siammask.tracking.keyframes import start_keyframes

        work = self.work or work_for(start_keyframes(self.boxes), "forward", self.video.frames, None)
        reader = self.reader or FrameReader(self.video)
        runs = work.runs
        if runs is not None and runs.backward and not reader.indexed and self.prepare is not None:
            self.message = "reading the video's frames once (to track backward)"
            self.prepare(reader)
        self.message = "tracking"
        told = self._tracked(work, reader) if runs is not None else {}
        stopped = self._stop.is_set()
        if stopped and self.retrack:  # a correction half done is not applied: the previous results stand
            self.message = f"stopped after {self.frames_done} frames: the correction was not applied"
            self.state = "stopped"
            return
        length = reader.count if reader.count is not None else self.video.frames
        if runs is not None and not runs.backward and runs.last_frame is None and told:
            length = max(f for f, _ in told) + 1  # the stream's end: what the video really holds
        timeline = Timeline(work.plan, work.direction, length, merged(work, told), work.complete and not stopped,
                            work.history, self.config.long_term)
        if self.commit is not None:
            self.commit(timeline)
        self.timeline = timeline
        self._collect(self._write(timeline, reader))
        fps = self.snapshot()["fps"]
        rate = f", {fps:.1f} frames/s" if fps else ""
        done = (f"re-tracked {work.retracked} of {work.of} frames" if work.of is not None
                else f"re-tracked {work.retracked} frames") if self.retrack else f"done: {self.frames_done} frames"
        self.message = (f"stopped after {self.frames_done} frames{rate} (files kept)" if stopped else f"{done}{rate}")
        self.state = "stopped" if stopped else "done"

    def _tracked(self, work: Work, reader: FrameReader) -> Results:
        """Track `work`'s runs through the KeyframeSession `siammask track` runs; each run's results."""
        from siammask.io.visualize import draw_overlay
        from siammask.tracking.keyframes import Run

        runs = work.runs
        assert runs is not None
        told: Results = {}
        session = KeyframeSession(lambda: MultiTracker(self.engine, self.config), runs, proceed=self._proceed)
        last = runs.last_frame if runs.last_frame is not None else work.of
        self.total = last - runs.first_frame + 1 if last is not None else None
        with reader.numbered(runs.first_frame) as frames:
            for index, frame, results, _ in session.told(frames, reader.at if runs.backward else None):
                shown = []
                for target, result in enumerate(results):
                    if isinstance(runs.source(index, target), Run):
                        told[(index, target)] = result
                    shown.append(told.get((index, target)) or work.base.get((index, target)) or result)
                self.absent = [not r.present for r in shown]
                self._publish(draw_overlay(frame, shown))
                self.track_seconds = session.outcome.track_seconds
                self.frames_done += 1
        return told

    def _write(self, timeline: Timeline, reader: FrameReader) -> list[Path]:
        """The downloads, from every frame of the timeline: what `siammask track` writes for the same
        keyframes (results, label maps, overlay, CVAT XML) and the keyframes as a CSV."""
        from siammask.io.annotations.formats import open_annotation_writer
        from siammask.io.mask_output import LabelMapWriter
        from siammask.io.outputs import ResultWriter
        from siammask.io.visualize import OverlayWriter, draw_overlay

        video, targets = self.video, timeline.plan.targets
        size = (video.width, video.height)
        first, last = timeline.span()
        with ExitStack() as stack:
            writers = [stack.enter_context(ResultWriter(self.folder / name, targets, video.name, size, video.fps))
                       for name in ("results.json", "results.csv", "results.txt")]
            writers.append(stack.enter_context(LabelMapWriter(self.folder / "masks", size)))
            named = _Named(video.name, timeline.length)
            writers.append(stack.enter_context(
                open_annotation_writer("cvat", self.folder / "annotations.xml", timeline.plan, named, size)))
            overlay = stack.enter_context(OverlayWriter(self.folder / "overlay.mp4", video.fps))
            with reader.numbered(first) as frames:
                for index, frame in frames:
                    if index > last:
                        break
                    results, init = timeline.frame(index)
                    for writer in writers:
                        writer.write(index, results, init=init)
                    overlay.write(draw_overlay(frame, results))
            written = [f for w in writers for f in w.close()] + [overlay.close()]
        return written + [write_keyframes(self.folder / "keyframes.csv", timeline.keyframes)]

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


class _Named(NamedTuple):
    """What the CVAT writer reads of a source: its name and length."""

    description: str
    length: int | None


def write_keyframes(path: Path, keyframes: list[Keyframe]) -> Path:
    """The keyframes as `siammask track --keyframes` reads them: frame,target then the region (none
    for an end mark)."""
    from siammask.io.annotations.base import commit_text

    lines = ["frame,target,x,y,w,h"] + [
        ",".join([str(k.frame), str(k.target)] + [repr(float(v)) for v in (k.region or ())])
        for k in sorted(keyframes, key=lambda k: (k.frame, k.target))]
    commit_text(path, "\n".join(lines) + "\n")
    return path
