"""Scale: `eval --shard I/N` + `siammask merge`, and `--ray` with 2 workers, write the same files as one
process (byte for byte) on a LaSOT-layout dataset, and the report of the merged folder equals one
process's; DAVIS on Ray writes the same label maps; bad shard specs and mismatched merges are
one-line errors that write nothing.

The Ray tests start their own in-process Ray instance (token authentication off) and shut it down;
the CLI's --ray finds it connected and keeps it (it never joins a cluster found by "auto")."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from siammask.cli import main
from siammask.datasets.synth_davis import make_davis_dataset
from siammask.datasets.synth_onepass import make_onepass_dataset
from siammask.errors import SiamMaskError
from siammask.evaluation.shards import SHARD_RECORD, assign, parse_shard
from tests.constants import AUTO_FP32

NAME = f"SiamMask_{AUTO_FP32}"


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative POSIX path -> bytes)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _eval(dataset: Path, results: Path, model: Path, *extra: str) -> int:
    return main(["eval", "--dataset", str(dataset), "--model", str(model), "--results", str(results),
                 "--threads", "1", *extra])


def _refused(capsys, code: int, *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert code == 1, err
    line = err.splitlines()[-1]
    assert line.startswith("siammask: error: ") and len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in line, line
    return line


@pytest.fixture(scope="module")
def lasot(tmp_path_factory) -> Path:
    return make_onepass_dataset(tmp_path_factory.mktemp("lasot") / "LaSOT", "lasot", sequences=3, frames=50,
                                size=(160, 120), seed=5)


@pytest.fixture(scope="module")
def runs(lasot, tmp_path_factory, exported_model) -> dict[str, Path]:
    """One process, and shards 1/2 and 2/2 (each its own results folder) of the same dataset."""
    root = tmp_path_factory.mktemp("runs")
    made = {"one": root / "one", "s1": root / "s1", "s2": root / "s2"}
    assert _eval(lasot, made["one"], exported_model, "--json", str(root / "one.json")) == 0
    assert _eval(lasot, made["s1"], exported_model, "--shard", "1/2") == 0
    assert _eval(lasot, made["s2"], exported_model, "--shard", "2/2", "--workers", "2") == 0
    return made


# --- the split -------------------------------------------------------------------------------------


def test_parse_shard_counts_from_one():
    shard = parse_shard("2/8")
    assert (shard.index, shard.count, shard.label) == (2, 8, "2/8")
    for text, needle in (("0/4", "count from 1"), ("5/4", "does not exist"), ("1/0", "at least 1"),
                         ("a/b", "expected I/N"), ("3", "expected I/N"), ("-1/2", "expected I/N")):
        with pytest.raises(SiamMaskError, match=needle) as info:
            parse_shard(text)
        assert "\n" not in str(info.value) and str(info.value).startswith("--shard")


def test_split_is_balanced_covers_once_and_depends_only_on_names_and_lengths():
    frames = {f"seq{i:02d}": 100 + (i * 37) % 900 for i in range(40)}
    for count in (1, 2, 3, 7, 40, 50):
        owner = assign(frames, count)
        assert set(owner) == set(frames) and set(owner.values()) <= set(range(count))
        loads = [sum(frames[n] for n in frames if owner[n] == k) for k in range(count)]
        if count <= len(frames):  # longest first to the least loaded: within one sequence of even
            assert max(loads) - min(loads) <= max(frames.values()), (count, loads)
        shuffled = dict(reversed(list(frames.items())))
        assert assign(shuffled, count) == owner  # the dataset's order does not change the split


# --- shards + merge == one process -----------------------------------------------------------------


def test_two_shards_merged_equal_one_process(runs, lasot, tmp_path, capsys):
    one = tree(runs["one"])
    s1, s2 = tree(runs["s1"] / NAME), tree(runs["s2"] / NAME)
    seqs = lambda files: {k for k in files if k.endswith(".txt")}  # noqa: E731
    assert seqs(s1) and seqs(s2) and not seqs(s1) & seqs(s2)
    assert seqs(s1) | seqs(s2) == {k.removeprefix(NAME + "/") for k in one if k.endswith(".txt")}
    merged = tmp_path / "merged"
    capsys.readouterr()
    assert main(["merge", str(runs["s1"]), str(runs["s2"]), "--output", str(merged)]) == 0
    assert f"merged {NAME}: 2 shards" in capsys.readouterr().out
    assert tree(merged) == one  # byte-equal result files and run record, no shard record left
    assert main(["report", "--dataset", str(lasot), "--results", str(merged), "--json", str(tmp_path / "m.json")]) == 0
    expected = json.loads((runs["one"].parent / "one.json").read_text())["trackers"]
    assert json.loads((tmp_path / "m.json").read_text())["trackers"] == expected


def test_a_shard_resumes_as_today_and_keeps_its_own_folder(runs, lasot, exported_model, tmp_path, capsys):
    copy = tmp_path / "s1"
    shutil.copytree(runs["s1"], copy)
    before = tree(copy)
    capsys.readouterr()
    assert _eval(lasot, copy, exported_model, "--shard", "1/2") == 0
    out = capsys.readouterr().out
    assert "kept " in out and "siammask merge" in out
    assert tree(copy) == before
    # another shard, or the whole dataset, is refused in that folder (one line, nothing written)
    _refused(capsys, _eval(lasot, copy, exported_model, "--shard", "2/2"), "holds shard 1/2 of another run")
    _refused(capsys, _eval(lasot, copy, exported_model), "holds shard 1/2", "siammask merge")
    _refused(capsys, _eval(lasot, runs["one"], exported_model, "--shard", "1/2"), "not shard 1/2")
    assert tree(copy) == before


def test_bad_shard_options_are_one_line_errors(lasot, tmp_path, capsys):
    for spec, needle in (("0/2", "count from 1"), ("3/2", "does not exist"), ("x", "expected I/N")):
        _refused(capsys, main(["eval", "--dataset", str(lasot), "--results", str(tmp_path / "r"), "--shard", spec]),
                 f"--shard {spec}", needle)
    _refused(capsys, main(["eval", "--dataset", str(lasot), "--results", str(tmp_path / "r"), "--shard", "1/2",
                           "--json", str(tmp_path / "a.json")]), "--json", "siammask merge")
    assert not (tmp_path / "r").exists()


def _tampered(runs, tmp_path, which: str, change) -> list[str]:
    """Copies of both shards with `change(folder)` applied to shard `which`'s NAME folder."""
    folders = []
    for key in ("s1", "s2"):
        copy = tmp_path / key
        shutil.copytree(runs[key], copy)
        if key == which:
            change(copy / NAME)
        folders.append(str(copy))
    return folders


