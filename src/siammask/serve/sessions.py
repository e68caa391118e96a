"""Per-browser sessions: each has its own temporary folder (uploads, results) and its own jobs.

A session ends when its page says so (the page sends /api/session/end as it closes) or when it has
been idle longer than the timeout (a paused run is idle: only a running one keeps it); its folder
is then removed, after any job is stopped. Only the engine is shared between sessions: trackers
live in jobs. The store keeps the server-wide budget (limits.py): sessions, runs, targets and
temporary bytes, each counted where it is taken and given back where it is removed.

The temporary root holds a lock file the server keeps locked while it lives; a server starting
later removes the roots whose lock nobody holds (a server killed with SIGKILL never cleans up).
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

from siammask.serve.frames import FrameReader
from siammask.serve.jobs import Job
from siammask.serve.limits import FINISHED_RUNS_KEPT, MB, RUNS_PER_SESSION, Limits, Refused
from siammask.serve.timeline import Timeline
from siammask.serve.videos import Video

log = logging.getLogger("siammask.serve")
ROOT_PREFIX = "siammask-serve-"
LOCK_NAME = ".siammask-serve.lock"
LOCK_GRACE = 30.0  # seconds: a root this new may be a server between creating it and locking it
UNMARKED_STALE = 24 * 3600.0  # a root without a lock file (an older version's) untouched this long


class Session:
    """One browser's state: the video it opened and the jobs it started (one runs at a time)."""

    def __init__(self, session_id: str, folder: Path) -> None:
        self.id = session_id
        self.folder = folder  # made on first use: a page load alone writes nothing
        self.video: Video | None = None
        self.frames: FrameReader | None = None  # the video's frames by index (timeline, backward runs)
        self.timeline: Timeline | None = None  # the keyframes and results of the video's last finished run
        self.jobs: dict[str, Job] = {}
        self.job_lock = threading.Lock()  # a second job of one session waits for the first
        self.last_seen = time.monotonic()
        self.charges: dict[Path, int] = {}  # folder inside the session -> bytes counted for it
        self._counter = itertools.count()

    def new_folder(self, kind: str) -> Path:
        """A fresh folder inside the session's own (uploads/3, jobs/0, ...)."""
        folder = self.folder / kind / str(next(self._counter))
        folder.mkdir(parents=True)
        return folder

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    def busy(self) -> bool:
        """Whether a run is being tracked: a paused one (a page closed mid-run?) is idleness."""
        return any(job.state == "running" for job in self.jobs.values())

    def open(self, video: Video) -> None:
        """`video` becomes the page's: its frames readable by index, no annotation yet."""
        self.video, self.frames, self.timeline = video, FrameReader(video), None

    def adopt_timeline(self, video: Video, timeline: Timeline) -> None:
        """A finished run's timeline, kept if the page still has the video it ran on."""
        if self.video is video:
            self.timeline = timeline

    def holds_nothing(self) -> bool:
        return self.video is None and not self.jobs

    def end(self) -> None:
        """Stop its jobs, wait for them to let go of their files, remove the folder."""
        for job in self.jobs.values():
            job.stop()
        for job in self.jobs.values():
            job.join(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)


