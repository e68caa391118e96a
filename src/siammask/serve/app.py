"""The HTTP side of `siammask serve`: the page, uploads, --media picks, runs and their downloads.

Every page load is a session of its own (its id is written into the page, which sends it back in an
X-Session header, and only there), so two tabs never share files; a run is addressed by its own
unguessable id, so its live stream and downloads are plain links. Requests from another site or
under another Host name are refused before any route runs (guard.py); what one server holds is
bounded by one budget (limits.py, counted in sessions.py). Every failure a user can cause is
answered with {"error": one line} (the page shows it); anything else is one line in the log,
never a traceback.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import logging
import math
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from siammask.engine_contract import Engine
from siammask.errors import SiamMaskError
from siammask.files import json_text
from siammask.serve.frames import FrameReader
from siammask.serve.guard import RequestGuard, allowed_hosts, read_json
from siammask.serve.jobs import Job
from siammask.serve.limits import MAX_TARGETS_PER_RUN, MB, Limits, Refused
from siammask.serve.sessions import Session, SessionStore
from siammask.serve.timeline import Timeline, Work, checked_direction, checked_frame, edited, plan_or_refuse, undone
from siammask.serve.videos import (
    Video,
    check_extension,
    default_max_pixels,
    extract_zip,
    media_files,
    open_video,
    resolve_media,
    safe_name,
)
from siammask.tracking.config import TrackerConfig
from siammask.tracking.keyframes import start_keyframes

__all__ = ["Refused", "ServeSettings", "create_app"]
log = logging.getLogger("siammask.serve")
STATIC = Path(__file__).parent / "static"
SESSION_PLACEHOLDER = "{{SESSION}}"
MAX_TARGETS = MAX_TARGETS_PER_RUN
FREE_SPACE_MARGIN = 64 * MB  # an upload is refused unless the disk keeps this much free besides it
BOX_LIMIT = 10**6  # pixels: far beyond any frame the pixel budget lets through


@dataclass(frozen=True)
class ServeSettings:
    """What the server was started with (the engine is shared by every session). The limits are
    checked (finite, in range) on creation: limits.Limits."""

    engine: Engine
    config: TrackerConfig
    model: str  # what the page names the model by
    untrained: bool
    media: Path | None = None
    max_upload_mb: float = 500.0
    idle_timeout: float = 1800.0
    temp_root: Path | None = None
    host: str = "127.0.0.1"  # the address bound: the Host names the page answers to follow from it
    allow_hosts: tuple[str, ...] = ()
    max_sessions: int = 64
    max_runs: int = 8
    max_targets: int = MAX_TARGETS_PER_RUN
    max_temp_mb: float | None = None
    limits: Limits = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "limits", Limits(
            self.max_upload_mb, self.idle_timeout, self.max_sessions, self.max_runs, self.max_targets,
            self.max_temp_mb))


class OneLineErrors:
    """ASGI middleware: an unexpected exception becomes a 500 with one line, logged as one line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watch(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            log.error("%s %s: %s: %s", scope.get("method", ""), scope.get("path", ""), type(exc).__name__, exc)
            if started or scope["type"] != "http":
                return
            await JSONResponse({"error": "internal error (see the server log)"}, 500)(scope, receive, send)


@contextmanager
def disk_errors() -> Iterator[None]:
    """A full disk (or quota, or file-size limit) while writing a session's files: one line, 507."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise Refused("the server's disk is full: nothing was kept; try a smaller file, or later", 507) from None
        raise


def folder_bytes(folder: Path) -> int:
    """What a folder's files take (a run's results, once written)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def create_app(settings: ServeSettings) -> FastAPI:
    """The application; its sessions' folders are removed when it shuts down."""
    limits = settings.limits
    config = settings.config or TrackerConfig()  # the settings the runs start from
    store = SessionStore(limits, settings.temp_root)
    max_bytes = limits.upload_bytes

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(title="siammask", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.add_middleware(RequestGuard, hosts=allowed_hosts(settings.host, settings.allow_hosts))
    app.add_middleware(OneLineErrors)  # added last: outermost, so the guard's own failures are one line too
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(SiamMaskError)
    async def refused(request: Request, exc: SiamMaskError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, getattr(exc, "status", 400))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = (exc.errors() or [{}])[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
        return JSONResponse({"error": f"{where or 'the request'}: {first.get('msg', 'not valid')}"}, 422)

    def session_of(request: Request) -> Session:
        session = store.get(request.headers.get("x-session"))
        if session is None:
            raise Refused("this page's session has ended: reload the page", 409)
        return session

    def job_of(job_id: str) -> Job:
        found = store.find_job(job_id)
        if found is None:
            raise Refused("no such run (its page's session has ended?)", 404)
        return found[1]

    @app.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        session = store.create()
        page = (STATIC / "index.html").read_text(encoding="utf-8")
        return HTMLResponse(page.replace(SESSION_PLACEHOLDER, session.id), headers={"Cache-Control": "no-store"})

    @app.get("/api/info")
    async def info() -> dict[str, Any]:
        from siammask.io.visualize import PALETTE

        return {
            "model": settings.model, "untrained": settings.untrained, "engine": settings.engine.name,
            "precision": settings.engine.precision, "max_upload_mb": settings.max_upload_mb,
            "media": settings.media is not None, "palette": [[r, g, b] for b, g, r in PALETTE],
            "presence_thr": config.presence_thr,
            "long_term": {"default": config.long_term, "available": long_term_problem() is None,
                          "why_not": long_term_problem()},
            "max_targets": min(MAX_TARGETS, limits.max_targets),
        }

    def video_info(video: Video) -> dict[str, Any]:
        fps = video.fps if video.fps and math.isfinite(video.fps) else None
        return {"name": video.name, "width": video.width, "height": video.height, "frames": video.frames, "fps": fps}

    def drop_video(session: Session) -> None:
        """The session's video is let go as a new one comes (its files and decoded frames too, when
        no run reads them), its annotation with it."""
        old, reader = session.video, session.frames
        session.video, session.frames, session.timeline = None, None, None
        if old is None or old.folder is None:
            return
        if not any(j.video is old and not j.finished for j in session.jobs.values()):
            store.remove_folder(session, old.folder)
            if reader is not None and reader.folder is not None and reader.folder != old.path:
                store.remove_folder(session, reader.folder)

    async def adopt(session: Session, folder: Path, path: Path, name: str) -> dict[str, Any]:
        """Open the video at `path` for `session`, its files in `folder`; a bad one removes `folder`
        (and gives its bytes back) and says why in one line."""
        try:
            with disk_errors():
                pixels = default_max_pixels()
                if path.suffix.lower() == ".zip":
                    path = await run_in_threadpool(extract_zip, path, folder / "frames", max_bytes, pixels,
                                                   _charger(store, session, folder))
                video = await run_in_threadpool(open_video, path, name, pixels)
            store.charge(session, folder, len(video.preview))  # held in memory for the session's life
        except BaseException:
            store.remove_folder(session, folder)
            raise
        session.open(replace(video, folder=folder))
        return video_info(video)

    @app.post("/api/upload")
    async def upload(request: Request, name: str) -> dict[str, Any]:
        session = session_of(request)
        name = safe_name(name)
        check_extension(name)
        too_big = Refused(f"{name}: larger than the upload limit ({settings.max_upload_mb:g} MB)", 413)
        declared = request.headers.get("content-length")
        if declared is not None and int(declared) > max_bytes:
            raise too_big
        drop_video(session)
        folder = session.new_folder("uploads")
        try:
            _check_free_space(folder, int(declared or 0))
            path = folder / name
            with disk_errors():
                size = await _receive(request, path, max_bytes, _charger(store, session, folder), too_big)
            if size == 0:
                raise Refused(f"{name}: empty file")
        except BaseException:  # refused, cut off by the client, disk full: no partial file stays
            store.remove_folder(session, folder)
            raise
        return await adopt(session, folder, path, name)

    @app.get("/api/media")
    async def media(request: Request) -> dict[str, Any]:
        session_of(request)
        if settings.media is None:
            return {"files": []}
        return {"files": await run_in_threadpool(media_files, settings.media)}

    @app.post("/api/media/open")
    async def media_open(request: Request) -> dict[str, Any]:
        session = session_of(request)
        if settings.media is None:
            raise Refused("the server was started without --media", 404)
        relative = (await read_json(request)).get("path")
        path = await run_in_threadpool(resolve_media, settings.media, relative)
        check_extension(path.name)
        drop_video(session)
        return await adopt(session, session.new_folder("uploads"), path, path.name)

    @app.get("/api/frame")
    async def frame(request: Request, index: str | None = None) -> Response:
        """Frame `index` (default 0) as a JPEG preview; any frame but the first needs the video's
        frames decoded once (timeline: seeking)."""
        session = session_of(request)
        video, reader = session.video, session.frames
        if video is None or reader is None:
            raise Refused("no video opened yet", 404)
        number = 0 if index is None else checked_frame(_whole(index, "index"), _length(session), "index")
        if number and not reader.indexed:
            await run_in_threadpool(index_frames, session, reader)
        if reader.count is not None:
            number = checked_frame(number, reader.count, "index")
        data = await run_in_threadpool(reader.preview, number)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    def index_frames(session: Session, reader: FrameReader) -> None:
        """Decode the video's frames once into the session's folder, counted in the budget."""
        with disk_errors():
            reader.index(lambda: session.new_folder("frames"), _folder_charger(store, session),
                         lambda folder: store.remove_folder(session, folder))

    def _length(session: Session) -> int | None:
        reader, video = session.frames, session.video
        if reader is not None and reader.count is not None:
            return reader.count
        return video.frames if video is not None else None

    def start_job(session: Session, work: Work, long_term: bool | None, retrack: bool) -> dict[str, Any]:
        """Admit and start a job tracking `work`'s runs on the session's video."""
        video, reader = session.video, session.frames
        assert video is not None and reader is not None
        firsts = [next(k.region for k in work.plan.keyframes if k.target == t and k.region is not None)
                  for t in range(work.plan.targets)]
        job = Job(secrets.token_urlsafe(18), session.new_folder("jobs"), video, firsts, settings.engine,
                  settings.config, session.job_lock, long_term=long_term, work=work, reader=reader,
                  retrack=retrack)
        try:
            store.admit(session, job)
        except BaseException:
            store.remove_folder(session, job.folder)
            raise
        job.prepare = lambda frames: index_frames(session, frames)
        job.commit = lambda timeline: session.adopt_timeline(video, timeline)
        job.on_finish = lambda done: store.account(session, done.folder, folder_bytes(done.folder))
        job.start()
        return job.snapshot()

    def editable(session: Session) -> Timeline:
        """The page's annotation, once its first run has finished and none is running."""
        if session.video is None:
            raise Refused("open a video first")
        if any(not j.finished for j in session.jobs.values()):
            raise Refused("a run is still going: wait for it (or stop it) before correcting", 409)
        if session.timeline is None:
            raise Refused("track the video first: corrections change a finished run")
        return session.timeline

    def long_term_problem() -> str | None:
        """Why this server's model cannot track long-term (one line for the page), None when it can."""
        if getattr(settings.engine, "wide_search", False):
            return None
        return ("long-term tracking needs a search graph that takes wider crops: this model's takes 255-pixel "
                "crops only (export it again with `siammask export`)")

    @app.post("/api/track")
    async def track(request: Request) -> dict[str, Any]:
        """A first run: `boxes` on frame `start` (default 0), `direction` forward, backward or both."""
        session = session_of(request)
        body = await read_json(request)
        boxes, long_term = body.get("boxes"), body.get("long_term")
        video = session.video
        if video is None:
            raise Refused("open a video first")
        boxes = _boxes(boxes, (video.width, video.height), min(MAX_TARGETS, limits.max_targets))
        if long_term is not None and not isinstance(long_term, bool):
            raise Refused("long_term: expected true or false")
        if long_term and (problem := long_term_problem()):
            raise Refused(problem)
        start = checked_frame(body.get("start", 0), _length(session), "start")
        direction = checked_direction(body.get("direction"), "forward")
        work = plan_or_refuse(start_keyframes(boxes, start), direction, _length(session), None)
        return start_job(session, work, long_term, retrack=False)

    @app.post("/api/keyframes")
    async def keyframes(request: Request) -> dict[str, Any]:
        """A correction: `action` set (a `box` on `frame` for `target`; a new target takes the next
        number), delete (the keyframe there) or end (the target absent from `frame` on), then a
        re-track, in `direction`, of the runs it changed only."""
        session = session_of(request)
        body = await read_json(request)
        timeline = editable(session)
        video = session.video
        assert video is not None
        frame = checked_frame(body.get("frame"), _length(session))
        region = None
        if body.get("action") == "set":
            region = tuple(_boxes([body.get("box")], (video.width, video.height))[0])
        most = min(MAX_TARGETS, limits.max_targets)
        keys = edited(timeline, body.get("action"), frame, body.get("target"), region, most)
        direction = checked_direction(body.get("direction"), timeline.direction)
        work = plan_or_refuse(keys, direction, _length(session), timeline)
        return start_job(session, work, timeline.long_term, retrack=True)

    @app.post("/api/undo")
    async def undo(request: Request) -> dict[str, Any]:
        """Take the last correction back: the keyframes, direction and results from before it (kept,
        not tracked again); the downloads written anew."""
        session = session_of(request)
        timeline = editable(session)
        return start_job(session, undone(timeline), timeline.long_term, retrack=True)

    @app.get("/api/timeline")
    async def timeline_state(request: Request, frame: str | None = None) -> dict[str, Any]:
        """The page's annotation: frames, keyframes, end marks and absent ranges per target; with
        `frame`, each target's region on that frame."""
        session = session_of(request)
        if session.video is None:
            raise Refused("no video opened yet", 404)
        timeline = session.timeline
        out: dict[str, Any] = {"frames": _length(session), "timeline": None}
        if timeline is not None:
            out["timeline"] = timeline.summary()
            if frame is not None:
                out["regions"] = timeline.regions(checked_frame(_whole(frame, "frame"), _length(session)))
        return out

    @app.get("/api/jobs/{job_id}")
    async def job_state(job_id: str) -> dict[str, Any]:
        return job_of(job_id).snapshot()

    @app.post("/api/jobs/{job_id}/{action}")
    async def steer(request: Request, job_id: str, action: str) -> dict[str, Any]:
        job = session_of(request).jobs.get(job_id)
        if job is None:
            raise Refused("no such run on this page", 404)
        if action not in ("pause", "resume", "stop"):
            raise Refused(f"unknown action {action[:40]!r}", 404)
        getattr(job, action)()
        return job.snapshot()

    @app.get("/api/jobs/{job_id}/events")
    async def events(job_id: str) -> StreamingResponse:
        job = job_of(job_id)
        return StreamingResponse(_stream(job), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.get("/api/jobs/{job_id}/files/{name}")
    async def download(job_id: str, name: str) -> FileResponse:
        job = job_of(job_id)
        path = job.files.get(name)
        if path is None:
            raise Refused(f"{name[:100]}: not (yet) written by this run", 404)
        return FileResponse(path, filename=name)

    @app.post("/api/session/end")
    async def end(request: Request) -> dict[str, Any]:
        session_id = request.headers.get("x-session")
        ended = bool(session_id) and await run_in_threadpool(store.end, session_id)
        return {"ended": ended}

    return app


def _charger(store: SessionStore, session: Session, folder: Path) -> Callable[[int], None]:
    return lambda size: store.charge(session, folder, size)


def _folder_charger(store: SessionStore, session: Session) -> Callable[[Path, int], None]:
    return lambda folder, size: store.charge(session, folder, size)


def _whole(text: str, what: str) -> int:
    """A frame number given in a query: digits only (no sign, no spaces), at most 8 of them."""
    if not (text.isascii() and text.isdigit() and len(text) <= 8):
        raise Refused(f"{what}: expected a frame number (0-based), got {text[:20]!r}")
    return int(text)


def _check_free_space(folder: Path, size: int) -> None:
    """Refuse an upload the disk has no room for, before a byte of it is written."""
    free = shutil.disk_usage(folder).free
    if size + FREE_SPACE_MARGIN > free:
        raise Refused(f"the server's disk has {free // MB} MB free, too little for this upload", 507)


async def _receive(request: Request, path: Path, limit: int, charge: Callable[[int], None], too_big: Refused) -> int:
    """Stream the request body into `path`, counting each chunk against the budget; its size."""
    size = 0
    try:
        with open(path, "xb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_big
                charge(len(chunk))
                out.write(chunk)
    except ClientDisconnect:
        raise Refused(f"{path.name}: the upload was cut off before its end", 400) from None
    return size


async def _stream(job: Job) -> AsyncIterator[str]:
    """Server-sent events: `frame` (a base64 JPEG of the newest tracked frame) and `progress`
    (the job's state) as they change, then `end`. A slow page skips frames, never falls behind."""
    sent_seq, sent_state = 0, None
    while True:
        finished = job.finished  # read first: the last frame is published before the state turns
        seq, jpeg = job.frame()
        if seq != sent_seq and jpeg:
            yield f"event: frame\ndata: {base64.b64encode(jpeg).decode('ascii')}\n\n"
            sent_seq = seq
        state = job.snapshot()
        if state != sent_state:
            yield f"event: progress\ndata: {json_text(state, indent=None).strip()}\n\n"
            sent_state = state
        if finished:
            yield f"event: end\ndata: {json_text(state, indent=None).strip()}\n\n"
            return
        await asyncio.sleep(0.05)


def _coordinate(value: Any, where: str) -> float:
    """A box value: a JSON number of sane size (not a bool, not a 400-digit integer, not NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refused(f"{where}: expected numbers [x, y, w, h]")
    if isinstance(value, int) and abs(value) > BOX_LIMIT:
        raise Refused(f"{where}: a value out of range (more than {BOX_LIMIT} pixels)")
    number = float(value)
    if not math.isfinite(number) or abs(number) > BOX_LIMIT:
        raise Refused(f"{where}: a value out of range (more than {BOX_LIMIT} pixels)")
    return number


def _boxes(value: Any, image_size: tuple[int, int], most: int = MAX_TARGETS) -> list[list[float]]:
    """The drawn boxes, checked as `siammask track` checks --box."""
    from siammask.tracking.tracker import check_box_in_image, parse_box

    if not isinstance(value, list) or not value:
        raise Refused("draw at least one box on the frame")
    if len(value) > most:
        raise Refused(f"at most {most} targets in one run")
    boxes = []
    for k, box in enumerate(value):
        if not (isinstance(box, list) and len(box) in (4, 8)):
            raise Refused(f"box {k}: expected [x, y, w, h]")
        values = [_coordinate(v, f"box {k}") for v in box]
        parse_box(values)
        check_box_in_image(values, image_size, f"box {k}")
        boxes.append(values)
    return boxes
