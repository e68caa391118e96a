"""`siammask eval` and `report` on one-pass datasets end to end, on the seeded export: pysot's layout
(OTB) and GOT-10k's, the report and its plots, resume, --force, two workers, the submission archives
of GOT-10k test and TrackingNet TEST, and one-line refusals.

The datasets are the VOT synthetic generator's frames laid out as each benchmark ships them."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from siammask.cli import main
from siammask.datasets.synth import make_dataset
from siammask.evaluation.ope.results import read_boxes, read_times, result_paths
from tests.constants import AUTO_FP32

NAME = f"SiamMask_{AUTO_FP32}"
FRAMES = 20
SEQUENCES = ("synth00", "synth01")


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("vot") / "vot", sequences=2, frames=FRAMES, size=(96, 96), seed=3)


def _boxes(folder: Path) -> np.ndarray:
    """The synthetic polygons as x,y,w,h (their bounding boxes)."""
    values = np.loadtxt(folder / "groundtruth.txt", delimiter=",").reshape(-1, 4, 2)
    low, high = values.min(axis=1), values.max(axis=1)
    return np.round(np.column_stack([low, high - low]), 2)


def _frames(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.jpg"))


def _write_boxes(path: Path, boxes: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join(f"{v:g}" for v in b) + "\n" for b in boxes))


@pytest.fixture(scope="module")
def otb(synth, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("otb") / "OTB"
    for name in SEQUENCES:
        for i, frame in enumerate(_frames(synth / name), start=1):
            (root / name / "img").mkdir(parents=True, exist_ok=True)
            shutil.copy(frame, root / name / "img" / f"{i:04d}.jpg")
        _write_boxes(root / name / "groundtruth_rect.txt", _boxes(synth / name))
    return root


def _got10k(synth: Path, root: Path, split: str) -> Path:
    names = [f"GOT-10k_{split.capitalize()}_{i + 1:06d}" for i in range(len(SEQUENCES))]
    (root / split).mkdir(parents=True)
    (root / split / "list.txt").write_text("".join(n + "\n" for n in names))
    for name, source in zip(names, SEQUENCES):
        folder = root / split / name
        folder.mkdir()
        for i, frame in enumerate(_frames(synth / source), start=1):
            shutil.copy(frame, folder / f"{i:08d}.jpg")
        boxes = _boxes(synth / source)
        _write_boxes(folder / "groundtruth.txt", boxes if split == "val" else boxes[:1])
        if split == "val":
            (folder / "meta_info.ini").write_text("[METAINFO]\nobject_class: thing\nresolution: (96, 96)\n")
            for label, value in (("absence", 0), ("cover", 8), ("cut_by_image", 0)):
                (folder / f"{label}.label").write_text(f"{value}\n" * FRAMES)
    return root


@pytest.fixture(scope="module")
def got10k(synth, tmp_path_factory) -> Path:
    return _got10k(synth, tmp_path_factory.mktemp("got") / "GOT-10k", "val")


def _eval(dataset, results, model, *extra):
    return main(["eval", "--dataset", str(dataset), "--model", str(model), "--results", str(results),
                 "--json", str(results.parent / f"{results.name}.json"), *extra])


def test_otb_eval_writes_pysots_layout_and_reports(otb, tmp_path, exported_model, capsys):
    results = tmp_path / "res"
    assert _eval(otb, results, exported_model, "--plots", str(tmp_path / "plots")) == 0
    out = capsys.readouterr().out
    assert "pysot OPEBenchmark" in out and "Norm precision" in out
    for seq in SEQUENCES:
        box, times = result_paths(results, NAME, seq, "OTB")
        assert times is None and box == results / NAME / f"{seq}.txt"
        boxes = read_boxes(box, FRAMES)
        truth = np.loadtxt(otb / seq / "groundtruth_rect.txt", delimiter=",")
        np.testing.assert_allclose(boxes[0], truth[0], atol=1e-4)  # the init frame's line: the init box
        assert (boxes[1:, 2:] > 0).all()
    report = json.loads((tmp_path / "res.json").read_text())
    assert report["protocol"] == "ope" and report["measures"] == "pysot"
    t = report["trackers"][NAME]
    assert 0 < t["success"] <= 1 and 0 < t["precision"] <= 1 and 0 < t["norm_precision"] <= 1
    assert len(t["curves"]["success"]) == 21 and len(t["curves"]["precision"]) == 51
    assert set(t["sequences"]) == set(SEQUENCES)
    for plot in ("success", "precision", "norm_precision"):
        assert (tmp_path / "plots" / f"{plot}.png").stat().st_size > 1000
    # report alone reads the same files to the same figures
    assert main(["report", "--dataset", str(otb), "--results", str(results), "--json", str(tmp_path / "b.json")]) == 0
    assert json.loads((tmp_path / "b.json").read_text())["trackers"] == report["trackers"]


def test_rerun_keeps_force_redoes_and_two_workers_agree(otb, tmp_path, exported_model, capsys):
    one = tmp_path / "one"
    assert _eval(otb, one, exported_model) == 0
    box, _ = result_paths(one, NAME, SEQUENCES[0], "OTB")
    stamp = box.stat().st_mtime_ns
    assert _eval(otb, one, exported_model) == 0
    assert "kept 2 of 2 sequences" in capsys.readouterr().out and box.stat().st_mtime_ns == stamp
    assert _eval(otb, one, exported_model, "--force") == 0
    assert box.stat().st_mtime_ns != stamp
    two = tmp_path / "two"
    assert _eval(otb, two, exported_model, "--workers", "2", "--threads", "1") == 0
    for seq in SEQUENCES:
        assert (one / NAME / f"{seq}.txt").read_text() == (two / NAME / f"{seq}.txt").read_text()


def test_got10k_val_layout_and_its_figures(got10k, tmp_path, exported_model, capsys):
    results = tmp_path / "res"
    assert _eval(got10k, results, exported_model) == 0
    assert "GOT-10k toolkit" in capsys.readouterr().out
    name = "GOT-10k_Val_000001"
    box, times = result_paths(results, NAME, name, "GOT-10k")
    assert box == results / NAME / name / f"{name}_001.txt" and times == box.with_name(f"{name}_time.txt")
    assert read_boxes(box, FRAMES).shape == (FRAMES, 4) and (read_times(times, FRAMES) > 0).all()
    t = json.loads((tmp_path / "res.json").read_text())["trackers"][NAME]
    assert 0 < t["ao"] <= 1 and 0 <= t["sr75"] <= t["sr50"] <= 1 and t["fps"] > 0 and len(t["curve"]) == 101
    # a box file without its time file is an interrupted run: tracked again
    times.unlink()
    assert _eval(got10k, results, exported_model) == 0
    assert times.exists() and "kept 1 of 2" in capsys.readouterr().out


def test_test_splits_write_the_archive_their_server_takes(synth, tmp_path, exported_model, capsys):
    got = _got10k(synth, tmp_path / "GOT-10k", "test")
    assert _eval(got, tmp_path / "g", exported_model) == 0
    out = capsys.readouterr().out
    archive = tmp_path / "g" / f"{NAME}.zip"
    assert "submission archive written to" in out and "GOT-10k" in out
    names = [f"GOT-10k_Test_{i + 1:06d}" for i in range(2)]
    with zipfile.ZipFile(archive) as z:
        assert sorted(z.namelist()) == sorted(f"{n}/{n}_{kind}.txt" for n in names for kind in ("001", "time"))
        assert z.read(f"{names[0]}/{names[0]}_001.txt") == (tmp_path / "g" / NAME / names[0] /
                                                               f"{names[0]}_001.txt").read_bytes()
    assert json.loads((tmp_path / "g.json").read_text())["submissions"] == {NAME: str(archive)}

    tn = tmp_path / "TrackingNet"
    for i, source in enumerate(SEQUENCES):
        for f, frame in enumerate(_frames(synth / source)):
            (tn / "TEST" / "frames" / f"video{i}").mkdir(parents=True, exist_ok=True)
            shutil.copy(frame, tn / "TEST" / "frames" / f"video{i}" / f"{f}.jpg")
        _write_boxes(tn / "TEST" / "anno" / f"video{i}.txt", _boxes(synth / source)[:1])
    assert _eval(tn, tmp_path / "t", exported_model) == 0
    with zipfile.ZipFile(tmp_path / "t" / f"{NAME}.zip") as z:
        assert sorted(z.namelist()) == ["video0.txt", "video1.txt"]  # at the archive's root
        assert len(z.read("video0.txt").decode().splitlines()) == FRAMES
    first = (tmp_path / "t" / f"{NAME}.zip").read_bytes()
    assert main(["report", "--dataset", str(tn), "--results", str(tmp_path / "t")]) == 0
    assert (tmp_path / "t" / f"{NAME}.zip").read_bytes() == first  # one set of results, one archive
    capsys.readouterr()
    assert _eval(tn, tmp_path / "t", exported_model, "--plots", str(tmp_path / "p")) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing to plot" in err


def _refused(capsys, code: int, expected: str) -> None:
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("siammask: error: ") and err.count("\n") == 1, err
    assert expected in err, err


def test_bad_inputs_are_one_line_errors(otb, synth, tmp_path, exported_model, capsys):
    results = tmp_path / "res"
    assert _eval(otb, results, exported_model) == 0
    box = results / NAME / f"{SEQUENCES[1]}.txt"
    box.write_text(box.read_text().replace("\n", ",9\n", 1))  # five values on line 1
    before = box.read_text()
    capsys.readouterr()
    _refused(capsys, _eval(otb, results, exported_model), f"{box}:1: 5 values")  # a foreign file...
    assert box.read_text() == before  # ...is not replaced
    _refused(capsys, main(["report", "--dataset", str(otb), "--results", str(results)]), f"{box}:1: 5 values")
    box.write_text("\n".join(before.splitlines()[1:]) + "\n")  # a line short
    _refused(capsys, main(["report", "--dataset", str(otb), "--results", str(results)]),
             f"{FRAMES - 1} lines for a sequence of {FRAMES} frames")
    box.unlink()
    _refused(capsys, main(["report", "--dataset", str(otb), "--results", str(results), "--tracker", NAME]),
             f"has no result for sequence {SEQUENCES[1]}")
    _refused(capsys, main(["report", "--dataset", str(otb), "--results", str(tmp_path / "none")]), "does not exist")
    _refused(capsys, _eval(otb, tmp_path / "r", exported_model, "--experiment", "baseline"), "applies to VOT datasets")
    _refused(capsys, _eval(synth, tmp_path / "r", exported_model, "--experiment", "ope"),
             "applies to one-pass datasets")
    _refused(capsys, _eval(otb, tmp_path / "r", exported_model, "--eao-interval", "2,9"),
             "--eao-interval does not apply")
    assert not (tmp_path / "r").exists()  # refused before any work


def test_format_option_names_the_reader(otb, tmp_path, capsys):
    """--format says what a folder is: the named reader reads it (or names what it lacks)."""
    from siammask.evaluation.ope.results import write_result

    for seq in SEQUENCES:
        truth = np.loadtxt(otb / seq / "groundtruth_rect.txt", delimiter=",")
        write_result(tmp_path / "res" / "T" / f"{seq}.txt", None, truth + 1.5, np.zeros(FRAMES))
    assert main(["report", "--dataset", str(otb), "--results", str(tmp_path / "res"), "--format", "OTB",
                 "--json", str(tmp_path / "r.json")]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["dataset"]["benchmark"] == "OTB"
    capsys.readouterr()
    _refused(capsys, main(["report", "--dataset", str(otb), "--results", str(tmp_path / "res"), "--format", "nope"]),
             "--format nope: unknown dataset format")
    code = main(["report", "--dataset", str(otb), "--results", str(tmp_path / "res"), "--format", "got10k"])
    _refused(capsys, code, str(otb))


def test_lasot_layout_from_synth(tmp_path, exported_model, capsys):
    """`siammask synth --layout lasot` (absences in full_occlusion / out_of_view): scored with them."""
    from siammask.datasets.synth_onepass import make_onepass_dataset

    root = make_onepass_dataset(tmp_path / "lasot", "lasot", sequences=2, frames=50, size=(96, 96), seed=2)
    results = tmp_path / "res"
    assert _eval(root, results, exported_model) == 0
    report = json.loads((tmp_path / "res.json").read_text())
    assert report["dataset"]["benchmark"] == "LaSOT" and report["dataset"]["absent_frames"] > 0
    names = report["dataset"]["sequences"]
    assert names == 2 and len(list((results / NAME).glob("*.txt"))) == 2
    assert 0 < report["trackers"][NAME]["success"] <= 1


def test_split_picks_a_subset_and_is_refused_where_none_applies(synth, otb, tmp_path, exported_model, capsys):
    """--split reaches the reader: UAV123's download holds UAV123 and UAV20L (the default UAV123)."""
    root = tmp_path / "Dataset_UAV123" / "UAV123"
    for subset, name, source in (("UAV123", "car1_1", SEQUENCES[0]), ("UAV20L", "bird1", SEQUENCES[1])):
        folder = root / "data_seq" / "UAV123" / name.split("_")[0]
        folder.mkdir(parents=True)
        for i, frame in enumerate(_frames(synth / source), start=1):
            shutil.copy(frame, folder / f"{i:06d}.jpg")
        _write_boxes(root / "anno" / subset / f"{name}.txt", _boxes(synth / source))
    results = tmp_path / "res"
    assert _eval(root, results, exported_model, "--split", "UAV20L") == 0
    report = json.loads((tmp_path / "res.json").read_text())
    assert (report["dataset"]["name"], report["dataset"]["split"]) == ("UAV20L", "UAV20L")
    assert sorted(p.name for p in (results / NAME).glob("*.txt")) == ["bird1.txt"]
    capsys.readouterr()
    assert main(["report", "--dataset", str(root), "--results", str(results), "--split", "UAV20L"]) == 0
    assert "UAV20L" in capsys.readouterr().out
    # the default subset (UAV123) has no result in this folder: named, not scored as UAV20L
    _refused(capsys, main(["report", "--dataset", str(root), "--results", str(results)]),
             "no one-pass results of dataset UAV123")
    _refused(capsys, main(["report", "--dataset", str(root), "--results", str(results), "--split", "UAV10"]),
             "anno/UAV10 not found")
    _refused(capsys, _eval(synth, tmp_path / "r", exported_model, "--split", "val"),
             "--split applies to one-pass datasets with splits or subsets")
    _refused(capsys, main(["report", "--dataset", str(otb), "--results", str(results), "--split", "val"]),
             "(OTB) has none")
    assert not (tmp_path / "r").exists()