def _edit_record(folder: Path, name: str, edit) -> None:
    path = folder / name
    value = json.loads(path.read_text())
    edit(value)
    path.write_text(json.dumps(value))


def _first_file(folder: Path) -> Path:
    return next(p for p in sorted(folder.rglob("*.txt")))


MISMATCHES = {
    "another model": ("s2", lambda f: _edit_record(f, "siammask-run.json", lambda v: v.update(sha256="0" * 64)),
                      "made by another run"),
    "another dataset": ("s2", lambda f: _edit_record(f, SHARD_RECORD, lambda v: v["dataset"]["sequences"].update(
        extra=50)), "another dataset"),
    "another N": ("s2", lambda f: _edit_record(f, SHARD_RECORD, lambda v: v.update(shard="2/3")), "same N"),
    "unfinished": ("s1", lambda f: _edit_record(f, SHARD_RECORD, lambda v: v.update(finished=False)),
                   "did not finish"),
    "cut short": ("s2", lambda f: _first_file(f).write_bytes(_first_file(f).read_bytes()[:10]), "cut short"),
    "foreign file": ("s1", lambda f: (f / "stray.txt").write_text("1\n"), "not written by shard 1/2"),
    "not its share": ("s1", lambda f: _edit_record(f, SHARD_RECORD, lambda v: v["sequences"].pop()),
                      "other sequences than its share"),
}


@pytest.mark.parametrize("case", sorted(MISMATCHES))
def test_mismatched_shards_are_one_line_errors_and_write_nothing(runs, tmp_path, capsys, case):
    which, change, needle = MISMATCHES[case]
    folders = _tampered(runs, tmp_path, which, change)
    out = tmp_path / "merged"
    _refused(capsys, main(["merge", *folders, "--output", str(out)]), needle)
    assert not out.exists()


