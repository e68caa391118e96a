"""`siammask track` from any frame, backward, both ways and with keyframes, on synth00 with the
seeded export: each run equals the plain forward run it is defined by (same tracker arithmetic:
exactly for the start/reverse goals, polygons within 0.01 px for keyframe runs)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from siammask.errors import SiamMaskError
from tests.commands.test_track import SEQ, assert_one_line_error, run_track
from tests.settings import colour_test_off

BOX0 = "175,143,70,67"
KEY_TOL_PX = 0.01


def frames_of(path) -> dict[int, list]:
    return {f["frame"]: f["targets"] for f in json.loads(path.read_text())["frames"]}


def track_json(capsys, tmp_path, model, source, name, *args) -> dict[int, list]:
    out = tmp_path / f"{name}.json"
    # the seeded model drifts: presence's colour test off, so that every frame has a polygon to compare
    rc, _, err = run_track(capsys, source, "--model", model, "--output", out, "--config", colour_test_off(tmp_path),
                           *args)
    assert rc == 0, err
    return frames_of(out)


def folder_of(tmp_path, name, indices) -> object:
    """A folder holding synth00's frames `indices` in that order (byte copies)."""
    folder = tmp_path / name
    folder.mkdir()
    paths = sorted(SEQ.glob("*.jpg"))
    for k, i in enumerate(indices):
        shutil.copyfile(paths[i], folder / f"{k:05d}.jpg")
    return folder


def box_text(frame: int) -> str:
    from tests.tracking.test_session import box_at

    return ",".join(f"{v:.4f}" for v in box_at(frame))


def test_start_n_reverse_equals_forward_on_frames_n_to_0(capsys, tmp_path, exported_model):
    n = 5
    got = track_json(capsys, tmp_path, exported_model, SEQ, "rev", "--box", BOX0, "--start", n, "--reverse")
    want = track_json(capsys, tmp_path, exported_model, folder_of(tmp_path, "back", range(n, -1, -1)), "fwd",
                      "--box", BOX0)
    assert sorted(got) == list(range(n + 1))  # the source's indices
    for k in range(n + 1):
        assert got[n - k] == want[k]


def test_start_n_equals_tracking_frames_n_to_end(capsys, tmp_path, exported_model):
    n, m = 3, 5
    got = track_json(capsys, tmp_path, exported_model, SEQ, "start", "--box", BOX0, "--start", n, "--max-frames", m)
    want = track_json(capsys, tmp_path, exported_model, folder_of(tmp_path, "tail", range(n, n + m)), "fwd",
                      "--box", BOX0)
    assert sorted(got) == list(range(n, n + m))
    assert [got[n + k] for k in range(m)] == [want[k] for k in range(m)]


def test_a_keyframe_restarts_its_target_and_the_frames_before_keep_the_earlier_run(capsys, tmp_path, exported_model):
    k, m = 4, 8
    keys = tmp_path / "keys.csv"
    keys.write_text(f"frame,target,x,y,w,h\n{k},0,{box_text(k)}\n")
    got = track_json(capsys, tmp_path, exported_model, SEQ, "keyed", "--box", BOX0, "--keyframes", keys,
                     "--max-frames", m)
    early = track_json(capsys, tmp_path, exported_model, SEQ, "early", "--box", BOX0, "--max-frames", k)
    fresh = track_json(capsys, tmp_path, exported_model, SEQ, "fresh", "--box", box_text(k), "--start", k,
                       "--max-frames", m - k)
    assert sorted(got) == list(range(m))
    for frame in range(m):
        want = early[frame] if frame < k else fresh[frame]
        np.testing.assert_allclose(got[frame][0]["polygon"], want[0]["polygon"], atol=KEY_TOL_PX)
    assert got[k][0]["score"] is None  # the keyframe carries its region


def test_both_writes_every_frame_once_with_the_keyframe_on_its_index(capsys, tmp_path, exported_model):
    got = track_json(capsys, tmp_path, exported_model, SEQ, "both", "--box", box_text(3), "--start", 3, "--both",
                     "--max-frames", 6)
    assert sorted(got) == list(range(6)) and got[3][0]["score"] is None
    assert all(t[0]["present"] for t in got.values())


@pytest.mark.parametrize("args, fragments", [
    (["--box", BOX0, "--reverse", "--keyframes", "{missing}"], ["--keyframes", "cannot be read"]),
    (["--box", BOX0, "--start", "500"], ["--start: frame 500 is past the source's last frame (119)"]),
    (["--keyframes", "{bad}"], ["--keyframes", "line 1: expected x,y,w,h or 8 polygon values"]),
    (["--box", BOX0, "--output", "{tmp}/out.yaml"], ["unknown extension", "--format"]),
])
def test_bad_inputs_exit_1_with_one_line(capsys, tmp_path, exported_model, args, fragments):
    (tmp_path / "bad.csv").write_text("0,0,1,2,3\n")
    filled = [a.format(missing=tmp_path / "none.csv", bad=tmp_path / "bad.csv", tmp=tmp_path) for a in args]
    rc, _, err = run_track(capsys, SEQ, "--model", exported_model, *filled)
    assert_one_line_error(rc, err, *fragments)


def test_reverse_and_both_together_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        run_track(capsys, SEQ, "--box", BOX0, "--reverse", "--both")
    assert info.value.code == 2


def test_a_camera_cannot_go_backward():
    from siammask.io.sources import Camera, FramesByIndex

    camera = Camera.__new__(Camera)  # no device needed: the refusal comes before any read
    camera.description = "camera 0"
    with pytest.raises(SiamMaskError, match=r"^camera 0: tracking backward needs earlier frames again"):
        FramesByIndex(camera, 0, 5)


def test_a_video_goes_backward_from_frames_held(tmp_path):
    """A video's frames for a backward run are decoded forward once and held; by index they equal
    a forward read."""
    import cv2

    from siammask.io.sources import FramesByIndex, VideoFile

    path = tmp_path / "v.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for k in range(8):
        writer.write(np.full((48, 64, 3), 20 * k, np.uint8))
    writer.release()
    with VideoFile(path) as video:
        forward = list(video)
        by_index = FramesByIndex(video, 2, 6)
        for index in range(6, 1, -1):
            np.testing.assert_array_equal(by_index(index), forward[index])
        with pytest.raises(SiamMaskError, match="frame 7 could not be decoded"):
            by_index(7)
