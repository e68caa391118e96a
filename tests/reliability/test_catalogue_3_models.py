"""Issue 26's third catalogue, model files: checkpoints, exported folders and settings files that
lie about their sizes or structure, or name files outside their folder.

One test per class, several members each (the guards sit where each file is read, so every member
takes the same path). Memory bombs run in a subprocess under an address-space limit: should a guard
regress, the child fails, never the machine. Exit 1 with one line naming the file and the problem.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .helpers import BOX, assert_one_line_error, cli, snapshot, write_dataset, write_frames

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

ADDRESS_SPACE = 4 << 30  # far below what any bomb here would take, far above what siammask needs


def run_cli(*args: object, preexec_fn=None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m siammask.cli ARGS` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "siammask.cli", *map(str, args)], capture_output=True, text=True,
                          errors="surrogateescape", timeout=timeout, preexec_fn=preexec_fn)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _limit_file_size(blocks: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, as on a full disk, not a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (blocks * 512, blocks * 512))

    return apply


def assert_one_line(done: subprocess.CompletedProcess, *fragments: str) -> str:
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("siammask: error: "), done.stderr[-2000:]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


# --------------------------------------------------------------------------------------------
# C. sizes claimed by hostile files: checked before anything of that size is allocated


def _deflated(path: Path, state: dict) -> None:
    """A torch.save archive whose members are re-packed with deflate (zeros shrink ~1000x)."""
    plain = path.with_suffix(".plain")
    torch.save(state, plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in src.infolist():
            out.writestr(info.filename, src.read(info.filename))
    plain.unlink()


def _sparse(path: Path, size: int) -> None:
    path.write_bytes(b"PK\x03\x04")
    os.truncate(path, size)  # holes: no disk used


CHECKPOINT_BOMBS = {
    # 1.6 KB: one float seen 10^10 times (40 GB once checked for NaN)
    "stride-0-view": (lambda p: torch.save({"w": torch.zeros(1).expand(10**10)}, p), ["w claims", "stride-0"]),
    "overlapping-view": (lambda p: torch.save({"state_dict": {"module.w": torch.zeros(8).expand(10**6, 8)}}, p),
                         ["module.w claims 8,000,000 elements"]),
    # 200 MB of zeros in 200 KB: refused from the zip's directory, before torch.load inflates it
    "deflate-bomb": (lambda p: _deflated(p, {"w": torch.zeros(5 * 10**7)}), ["zip bomb", "claim 200,000,"]),
    # a legacy (non-zip) file cannot claim more than it holds; a file over the budget is not read
    "sparse-huge": (lambda p: _sparse(p, (1 << 30) + 1), ["1073741825 bytes"]),
}


@pytest.mark.parametrize("case", sorted(CHECKPOINT_BOMBS))
@pytest.mark.parametrize("command", ["inspect", "track"])
def test_checkpoint_sizes_are_checked_before_allocation(tmp_path, case, command):
    make, fragments = CHECKPOINT_BOMBS[case]
    path = tmp_path / "bomb.pth"
    make(path)
    if command == "inspect":
        args = ["inspect", path]
    else:
        write_frames(tmp_path / "frames", 2)
        args = ["track", tmp_path / "frames", "--box", BOX, "--checkpoint", path, "--no-progress"]
    done = run_cli(*args, preexec_fn=_limit_memory)
    assert_one_line(done, str(path), *fragments)


def test_a_plain_slice_of_a_storage_is_still_a_tensor(tmp_path):
    """The view check compares a tensor's own elements with its storage: a slice of a larger
    storage (as saved by some tools) passes it and meets the layout check as usual."""
    from siammask.errors import SiamMaskError
    from siammask.model.checkpoint import read_state_dict

    path = tmp_path / "slice.pth"
    torch.save({"w": torch.arange(10.0)[2:5]}, path)
    assert read_state_dict(path)["w"].tolist() == [2.0, 3.0, 4.0]
    torch.save({"w": torch.zeros(3).expand(2, 3)}, path)
    with pytest.raises(SiamMaskError, match="stride-0 or overlapping view"):
        read_state_dict(path)


def test_settings_aliases_are_refused_before_expansion(tmp_path):
    """A 485-byte pysot YAML of nine nested aliases: a billion values once shown."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    laughs = tmp_path / "laughs.yaml"
    laughs.write_text("\n".join(lines) + "\nTRACK:\n  LR: *a8\n")
    out = tmp_path / "m"
    done = run_cli("export", "--seeded", "--config", laughs, "--output", out, preexec_fn=_limit_memory)
    assert_one_line(done, str(laughs), "alias *a0", "aliases are not accepted")
    assert not out.exists()