def test_missing_twice_and_existing_output_are_refused(runs, tmp_path, capsys):
    out = tmp_path / "merged"
    _refused(capsys, main(["merge", str(runs["s1"]), "--output", str(out)]), "shard 2/2 missing")
    _refused(capsys, main(["merge", str(runs["s1"]), str(runs["s1"]), "--output", str(out)]), "given twice")
    twin = tmp_path / "twin"
    shutil.copytree(runs["s1"], twin)
    _refused(capsys, main(["merge", str(runs["s1"]), str(twin), "--output", str(out)]), "shard 1/2 given twice")
    _refused(capsys, main(["merge", str(runs["one"]), "--output", str(out)]), "holds no shard")
    _refused(capsys, main(["merge", str(runs["s1"]), str(runs["s2"]), "--output", str(out), "--tracker-name", "Other"]),
             "no shard of tracker Other")
    assert not out.exists()
    (out / NAME).mkdir(parents=True)
    (out / NAME / "mine.txt").write_text("kept\n")
    _refused(capsys, main(["merge", str(runs["s1"]), str(runs["s2"]), "--output", str(out)]), "already holds")
    assert tree(out) == {f"{NAME}/mine.txt": b"kept\n"}
    # two shard folders overlapping on a file (each record lists it): refused
    s1, s2 = tmp_path / "o1", tmp_path / "o2"
    shutil.copytree(runs["s1"], s1)
    shutil.copytree(runs["s2"], s2)
    stray = _first_file(s1 / NAME)
    shutil.copy(stray, s2 / NAME / stray.name)
    _edit_record(s2 / NAME, SHARD_RECORD, lambda v: v["files"].update({stray.name: stray.stat().st_size}))
    _refused(capsys, main(["merge", str(s1), str(s2), "--output", str(tmp_path / "m2")]), "in two shards")
    assert not (tmp_path / "m2").exists()


# --- Ray: 2 workers == one process (ray_instance: tests/conftest.py) ------------------------------


def test_lasot_on_ray_two_workers_equals_one_process(ray_instance, runs, lasot, exported_model, tmp_path):
    results = tmp_path / "ray"
    assert _eval(lasot, results, exported_model, "--ray", "--workers", "2", "--json", str(tmp_path / "r.json")) == 0
    assert tree(results) == tree(runs["one"])
    expected = json.loads((runs["one"].parent / "one.json").read_text())["trackers"]
    assert json.loads((tmp_path / "r.json").read_text())["trackers"] == expected
    assert ray_instance.is_initialized(), "a connection made by the caller stays open"


def test_a_shard_on_ray_merges_with_a_shard_of_workers(ray_instance, runs, lasot, exported_model, tmp_path):
    shard = tmp_path / "s1"
    assert _eval(lasot, shard, exported_model, "--shard", "1/2", "--ray", "--workers", "2") == 0
    assert tree(shard) == tree(runs["s1"])
    assert main(["merge", str(shard), str(runs["s2"]), "--output", str(tmp_path / "m")]) == 0
    assert tree(tmp_path / "m") == tree(runs["one"])


def test_davis_on_ray_equals_one_process(ray_instance, exported_model, tmp_path):
    davis = make_davis_dataset(tmp_path / "davis", sequences=2, frames=8, size=(160, 120), objects=2, seed=2)
    extra = ("--preset", "davis", "--year", "2017")
    assert _eval(davis, tmp_path / "one", exported_model, *extra) == 0
    assert _eval(davis, tmp_path / "ray", exported_model, *extra, "--ray", "--workers", "2") == 0
    one = tree(tmp_path / "one")
    assert sum(k.endswith(".png") for k in one) == 2 * 8 and tree(tmp_path / "ray") == one
    # and its shards merge to the same label maps
    for i in (1, 2):
        assert _eval(davis, tmp_path / f"s{i}", exported_model, *extra, "--shard", f"{i}/2") == 0
    assert main(["merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--output", str(tmp_path / "m")]) == 0
    assert tree(tmp_path / "m") == one


def test_vot_supervised_shards_merge_to_one_process(exported_model, tmp_path):
    """The supervised experiment (resets, its own layout) takes the same road: 3 shards of 3 sequences."""
    from siammask.datasets.synth import make_dataset

    vot = make_dataset(tmp_path / "vot", sequences=3, frames=12, size=(96, 96), seed=8)
    assert _eval(vot, tmp_path / "one", exported_model) == 0
    for i in (1, 2, 3):
        assert _eval(vot, tmp_path / f"s{i}", exported_model, "--shard", f"{i}/3") == 0
    shards = [str(tmp_path / f"s{i}") for i in (3, 1, 2)]  # any order
    assert main(["merge", *shards, "--output", str(tmp_path / "m")]) == 0
    one = tree(tmp_path / "one")
    assert sum(k.endswith("_001.txt") for k in one) == 3 and tree(tmp_path / "m") == one


def test_every_protocol_names_a_reduced_precision_run_apart():
    from types import SimpleNamespace

    from siammask.commands.eval_shard import default_tracker_name

    names = [default_tracker_name(SimpleNamespace(label="onnxruntime", model_precision=p))
             for p in ("fp32", "fp32+int8", "bf16", "fp16")]
    assert names == ["SiamMask_onnxruntime", "SiamMask_onnxruntime_int8", "SiamMask_onnxruntime_bf16",
                     "SiamMask_onnxruntime_fp16"]
