"""`siammask demo` end to end on tiny embedded defaults: every artefact is written and sane."""

from __future__ import annotations

import json

import cv2
import pytest

from siammask.cli import main

pytest.importorskip("torch")


def test_demo_writes_a_complete_report(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--output", str(out), "--sequences", "1", "--frames", "12", "--threads", "2"]) == 0
    summary = (out / "summary.md").read_text()
    assert "SYNTHETIC data only" in capsys.readouterr().out
    assert "trained on synthetic data only" in summary
    for section in ("## Parity", "## VOT metrics", "## Speed", "## Pictures"):
        assert section in summary
    report = json.loads((out / "report.json").read_text())
    assert set(report["trackers"]) == {"SiamMask_torch", "SiamMask_onnxruntime", "SiamMask_onnxruntime_int8"}
    assert "## INT8 against fp32" in summary
    # two runs' polygons are compared as regions, as `siammask compare` does (issue 26, 7)
    assert summary.count("region overlap (VOT, intersection over union)") == 2
    assert "## Video object segmentation" in summary and "J&F-Mean" in summary
    assert len(list((out / "results_vos" / "SiamMask_onnxruntime").rglob("*.png"))) == 12
    manifest = json.loads((out / "model_int8" / "manifest.json").read_text())
    assert manifest["graphs"]["search"]["precision"] == "int8" and manifest["calibration"]["frames"] >= 1
    torch_run, ort_run = (report["trackers"][k] for k in ("SiamMask_torch", "SiamMask_onnxruntime"))
    assert torch_run["lost_number"] == ort_run["lost_number"]
    bench = json.loads((out / "bench.json").read_text())
    # every backend x precision the machine runs; these three run everywhere. What it cannot run
    # (bf16 on a CPU without bf16 units) is a row naming the combination and why, and no timing
    ran = [row for row in bench["backends"] if not row.get("refused")]
    assert {(row["backend"], row["precision"]) for row in ran} >= {
        ("torch", "fp32"), ("onnxruntime", "fp32"), ("onnxruntime", "fp32+int8")}
    for row in bench["backends"]:
        if row.get("refused"):
            assert row["backend"] and row["requested_precision"] and "fps" not in row
    assert not bench["problems"]
    assert (out / "plots" / "eao_curves.png").stat().st_size > 0
    # the long-term part: short-term against --long-term on a synthetic VOT-LT set, and its plot
    assert "## Long-term tracking" in summary and "SiamMask_long_term" in summary
    assert (out / "results_lt" / "SiamMask_long_term" / "longterm" / "lt00" / "lt00_001_confidence.value").is_file()
    assert (out / "plots" / "precision_recall.png").stat().st_size > 0
    frame = cv2.imread(str(out / "overlay_frame.png"))
    assert frame.shape == (240, 320, 3)
    gif = cv2.VideoCapture(str(out / "overlay.gif"))
    count = 0
    while gif.read()[0]:
        count += 1
    assert count == 12


def test_demo_refuses_a_foreign_folder(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["demo", "--output", str(tmp_path)]) == 1
    assert "use --force" in capsys.readouterr().err
    assert main(["demo", "--output", str(tmp_path), "--force"]) == 1
    assert "not a demo folder" in capsys.readouterr().err
    assert (tmp_path / "keep.txt").read_text() == "mine"
