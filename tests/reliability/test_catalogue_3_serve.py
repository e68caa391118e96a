"""Issue 26, the page's server (`siammask serve`): classes I (Host / cross-site), J (one budget),
and the serve parts of B (pixel budget), C (body caps), E (uncaught errors), O (SIGTERM, hidden
picks) and new user 3 (the default model on the fastest engine).

The HTTP cases need no model: the routes they reach never track (runs are admitted, not started).
"""

from __future__ import annotations

import asyncio
import errno
import io
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import zipfile
import zlib
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from tests.reliability.helpers import assert_one_line_error, cli, textured_frame

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

import siammask.serve.app as app_module  # noqa: E402
from siammask.serve.app import ServeSettings, create_app  # noqa: E402
from siammask.serve.jobs import Job  # noqa: E402
from siammask.serve.sessions import LOCK_NAME, SessionStore, sweep_stale_roots  # noqa: E402

BASE = "http://127.0.0.1:8000"
ENGINE = SimpleNamespace(name="torch", precision="fp32")  # the routes below only name it


def write_clip(path: Path, frames: int = 4, size: tuple[int, int] = (96, 96)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, size)
    for k in range(frames):
        writer.write(cv2.resize(textured_frame(k), size))
    writer.release()
    return path


@pytest.fixture()
def settings(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    return ServeSettings(ENGINE, None, "test", True, media=media, max_upload_mb=2, idle_timeout=600,
                         temp_root=tmp_path / "tmp")


@pytest.fixture()
def make_client(settings):
    (settings.temp_root).mkdir(exist_ok=True)
    opened = []

    def make(**changes) -> TestClient:
        from dataclasses import replace

        client = TestClient(create_app(replace(settings, **changes) if changes else settings), base_url=BASE)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture()
def client(make_client):
    return make_client()


def session(client: TestClient, **headers: str) -> dict[str, str]:
    html = client.get("/", headers=headers).text
    return {"X-Session": re.search(r'name="siammask-session" content="([^"]+)"', html).group(1)}


def one_line(response, status: int, *fragments: str) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    error = response.json()["error"]
    assert error and "\n" not in error and "Traceback" not in error
    for fragment in fragments:
        assert fragment in error, (fragment, error)
    return error


def upload(client: TestClient, headers: dict, name: str, data: bytes):
    return client.post("/api/upload", params={"name": name}, content=data, headers=headers)


def hold_run(client: TestClient, headers: dict, boxes: int, video=None) -> Job:
    """A run admitted into the page's session and never started: it holds its share of the budget."""
    store = client.app.state.store
    page = store.get(headers["X-Session"])
    video = video or SimpleNamespace(frames=4, path=Path("/nonexistent"))
    job = Job(f"held{time.monotonic_ns()}", page.new_folder("jobs"), video, [[1, 1, 10, 10]] * boxes,
              ENGINE, None, page.job_lock)
    store.admit(page, job)
    return job


# --- I: Host and cross-site requests -----------------------------------------------------------
def test_another_host_is_refused_before_anything(client, settings, tmp_path):
    write_clip(settings.media / "private.avi")
    for path in ("/", "/api/info", "/api/media", "/api/frame"):
        one_line(client.get(path, headers={"Host": "attacker.example"}), 400, "answers only to")
    one_line(client.post("/api/media/open", json={"path": "private.avi"}, headers={"Host": "attacker.example:8000"}),
             400, "answers only to")
    assert len(client.app.state.store) == 0  # no session handed out
    assert client.get("/", headers={"Host": "localhost:8000"}).status_code == 200
    assert client.get("/api/info", headers={"Host": "[::1]:8000"}).status_code == 200


def test_allow_host_and_the_bound_address(make_client):
    client = make_client(host="192.0.2.5", allow_hosts=("tracker.lan",))
    for host in ("192.0.2.5:8000", "tracker.lan", "localhost"):
        assert client.get("/api/info", headers={"Host": host}).status_code == 200, host
    one_line(client.get("/api/info", headers={"Host": "evil.lan"}), 400)


def test_cross_site_requests_are_refused(client, settings):
    write_clip(settings.media / "clip.avi")
    headers = session(client)
    store = client.app.state.store
    cross = [{"Origin": "http://attacker.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
             {"Sec-Fetch-Site": "same-site"}]
    for extra in cross:
        response = client.post("/api/media/open", json={"path": "clip.avi"}, headers={**headers, **extra})
        one_line(response, 403, "refused")
        one_line(client.get("/api/media", headers={**headers, **extra}), 403)
    assert store.get(headers["X-Session"]).video is None  # none of them was processed
    same = {"Origin": BASE, "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/media/open", json={"path": "clip.avi"}, headers={**headers, **same}).status_code == 200


def test_the_session_travels_in_the_header_only(client):
    headers = session(client)
    sid = headers["X-Session"]
    one_line(client.get("/api/frame", params={"session": sid}), 409, "session")
    one_line(client.post("/api/track", params={"session": sid}, json={"boxes": [[1, 1, 5, 5]]}), 409)
    assert client.post("/api/session/end", params={"session": sid}).json() == {"ended": False}
    assert client.app.state.store.get(sid) is not None


def test_json_bodies_must_say_so(client, settings):
    write_clip(settings.media / "clip.avi")
    headers = session(client)
    body = json.dumps({"path": "clip.avi"})
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        extra = {"Content-Type": kind} if kind else {}
        one_line(client.post("/api/media/open", content=body, headers={**headers, **extra}), 415, "application/json")


def test_no_cors_and_framing_refused(client):
    response = client.options("/api/track", headers={"Origin": "http://attacker.example",
                                                     "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in response.headers
    page = client.get("/")
    assert page.headers["x-frame-options"] == "DENY" and "frame-ancestors" in page.headers["content-security-policy"]


def test_cross_site_page_loads_make_no_sessions(client):
    store = client.app.state.store
    for mode in ("no-cors", "cors"):
        one_line(client.get("/", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": mode,
                                          "Sec-Fetch-Dest": "image"}), 403)
    assert len(store) == 0
    # a link followed from another site opens the page (a top-level navigation)
    assert client.get("/", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                                    "Sec-Fetch-Dest": "document"}).status_code == 200
    assert [p.name for p in store.root.iterdir()] == [LOCK_NAME]  # a page load writes no folder


def test_sessions_are_capped(make_client, settings):
    client = make_client(max_sessions=3)
    pages = [session(client) for _ in range(20)]  # empty sessions make room for new ones
    assert len(client.app.state.store) == 3
    write_clip(settings.media / "clip.avi")
    for headers in pages[-3:]:
        assert client.post("/api/media/open", json={"path": "clip.avi"}, headers=headers).status_code == 200
    one_line(client.get("/"), 503, "--max-sessions")
    assert len(client.app.state.store) == 3


# --- J: one budget -----------------------------------------------------------------------------
def test_targets_over_every_page_are_budgeted(make_client, settings):
    client = make_client(max_targets=4)
    write_clip(settings.media / "clip.avi")
    one, two = session(client), session(client)
    for headers in (one, two):
        assert client.post("/api/media/open", json={"path": "clip.avi"}, headers=headers).status_code == 200
    hold_run(client, one, 4)
    one_line(client.post("/api/track", json={"boxes": [[10, 10, 20, 20]]}, headers=two), 503, "--max-targets")
    one_line(client.post("/api/track", json={"boxes": [[10, 10, 20, 20]] * 5}, headers=two), 400, "at most 4")


def test_runs_are_budgeted_per_page_and_per_server(make_client, settings):
    client = make_client(max_runs=3)
    write_clip(settings.media / "clip.avi")
    pages = [session(client) for _ in range(3)]
    for headers in pages:
        assert client.post("/api/media/open", json={"path": "clip.avi"}, headers=headers).status_code == 200
    hold_run(client, pages[0], 1)
    hold_run(client, pages[0], 1)
    one_line(client.post("/api/track", json={"boxes": [[10, 10, 20, 20]]}, headers=pages[0]), 429, "stop one")
    hold_run(client, pages[1], 1)
    one_line(client.post("/api/track", json={"boxes": [[10, 10, 20, 20]]}, headers=pages[2]), 503, "--max-runs")
    threads = [t for t in __import__("threading").enumerate() if t.name.startswith("siammask-job")]
    assert len(threads) <= 3


def test_a_paused_run_is_idleness(tmp_path):
    from siammask.serve.limits import Limits

    store = SessionStore(Limits(idle_timeout=600), tmp_path)
    try:
        paused, running = store.create(), store.create()
        for page, state in ((paused, "paused"), (running, "running")):
            job = Job(f"j-{state}", page.new_folder("jobs"), SimpleNamespace(frames=4), [[1, 1, 5, 5]], ENGINE, None,
                      page.job_lock)
            job.state = state
            page.jobs[job.id] = job
            page.last_seen -= 700
        assert store.reap() == [paused.id]
        assert not paused.folder.exists() and running.folder.exists()
    finally:
        store.close()


@pytest.mark.parametrize("option,value,fragment", [
    ("--idle-minutes", "nan", "finite"), ("--idle-minutes", "inf", "finite"), ("--idle-minutes", "-1", "between"),
    ("--max-upload-mb", "inf", "finite"), ("--max-upload-mb", "nan", "finite"), ("--max-upload-mb", "0", "between"),
    ("--port", "70000", "between"), ("--port", "-1", "between"), ("--port", "http", "whole number"),
    ("--max-sessions", "1e9", "whole number"), ("--max-targets", "0", "between"), ("--max-temp-mb", "nan", "finite"),
])
def test_settings_are_finite(capsys, option, value, fragment):
    rc, out, err = cli(capsys, "serve", option, value)
    assert_one_line_error(rc, err, option, fragment)


def test_the_temporary_budget_and_its_refusals(make_client):
    client = make_client(max_temp_mb=1)
    headers = session(client)
    store = client.app.state.store
    one_line(upload(client, headers, "big.avi", b"\0" * (1024 * 1024 + 10)), 507, "--max-temp-mb")
    assert store.used_bytes() == 0
    assert not any(p.is_file() for p in store.root.rglob("*") if p.name != LOCK_NAME)


def test_an_upload_cut_off_leaves_nothing(client):
    headers = session(client)
    store = client.app.state.store
    sent = []

    async def receive():
        if not sent:
            sent.append(1)
            return {"type": "http.request", "body": b"\0" * 100_000, "more_body": True}
        return {"type": "http.disconnect"}

    async def send(message):
        pass

    scope = {"type": "http", "method": "POST", "path": "/api/upload", "raw_path": b"/api/upload",
             "query_string": b"name=cut.avi", "headers": [(b"host", b"127.0.0.1:8000"),
                                                          (b"x-session", headers["X-Session"].encode())],
             "scheme": "http", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 1), "http_version": "1.1",
             "root_path": "", "asgi": {"version": "3.0"}}
    asyncio.run(client.app(scope, receive, send))
    assert store.used_bytes() == 0
    assert not list(store.root.rglob("cut.avi"))


def test_a_full_disk_during_an_upload(client, monkeypatch, tmp_path):
    headers = session(client)
    store = client.app.state.store
    real_open = open

    class Full:
        def __init__(self, path, mode):
            self.file = real_open(path, mode)

        def write(self, data):
            self.file.write(data[:10])
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

    monkeypatch.setattr(app_module, "open", Full, raising=False)
    one_line(upload(client, headers, "clip.avi", b"\1" * 5000), 507, "disk is full")
    assert store.used_bytes() == 0 and not list(store.root.rglob("clip.avi"))
    monkeypatch.undo()
    other = session(client)
    assert upload(client, other, "clip.avi", write_clip(tmp_path / "c.avi").read_bytes()).status_code == 200


def test_stale_roots_are_swept(tmp_path):
    from siammask.serve.sessions import _hold_lock

    gone = tmp_path / "siammask-serve-gone"
    gone.mkdir()
    (gone / LOCK_NAME).write_text("")
    (gone / "abc" / "uploads").mkdir(parents=True)
    live = tmp_path / "siammask-serve-live"
    live.mkdir()
    fd = _hold_lock(live / LOCK_NAME)
    old = time.time() - 3600
    for path in (gone / LOCK_NAME, live / LOCK_NAME):
        os.utime(path, (old, old))
    mine = tmp_path / "notes"
    mine.mkdir()
    try:
        assert sweep_stale_roots(tmp_path) == [gone]
        assert not gone.exists() and live.exists() and mine.exists()
        store = SessionStore(root=tmp_path)
        store.close()
        assert live.exists()
    finally:
        os.close(fd)


# --- B: pixel budget, bounded preview ----------------------------------------------------------
def _png_declaring(width: int, height: int) -> bytes:
    """A PNG header declaring width x height (no pixel data): what a decompression bomb shows first."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_of_a_huge_image_is_refused_from_its_header(client):
    headers = session(client)
    frame = cv2.imencode(".png", textured_frame(0))[1].tobytes()
    data = _zip({"a/1.png": frame, "a/2.png": _png_declaring(12000, 12000)})
    one_line(upload(client, headers, "bomb.zip", data), 400, "bomb.zip", "12000x12000")
    store = client.app.state.store
    assert store.used_bytes() == 0 and not list(store.root.rglob("*.png"))


def test_the_pixel_budget_holds_for_videos_too(client, monkeypatch, tmp_path):
    monkeypatch.setenv("SIAMMASK_MAX_PIXELS", "5000")
    headers = session(client)
    one_line(upload(client, headers, "clip.avi", write_clip(tmp_path / "c.avi").read_bytes()), 400, "clip.avi",
             "96x96")


def test_the_preview_is_bounded(client):
    from siammask.serve.videos import PREVIEW_SIDE

    headers = session(client)
    wide = np.tile(textured_frame(0), (1, 30, 1))  # 2880 x 96
    frames = {f"{k}.png": cv2.imencode(".png", wide)[1].tobytes() for k in range(2)}
    opened = upload(client, headers, "wide.zip", _zip(frames))
    assert opened.status_code == 200, opened.text
    assert (opened.json()["width"], opened.json()["height"]) == (2880, 96)
    preview = cv2.imdecode(np.frombuffer(client.get("/api/frame", headers=headers).content, np.uint8), 1)
    assert max(preview.shape[:2]) <= PREVIEW_SIDE
    store = client.app.state.store
    assert store.used_bytes() >= sum(len(v) for v in frames.values())  # unpacked frames and preview counted


# --- C: request bodies are capped before they are parsed ---------------------------------------
def test_json_bodies_are_capped(client):
    headers = session(client)
    declared = {**headers, "Content-Type": "application/json", "Content-Length": str(300 * 1024 * 1024)}
    one_line(client.post("/api/track", content=b"{}", headers=declared), 413, "larger than")

    def chunks():
        yield b'{"boxes": ['
        for _ in range(200):
            yield b"[1, 2, 3, 4]," * 100

    one_line(client.post("/api/track", content=chunks(), headers={**headers, "Content-Type": "application/json"}),
             413, "larger than")


# --- E: what the page sends wrongly is a 4xx with one line -------------------------------------
def test_bad_media_picks_and_listing(client, settings):
    media = settings.media
    write_clip(media / "clip.avi")
    (media / os.fsdecode(b"bad\xff.avi")).write_bytes(b"x")
    headers = session(client)
    listing = client.get("/api/media", headers=headers)
    assert listing.status_code == 200 and listing.json()["files"] == ["clip.avi"]
    for path in ("clip\0.avi", "a" * 5000 + ".avi", ["clip.avi"], 7, None, "bad\udcff.avi", "sub/\x1b[2J.avi"):
        body = json.dumps({"path": path})  # ASCII, escapes kept: a lone surrogate is sent as \\udcff
        response = client.post("/api/media/open", content=body, headers={**headers, "Content-Type": "application/json"})
        one_line(response, 400, "media folder")


def test_bad_boxes_and_bodies(client, settings):
    write_clip(settings.media / "clip.avi")
    headers = session(client)
    assert client.post("/api/media/open", json={"path": "clip.avi"}, headers=headers).status_code == 200
    json_headers = {**headers, "Content-Type": "application/json"}
    for body in ('{"boxes": [[' + "9" * 400 + ', 1, 5, 5]]}', '{"boxes": [[NaN, 1, 5, 5]]}',
                 '{"boxes": [[1e999, 1, 5, 5]]}', '{"boxes": [[true, 1, 5, 5]]}', '{"boxes": [["1", 1, 5, 5]]}',
                 "[" * 30000 + "]" * 30000, '{"boxes": [[1, 1, 5, 5]]'):
        response = client.post("/api/track", content=body, headers=json_headers)
        assert response.status_code == 400, (body[:40], response.text)
        one_line(response, 400)
    one_line(client.post("/api/track", content="[" * 100_000, headers=json_headers), 413)
    one_line(client.post("/api/upload", content=b"x", headers=headers), 422, "name")


def test_port_in_use_and_an_address_not_ours(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        rc, out, err = cli(capsys, "serve", "--port", port)
        assert_one_line_error(rc, err, f"--port {port}", "already in use")
    rc, out, err = cli(capsys, "serve", "--host", "203.0.113.7", "--port", "8123")
    assert_one_line_error(rc, err, "--host 203.0.113.7", "cannot listen")


# --- O: hidden picks; SIGTERM ends with 143 ----------------------------------------------------
def test_hidden_files_cannot_be_picked(client, settings):
    media = settings.media
    write_clip(media / ".secret.avi")
    (media / ".private").mkdir()
    write_clip(media / ".private" / "clip.avi")
    os.symlink(media / ".secret.avi", media / "visible.avi")
    headers = session(client)
    assert client.get("/api/media", headers=headers).json()["files"] == []
    for path in (".secret.avi", ".private/clip.avi", "./.secret.avi", "visible.avi"):
        one_line(client.post("/api/media/open", json={"path": path}, headers=headers), 400, "media folder")


def test_sigterm_ends_serve_with_143(tmp_path):
    pytest.importorskip("torch")
    from siammask.model.seeded import write_checkpoint

    checkpoint = write_checkpoint(tmp_path / "seeded.pth")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "siammask.cli", "serve", "--checkpoint", str(checkpoint), "--port", str(port),
         "--threads", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)})
    try:
        line = process.stdout.readline()
        assert "open http://127.0.0.1" in line, (line, process.stderr.read() if process.poll() is not None else "")
        deadline = time.monotonic() + 60
        while True:  # the socket is bound before the line: wait for the server itself to answer
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/info", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, err
    assert "Traceback" not in err and "terminated" in err
    assert not list(tmp_path.glob("siammask-serve-*"))  # its temporary root went with it


# --- new user 3: the default model runs on what --backend auto picks for its export ------------
def test_the_default_model_is_exported_for_the_fastest_engine(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from siammask.engines.factory import EngineSpec
    from siammask.model import default as serve

    monkeypatch.setenv("SIAMMASK_CACHE", str(tmp_path / "cache"))
    overrides, label = serve.default_model(None)
    assert set(overrides) == {"model"} and "exported" in label
    spec = EngineSpec(**overrides)
    assert spec.choice.backend in ("onnxruntime", "openvino")  # what auto picks here, never torch fp32
    calls = []
    monkeypatch.setattr("siammask.deploy.export.export", lambda *a, **k: calls.append(a))
    assert serve.default_model("auto")[0] == overrides and calls == []  # cached under its hash
    assert set(serve.default_model("torch")[0]) == {"checkpoint"}
