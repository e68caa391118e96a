"""`siammask track` end to end on a few frames of synth00 with the seeded checkpoint.

Frames are expensive (~0.2 s each on a small CPU), so the runs are short: 6 frames for one
target, 3 for three targets, 2 through ONNX Runtime; every error case fails before tracking.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from siammask.cli import main
from tests.constants import AUTO_FP32, DATASET
from tests.settings import colour_test_off

pytest.importorskip("torch")

SEQ = DATASET / "synth00"
BOX = "175,143,70,67"  # the target's bounding rectangle in frame 0
POLYGON = "199.7009,209.9061,175.8623,171.4680,220.2566,143.9353,244.0953,182.3734"  # groundtruth line 1


def run_track(capsys, *args: str) -> tuple[int, str, str]:
    rc = main(["track", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc: int, err: str, *fragments: str) -> None:
    assert rc == 1
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("siammask: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def onnx_folder(tmp_path_factory: pytest.TempPathFactory, checkpoint: Path) -> Path:
    """The seeded checkpoint exported once per session (the same folder tests/test_api.py uses)."""
    from siammask.deploy.export import export

    folder = tmp_path_factory.getbasetemp() / "seeded-onnx"
    if not (folder / "manifest.json").is_file():
        export(checkpoint, folder, force=True)
    return folder


def test_one_target_all_outputs_and_video(capsys, tmp_path, seeded_checkpoint):
    rc, out, err = run_track(
        capsys, SEQ, "--box", BOX, "--checkpoint", seeded_checkpoint, "--max-frames", 6,
        "--output", tmp_path / "r.json", "--output", tmp_path / "r.csv", "--output", tmp_path / "r.txt",
        "--video", tmp_path / "overlay.mp4", "--config", colour_test_off(tmp_path.parent),
    )
    assert rc == 0, err
    assert err == ""  # no progress bar off a terminal
    summary = out.strip().splitlines()
    assert len(summary) == 1
    assert summary[0].startswith("tracked 6 frames, 1 target, ") and "fps (torch fp32)" in summary[0]
    assert str(tmp_path / "r.json") in summary[0] and str(tmp_path / "overlay.mp4") in summary[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["overlay.mp4", "r.csv", "r.json", "r.txt"]

    data = json.loads((tmp_path / "r.json").read_text())
    assert data["image_size"] == [320, 240] and data["targets"] == 1 and data["source"] == str(SEQ)
    frames = data["frames"]
    assert [f["frame"] for f in frames] == list(range(6))
    assert [f["init"] for f in frames] == [True] + [False] * 5
    first = frames[0]["targets"][0]
    assert first["polygon"] == [175, 143, 245, 143, 245, 210, 175, 210] and first["score"] is None
    assert first["box"] == [175, 143, 70, 67]
    polygons = np.array([f["targets"][0]["polygon"] for f in frames])
    scores = [f["targets"][0]["score"] for f in frames[1:]]
    assert all(0 <= s <= 1 for s in scores)

    txt = np.loadtxt(tmp_path / "r.txt", delimiter=",")
    assert txt.shape == (6, 8)
    np.testing.assert_allclose(txt, polygons, atol=1e-4)
    lines = (tmp_path / "r.csv").read_text().splitlines()
    assert lines[0] == "frame,target,x1,y1,x2,y2,x3,y3,x4,y4,box_x,box_y,box_w,box_h,score,present"
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == 6 and rows[0][-2] == "" and [r[:2] for r in rows] == [[str(k), "0"] for k in range(6)]
    np.testing.assert_allclose(np.array([r[2:10] for r in rows], float), polygons, atol=1e-4)
    np.testing.assert_allclose([float(r[-2]) for r in rows[1:]], scores, atol=1e-4)
    # the seeded model is confident on this clip and the colour test is off: every frame present
    assert [r[-1] for r in rows] == ["1"] * 6 and all(f["targets"][0]["present"] is True for f in frames)

    capture = cv2.VideoCapture(str(tmp_path / "overlay.mp4"))
    video = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        video.append(image)
    capture.release()
    assert len(video) == 6 and video[0].shape == (240, 320, 3)
    cv2.imwrite(str(tmp_path / "overlay_frame5.png"), video[5])  # for looking at by hand
    # the polygon is drawn in red (target 0): sample its edge midpoints in the last frame
    corners = polygons[5].reshape(4, 2)
    redness = np.asarray(video[5], int)
    redness = redness[:, :, 2] - np.maximum(redness[:, :, 0], redness[:, :, 1])
    for a, b in zip(corners, np.roll(corners, -1, axis=0)):
        x, y = np.clip(np.round((a + b) / 2).astype(int), 1, [318, 238])
        assert redness[y - 1 : y + 2, x - 1 : x + 2].max() > 80, (x, y)
    # the overlay differs from the source frame (mask tint, outline, label) only around the target
    source = cv2.imread(sorted(str(p) for p in SEQ.glob("*.jpg"))[5])
    changed = np.abs(video[5].astype(int) - source).max(axis=2) > 60
    ys, xs = np.nonzero(changed)
    assert changed.sum() > 200
    assert xs.min() >= corners[:, 0].min() - 40 and ys.max() <= corners[:, 1].max() + 5


def test_three_targets_one_run(capsys, tmp_path, seeded_checkpoint):
    rc, out, err = run_track(
        capsys, SEQ, "--box", POLYGON, "--box", "95,30,60,60", "--box", "20,150,50,50",
        "--checkpoint", seeded_checkpoint, "--max-frames", 3,
        "--output", tmp_path / "r.txt", "--output", tmp_path / "r.json", "--video", tmp_path / "o.gif",
    )
    assert rc == 0, err
    assert out.startswith("tracked 3 frames, 3 targets, ")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["o.gif", "r.json", "r_0.txt", "r_1.txt", "r_2.txt"]  # .txt: one file per target
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["targets"] == 3 and len(data["frames"]) == 3
    assert [t["target"] for t in data["frames"][2]["targets"]] == [0, 1, 2]
    for k in range(3):
        txt = np.loadtxt(tmp_path / f"r_{k}.txt", delimiter=",")
        assert txt.shape == (3, 8)
        expected = [f["targets"][k]["polygon"] for f in data["frames"]]
        np.testing.assert_allclose(txt, expected, atol=1e-4)
    # a polygon box is reported as given on the init frame
    np.testing.assert_allclose(data["frames"][0]["targets"][0]["polygon"], [float(v) for v in POLYGON.split(",")])
    from PIL import Image

    with Image.open(tmp_path / "o.gif") as gif:
        assert gif.n_frames == 3 and gif.size == (320, 240)


def test_onnx_model(capsys, tmp_path, tmp_path_factory, seeded_checkpoint):
    folder = onnx_folder(tmp_path_factory, seeded_checkpoint)
    rc, out, err = run_track(
        capsys, SEQ, "--box", BOX, "--model", folder, "--threads", 2, "--max-frames", 2, "--output", tmp_path / "r.csv",
    )
    assert rc == 0, err
    assert out.startswith("tracked 2 frames, 1 target, ") and f"({AUTO_FP32} fp32)" in out
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 3


def test_no_model_runs_the_embedded_default(capsys, monkeypatch, tmp_path):
    """Neither --checkpoint nor --model: the embedded default, said in one line on stderr (its
    checkpoint written once into $SIAMMASK_CACHE; --backend torch needs no export)."""
    monkeypatch.setenv("SIAMMASK_CACHE", str(tmp_path / "cache"))
    rc, out, err = run_track(capsys, SEQ, "--box", BOX, "--backend", "torch", "--max-frames", 2,
                             "--output", tmp_path / "r.json")
    assert rc == 0, err
    assert err.splitlines() == ["siammask: no --checkpoint or --model: using the embedded default (trained on "
                                "synthetic data only, not on real objects)"]
    assert out.startswith("tracked 2 frames, 1 target, ") and "(torch fp32)" in out
    assert [p.name for p in (tmp_path / "cache").iterdir()][0].startswith("trained-default-")


def test_absent_frames_are_written_absent_in_every_format(capsys, monkeypatch, tmp_path, seeded_checkpoint):
    """Target 1 judged absent on frame 2 (the tracker's results marked so): JSON present false with
    no polygon/box, CSV empty cells and present 0, .txt a nan line, no pixel in the label map or the
    RLE; target 0 and the other frames as the tracker gave them (the overlay: tests/io/test_visualize.py)."""
    import dataclasses

    from siammask.tracking.tracker import MultiTracker

    track = MultiTracker.track

    def absent_on_frame_2(self, frame):
        results = track(self, frame)
        if self.frame_index == 2:
            results[1] = dataclasses.replace(results[1], present=False)
        return results

    monkeypatch.setattr(MultiTracker, "track", absent_on_frame_2)
    rc, out, err = run_track(
        capsys, SEQ, "--box", BOX, "--box", "20,150,50,50", "--checkpoint", seeded_checkpoint, "--max-frames", 3,
        "--output", tmp_path / "r.json", "--output", tmp_path / "r.csv", "--output", tmp_path / "r.txt",
        "--rle", "--masks", tmp_path / "masks", "--video", tmp_path / "o.avi", "--config", colour_test_off(tmp_path),
    )
    assert rc == 0, err
    frames = json.loads((tmp_path / "r.json").read_text())["frames"]
    gone = frames[2]["targets"][1]
    assert gone["present"] is False and gone["polygon"] is None and gone["box"] is None
    assert gone["from_mask"] is False and 0 <= gone["score"] <= 1
    assert [[t["present"] for t in f["targets"]] for f in frames] == [[True, True], [True, True], [True, False]]
    from pycocotools import mask as coco_mask

    assert coco_mask.decode({"size": gone["mask"]["size"], "counts": gone["mask"]["counts"].encode()}).sum() == 0
    assert all(isinstance(t["polygon"], list) for f in frames for t in f["targets"] if t["present"])

    rows = [line.split(",") for line in (tmp_path / "r.csv").read_text().splitlines()[1:]]
    assert [r[-1] for r in rows] == ["1", "1", "1", "1", "1", "0"]
    assert rows[5][:2] == ["2", "1"] and rows[5][2:14] == [""] * 12 and float(rows[5][14]) == gone["score"]
    assert rows[1][14] == "" and rows[0][14] == ""  # the init frame's score stays empty
    lines = (tmp_path / "r_1.txt").read_text().splitlines()
    assert lines[2] == ",".join(["nan"] * 8) and np.isnan(np.loadtxt(tmp_path / "r_1.txt", delimiter=",")[2]).all()
    assert np.isfinite(np.loadtxt(tmp_path / "r_0.txt", delimiter=",")).all()

    from PIL import Image

    labels = [np.array(Image.open(tmp_path / "masks" / f"{k:05d}.png")) for k in range(3)]
    assert (labels[1] == 2).any() and not (labels[2] == 2).any()  # target 1 has pixels on frame 1, none on 2
    assert (labels[2] == 1).any()


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["{tmp}/nope", "--box", BOX, "--checkpoint", "{ckpt}"], ["no such file or folder"]),
        (["{seq}", "--checkpoint", "{ckpt}"], ["no target given", "--box"]),
        (["{seq}", "--box", "1,2,3", "--checkpoint", "{ckpt}"], ["--box '1,2,3'", "4 values"]),
        (["{seq}", "--box", "a,b,c,d", "--checkpoint", "{ckpt}"], ["--box 'a,b,c,d'", "comma-separated"]),
        (["{seq}", "--box", "10,10,0,5", "--checkpoint", "{ckpt}"], ["positive width and height"]),
        (["{seq}", "--box", "10,10,-4,5", "--checkpoint", "{ckpt}"], ["positive width and height"]),
        (["{seq}", "--box", "1000,1000,10,10", "--checkpoint", "{ckpt}"], ["outside the 320x240 image"]),
        (["{seq}", "--box", BOX, "--checkpoint", "{ckpt}", "--output", "{tmp}/r.yaml"], ["unknown extension"]),
        (["{seq}", "--box", BOX, "--checkpoint", "{ckpt}", "--output", "{tmp}/no/r.csv"], ["does not exist"]),
        (["{seq}", "--box", BOX, "--checkpoint", "{ckpt}", "--video", "{tmp}/o.mkv"], ["unsupported extension"]),
        (["{seq}", "--box", BOX, "--checkpoint", "{tmp}/missing.pth"], ["missing.pth: not a file"]),
        (["{seq}", "--box", BOX, "--select", "--checkpoint", "{ckpt}"], ["either with --box or with --select"]),
        (["{tmp}/empty", "--box", BOX, "--checkpoint", "{ckpt}"], ["is empty"]),
        (["{tmp}/bad.mp4", "--box", BOX, "--checkpoint", "{ckpt}"], ["cannot be opened"]),
    ],
    ids=["missing-source", "no-box", "short-box", "text-box", "zero-size", "negative-size",
         "outside", "output-ext", "output-folder", "video-ext", "missing-checkpoint", "box-and-select",
         "empty-folder", "bad-video"],
)
def test_bad_inputs_exit_1_with_one_line(capsys, tmp_path, seeded_checkpoint, args, fragments):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 2000)
    values = {"seq": str(SEQ), "tmp": str(tmp_path), "ckpt": str(seeded_checkpoint)}
    rc, out, err = run_track(capsys, *(a.format(**values) for a in args))
    assert_one_line_error(rc, err, *fragments)
    assert out == ""


def test_select_without_display(capsys, monkeypatch, seeded_checkpoint):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    rc, _, err = run_track(capsys, SEQ, "--select", "--checkpoint", seeded_checkpoint)
    assert_one_line_error(rc, err, "--select", "no display is available", "--box")


def test_select_with_display_but_headless_opencv(capsys, monkeypatch, seeded_checkpoint):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setattr("cv2.getBuildInformation", lambda: "  GUI:                           NONE\n")
    rc, _, err = run_track(capsys, SEQ, "--select", "--checkpoint", seeded_checkpoint)
    assert_one_line_error(rc, err, "no GUI support", "--box")


def test_truncated_frame_mid_sequence_leaves_no_output(capsys, tmp_path, seeded_checkpoint):
    frames = tmp_path / "frames"
    frames.mkdir()
    for k in range(3):
        shutil.copy(SEQ / f"{k + 1:08d}.jpg", frames)
    bad = frames / "00000002.jpg"
    bad.write_bytes(bad.read_bytes()[:4000])
    rc, out, err = run_track(
        capsys, frames, "--box", BOX, "--checkpoint", seeded_checkpoint, "--output", tmp_path / "r.json",
        "--video", tmp_path / "o.avi",
    )
    assert_one_line_error(rc, err, "00000002.jpg", "frame 1", "truncated")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]  # no result, no video, no temp file


def test_usage_errors_exit_2(capsys):
    for args in (["--max-frames", "0"], ["--backend", "cuda"], ["--threads", "x"]):
        with pytest.raises(SystemExit) as info:
            main(["track", str(SEQ), "--box", BOX, *args])
        assert info.value.code == 2
    capsys.readouterr()


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as info:
        main(["track", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and "--box 10,20,50,80 --box" in text and "STEM_0.txt" in text


def test_ctrl_c_keeps_what_was_tracked(capsys, monkeypatch, tmp_path, seeded_checkpoint):
    def interrupted(self, frame):
        raise KeyboardInterrupt

    monkeypatch.setattr("siammask.tracking.tracker.MultiTracker.track", interrupted)
    rc, out, err = run_track(capsys, SEQ, "--box", BOX, "--checkpoint", seeded_checkpoint,
                             "--output", tmp_path / "r.json")
    assert rc == 130, err
    assert out.startswith("tracked 1 frame (stopped by Ctrl-C), 1 target, no frame tracked")
    assert len(json.loads((tmp_path / "r.json").read_text())["frames"]) == 1
