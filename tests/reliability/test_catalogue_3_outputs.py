"""Issue 26, the third catalogue: outputs that lie (F), --force on what siammask did not write (G),
counts with no bound (E/K: --threads, targets), the overlay MP4 (new user 2) and the model cache
(new user 8). Each case as a user meets it: the real CLI, one line on stderr, nothing lost."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys

import numpy as np
import pytest

from siammask.errors import SiamMaskError
from tests.reliability.helpers import BOX, assert_one_line_error, cli, snapshot, write_dataset, write_frames


def _track(*args: object) -> list[str]:
    return ["track", *[str(a) for a in args], "--backend", "onnxruntime", "--no-progress"]


# --------------------------------------------------------------------------------------------
# F. wrong or half-written output reported as success


def test_a_video_cut_by_a_file_size_limit_never_replaces_a_good_one(tmp_path, capsys, exported_model):
    """`ulimit -f 4` (as a full disk): OpenCV's writer said nothing and exit 0 replaced good.avi
    with 4 KB; now the write error is one line, exit 1, and good.avi is as it was."""
    frames = tmp_path / "frames"
    write_frames(frames, 6)
    good = tmp_path / "good.avi"
    rc, _, err = cli(capsys, *_track(frames, "--box", BOX, "--model", exported_model, "--video", good))
    assert rc == 0, err
    before = good.read_bytes()
    assert len(before) > 8 << 10

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4 << 10, 4 << 10))

    done = subprocess.run(
        [sys.executable, "-m", "siammask.cli", *_track(frames, "--box", BOX, "--model", exported_model,
                                                       "--video", good)],
        capture_output=True, text=True, timeout=300, preexec_fn=limit,
    )
    assert_one_line_error(done.returncode, done.stderr, f"video {good}", "File too large")
    assert good.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames", "good.avi"]


def test_the_overlay_mp4_is_h264(tmp_path, capsys, exported_model):
    """New user 2: MPEG-4 Part 2 (mp4v) plays in no browser; the MP4 is H.264 now (Chromium's own
    check: tests/io/test_visualize.py::test_chromium_plays_the_mp4)."""
    import av

    frames = tmp_path / "frames"
    write_frames(frames, 4)
    video = tmp_path / "x.mp4"
    rc, _, err = cli(capsys, *_track(frames, "--box", BOX, "--model", exported_model, "--video", video))
    assert rc == 0, err
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert sum(1 for p in container.demux(stream) if p.size) == 4


def test_non_finite_scores_are_an_error_naming_the_frame(tmp_path, capsys, seeded_checkpoint):
    """Finite weights x1e30 make every score NaN: `track --output r.json` wrote bare NaN (invalid
    JSON) with exit 0; now one line names the frame and nothing is written."""
    import torch

    state = torch.load(seeded_checkpoint, weights_only=True)

    def scale(d: dict) -> None:
        for k, v in d.items():
            if isinstance(v, dict):
                scale(v)
            elif torch.is_tensor(v) and v.is_floating_point() and "running_var" not in k:
                d[k] = v * 1e30

    scale(state)
    huge = tmp_path / "huge.pth"
    torch.save(state, huge)
    frames = tmp_path / "frames"
    write_frames(frames, 3)
    out = tmp_path / "r.json"
    rc, _, err = cli(capsys, "track", frames, "--box", BOX, "--checkpoint", huge, "--output", out, "--no-progress")
    assert_one_line_error(rc, err, "frame 1", "not finite")
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["frames", "huge.pth"]


def test_track_json_is_strict_json_whatever_the_values(tmp_path):
    """Every JSON writer goes through json_text: a NaN that reaches a result file is null, never NaN."""
    from siammask.io.outputs import ResultWriter
    from siammask.tracking.tracker import TrackResult, init_result

    path = tmp_path / "r.json"
    nan = np.full(4, np.nan)
    with ResultWriter(path, 1, "src", (96, 96), float("nan")) as writer:
        writer.write(0, [init_result([1, 2, 3, 4])], init=True)
        writer.write(1, [TrackResult(np.full((4, 2), np.nan), nan, float("inf"), None, 0, False)])

    def refuse(name: str) -> None:
        raise AssertionError(f"bare {name} in the JSON")

    data = json.loads(path.read_text(), parse_constant=refuse)
    assert data["frames"][1]["targets"][0]["polygon"] == [None] * 8 and data["fps"] is None


# --------------------------------------------------------------------------------------------
# G. --force replaces only what siammask wrote


def test_synth_force_never_replaces_a_users_dataset(tmp_path, capsys):
    mine = write_dataset(tmp_path / "mine", ["bag", "ball"])  # a VOT layout siammask did not write
    before = snapshot(mine)
    rc, _, err = cli(capsys, "synth", mine, "--sequences", 1, "--frames", 3, "--size", "64x64", "--force")
    assert_one_line_error(rc, err, "siammask did not write it", ".siammask")
    assert snapshot(mine) == before

    ours = tmp_path / "ours"
    assert cli(capsys, "synth", ours, "--sequences", 2, "--frames", 3, "--size", "64x64")[0] == 0
    (ours / "synth00" / "notes.txt").write_text("mine")  # a note inside a sequence folder
    before = snapshot(ours)
    rc, _, err = cli(capsys, "synth", ours, "--sequences", 1, "--frames", 3, "--size", "64x64", "--force")
    assert_one_line_error(rc, err, "synth00/notes.txt")
    assert snapshot(ours) == before
    (ours / "synth00" / "notes.txt").unlink()
    frame = next((ours / "synth01").glob("*.jpg"))
    frame.write_bytes(frame.read_bytes() + b"edited")  # a frame the user changed
    rc, _, err = cli(capsys, "synth", ours, "--sequences", 1, "--frames", 3, "--size", "64x64", "--force")
    assert_one_line_error(rc, err, "was changed after siammask wrote it")
    frame.unlink()  # a file deleted is no loss: the rest is siammask's, unchanged
    rc, _, err = cli(capsys, "synth", ours, "--sequences", 1, "--frames", 3, "--size", "64x64", "--force")
    assert rc == 0, err
    assert (ours / "list.txt").read_text() == "synth00\n"


def test_synth_davis_force_never_replaces_a_users_davis_folder(tmp_path, capsys):
    args = ["synth", tmp_path / "dav", "--layout", "davis", "--sequences", 1, "--frames", 3, "--size", "64x64"]
    assert cli(capsys, *args)[0] == 0
    assert cli(capsys, *args, "--force")[0] == 0  # its own: replaced
    (tmp_path / "dav" / "Annotations" / "480p" / "extra").mkdir()
    before = snapshot(tmp_path / "dav")
    rc, _, err = cli(capsys, *args, "--force")
    assert_one_line_error(rc, err, "the folder 'Annotations/480p/extra'")
    assert snapshot(tmp_path / "dav") == before
    users = tmp_path / "users"
    for name in ("JPEGImages", "Annotations", "ImageSets"):
        (users / name).mkdir(parents=True)
    (users / "JPEGImages" / "frame.jpg").write_bytes(b"mine")
    rc, _, err = cli(capsys, "synth", users, "--layout", "davis", "--force")
    assert_one_line_error(rc, err, "no .siammask record")
    assert (users / "JPEGImages" / "frame.jpg").read_bytes() == b"mine"


def test_export_force_never_deletes_a_users_folder_named_like_a_graph(tmp_path, capsys, exported_model,
                                                                     seeded_checkpoint):
    out = tmp_path / "model"
    shutil.copytree(exported_model, out)
    (out / "refine.onnx").unlink()
    (out / "refine.onnx").mkdir()
    (out / "refine.onnx" / "work.txt").write_text("mine")
    before = snapshot(out)
    rc, _, err = cli(capsys, "export", "--checkpoint", seeded_checkpoint, "--output", out, "--force")
    assert_one_line_error(rc, err, "siammask did not write it", "folder 'refine.onnx'")
    assert snapshot(out) == before
    shutil.rmtree(out / "refine.onnx")
    (out / "search.onnx").write_bytes(b"my own graph")  # a file of the name, not the manifest's bytes
    rc, _, err = cli(capsys, "export", "--checkpoint", seeded_checkpoint, "--output", out, "--force")
    assert_one_line_error(rc, err, "'search.onnx' was changed")
    assert (out / "search.onnx").read_bytes() == b"my own graph"


# --------------------------------------------------------------------------------------------
# E/K. counts with no upper bound


@pytest.mark.parametrize("threads", ["99999999999999999999", "100000"])
def test_threads_are_bounded_by_the_cores(tmp_path, capsys, threads):
    """--threads 10^20 was a traceback, 100000 made threads to the system's limit: both are a
    usage error now (4 per core), before anything is read."""
    with pytest.raises(SystemExit) as stop:
        cli(capsys, "track", tmp_path, "--box", BOX, "--model", tmp_path, "--threads", threads)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "Traceback" not in err
    assert "more than the" in err and "threads this machine can use" in err
    from siammask.engines.factory import EngineSpec

    with pytest.raises(SiamMaskError, match="threads this machine can use"):
        EngineSpec(model="m", threads=int(threads))


def test_targets_are_bounded(tmp_path, capsys, monkeypatch):
    """200 --box targets was an allocation traceback: more than label maps number (255), or more
    than memory holds at the measured cost per target, is one line before any model is loaded."""
    import siammask.tracking.tracker as tracker

    frames = tmp_path / "frames"
    write_frames(frames, 2)
    rc, _, err = cli(capsys, "track", frames, *["--box", BOX] * 256, "--model", tmp_path / "none")
    assert_one_line_error(rc, err, "256 --box targets", "at most 255")
    monkeypatch.setattr(tracker, "available_memory", lambda: 1 << 30)
    rc, _, err = cli(capsys, "track", frames, *["--box", BOX] * 200, "--model", tmp_path / "none")
    assert_one_line_error(rc, err, "200 --box targets need about 17.2 GiB", "1.0 GiB available", "at most 11")


def test_davis_objects_are_bounded_by_memory(tmp_path, capsys, monkeypatch, exported_model):
    """A 254-object DAVIS sequence failed as "OpenVINO cannot compile it" after 22 GB: the same
    bound as track's, one line naming the sequence, before its frames are read."""
    import siammask.tracking.tracker as tracker

    dataset = tmp_path / "dav"
    assert cli(capsys, "synth", dataset, "--layout", "davis", "--sequences", 1, "--frames", 3, "--size", "64x64",
               "--objects", 3)[0] == 0
    monkeypatch.setattr(tracker, "available_memory", lambda: 100 << 20)
    rc, _, err = cli(capsys, "eval", "--dataset", dataset, "--model", exported_model, "--backend", "onnxruntime",
                     "--results", tmp_path / "results")
    assert_one_line_error(rc, err, "davis00", "3 objects need about", "0.1 GiB available")


# --------------------------------------------------------------------------------------------
# New user 8. the OpenVINO model cache: where, how big, moved or off


def test_cache_dir_option_and_setting(tmp_path, monkeypatch):
    from siammask.engines.factory import EngineSpec
    from siammask.engines.openvino_engine import cache_root, cache_summary

    assert EngineSpec(model="m", cache_dir="").cache_dir == "none"
    assert EngineSpec(model="m", cache_dir="NONE").cache_dir == "none"
    assert EngineSpec(model="m", cache_dir=str(tmp_path)).cache_dir == str(tmp_path)
    monkeypatch.setenv("SIAMMASK_CACHE_DIR", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c" and cache_root("none") is None
    monkeypatch.setenv("SIAMMASK_CACHE_DIR", "")
    assert cache_root() is None and "off" in cache_summary()
    monkeypatch.setenv("SIAMMASK_CACHE_MAX_MB", "nan")
    with pytest.raises(SiamMaskError, match="SIAMMASK_CACHE_MAX_MB"):
        from siammask.engines.openvino_engine import cache_limit

        cache_limit()
