"""Issue 5's catalogue of bad inputs, one test case each, all through the real CLI.

Every case ends in exit 1 and exactly one stderr line `siammask: error: ...` naming the file, line or
key at fault, with no traceback; files that existed before the command are byte-for-byte unchanged
and no partial or temporary file is left. The few inputs that are accepted by design (16-bit and
4-channel images, stray files beside results) are here too, with what happens to them. The table
in docs/reliability.md lists the same cases.

Frames are 96x96 and sequences 4 frames long: most cases fail before any network call, the rest
after one template call.
"""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from siammask.errors import SiamMaskError
from siammask.io.sources import read_image
from tests.constants import AUTO_FP32, GOLDEN

from .helpers import BOX, assert_one_line_error, cli, snapshot, textured_frame, write_dataset, write_frames

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

TRACKER = f"SiamMask_{AUTO_FP32}"


# --------------------------------------------------------------------------------------------
# shared set-up: an output folder holding earlier results, which no failing command may touch


@pytest.fixture
def outputs(tmp_path):
    """tmp/out with an earlier run's result file and a stray file: both must survive any failure."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "r.json").write_text('{"earlier": "run"}\n')
    (out / "notes.txt").write_text("kept\n")
    return out


def track(capsys, source: Path | str, *extra: object, box: str = BOX, model: tuple = (), out: Path | None = None):
    args = ["track", source, f"--box={box}", *model, "--no-progress", "--max-frames", 4, *extra]
    if out is not None:
        args += ["--output", out / "r.json"]
    return cli(capsys, *args)


# --------------------------------------------------------------------------------------------
# frames, through `siammask track`


def _broken_link(folder: Path) -> Path:
    (folder / "00000002.jpg").unlink()
    (folder / "00000002.jpg").symlink_to(folder / "gone.jpg")
    return folder


def _garbage(folder: Path) -> Path:
    (folder / "00000002.jpg").write_bytes(b"this is not an image " * 50)
    return folder


def _truncated(folder: Path) -> Path:
    data = (folder / "00000002.jpg").read_bytes()
    (folder / "00000002.jpg").write_bytes(data[: len(data) // 2])
    return folder


def _empty_file(folder: Path) -> Path:
    (folder / "00000002.jpg").write_bytes(b"")
    return folder


def _empty_folder(folder: Path) -> Path:
    shutil.rmtree(folder)
    folder.mkdir()
    return folder


def _no_images(folder: Path) -> Path:
    shutil.rmtree(folder)
    folder.mkdir()
    (folder / "readme.txt").write_text("frames were here\n")
    (folder / "frames.zip").write_bytes(b"PK\x03\x04")
    return folder


def _bad_video(folder: Path) -> Path:
    video = folder.parent / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000)
    return video


def _size_change(folder: Path) -> Path:
    cv2.imwrite(str(folder / "00000002.jpg"), textured_frame(1, (80, 96)))
    return folder


FRAME_CASES = {
    "missing-mid-sequence": (_broken_link, ["00000002.jpg", "frame 1", "cannot be read"]),
    "unreadable-jpeg": (_garbage, ["00000002.jpg", "frame 1", "unreadable"]),
    "truncated-jpeg": (_truncated, ["00000002.jpg", "frame 1", "truncated JPEG"]),
    "empty-image-file": (_empty_file, ["00000002.jpg", "frame 1", "empty file"]),
    "empty-folder": (_empty_folder, ["frames", "is empty"]),
    "folder-without-images": (_no_images, ["frames", "holds no images"]),
    "video-cannot-be-opened": (_bad_video, ["clip.mp4", "cannot be opened"]),
    "frame-size-changes": (_size_change, ["frame 1 (00000002.jpg) is 80x96", "first frame is 96x96"]),
}


@pytest.mark.parametrize("case", FRAME_CASES)
def test_frames_track(capsys, tmp_path, outputs, exported_model, case):
    setup, fragments = FRAME_CASES[case]
    write_frames(tmp_path / "frames", 4)
    source = setup(tmp_path / "frames")
    before = snapshot(outputs)
    rc, out, err = track(capsys, source, model=("--model", exported_model), out=outputs)
    assert_one_line_error(rc, err, *fragments)
    assert out == ""
    assert snapshot(outputs) == before


# --------------------------------------------------------------------------------------------
# frames, through `siammask eval`: sequence `a` has a complete earlier result (kept, not redone),
# sequence `b` is broken; the results folder must come out exactly as it went in


def _eval_workspace(tmp_path: Path, model: Path | None = None) -> tuple[Path, Path]:
    """A dataset and a results folder holding an earlier run of `model` (its result for `a`, with
    the record of what made it, so that eval may resume it) and an earlier report."""
    from siammask.engines.factory import EngineSpec
    from siammask.evaluation.results_folder import claim_results

    dataset = write_dataset(tmp_path / "ds", ["a", "b"])
    results = tmp_path / "results"
    done = results / TRACKER / "baseline" / "a" / "a_001.txt"
    done.parent.mkdir(parents=True)
    done.write_text("1\n0\n0\n0\n")  # complete: one line per frame
    if model is not None:
        claim_results(results, TRACKER, EngineSpec(model=model), force=True)
    (results / "report.json").write_text('{"earlier": "report"}\n')
    return dataset, results


def _gap(folder: Path) -> Path:
    (folder / "00000002.jpg").unlink()
    return folder


def _no_frames(folder: Path) -> Path:
    for p in folder.glob("*.jpg"):
        p.unlink()
    (folder / "readme.txt").write_text("frames were here\n")
    return folder


EVAL_FRAME_CASES = {
    "missing-mid-sequence": (_gap, ["b/00000002.jpg is missing", "numbered 1 to 4"]),
    "broken-link": (_broken_link, ["b/00000002.jpg is missing (a broken link)"]),
    "unreadable-jpeg": (_garbage, ["b/00000002.jpg (frame 1)", "unreadable"]),
    "truncated-jpeg": (_truncated, ["b/00000002.jpg (frame 1)", "truncated JPEG"]),
    "empty-image-file": (_empty_file, ["b/00000002.jpg (frame 1)", "empty file"]),
    "folder-without-images": (_no_frames, ["no frames", "/b"]),
    "frame-size-changes": (_size_change, ["b/00000002.jpg (frame 1) is 80x96", "first frame is 96x96"]),
}


@pytest.mark.parametrize("case", EVAL_FRAME_CASES)
def test_frames_eval(capsys, tmp_path, exported_model, case):
    setup, fragments = EVAL_FRAME_CASES[case]
    dataset, results = _eval_workspace(tmp_path, exported_model)
    setup(dataset / "b")
    before = snapshot(results)
    rc, _, err = cli(capsys, "eval", "--dataset", dataset, "--model", exported_model, "--results", results,
                     "--json", results / "report.json")
    assert_one_line_error(rc, err, *fragments)
    assert snapshot(results) == before


def test_16bit_and_4channel_images_are_converted(capsys, tmp_path, exported_model):
    """Accepted: read as cv2.imread(IMREAD_COLOR) reads them, as the reference does. A 16-bit image
    keeps its high byte (value >> 8); a 4-channel one loses its alpha. Tracking runs on the result.
    Arrays handed to the Python API must already be 8-bit."""
    from siammask.tracking.tracker import MultiTracker

    frames16, frames4 = tmp_path / "f16", tmp_path / "f4"
    frames16.mkdir()
    frames4.mkdir()
    for k in range(2):
        image = textured_frame(k)
        assert cv2.imwrite(str(frames16 / f"{k:03d}.png"), image.astype(np.uint16) * 257 + 3)
        assert cv2.imwrite(str(frames4 / f"{k:03d}.png"), np.dstack([image, np.full(image.shape[:2], 9, np.uint8)]))
        np.testing.assert_array_equal(read_image(frames16 / f"{k:03d}.png"), image)
        np.testing.assert_array_equal(read_image(frames4 / f"{k:03d}.png"), image)
    for folder in (frames16, frames4):
        rc, out, err = track(capsys, folder, "--max-frames", 2, "--output", tmp_path / f"{folder.name}.json",
                             model=("--model", exported_model))
        assert rc == 0 and err == "" and out.startswith("tracked 2 frames"), (out, err)
    with pytest.raises(SiamMaskError, match="8-bit"):
        MultiTracker(engine=None).init(textured_frame(0).astype(np.uint16), [[30, 30, 24, 24]])


# --------------------------------------------------------------------------------------------
# ground truth, through `siammask eval` (one sequence of 4 frames, 96x96)

GOOD = ["30,30,24,24", "31,31,24,24", "32,32,24,24", "33,33,24,24"]
OUTSIDE_POLYGON = "300,300,340,300,340,330,300,330"

GT_CASES = {
    "too-few-values": (GOOD[:1] + ["1,2,3"] + GOOD[2:], ["groundtruth.txt:2", "3 values"]),
    "too-many-values": (GOOD[:1] + ["1,2,3,4,5"] + GOOD[2:], ["groundtruth.txt:2", "5 values"]),
    "mixed-counts": (GOOD[:1] + ["1,2,3,4,5,6,7,8"] + GOOD[2:], ["groundtruth.txt:2", "8 values where line 1 has 4"]),
    "nan": (GOOD[:2] + ["32,nan,24,24"] + GOOD[3:], ["groundtruth.txt:3", "non-finite"]),
    "text": (GOOD[:2] + ["32,32,wide,24"] + GOOD[3:], ["groundtruth.txt:3", "not a number"]),
    "blank-line": (GOOD[:1] + [""] + GOOD[2:], ["groundtruth.txt:2", "not a number"]),
    "zero-size": (GOOD[:3] + ["33,33,0,24"], ["groundtruth.txt:4", "0x24", "must be positive"]),
    "negative-size": (GOOD[:3] + ["33,33,24,-5"], ["groundtruth.txt:4", "24x-5", "must be positive"]),
    "degenerate-polygon": (["30,30,54,30,54,54,30,54"] + ["5,5,5,5,5,5,5,5"] * 3, ["groundtruth.txt:2", "0x0"]),
    "fewer-lines-than-frames": (GOOD[:3], ["groundtruth.txt has 3 lines for 4 frames"]),
    "more-lines-than-frames": (GOOD + ["34,34,24,24"], ["groundtruth.txt has 5 lines for 4 frames"]),
    "empty-file": ([], ["groundtruth.txt is empty"]),
    "polygon-outside-image": ([OUTSIDE_POLYGON] * 4, ["ground truth line 1 (frame 0", "00000001.jpg",
                                                      "outside the 96x96 image"]),
}


@pytest.mark.parametrize("case", GT_CASES)
def test_groundtruth(capsys, tmp_path, exported_model, case):
    lines, fragments = GT_CASES[case]
    dataset, results = _eval_workspace(tmp_path, exported_model)
    (dataset / "list.txt").write_text("a\nb\n")
    (dataset / "b" / "groundtruth.txt").write_text("".join(line + "\n" for line in lines))
    before = snapshot(results)
    rc, _, err = cli(capsys, "eval", "--dataset", dataset, "--model", exported_model, "--results", results)
    assert_one_line_error(rc, err, *fragments)
    assert snapshot(results) == before
    if case != "polygon-outside-image":  # the loader is shared: `report` refuses the same file
        rc, _, err = cli(capsys, "report", "--dataset", dataset, "--results", results)
        assert_one_line_error(rc, err, *fragments)


def test_groundtruth_missing(capsys, tmp_path):
    dataset, results = _eval_workspace(tmp_path)
    (dataset / "b" / "groundtruth.txt").unlink()
    rc, _, err = cli(capsys, "report", "--dataset", dataset, "--results", results)
    assert_one_line_error(rc, err, "b/groundtruth.txt not found")


# --------------------------------------------------------------------------------------------
# the init box argument of `siammask track` (all refused before any model is loaded)

BOX_CASES = {
    "three-values": ("1,2,3", ["--box '1,2,3'", "got 3"]),
    "five-values": ("1,2,3,4,5", ["--box '1,2,3,4,5'", "got 5"]),
    "text": ("x,y,w,h", ["--box 'x,y,w,h'", "comma-separated numbers"]),
    "semicolons": ("1;2;3;4", ["--box '1;2;3;4'", "comma-separated numbers"]),
    "empty": ("", ["--box ''", "comma-separated numbers"]),
    "nan": ("nan,2,20,20", ["--box 'nan,2,20,20'", "finite"]),
    "infinite": ("1,2,inf,20", ["--box '1,2,inf,20'", "finite"]),
    "zero-size": ("10,10,0,20", ["--box '10,10,0,20'", "positive width and height", "0x20"]),
    "negative-size": ("10,10,20,-3", ["--box '10,10,20,-3'", "positive width and height"]),
    "degenerate-polygon": ("5,5,5,5,5,5,5,5", ["--box '5,5,5,5,5,5,5,5'", "no area"]),
    "outside-right": ("500,10,20,20", ["--box '500,10,20,20'", "outside the 96x96 image"]),
    "outside-top-left": ("-50,-50,20,20", ["--box '-50,-50,20,20'", "outside the 96x96 image"]),
    "polygon-outside": ("200,200,220,200,220,220,200,220", ["outside the 96x96 image"]),
}


@pytest.mark.parametrize("case", BOX_CASES)
def test_box_argument(capsys, tmp_path, outputs, exported_model, case):
    box, fragments = BOX_CASES[case]
    write_frames(tmp_path / "frames", 2)
    before = snapshot(outputs)
    rc, _, err = track(capsys, tmp_path / "frames", box=box, model=("--model", exported_model), out=outputs)
    assert_one_line_error(rc, err, *fragments)
    assert snapshot(outputs) == before


# --------------------------------------------------------------------------------------------
# checkpoints, through `siammask track --checkpoint` and `siammask export --checkpoint`


@pytest.fixture(scope="module")
def weights(seeded_checkpoint):
    from siammask.model.checkpoint import read_state_dict

    return read_state_dict(seeded_checkpoint)


class _Payload:
    """Unpickling this opens (creates) the file: a stand-in for any code a pickle can run."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def _resnet_like() -> dict:
    shapes = {"conv1.weight": (64, 3, 7, 7), "bn1.weight": (64,), "bn1.bias": (64,), "bn1.running_mean": (64,),
              "bn1.running_var": (64,), "layer1.0.conv1.weight": (64, 64, 3, 3), "fc.weight": (1000, 512),
              "fc.bias": (1000,)}
    return {k: torch.zeros(s) for k, s in shapes.items()}


