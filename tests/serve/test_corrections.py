"""Corrections from the page's API: seek any frame, set, move, delete a keyframe or end a target,
re-track only the runs a correction changed, undo; what the server reports and writes, and the
one-line refusals. The downloads after a correction equal `siammask track --keyframes` with the
same keyframes (polygons within 0.01 px)."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.serve.conftest import clip_box, write_clip

pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from siammask.serve.app import create_app  # noqa: E402
from siammask.tracking.keyframes import Keyframe, changed_runs, plan  # noqa: E402

BASE = "http://127.0.0.1:8000"
CLIP_FRAMES = 30
LONG = 300  # the measure: one correction on a 300-frame video
POLY_TOL_PX = 0.01


class Page:
    """One browser session, as the page's JavaScript drives it."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        html = client.get("/").text
        self.headers = {"X-Session": re.search(r'name="siammask-session" content="([^"]+)"', html).group(1)}

    def post(self, path: str, body: dict | None = None):
        return self.client.post(path, json=body or {}, headers=self.headers)

    def run(self, path: str, body: dict | None = None, timeout: float = 600) -> dict:
        """Start a run (track, keyframes, undo) and wait for its end."""
        response = self.post(path, body)
        assert response.status_code == 200, response.text
        started = response.json()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.client.get(f"/api/jobs/{started['id']}").json()
            if state["state"] in ("done", "stopped", "failed"):
                assert state["state"] == "done", state["message"]
                return state
            time.sleep(0.05)
        raise AssertionError("the run did not finish")

    def timeline(self, frame: int | None = None) -> dict:
        params = {} if frame is None else {"frame": frame}
        return self.client.get("/api/timeline", params=params, headers=self.headers).json()

    def file(self, job: dict, name: str) -> bytes:
        response = self.client.get(f"/api/jobs/{job['id']}/files/{name}")
        assert response.status_code == 200, name
        return response.content