def test_manifest_is_read_within_a_small_cap(tmp_path, exported_model, capsys):
    folder = shutil.copytree(exported_model, tmp_path / "model")
    with open(folder / "manifest.json", "r+b") as f:
        f.truncate(64 << 20)  # sparse: the manifest's text, then 64 MB of holes
    rc, _, err = cli(capsys, "inspect", folder)
    assert_one_line_error(rc, err, "manifest.json", "more than the 1 MiB")


# --------------------------------------------------------------------------------------------
# D, H. an exported folder's manifest: its structure and graph file names checked where it is read


def _model_with(exported: Path, folder: Path, edit) -> Path:
    """The export with its graphs linked, its manifest edited."""
    folder.mkdir()
    for p in exported.glob("*.onnx"):
        (folder / p.name).symlink_to(p.resolve())
    manifest = json.loads((exported / "manifest.json").read_text())
    edit(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def _graph(name: str, **changes):
    return lambda m: m["graphs"][name].update(changes)


MANIFEST_CASES = {
    "precision-list": (_graph("search", precision=["fp32"]), ["search graph's 'precision' is a list"]),
    "precision-number": (_graph("template", precision=32), ["template graph's 'precision' is an integer"]),
    "precision-unknown": (_graph("refine", precision="fp8"), ["'fp8' is not one of fp32, fp16, int8"]),
    "inputs-string": (_graph("search", inputs="search"), ["search graph's 'inputs' is a string"]),
    "outputs-dims-not-list": (_graph("refine", outputs={"mask": 127}), ["refine graph's 'outputs' 'mask'"]),
    "extra-graph": (lambda m: m["graphs"].update(extra={"file": "extra.onnx"}), ["graphs holds 'extra'"]),
    "tracker-config-string": (lambda m: m.update(tracker_config="fast"), ["'tracker_config' is a string"]),
    "opset-string": (lambda m: m.update(opset="17"), ["'opset' is a string"]),
    "parent-file": (_graph("refine", file="../refine.onnx"), ["refine graph's 'file' '../refine.onnx'", "plain"]),
    "absolute-file": (_graph("search", file="/etc/passwd"), ["search graph's 'file' '/etc/passwd'", "plain"]),
    "same-file-twice": (_graph("refine", file="search.onnx"), ["search and refine graphs name the same file"]),
}


@pytest.mark.parametrize("case", sorted(MANIFEST_CASES))
@pytest.mark.parametrize("command", ["inspect", "track", "quantize"])
def test_manifest_structure_and_file_names(capsys, tmp_path, exported_model, case, command):
    edit, fragments = MANIFEST_CASES[case]
    folder = _model_with(exported_model, tmp_path / "model", edit)
    # what a `../refine.onnx` would have read or overwritten: the user's file beside the folders
    (tmp_path / "refine.onnx").write_text("the user's own file\n")
    before = snapshot(tmp_path)
    if command == "inspect":
        rc, out, err = cli(capsys, "inspect", folder)
        assert out == ""
    elif command == "track":
        write_frames(tmp_path / "frames", 2)
        before = snapshot(tmp_path)
        rc, _, err = cli(capsys, "track", tmp_path / "frames", "--box", BOX, "--model", folder,
                         "--backend", "onnxruntime", "--output", tmp_path / "r.json", "--no-progress")
    else:
        dataset = write_dataset(tmp_path / "ds", ["a"])
        before = snapshot(tmp_path)
        rc, _, err = cli(capsys, "quantize", "--model", folder, "--calibration", dataset, "--frames", 2,
                         "--output", tmp_path / "int8")
    assert_one_line_error(rc, err, "manifest.json", *fragments)
    assert snapshot(tmp_path) == before


def test_graph_file_that_is_not_a_regular_file_is_refused_unread(capsys, tmp_path, exported_model):
    folder = _model_with(exported_model, tmp_path / "model", lambda m: None)
    (folder / "refine.onnx").unlink()
    os.mkfifo(folder / "refine.onnx")  # hashing it would wait for a writer for ever
    rc, _, err = cli(capsys, "inspect", folder)
    assert_one_line_error(rc, err, "refine.onnx", "FIFO")


# --------------------------------------------------------------------------------------------
# O. a key given twice: which value was meant cannot be told, so the file is refused


DUPLICATES = {
    "pysot-yaml": ("c.yaml", "TRACK:\n  LR: 0.3\n  PENALTY_K: 0.1\n  LR: 0.9\n", "key LR appears twice (line 4)"),
    "authors-json": ("c.json", '{"hp": {"lr": 0.3}, "anchors": {"stride": 8}, "hp": {"lr": 0.9}}',
                     "key hp appears twice"),
    "flat-json": ("c.json", '{"lr": 0.3, "seg_thr": 0.2, "lr": 0.9}', "key lr appears twice"),
}


@pytest.mark.parametrize("case", sorted(DUPLICATES))
def test_duplicate_keys_in_settings_are_refused(tmp_path, case):
    from siammask.errors import SiamMaskError
    from siammask.tracking.config import TrackerConfig

    name, text, fragment = DUPLICATES[case]
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SiamMaskError) as info:
        TrackerConfig.from_file(path)
    assert fragment in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)