def _checkpoint(case: str, path: Path, weights: dict, seeded: Path) -> Path:
    if case == "not-a-file":
        path.mkdir()
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "truncated":
        data = seeded.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif case == "text-file":
        path.write_text("SiamMask_VOT.pth: see the project page to download\n")
    elif case == "another-network":
        torch.save({"state_dict": _resnet_like()}, path)
    elif case == "not-a-state-dict":
        torch.save({"state_dict": [torch.zeros(3)]}, path)
    else:
        state = dict(weights)
        if case == "missing-key":
            del state["rpn_model.cls.head.3.bias"]
        elif case == "extra-key":
            state["extra.layer.weight"] = torch.zeros(3)
        elif case == "mis-shaped-key":
            state["refine_model.post2.weight"] = torch.zeros(2, 4, 3, 3)
        torch.save(state, path)
    return path


CHECKPOINT_CASES = {
    "missing-path": ["missing.pth: not a file"],
    "not-a-file": ["ck.pth: not a file"],
    "empty": ["ck.pth: empty file"],
    "truncated": ["ck.pth: unreadable or truncated"],
    "text-file": ["ck.pth: refused, not a PyTorch weights file"],
    "another-network": ["does not fit SiamMask", "missing keys", "8 unexpected keys: conv1.weight"],
    "not-a-state-dict": ["ck.pth: not a state dict of tensors"],
    "missing-key": ["1 missing keys: rpn_model.cls.head.3.bias"],
    "extra-key": ["1 unexpected keys: extra.layer.weight"],
    "mis-shaped-key": ["1 mis-shaped keys: refine_model.post2.weight (2, 4, 3, 3) != (1, 4, 3, 3)"],
}