class SessionStore:
    """All live sessions, under one temporary root folder; jobs are found by their own secret id."""

    def __init__(self, limits: Limits | None = None, root: Path | None = None) -> None:
        self.limits = limits or Limits()
        self.idle_timeout = self.limits.idle_timeout
        parent = Path(root) if root is not None else Path(tempfile.gettempdir())
        for stale in sweep_stale_roots(parent):
            log.info("removed %s (left by a server that did not stop cleanly)", stale)
        self.root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX, dir=parent))
        self._lock_fd = _hold_lock(self.root / LOCK_NAME)
        self._sessions: dict[str, Session] = {}
        self._bytes = 0
        self._lock = threading.RLock()
        self._stopped = threading.Event()
        self._reaper = threading.Thread(target=self._reap_loop, name="siammask-session-reaper", daemon=True)
        self._reaper.start()

    # --- sessions -----------------------------------------------------------------------------
    def get(self, session_id: str | None) -> Session | None:
        with self._lock:
            session = self._sessions.get(session_id or "")
        if session is not None:
            session.touch()
        return session

    def create(self) -> Session:
        """A new session; at the cap, the longest-unused one that holds nothing makes room."""
        with self._lock:
            if len(self._sessions) >= self.limits.max_sessions:
                empty = [s for s in self._sessions.values() if s.holds_nothing()]
                if not empty:
                    raise Refused(f"the server has its maximum of {self.limits.max_sessions} pages open "
                                  "(--max-sessions): close one, or try again when one has been idle", 503)
                self._drop(min(empty, key=lambda s: s.last_seen)).end()
            session_id = secrets.token_urlsafe(18)
            session = Session(session_id, self.root / session_id)
            self._sessions[session_id] = session
        return session

    def find_job(self, job_id: str) -> tuple[Session, Job] | None:
        with self._lock:
            for session in self._sessions.values():
                if job_id in session.jobs:
                    session.touch()  # a page watching or downloading keeps its session alive
                    return session, session.jobs[job_id]
        return None

    def end(self, session_id: str) -> bool:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return False
            self._drop(session)
        session.end()
        return True

    def _drop(self, session: Session) -> Session:
        """Take `session` out of the store and its bytes out of the count (lock held)."""
        self._sessions.pop(session.id, None)
        self._bytes -= sum(session.charges.values())
        session.charges.clear()
        return session

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    # --- the budget ---------------------------------------------------------------------------
    def charge(self, session: Session, folder: Path, size: int) -> None:
        """Count `size` more bytes for `folder`; over the server's temporary budget, refused (507)."""
        with self._lock:
            if session.id not in self._sessions:
                raise Refused("this page's session has ended: reload the page", 409)
            if self._bytes + size > self.limits.temp_bytes:
                raise Refused(f"the server's temporary space is full ({self.limits.temp_bytes / MB:g} MB in use "
                              "by open pages, --max-temp-mb): try again when a page has been closed", 507)
            self._bytes += size
            session.charges[folder] = session.charges.get(folder, 0) + size

    def account(self, session: Session, folder: Path, size: int) -> None:
        """Count bytes already written (a run's files): never refused, they count against what comes next."""
        with self._lock:
            if session.id in self._sessions:
                self._bytes += size
                session.charges[folder] = session.charges.get(folder, 0) + size

    def remove_folder(self, session: Session, folder: Path) -> None:
        """Remove a folder of the session and give its bytes back."""
        shutil.rmtree(folder, ignore_errors=True)
        with self._lock:
            self._bytes -= session.charges.pop(folder, 0)

    def used_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def admit(self, session: Session, job: Job) -> None:
        """Take `job` into the session if the page and the server have room for it (one runs and
        one waits per page; runs and targets over every page within the limits), else refuse."""
        limits = self.limits
        with self._lock:
            mine = [j for j in session.jobs.values() if not j.finished]
            if len(mine) >= RUNS_PER_SESSION:
                raise Refused(f"this page already has {len(mine)} runs running or waiting: stop one first", 429)
            live = [j for s in self._sessions.values() for j in s.jobs.values() if not j.finished]
            if len(live) >= limits.max_runs:
                raise Refused(f"the server is busy: {len(live)} runs running or waiting (--max-runs "
                              f"{limits.max_runs}); try again when one ends", 503)
            targets = sum(len(j.boxes) for j in live)
            if targets + len(job.boxes) > limits.max_targets:
                raise Refused(f"the server is busy: {targets} targets are being tracked and this run adds "
                              f"{len(job.boxes)} (--max-targets {limits.max_targets}); try again when a run "
                              "ends, or track fewer targets", 503)
            session.jobs[job.id] = job
            finished = [j for j in session.jobs.values() if j.finished]  # oldest first
            stale = finished[: max(0, len(finished) - FINISHED_RUNS_KEPT)]
            for old in stale:
                session.jobs.pop(old.id)
        for old in stale:
            self.remove_folder(session, old.folder)

    # --- idle sessions and shutdown -------------------------------------------------------------
    def reap(self) -> list[str]:
        """End the sessions idle for longer than the timeout (a running job is not idleness)."""
        now = time.monotonic()
        with self._lock:
            idle = [s.id for s in self._sessions.values()
                    if now - s.last_seen > self.idle_timeout and not s.busy()]
        return [sid for sid in idle if self.end(sid)]

    def _reap_loop(self) -> None:
        interval = max(0.2, min(60.0, self.idle_timeout / 4))
        while not self._stopped.wait(interval):
            try:
                self.reap()
            except Exception as exc:  # the reaper must outlive one bad removal
                log.error("removing idle sessions: %s: %s", type(exc).__name__, exc)

    def close(self) -> None:
        """End every session and remove the root folder (server shutdown; again is harmless)."""
        self._stopped.set()
        with self._lock:
            ids = list(self._sessions)
        for sid in ids:
            self.end(sid)
        shutil.rmtree(self.root, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _hold_lock(path: Path) -> int | None:
    """Create and lock `path` for the life of this process (released by the kernel on any death)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no sweeping of stale roots
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _lock_held(path: Path) -> bool:
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def sweep_stale_roots(parent: Path) -> list[Path]:
    """Remove the temporary roots under `parent` of servers that are gone: this user's, whose lock
    file nobody holds (or, written by a version without one, untouched for a day)."""
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return []
    removed = []
    try:
        entries = list(parent.glob(ROOT_PREFIX + "*"))
    except OSError:
        return []
    now = time.time()
    for entry in entries:
        try:
            info = entry.lstat()
            if not entry.is_dir() or entry.is_symlink() or info.st_uid != os.getuid():
                continue
            lock = entry / LOCK_NAME
            if lock.exists():
                if now - lock.lstat().st_mtime < LOCK_GRACE or _lock_held(lock):
                    continue
            elif now - info.st_mtime < UNMARKED_STALE:
                continue
        except OSError:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed
