"""The HTTP side of `siammask serve`: the page, uploads, --media picks, runs and their downloads.

Every page load is a session of its own (its id is written into the page, which sends it back in an
X-Session header), so two tabs never share files; a run is addressed by its own unguessable id, so
its live stream and downloads are plain links. Every failure a user can cause is answered with
{"error": one line} (the page shows it); anything else is one line in the log, never a traceback.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import secrets
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from siammask.engines.base import Engine
from siammask.errors import SiamMaskError
from siammask.serve.jobs import LOST_FRAMES, LOST_SCORE, Job
from siammask.serve.sessions import Session, SessionStore
from siammask.serve.videos import Video, check_extension, extract_zip, media_files, open_video, resolve_media, safe_name
from siammask.tracking.config import TrackerConfig

log = logging.getLogger("siammask.serve")
STATIC = Path(__file__).parent / "static"
SESSION_PLACEHOLDER = "{{SESSION}}"
MAX_TARGETS = 32


@dataclass(frozen=True)
class ServeSettings:
    """What the server was started with (the engine is shared by every session)."""

    engine: Engine
    config: TrackerConfig
    model: str  # what the page names the model by
    untrained: bool
    media: Path | None = None
    max_upload_mb: float = 500.0
    idle_timeout: float = 1800.0
    temp_root: Path | None = None


class Refused(SiamMaskError):
    """A request the page made wrongly or too late: answered with its HTTP status and one line."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


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


def create_app(settings: ServeSettings) -> FastAPI:
    """The application; its sessions' folders are removed when it shuts down."""
    store = SessionStore(settings.idle_timeout, settings.temp_root)
    max_bytes = int(settings.max_upload_mb * 1024 * 1024)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(title="siammask", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.add_middleware(OneLineErrors)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(SiamMaskError)
    async def refused(request: Request, exc: SiamMaskError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, getattr(exc, "status", 400))

    def session_of(request: Request) -> Session:
        session = store.get(request.headers.get("x-session") or request.query_params.get("session"))
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
            "lost": {"score": LOST_SCORE, "frames": LOST_FRAMES},
        }

    def video_info(video: Video) -> dict[str, Any]:
        fps = video.fps if video.fps and math.isfinite(video.fps) else None
        return {"name": video.name, "width": video.width, "height": video.height, "frames": video.frames, "fps": fps}

    async def adopt(session: Session, folder: Path, path: Path, name: str) -> dict[str, Any]:
        """Open the video at `path` for `session`; a bad one removes `folder` and says why."""
        try:
            if path.suffix.lower() == ".zip":
                path = await run_in_threadpool(extract_zip, path, folder / "frames", max_bytes)
            video = await run_in_threadpool(open_video, path, name)
        except SiamMaskError:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        old = session.video
        session.video = video
        if old is not None and not any(j.video is old and not j.finished for j in session.jobs.values()):
            _remove_upload(session, old)
        return video_info(video)

    @app.post("/api/upload")
    async def upload(request: Request, name: str) -> dict[str, Any]:
        session = session_of(request)
        name = safe_name(name)
        check_extension(name)
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise Refused(f"{name}: larger than the upload limit ({settings.max_upload_mb:g} MB)", 413)
        folder = session.new_folder("uploads")
        path = folder / name
        size = 0
        with open(path, "xb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    break
                out.write(chunk)
        if size > max_bytes:
            shutil.rmtree(folder, ignore_errors=True)
            raise Refused(f"{name}: larger than the upload limit ({settings.max_upload_mb:g} MB)", 413)
        if size == 0:
            shutil.rmtree(folder, ignore_errors=True)
            raise Refused(f"{name}: empty file")
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
        relative = str((await _json(request)).get("path", ""))
        path = resolve_media(settings.media, relative)
        check_extension(path.name)
        return await adopt(session, session.new_folder("uploads"), path, Path(relative).name)

    @app.get("/api/frame")
    async def first_frame(request: Request) -> Response:
        session = session_of(request)
        if session.video is None:
            raise Refused("no video opened yet", 404)
        ok, data = cv2.imencode(".png", session.video.first)
        return Response(data.tobytes(), media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.post("/api/track")
    async def track(request: Request) -> dict[str, Any]:
        session = session_of(request)
        video = session.video
        if video is None:
            raise Refused("open a video first")
        boxes = _boxes((await _json(request)).get("boxes"), (video.width, video.height))
        job_id = secrets.token_urlsafe(18)
        job = Job(job_id, session.new_folder("jobs"), video, boxes, settings.engine, settings.config,
                  session.job_lock)
        session.jobs[job_id] = job
        job.start()
        return job.snapshot()

    @app.get("/api/jobs/{job_id}")
    async def job_state(job_id: str) -> dict[str, Any]:
        return job_of(job_id).snapshot()

    @app.post("/api/jobs/{job_id}/{action}")
    async def steer(job_id: str, action: str) -> dict[str, Any]:
        job = job_of(job_id)
        if action not in ("pause", "resume", "stop"):
            raise Refused(f"unknown action {action!r}", 404)
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
            raise Refused(f"{name}: not (yet) written by this run", 404)
        return FileResponse(path, filename=name)

    @app.post("/api/session/end")
    async def end(request: Request) -> dict[str, Any]:
        session_id = request.headers.get("x-session") or request.query_params.get("session")
        ended = bool(session_id) and await run_in_threadpool(store.end, session_id)
        return {"ended": ended}

    return app


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
            yield f"event: progress\ndata: {json.dumps(state)}\n\n"
            sent_state = state
        if finished:
            yield f"event: end\ndata: {json.dumps(state)}\n\n"
            return
        await asyncio.sleep(0.05)


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise Refused("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused("the request body is not a JSON object")
    return body


def _boxes(value: Any, image_size: tuple[int, int]) -> list[list[float]]:
    """The drawn boxes, checked as `siammask track` checks --box."""
    from siammask.tracking.tracker import check_box_in_image, parse_box

    if not isinstance(value, list) or not value:
        raise Refused("draw at least one box on the frame")
    if len(value) > MAX_TARGETS:
        raise Refused(f"at most {MAX_TARGETS} targets")
    boxes = []
    for k, box in enumerate(value):
        if not (isinstance(box, list) and len(box) in (4, 8)
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)):
            raise Refused(f"box {k}: expected [x, y, w, h]")
        values = [float(v) for v in box]
        parse_box(values)
        check_box_in_image(values, image_size, f"box {k}")
        boxes.append(values)
    return boxes


def _remove_upload(session: Session, video: Video) -> None:
    """Drop an upload no run needs any more (its folder is uploads/N inside the session)."""
    uploads = session.folder / "uploads"
    for parent in (video.path, *video.path.parents):
        if parent.parent == uploads:
            shutil.rmtree(parent, ignore_errors=True)
            return
