"""`siammask report` on a DAVIS dataset: the official figures of the golden label maps, table, plots, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siammask.cli import main
from siammask.errors import SiamMaskError
from siammask.evaluation.vos.measures import REFERENCE_THRESHOLDS, miou_summary
from siammask.evaluation.vos.report import MEASURES, format_vos_table, vos_report

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "golden_vos"
DATASET = GOLDEN / "dataset"
TOLERANCE = 1e-6
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def results(tmp_path) -> Path:
    """Two trackers: the reference's label maps and the perturbed ground truth."""
    root = tmp_path / "results"
    shutil.copytree(GOLDEN / "davis2017" / "results", root / "Reference")
    shutil.copytree(GOLDEN / "davis2017" / "perturbed", root / "Perturbed")
    return root


def assert_official(figures: dict, official: dict) -> None:
    for key in MEASURES:
        assert figures[key] == pytest.approx(official[key], abs=TOLERANCE), key
    assert list(figures["per_object"]) == list(official["per_object"])
    for name, values in official["per_object"].items():
        for measure in ("J", "F"):
            assert figures["per_object"][name][measure] == pytest.approx(values[measure], abs=TOLERANCE)


def test_report_json_table_and_plots(tmp_path, results, capsys):
    out, plots = tmp_path / "vos.json", tmp_path / "plots"
    args = ["report", "--dataset", str(DATASET), "--results", str(results), "--json", str(out), "--plots", str(plots)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "Reference" in printed and "Perturbed" in printed and "vos02_3" in printed
    report = json.loads(out.read_text())
    assert report["dataset"]["year"] == 2017 and report["dataset"]["objects"] == 8
    assert sorted(report["trackers"]) == ["Perturbed", "Reference"]
    assert_official(report["trackers"]["Reference"], json.loads((GOLDEN / "davis2017/davis_metrics.json").read_text()))
    assert_official(
        report["trackers"]["Perturbed"], json.loads((GOLDEN / "davis2017/perturbed_davis_metrics.json").read_text())
    )
    assert len(report["trackers"]["Reference"]["per_frame"]["vos01_2"]["J"]) == 38
    for name in ("per_object_jf.png", "j_over_frames.png"):
        assert (plots / name).read_bytes()[:8] == PNG


def test_one_tracker_and_the_ends_not_needed(results):
    # the first and last frames are not evaluated: a tracker need not write them
    for seq in ("vos00", "vos01", "vos02"):
        (results / "Perturbed" / seq / "00000.png").unlink()
        (results / "Perturbed" / seq / "00039.png").unlink()
    report = vos_report(DATASET, results, trackers=["Perturbed"])
    assert list(report["trackers"]) == ["Perturbed"]
    official = json.loads((GOLDEN / "davis2017/perturbed_davis_metrics.json").read_text())
    assert_official(report["trackers"]["Perturbed"], official)


def test_2016_is_the_reference_miou_at_its_threshold(tmp_path):
    """No official 2016 figures were made; the reference's mIoU at seg_thr (0.35) is the J-Mean of
    its own label maps, first and last frames out, so the two must agree."""
    shutil.copytree(GOLDEN / "davis2016" / "results", tmp_path / "Reference")
    report = vos_report(DATASET, tmp_path, year=2016)
    miou = json.loads((GOLDEN / "davis2016/reference_miou.json").read_text())
    figures = report["trackers"]["Reference"]
    assert report["dataset"]["objects"] == 3
    for seq, rows in miou["per_sequence_object"].items():
        assert figures["per_object"][f"{seq}_1"]["J"] == pytest.approx(rows[0][1], abs=TOLERANCE)
    assert figures["J-Mean"] == pytest.approx(miou["mean_per_threshold"][1], abs=TOLERANCE)


def test_table_shows_the_reference_miou_when_given(results):
    report = vos_report(DATASET, results, trackers=["Reference"])
    report["trackers"]["Reference"]["reference_miou"] = miou_summary({"vos00": np.full((3, 4), 0.25)})
    table = format_vos_table(report)
    assert "Reference: the reference's mIoU at thresholds 0.30: 0.250, 0.35: 0.250" in table
    assert len(REFERENCE_THRESHOLDS) == 4


def _fails(args, capsys, needle):
    assert main(args) == 1
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1, err


def test_bad_results(tmp_path, results, capsys):
    base = ["report", "--dataset", str(DATASET), "--results"]
    _fails([*base, str(results), "--tracker", "Nobody"], capsys, "no results of tracker 'Nobody'")
    _fails([*base, str(tmp_path / "none")], capsys, "does not exist")
    (tmp_path / "empty").mkdir()
    _fails([*base, str(tmp_path / "empty")], capsys, "no tracker results in")
    _fails([*base, str(results), "--eao-interval", "10,20"], capsys, "--eao-interval applies to VOT datasets")
    _fails([*base, str(results), "--year", "2016"], capsys, "has object id 3; sequence vos00 has 1 objects")

    ref = results / "Reference"
    (ref / "vos01" / "00007.png").unlink()
    _fails([*base, str(results), "--tracker", "Reference"], capsys, "vos01/00007.png not found")
    Image.fromarray(np.zeros((240, 320, 3), np.uint8)).save(ref / "vos01" / "00007.png")
    _fails([*base, str(results), "--tracker", "Reference"], capsys, "not mode RGB")
    Image.fromarray(np.zeros((240, 321), np.uint8)).save(ref / "vos01" / "00007.png")
    _fails([*base, str(results), "--tracker", "Reference"], capsys, "00007.png is 321x240, the frames 320x240")
    Image.fromarray(np.full((240, 320), 3, np.uint8)).save(ref / "vos01" / "00007.png")
    _fails([*base, str(results), "--tracker", "Reference"], capsys, "has object id 3; sequence vos01 has 2 objects")
    shutil.rmtree(ref / "vos01")
    _fails([*base, str(results), "--tracker", "Reference"], capsys, "vos01/00001.png not found")


def test_year_on_a_vot_dataset(tmp_path, capsys):
    vot = Path(__file__).resolve().parents[2] / "data" / "golden" / "dataset"
    _fails(["report", "--dataset", str(vot), "--results", str(tmp_path), "--year", "2017"], capsys,
           "--year applies to DAVIS datasets")


def test_bad_dataset_is_one_line(tmp_path, results):
    bad = tmp_path / "davis"
    shutil.copytree(DATASET, bad)
    (bad / "ImageSets/2017/val.txt").write_text("vos00\nvos09\n")
    with pytest.raises(SiamMaskError, match="sequence vos09 is listed but"):
        vos_report(bad, results)
