"""Per-browser sessions: each has its own temporary folder (uploads, results) and its own jobs.

A session ends when its page says so (the page sends /api/session/end as it closes) or when it has
been idle longer than the timeout; its folder is then removed, after any running job is stopped.
Only the engine is shared between sessions: trackers live in jobs.
"""

from __future__ import annotations

import itertools
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

from siammask.serve.jobs import Job
from siammask.serve.videos import Video


class Session:
    """One browser's state: the video it opened and the jobs it started (one runs at a time)."""

    def __init__(self, session_id: str, folder: Path) -> None:
        self.id = session_id
        self.folder = folder
        self.video: Video | None = None
        self.jobs: dict[str, Job] = {}
        self.job_lock = threading.Lock()  # a second job of one session waits for the first
        self.last_seen = time.monotonic()
        self._counter = itertools.count()

    def new_folder(self, kind: str) -> Path:
        """A fresh folder inside the session's own (uploads/3, jobs/0, ...)."""
        folder = self.folder / kind / str(next(self._counter))
        folder.mkdir(parents=True)
        return folder

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    def busy(self) -> bool:
        return any(not job.finished for job in self.jobs.values())

    def end(self) -> None:
        """Stop its jobs, wait for them to let go of their files, remove the folder."""
        for job in self.jobs.values():
            job.stop()
        for job in self.jobs.values():
            job.join(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)


class SessionStore:
    """All live sessions, under one temporary root folder; jobs are found by their own secret id."""

    def __init__(self, idle_timeout: float = 1800.0, root: Path | None = None) -> None:
        self.idle_timeout = idle_timeout
        self.root = Path(tempfile.mkdtemp(prefix="siammask-serve-", dir=root))
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._reaper = threading.Thread(target=self._reap_loop, name="siammask-session-reaper", daemon=True)
        self._reaper.start()

    def get(self, session_id: str | None) -> Session | None:
        with self._lock:
            session = self._sessions.get(session_id or "")
        if session is not None:
            session.touch()
        return session

    def create(self) -> Session:
        session_id = secrets.token_urlsafe(18)
        folder = self.root / session_id
        folder.mkdir()
        session = Session(session_id, folder)
        with self._lock:
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
            session = self._sessions.pop(session_id, None)
        if session is None:
            return False
        session.end()
        return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

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
            self.reap()

    def close(self) -> None:
        """End every session and remove the root folder (server shutdown)."""
        self._stopped.set()
        with self._lock:
            ids = list(self._sessions)
        for sid in ids:
            self.end(sid)
        shutil.rmtree(self.root, ignore_errors=True)