def test_duplicate_keys_in_a_manifest_are_refused(capsys, tmp_path, exported_model):
    folder = _model_with(exported_model, tmp_path / "model", lambda m: None)
    text = (folder / "manifest.json").read_text()
    (folder / "manifest.json").write_text(text.replace('"opset": 17,', '"opset": 17, "opset": 11,'))
    rc, _, err = cli(capsys, "inspect", folder)
    assert_one_line_error(rc, err, "manifest.json", "key opset appears twice")


# --------------------------------------------------------------------------------------------
# M. inspect shows the manifest's strings escaped


def test_inspect_escapes_the_manifest_strings(capsys, tmp_path, exported_model):
    def edit(m: dict) -> None:
        m["package_version"] = m["package_version"] + "\x1b[2J"
        m["preset"] = "vot\x1b]0;owned\x07"
        m["checkpoint"]["file"] = "seeded\n.pth"

    folder = _model_with(exported_model, tmp_path / "model\x1b[31m", edit)
    rc, out, _ = cli(capsys, "inspect", folder)
    assert rc == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2J" in out and "vot\\x1b]0;owned\\x07" in out and "seeded\\n.pth" in out
    assert len(out.splitlines()) == len([line for line in out.splitlines() if line.strip()])  # no extra lines


# --------------------------------------------------------------------------------------------
# E. export's failures: names that are not UTF-8, full disks


def test_export_into_a_folder_whose_name_is_not_utf8(capsys, tmp_path, seeded_checkpoint):
    """Was a 5,017-line traceback printing the weights (pybind11's refusal of the path); the graphs
    are now serialised in memory and written by Python, which takes any name."""
    out = Path(os.fsdecode(bytes(tmp_path) + b"/model\xff"))
    rc, stdout, err = cli(capsys, "export", "--checkpoint", seeded_checkpoint, "--output", out)
    assert rc == 0, err
    assert "\\udcff" in stdout and len(stdout.splitlines()) == 1
    rc, _, err = cli(capsys, "inspect", out)
    assert rc == 0, err
    write_frames(tmp_path / "frames", 2)
    rc, _, err = cli(capsys, "track", tmp_path / "frames", "--box", BOX, "--model", out, "--backend", "onnxruntime",
                     "--no-progress")
    assert rc == 0, err


@pytest.mark.parametrize("source,blocks", [("--seeded", 20_000), ("--checkpoint", 60_000)],
                         ids=["torch.save", "graph-write"])
def test_export_under_a_file_size_limit(tmp_path, seeded_checkpoint, source, blocks):
    """10 MB: the seeded checkpoint (86 MB) fails inside torch.save; 30 MB: the template graph
    (63 MB) fails. Both were tracebacks (torch's RuntimeError) or a bare 'File too large'."""
    out = tmp_path / "export"
    args = ["--seeded"] if source == "--seeded" else ["--checkpoint", seeded_checkpoint]
    done = run_cli("export", *args, "--output", out, preexec_fn=_limit_file_size(blocks))
    line = assert_one_line(done, "cannot be written (File too large)")
    assert ("--seeded" in line) if source == "--seeded" else (f"--output {out}" in line)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == []


def test_quantize_under_a_file_size_limit_blames_its_output(tmp_path, exported_model):
    """20 MB: copying the fp32 template graph (63 MB) into the INT8 folder fails; shutil names the
    file it read, and the error blamed the input graph (issue 26 O)."""
    dataset = write_dataset(tmp_path / "ds", ["a"])
    out = tmp_path / "int8"
    before = snapshot(exported_model)
    done = run_cli("quantize", "--model", exported_model, "--calibration", dataset, "--frames", 2, "--output", out,
                   preexec_fn=_limit_file_size(40_000))
    assert_one_line(done, f"--output {out}: cannot be written (File too large)")
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["ds"]
    assert snapshot(exported_model) == before