@pytest.fixture(scope="module")
def clip30(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clip30") / "clip.mp4", CLIP_FRAMES)


@pytest.fixture()
def page(settings, clip30):
    with TestClient(create_app(settings), base_url=BASE) as client:
        page = Page(client)
        assert page.client.post("/api/upload", params={"name": "clip.mp4"}, content=clip30.read_bytes(),
                                headers=page.headers).status_code == 200
        yield page


def moved(box: list[int], dx: int, dy: int) -> list[int]:
    return [box[0] + dx, box[1] + dy, box[2], box[3]]


def error(response, status: int, fragment: str) -> str:
    assert response.status_code == status, response.text
    text = response.json()["error"]
    assert "\n" not in text and fragment in text, text
    return text


def test_set_move_end_delete_and_undo(page):
    box = clip_box()
    first = page.run("/api/track", {"boxes": [box]})
    assert first["retracked"] == CLIP_FRAMES - 1 and first["of"] == CLIP_FRAMES
    json_before = json.loads(page.file(first, "results.json"))

    fixed = page.run("/api/keyframes", {"action": "set", "frame": 10, "target": 0, "box": moved(box, 2, 1)})
    assert fixed["retracked"] == CLIP_FRAMES - 11  # frames 11..29: the run from frame 0 only got shorter
    assert f"re-tracked {CLIP_FRAMES - 11} of {CLIP_FRAMES} frames" in fixed["message"]
    after = json.loads(page.file(fixed, "results.json"))
    assert after["frames"][:10] == json_before["frames"][:10]  # before the keyframe: untouched
    assert after["frames"][10]["init"] and after["frames"][10]["targets"][0]["polygon"][:2] == [box[0] + 2, box[1] + 1]
    assert page.timeline()["timeline"]["targets"][0]["keyframes"] == [0, 10]

    regions = page.timeline(10)["regions"]
    assert regions[0]["keyframe"] == "region" and regions[0]["present"]
    moved_again = page.run("/api/keyframes", {"action": "set", "frame": 10, "target": 0, "box": moved(box, 4, 1)})
    assert moved_again["retracked"] == CLIP_FRAMES - 11  # the moved keyframe's run only

    ended = page.run("/api/keyframes", {"action": "end", "frame": 20, "target": 0})
    assert ended["retracked"] == 0  # a run cut short: nothing to track
    summary = page.timeline()["timeline"]
    assert summary["targets"][0]["ends"] == [20] and summary["last"] == 20  # nothing after the end mark
    assert summary["targets"][0]["absent"][-1][1] == 20  # absent on it (the tracker may judge so earlier too)
    frames = json.loads(page.file(ended, "results.json"))["frames"]
    assert len(frames) == 21 and frames[20]["targets"][0]["present"] is False
    assert frames[:20] == json.loads(page.file(moved_again, "results.json"))["frames"][:20]

    deleted = page.run("/api/keyframes", {"action": "delete", "frame": 10, "target": 0})
    assert deleted["retracked"] == 19  # the run from frame 0 now reaches frame 19 (the end mark)
    assert page.timeline()["timeline"]["targets"][0]["keyframes"] == [0]

    for want in ([0, 10], [0, 10], [0, 10], [0]):  # undo: the delete, the end, the move, the set; nothing tracked
        undone = page.run("/api/undo")
        assert undone["retracked"] == 0
        assert page.timeline()["timeline"]["targets"][0]["keyframes"] == want
    assert json.loads(page.file(undone, "results.json")) == json_before  # back where the first run was
    assert page.timeline()["timeline"]["undo"] == 0
    error(page.post("/api/undo"), 400, "nothing to undo")


def test_a_new_target_on_a_later_frame_and_both_directions(page):
    box = clip_box()
    page.run("/api/track", {"boxes": [box], "start": 5, "direction": "both"})
    summary = page.timeline()["timeline"]
    assert (summary["first"], summary["last"]) == (0, CLIP_FRAMES - 1)
    added = page.run("/api/keyframes", {"action": "set", "frame": 12, "target": 1, "box": [100, 70, 30, 30]})
    assert added["retracked"] == CLIP_FRAMES - 1  # a new target: all its frames, backward and forward
    frames = json.loads(page.file(added, "results.json"))["frames"]
    assert len(frames[0]["targets"]) == 2 and frames[12]["targets"][1]["polygon"][:2] == [100, 70]


def test_the_downloads_after_a_correction_equal_track_with_its_keyframes(page, seeded_checkpoint, tmp_path,
                                                                       clip30, monkeypatch):
    from siammask.cli import main

    box = clip_box()
    page.run("/api/track", {"boxes": [box]})
    job = page.run("/api/keyframes", {"action": "set", "frame": 17, "target": 0, "box": moved(box, 3, 2),
                                      "direction": "both"})
    keys = page.file(job, "keyframes.csv").decode()
    assert keys.splitlines()[1:] == [f"0,0,{','.join(repr(float(v)) for v in box)}",
                                     f"17,0,{','.join(repr(float(v)) for v in moved(box, 3, 2))}"]
    (tmp_path / "clip.mp4").write_bytes(clip30.read_bytes())
    (tmp_path / "keys.csv").write_text(keys)
    monkeypatch.chdir(tmp_path)
    assert main(["track", "clip.mp4", "--keyframes", "keys.csv", "--both", "--checkpoint", str(seeded_checkpoint),
                 "--output", "cli.json", "--output", "cli.xml", "--no-progress"]) == 0
    same_json(json.loads(page.file(job, "results.json")), json.loads((tmp_path / "cli.json").read_text()))
    assert page.file(job, "annotations.xml") == (tmp_path / "cli.xml").read_bytes()


def same_json(got: dict, want: dict) -> None:
    """Equal but for polygons and boxes, which may differ by POLY_TOL_PX (batched runs)."""
    assert {k: v for k, v in got.items() if k != "frames"} == {k: v for k, v in want.items() if k != "frames"}
    assert [f["frame"] for f in got["frames"]] == [f["frame"] for f in want["frames"]]
    for a, b in zip(got["frames"], want["frames"]):
        assert a["init"] == b["init"]
        for ta, tb in zip(a["targets"], b["targets"], strict=True):
            assert ta["present"] == tb["present"], a["frame"]
            for key in ("polygon", "box"):
                if tb[key] is None:
                    assert ta[key] is None
                else:
                    np.testing.assert_allclose(ta[key], tb[key], atol=POLY_TOL_PX, rtol=0)


def test_seek_gives_the_decoded_frame_and_counts_it(page, clip30):
    store = page.client.app.state.store
    before = store.used_bytes()
    response = page.client.get("/api/frame", params={"index": 21}, headers=page.headers)
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    shown = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    capture = cv2.VideoCapture(str(clip30))
    decoded = [capture.read()[1] for _ in range(CLIP_FRAMES)]
    capture.release()
    errors = [np.abs(shown.astype(int) - d.astype(int)).mean() for d in decoded]
    assert int(np.argmin(errors)) == 21 and errors[21] < 4  # a JPEG (quality 90) of frame 21, no other
    assert store.used_bytes() > before  # the frames decoded for seeking count in the budget


BAD_CORRECTIONS = [
    ({"action": "set", "frame": 3, "target": 0, "box": [1, 2, 3]}, 400, "box 0: expected [x, y, w, h]"),
    ({"action": "set", "frame": 3, "target": 0, "box": [500, 500, 10, 10]}, 400, "box 0"),
    ({"action": "set", "frame": 3, "target": 0}, 400, "box 0"),
    ({"action": "set", "frame": -1, "target": 0, "box": [1, 2, 30, 30]}, 400, "frame -1: out of range"),
    ({"action": "set", "frame": CLIP_FRAMES, "target": 0, "box": [1, 2, 30, 30]}, 400, "out of range"),
    ({"action": "set", "frame": "3", "target": 0, "box": [1, 2, 30, 30]}, 400, "frame: expected a frame number"),
    ({"action": "set", "frame": True, "target": 0, "box": [1, 2, 30, 30]}, 400, "frame: expected a frame number"),
    ({"action": "set", "frame": 10**30, "target": 0, "box": [1, 2, 30, 30]}, 400, "out of range"),
    ({"action": "set", "frame": 3, "target": 2, "box": [1, 2, 30, 30]}, 400, "target: expected a target number"),
    ({"action": "set", "frame": 3, "target": "0", "box": [1, 2, 30, 30]}, 400, "target: expected a target number"),
    ({"action": "delete", "frame": 3, "target": 1}, 400, "no such target"),
    ({"action": "delete", "frame": 3, "target": 0}, 400, "no keyframe on frame 3"),
    ({"action": "delete", "frame": 0, "target": 0}, 400, "its only keyframe"),
    ({"action": "move", "frame": 3, "target": 0}, 400, "action: expected one of set, delete, end"),
    ({"action": "end", "frame": 3, "target": 0, "direction": "sideways"}, 400, "direction: expected one of"),
    ({"action": "end", "frame": 0, "target": 0}, 400, "only end marks"),
]


def test_bad_corrections_are_refused_in_one_line(page):
    error(page.post("/api/keyframes", BAD_CORRECTIONS[0][0]), 400, "track the video first")
    page.run("/api/track", {"boxes": [clip_box()]})
    for body, status, fragment in BAD_CORRECTIONS:
        error(page.post("/api/keyframes", body), status, fragment)
    assert page.timeline()["timeline"]["targets"][0]["keyframes"] == [0]  # nothing changed
    assert page.timeline()["timeline"]["undo"] == 0


def test_bad_seeks_and_starts_are_refused_in_one_line(page):
    for index in ("-1", "abc", "1e3", " 3", "999999999"):
        error(page.client.get("/api/frame", params={"index": index}, headers=page.headers), 400, "index")
    error(page.client.get("/api/frame", params={"index": str(CLIP_FRAMES)}, headers=page.headers), 400,
          "out of range")
    error(page.post("/api/track", {"boxes": [clip_box()], "start": CLIP_FRAMES}), 400, "start 30: out of range")
    error(page.post("/api/track", {"boxes": [clip_box()], "direction": 1}), 400, "direction")
    started = page.post("/api/track", {"boxes": [clip_box()]})
    error(page.post("/api/keyframes", {"action": "end", "frame": 3, "target": 0}), 409, "still going")
    page.client.post(f"/api/jobs/{started.json()['id']}/stop", headers=page.headers)


@pytest.fixture(scope="module")
def long_zip(tmp_path_factory) -> tuple[bytes, np.ndarray]:
    """`siammask synth`: one 160x120 sequence of LONG frames, zipped as the page takes a folder."""
    from siammask.cli import main

    folder = tmp_path_factory.mktemp("synth") / "data"
    assert main(["synth", str(folder), "--sequences", "1", "--frames", str(LONG), "--size", "160x120"]) == 0
    sequence = next(p for p in folder.iterdir() if p.is_dir())
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        for image in sorted(sequence.glob("*.jpg")):
            zf.write(image, image.name)
    return data.getvalue(), np.loadtxt(sequence / "groundtruth.txt", delimiter=",")


def box_of(polygon: np.ndarray) -> list[int]:
    xy = polygon.reshape(4, 2)
    x0, y0 = np.floor(xy.min(axis=0)).astype(int)
    x1, y1 = np.ceil(xy.max(axis=0)).astype(int)
    return [int(x0), int(y0), int(x1 - x0), int(y1 - y0)]


def test_one_correction_of_a_300_frame_video_retracks_only_what_changed(settings, long_zip, monkeypatch):
    """The tracker is counted (and made instant: the count is the plan's, not the model's): a
    correction on frame t of a 300-frame video runs it on the frames of changed_runs, the run it cut
    short excepted (its frames kept), no other, and on fewer than the video's frames."""
    import dataclasses

    from siammask.tracking.tracker import MultiTracker, init_result

    calls: list[int] = []

    def add(self, frame, boxes):
        self.targets = self.targets + [tuple(map(float, b)) for b in boxes]

    def track(self, frame):
        calls.append(len(self.targets))
        return [dataclasses.replace(init_result(b), score=0.9) for b in self.targets]

    monkeypatch.setattr(MultiTracker, "add", add)
    monkeypatch.setattr(MultiTracker, "track", track)
    data, truth = long_zip
    with TestClient(create_app(settings), base_url=BASE) as client:
        page = Page(client)
        opened = client.post("/api/upload", params={"name": "long.zip"}, content=data, headers=page.headers)
        assert opened.json()["frames"] == LONG
        start = box_of(truth[0])
        first = page.run("/api/track", {"boxes": [start]})
        assert first["frames"] == LONG and first["retracked"] == LONG - 1 == len(calls)
        t = 150
        fix = box_of(truth[t])
        calls.clear()
        job = page.run("/api/keyframes", {"action": "set", "frame": t, "target": 0, "box": fix})

    old = plan([Keyframe(0, 0, tuple(map(float, start)))], "forward", LONG)
    new = plan([Keyframe(0, 0, tuple(map(float, start))), Keyframe(t, 0, tuple(map(float, fix)))], "forward", LONG)
    changed = changed_runs(old, new, LONG)
    assert all(r.keyframe == t for r in changed)  # the run from frame 0, now ending at t - 1, is kept
    want = len({f for r in changed for f in r.frames(LONG)})
    assert job["retracked"] == want == len(calls) == LONG - t - 1 < LONG
    assert f"re-tracked {want} of {LONG} frames" in job["message"]
    assert job["frames"] == LONG - t  # the keyframe's frame and the frames tracked again