@pytest.mark.parametrize(
    ("case", "command"),
    # `export` shares the loader: three of its cases are enough
    [(c, "track") for c in CHECKPOINT_CASES] + [(c, "export") for c in ("truncated", "another-network", "missing-key")],
)
def test_checkpoint(capsys, tmp_path, outputs, weights, seeded_checkpoint, case, command):
    write_frames(tmp_path / "frames", 2)
    path = tmp_path / "missing.pth" if case == "missing-path" else _checkpoint(case, tmp_path / "ck.pth", weights,
                                                                              seeded_checkpoint)
    before = snapshot(outputs)
    if command == "track":
        rc, _, err = track(capsys, tmp_path / "frames", model=("--checkpoint", path), out=outputs)
    else:
        rc, _, err = cli(capsys, "export", "--checkpoint", path, "--output", outputs / "model")
    assert_one_line_error(rc, err, *CHECKPOINT_CASES[case])
    assert snapshot(outputs) == before  # export: no model folder, no hidden staging folder


@pytest.mark.parametrize("layout", ["torch-zip", "raw-pickle"])
def test_malicious_pickle_never_runs(tmp_path, layout):
    """In a fresh interpreter (no state shared with this one), through the installed entry module."""
    target = tmp_path / "pwned.txt"
    evil = tmp_path / "evil.pth"
    if layout == "torch-zip":
        torch.save({"state_dict": {"x": torch.zeros(1)}, "payload": _Payload(str(target))}, evil)
    else:
        evil.write_bytes(pickle.dumps({"state_dict": _Payload(str(target))}, protocol=2))  # torch's legacy format
    assert not target.exists()
    write_frames(tmp_path / "frames", 2)
    done = subprocess.run(
        [sys.executable, "-m", "siammask.cli", "track", str(tmp_path / "frames"), "--box", BOX,
         "--checkpoint", str(evil), "--no-progress"],
        capture_output=True, text=True, timeout=120,
    )
    assert_one_line_error(done.returncode, done.stderr, "evil.pth", "refused, it is not plain weights", "io.open")
    assert not target.exists()


# --------------------------------------------------------------------------------------------
# exported folders, through `siammask track --model`


def _copy_model(exported: Path, folder: Path) -> Path:
    """The export with its graphs linked, not copied (cases replace the link, never write through it)."""
    folder.mkdir()
    for p in exported.iterdir():
        if p.suffix == ".onnx":
            (folder / p.name).symlink_to(p.resolve())
        else:
            shutil.copy(p, folder / p.name)
    return folder


def _edit_manifest(folder: Path, edit) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    edit(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _replace_graph(folder: Path, name: str, data: bytes) -> None:
    (folder / name).unlink()
    (folder / name).write_bytes(data)


def _rewrite_graph(folder: Path, name: str, change) -> None:
    import onnx

    model = onnx.load(str((folder / name).resolve()))
    change(model)
    (folder / name).unlink()
    onnx.save(model, str(folder / name))


def _set_opset(model, version: int) -> None:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            entry.version = version


def _other_weights(model) -> None:
    """Another export's graph: the same signature, other weights (as if from another checkpoint)."""
    from onnx import numpy_helper

    for k, init in enumerate(model.graph.initializer):
        array = numpy_helper.to_array(init)
        if array.dtype == np.float32 and array.size > 100:
            model.graph.initializer[k].CopyFrom(numpy_helper.from_array(array * 1.5, init.name))
            return


def _other_checkpoint(manifest: dict) -> None:
    """The manifest of an export of another checkpoint, beside these graphs."""
    manifest["checkpoint"] = {"file": "other.pth", "sha256": "ab" * 32}
    for k, entry in enumerate(manifest["graphs"].values()):
        entry["sha256"] = f"{k:02d}" * 32


MODEL_CASES = {
    "graph-missing": (lambda f: (f / "search.onnx").unlink(), ["search.onnx missing"]),
    "graph-truncated": (
        lambda f: _replace_graph(f, "search.onnx", (f / "search.onnx").read_bytes()[:1_000_000]),
        ["search.onnx", "cannot be loaded"],
    ),
    "graph-not-onnx": (lambda f: _replace_graph(f, "refine.onnx", b"<html>404</html>"), ["refine.onnx"]),
    "manifest-missing": (lambda f: (f / "manifest.json").unlink(), ["manifest.json missing"]),
    "manifest-truncated": (
        lambda f: (f / "manifest.json").write_text((f / "manifest.json").read_text()[:100]),
        ["manifest.json: not valid JSON"],
    ),
    "manifest-not-siammask": (lambda f: (f / "manifest.json").write_text('{"graphs": {}}'),
                              ["manifest names no template, search, refine graph"]),
    "manifest-other-version": (
        lambda f: _edit_manifest(f, lambda m: m.update(package_version="9.9.0")),
        ["exported by siammask 9.9.0", "export again"],
    ),
    "graph-wrong-shapes": (
        lambda f: _replace_graph(f, "refine.onnx", (f / "template.onnx").read_bytes()),
        ["graph refine", "do not match the manifest"],
    ),
    "manifest-other-checkpoint": (lambda f: _edit_manifest(f, _other_checkpoint), ["sha256", "template.onnx"]),
    "graph-from-other-export": (lambda f: _rewrite_graph(f, "refine.onnx", _other_weights), ["sha256", "refine.onnx"]),
    "graph-wrong-opset": (lambda f: _rewrite_graph(f, "template.onnx", lambda m: _set_opset(m, 9)),
                          ["template.onnx", "opset 9"]),
    "manifest-other-opset": (lambda f: _edit_manifest(f, lambda m: m.update(opset=11)), ["opset 11"]),
    "manifest-entry-no-precision": (
        lambda f: _edit_manifest(f, lambda m: m["graphs"]["template"].pop("precision")),
        ["manifest.json", "precision"],
    ),
    "manifest-entry-not-object": (
        lambda f: _edit_manifest(f, lambda m: m["graphs"].update(search="search.onnx")),
        ["manifest.json", "search"],
    ),
}

@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
@pytest.mark.parametrize("case", sorted(MODEL_CASES))
def test_exported_folder(capsys, tmp_path, outputs, exported_model, case, backend):
    if backend == "openvino":
        pytest.importorskip("openvino")
    mutate, fragments = MODEL_CASES[case]
    folder = _copy_model(exported_model, tmp_path / "model")
    mutate(folder)
    write_frames(tmp_path / "frames", 2)
    before = snapshot(outputs)
    rc, _, err = track(capsys, tmp_path / "frames", "--max-frames", 2, "--backend", backend,
                       model=("--model", folder), out=outputs)
    # the fragments are ONNX Runtime's engine's words; OpenVINO's checks the graph hashes first and
    # names the same folder in its own one line
    assert_one_line_error(rc, err, *(fragments if backend == "onnxruntime" else ()))
    assert snapshot(outputs) == before


def test_model_folder_is_not_a_folder(capsys, tmp_path, outputs):
    write_frames(tmp_path / "frames", 2)
    rc, _, err = track(capsys, tmp_path / "frames", model=("--model", tmp_path / "nothing"), out=outputs)
    assert_one_line_error(rc, err, "nothing: not a directory")


# --------------------------------------------------------------------------------------------
# results folders, through `siammask report` and `siammask eval`


def _results_with(tmp_path: Path, text: str | None, model: Path | None = None) -> tuple[Path, Path, Path]:
    """Dataset `b` (4 frames) and tracker T's result file for it holding `text` (None: no file);
    with `model`, T's folder records that model made it (an earlier run of it, which eval resumes)."""
    from siammask.engines.factory import EngineSpec
    from siammask.evaluation.results_folder import claim_results

    dataset = write_dataset(tmp_path / "ds", ["b"])
    results = tmp_path / "results"
    path = results / "T" / "baseline" / "b" / "b_001.txt"
    path.parent.mkdir(parents=True)
    if text is not None:
        path.write_text(text)
    if model is not None:
        claim_results(results, "T", EngineSpec(model=model), force=True)
    return dataset, results, path


COMPLETE = "1\n31.0000,31.0000,55.0000,31.0000,55.0000,55.0000,31.0000,55.0000\n2\n0\n"
REPORT_CASES = {
    "half-written-lines": (COMPLETE[:COMPLETE.index("2\n")], ["sequence b repetition 1: 2 result lines for 4 frames"]),
    "half-written-mid-line": ("1\n31.0000,31.0000,55.0000,31.0000,5", ["b_001.txt:2", "got 5"]),
    "empty-file": ("", ["b_001.txt: empty result file"]),
    "foreign-text": ("<html><body>results</body></html>\n", ["b_001.txt:1", "not a number"]),
    "foreign-binary": ("\udcff", ["cannot read result file", "b_001.txt"]),
    "mask-regions": ("1\nm1,2,3\n0\n0\n", ["b_001.txt:2", "mask regions are not supported"]),
    "no-init-line": ("0\n0\n0\n0\n", ["sequence b repetition 1", "first line must be 1"]),
    "bad-code": ("1\n7\n0\n0\n", ["b_001.txt:2", "0 (skip), 1 (init) or 2 (failure)"]),
    "missing-file": (None, ["no result for sequence 'b'", "b_001.txt"]),
}


@pytest.mark.parametrize("case", REPORT_CASES)
def test_report_on_bad_results(capsys, tmp_path, case):
    text, fragments = REPORT_CASES[case]
    dataset, results, path = _results_with(tmp_path, None)
    if text == "\udcff":
        path.write_bytes(b"\xff\xfe\x00binary")
    elif text is not None:
        path.write_text(text)
    before = snapshot(results)
    rc, out, err = cli(capsys, "report", "--dataset", dataset, "--results", results)
    assert_one_line_error(rc, err, *fragments)
    assert out == "" and snapshot(results) == before


def test_report_on_results_of_another_dataset(capsys, tmp_path):
    # the golden results name synth00..synth02; a dataset of one 4-frame `synth00` is not theirs
    dataset = write_dataset(tmp_path / "ds", ["synth00"])
    results = GOLDEN / "results" / "VOT2016"
    rc, _, err = cli(capsys, "report", "--dataset", dataset, "--results", results)
    assert_one_line_error(rc, err, "results for sequences not in dataset ds", "synth01", "another dataset")
    for name in ("synth01", "synth02"):
        write_dataset(dataset, [name])
    (dataset / "list.txt").write_text("synth00\nsynth01\nsynth02\n")
    rc, _, err = cli(capsys, "report", "--dataset", dataset, "--results", results)
    assert_one_line_error(rc, err, "120 result lines for 4 frames", "another dataset")


def test_report_ignores_stray_files(capsys, tmp_path):
    """Accepted: files that are not `<seq>_NNN.txt` (notes, .DS_Store, a killed run's hidden .tmp) are
    not results and are ignored; so are trackers' folders without `baseline/`."""
    dataset, results, path = _results_with(tmp_path, COMPLETE)
    (path.parent / "notes.txt").write_text("tried twice\n")
    (path.parent / ".DS_Store").write_bytes(b"\x00\x01")
    (path.parent / ".b_001.txt.x1y2.tmp").write_text("1\n31.0,")
    (results / "T" / "README").write_text("tracker T\n")
    (results / "scratch").mkdir()
    rc, out, err = cli(capsys, "report", "--dataset", dataset, "--results", results, "--eao-interval", "1,4")
    assert rc == 0 and err == "", err
    assert "T " in out


EVAL_RESULT_CASES = {
    "foreign-text": ("<html><body>results</body></html>\n", ["b_001.txt:1", "not a number", "--force"]),
    "foreign-binary": ("\udcff", ["b_001.txt", "not a readable result file", "--force"]),
    "no-init-line": ("0\n0\n0\n0\n", ["b_001.txt:1", "starts with 1 (init)", "--force"]),
    "more-lines-than-frames": (COMPLETE + "0\n0\n", ["b_001.txt: 6 lines for a sequence of 4 frames", "--force"]),
    "folder-in-its-place": (None, ["b_001.txt: not a result file but a folder", "--force"]),
}


@pytest.mark.parametrize("case", EVAL_RESULT_CASES)
def test_eval_never_overwrites_a_foreign_result(capsys, tmp_path, exported_model, case):
    """A file in a result's place that no run on this sequence wrote: refused before any tracking
    (nothing is lost); --force replaces it."""
    text, fragments = EVAL_RESULT_CASES[case]
    dataset, results, path = _results_with(tmp_path, None, exported_model)
    if text == "\udcff":
        path.write_bytes(b"\xff\xfe\x00binary")
    elif text is None:
        path.mkdir()
    else:
        path.write_text(text)
    before = snapshot(results)
    rc, _, err = cli(capsys, "eval", "--dataset", dataset, "--model", exported_model, "--results", results,
                     "--tracker-name", "T")
    assert_one_line_error(rc, err, *fragments)
    assert snapshot(results) == before


@pytest.mark.parametrize("cut", ["lines", "mid-line"])
def test_eval_redoes_a_half_written_result(capsys, tmp_path, exported_model, cut):
    """The beginning of a result file (a writer killed half-way) is redone and replaced whole, and
    hidden temporary files left by a killed run are deleted."""
    text = COMPLETE[: COMPLETE.index("2\n")] if cut == "lines" else "1\n31.0000,31.0000,55.0000,31.0000,5"
    dataset, results, path = _results_with(tmp_path, text, exported_model)
    stale = path.parent / ".b_001.txt.abc123.tmp"
    stale.write_text("1\n")
    rc, _, err = cli(capsys, "eval", "--dataset", dataset, "--model", exported_model, "--results", results,
                     "--tracker-name", "T", "--eao-interval", "1,4")
    assert rc == 0, err
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[0] == "1"
    assert sorted(p.name for p in path.parent.iterdir()) == ["b_001.txt"]


@pytest.mark.parametrize("option", ["--results", "--json", "--plots"])
def test_eval_outputs_that_cannot_be_written(capsys, tmp_path, exported_model, option):
    """Refused before the model is loaded, not after hours of tracking."""
    dataset = write_dataset(tmp_path / "ds", ["b"])
    (tmp_path / "a-file").write_text("x\n")
    (tmp_path / "a-folder").mkdir()
    args = {"--results": tmp_path / "res", "--json": None, "--plots": None}
    args[option] = tmp_path / ("a-folder" if option == "--json" else "a-file")
    extra = [a for k, v in args.items() if v is not None for a in (k, v)]
    before = snapshot(tmp_path)
    rc, _, err = cli(capsys, "eval", "--dataset", dataset, "--model", exported_model, *extra)
    assert_one_line_error(rc, err, option, "a-folder: is a folder" if option == "--json" else "a-file: is not a folder")
    assert snapshot(tmp_path) == before


# --------------------------------------------------------------------------------------------
# the real process: stderr as a terminal user sees it (native library output included)


@pytest.mark.parametrize("case", ["video-cannot-be-opened", "graph-truncated", "truncated-jpeg"])
def test_real_stderr_is_one_line(tmp_path, exported_model, case):
    write_frames(tmp_path / "frames", 3)
    folder = _copy_model(exported_model, tmp_path / "model")
    source = tmp_path / "frames"
    if case == "video-cannot-be-opened":
        source = _bad_video(source)
    elif case == "graph-truncated":
        MODEL_CASES[case][0](folder)
    else:
        _truncated(source)
    done = subprocess.run(
        [sys.executable, "-m", "siammask.cli", "track", str(source), "--box", BOX, "--model", str(folder),
         "--output", str(tmp_path / "r.txt")],
        capture_output=True, text=True, timeout=180,
    )
    assert_one_line_error(done.returncode, done.stderr)
    assert not (tmp_path / "r.txt").exists()
    assert not list(tmp_path.glob(".r.txt*"))
