"""`siammask bench`: the report's shape, never its timings (those depend on the machine and its load).

The smoke run uses the out-of-the-box path (the embedded default, written into a scratch cache) with
one tracked frame and one repetition. The reference adapter needs the authors' checkout, which the
project does not ship: it is tested only when SIAMMASK_REFERENCE names one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from siammask.bench.matrix import agreement, cpu_bf16_units, cpu_int8_units, gemm_probe, parse_backends, plan
from siammask.bench.report import format_report
from siammask.bench.timing import box_polygon, summarize
from siammask.cli import main
from siammask.errors import SiamMaskError
from tests.constants import AUTO_FP32

pytest.importorskip("torch")
pytest.importorskip("onnx")

SMOKE = ["--frames", "1", "--repeats", "1", "--warmup", "0", "--frame-size", "160x120", "--threads", "1"]
STAGES = ("template_ms", "search_ms", "refine_ms", "decode_mask_ms", "frame_ms")


def _check_row(row: dict) -> None:
    assert not row.get("error"), row.get("error")
    for key in STAGES:
        stats = row[key]
        assert set(stats) >= {"median", "mean", "min", "n"}
        assert stats["median"] > 0 and stats["mean"] > 0, key
    assert row["decode_mask_ms"]["median"] < row["frame_ms"]["median"]
    assert row["fps"] > 0
    assert row["peak_rss_mb"] > 0
    assert row["tracked_frames"] == 1
    assert len(row["polygons"]) == 1 and len(row["polygons"][0]) == 8


def test_bench_smoke(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SIAMMASK_CACHE", str(tmp_path / "cache"))  # the embedded default is written there
    out = tmp_path / "bench.json"
    assert main(["bench", *SMOKE, "--backends", "torch,onnxruntime", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result) >= {"machine", "settings", "flops", "gemm", "floor", "backends", "reference", "problems"}
    assert result["problems"] == []
    machine = result["machine"]
    assert machine["cpu"] and machine["cores"] >= 1 and machine["threads"] == 1
    assert set(machine["versions"]) >= {"torch", "onnxruntime", "opencv", "numpy"}
    flops = result["flops"]
    assert flops["frame_gflop"] == pytest.approx(flops["search_gflop"] + flops["refine_gflop"])
    assert all(flops[k] > 0 for k in ("template_gflop", "search_gflop", "refine_gflop"))
    assert result["gemm"]["gflops_best"] > 0
    assert result["floor"]["search_ms"] > 0 and result["floor"]["measured_vs_floor"]

    rows = {row["label"]: row for row in result["backends"]}
    assert set(rows) == {"torch fp32", "onnxruntime fp32"}
    for row in rows.values():
        _check_row(row)
        assert row["frame_size"] == [160, 120]
    # the torch-free runtime really ran without torch; the torch worker is the control
    assert rows["onnxruntime fp32"]["torch_imported"] is False
    assert rows["torch fp32"]["torch_imported"] is True
    assert result["reference"] == []
    assert all(v < 0.5 for v in result["parity"].values())  # same frames, same weights

    assert result["settings"]["checkpoint"] == "(embedded default)" and result["settings"]["default_weights"]
    text, err = capsys.readouterr()
    assert err.count("no --checkpoint or --model: using the embedded default") == 1
    for label in ("torch fp32", "onnxruntime fp32", "decode+mask ms", "peak RSS MB", "GFLOP per frame",
                  "GFLOP/s", "torch imported: no"):
        assert label in text


@pytest.mark.parametrize("argv", [
    ["bench", "--checkpoint", "/nonexistent/weights.pth"],
    ["bench", "--reference", "/nonexistent/SiamMask"],
    ["bench", "--model", "/nonexistent/model"],
])
def test_bad_paths_are_one_line_errors(argv, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("siammask: error:") and "Traceback" not in err


def test_unknown_backend_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["bench", "--backends", "torch,tensorflow"])
    assert info.value.code == 2
    assert "tensorflow" in capsys.readouterr().err


def test_reference_dir_must_be_a_checkout(tmp_path, capsys):
    assert main(["bench", "--reference", str(tmp_path)]) == 1
    assert "not a foolwood/SiamMask checkout" in capsys.readouterr().err


def test_helpers():
    assert summarize([]) is None
    stats = summarize([0.001, 0.003, 0.002])
    assert stats["median"] == pytest.approx(2.0) and stats["mean"] == pytest.approx(2.0) and stats["n"] == 3
    assert box_polygon([1, 2, 3, 4]) == [1, 2, 4, 2, 4, 6, 1, 6]
    assert box_polygon(list(range(8))) == [float(v) for v in range(8)]


def test_failed_rows_are_shown_not_hidden():
    row = {"label": "onnxruntime int8", "error": "graph search.onnx: cannot be loaded"}
    refused = {"label": "openvino bf16", "refused": "bf16 is not offered by this CPU: it offers fp32, int8"}
    result = {
        "machine": {"cpu": "cpu", "cores": 2, "usable_cores": 2, "versions": {"numpy": "2"}},
        "settings": {"threads": 2, "sequence": "s", "frames": 1, "repeats": 1, "warmup": 0, "checkpoint": "c"},
        "flops": None, "gemm": {"error": "x"}, "floor": None, "backends": [row, refused], "reference": [],
        "parity": None,
        "decode_target_ms": 10.0, "problems": ["onnxruntime int8: graph search.onnx: cannot be loaded"],
    }
    text = format_report(result)
    assert "onnxruntime int8" in text and "failed: graph search.onnx" in text and "PROBLEM:" in text
    assert "openvino bf16" in text and "not run here: bf16 is not offered" in text


@pytest.fixture(scope="module")
def fp32_folder(tmp_path_factory) -> str:
    """A seeded fp32 export (what `siammask export --seeded` writes)."""
    from siammask.deploy.export import export
    from siammask.model.seeded import write_checkpoint

    root = tmp_path_factory.mktemp("export")
    return str(export(write_checkpoint(root / "seeded.pth"), root / "fp32"))


def _openvino_reason() -> str | None:
    try:
        import openvino  # noqa: F401
    except ModuleNotFoundError:
        return "needs OpenVINO"
    return None


def test_default_combinations_for_an_fp32_folder(fp32_folder):
    rows = plan(None, [fp32_folder], "seeded.pth")
    assert [r.label for r in rows] == ["torch fp32", "onnxruntime fp32", "openvino fp32", "openvino bf16"]
    by_label = {r.label: r for r in rows}
    assert by_label["torch fp32"].refused is None and by_label["onnxruntime fp32"].refused is None
    missing = _openvino_reason()
    if missing:
        assert missing in by_label["openvino fp32"].refused and missing in by_label["openvino bf16"].refused
        return
    assert by_label["openvino fp32"].refused is None
    units, how = cpu_bf16_units()
    bf16 = by_label["openvino bf16"].refused
    assert (bf16 is None) == units, (bf16, how)
    if not units:  # the row says what this CPU offers instead
        assert "bf16 is not offered" in bf16 and "fp32" in bf16


def test_entries_pick_backends_and_precisions(fp32_folder):
    assert [r.label for r in plan(["openvino"], [fp32_folder], None)] == ["openvino fp32", "openvino bf16"]
    (refused,) = plan(["onnxruntime:int8"], [fp32_folder], None)
    assert refused.label == "onnxruntime int8"
    assert "fp32, not int8" in refused.refused and "siammask quantize" in refused.refused
    assert parse_backends("torch, openvino:bf16") == ("torch", "openvino:bf16")
    for bad in ("openvino:fp64", "tensorrt:fp16"):
        with pytest.raises(SiamMaskError):
            parse_backends(bad)


def test_agreement_figures():
    base = [[0.0] * 8, [0.0] * 8, [0.0] * 8, [0.0] * 8]
    moved = [[0.0] * 8, [0.5] * 8, [2.0] + [0.0] * 7, [3.0] * 8]
    out = agreement(moved, base)
    assert out["frames"] == 4 and out["within_1px"] == pytest.approx(0.5)
    assert out["median_error_px"] == pytest.approx(1.25) and out["max_error_px"] == pytest.approx(3.0)
    assert agreement([], base)["within_1px"] is None


def test_matrix_run_refused_rows_and_agreement(fp32_folder, tmp_path, capsys):
    """One small run: a refused combination is a row with its reason (exit 0, no problem); a
    reduced precision row carries its open-loop agreement with fp32; floors per precision."""
    out = tmp_path / "bench.json"
    argv = ["bench", "--frames", "2", "--repeats", "1", "--warmup", "0", "--frame-size", "160x120", "--threads", "1",
            "--model", fp32_folder, "--backends", "onnxruntime:fp32,onnxruntime:int8,openvino:bf16",
            "--json", str(out)]
    assert main(argv) == 0
    result = json.loads(out.read_text())
    assert result["problems"] == []
    rows = {row["label"]: row for row in result["backends"]}
    assert set(rows) == {"onnxruntime fp32", "onnxruntime int8", "openvino bf16"}
    assert "not int8" in rows["onnxruntime int8"]["refused"]
    fp32 = rows["onnxruntime fp32"]
    assert not fp32.get("refused") and len(fp32["states"]) == 2 and len(fp32["polygons"]) == 2
    floors = result["floors"]
    assert floors["precisions"]["fp32"]["search_ms"] > 0
    assert floors["search_vs_floor"]["onnxruntime fp32"]["multiple"] > 0
    assert set(result["gemm"]["precisions"]) == {"bf16", "int8"}
    picks = {p["precision"]: p for p in result["auto"]}
    assert picks["fp32"]["backend"] == AUTO_FP32 and picks["fp32"]["reason"].startswith("auto:")
    assert picks["int8"]["backend"] is None and "int8" in picks["int8"]["refused"]
    text = capsys.readouterr().out
    assert f"--backend auto, fp32: {AUTO_FP32}" in text and "not run here:" in text
    bf16 = rows["openvino bf16"]
    if bf16.get("refused"):
        pytest.skip(f"no bf16 here: {bf16['refused']}")
    figures = bf16["agreement"]
    assert figures["vs"] == "onnxruntime fp32" and figures["frames"] == 2
    assert 0.0 <= figures["within_1px"] <= 1.0 and figures["median_error_px"] >= 0.0
    assert floors["search_vs_floor"]["openvino bf16"]["precision"] == "bf16"
    assert "<=1px of fp32" in text


REFERENCE = os.environ.get("SIAMMASK_REFERENCE")


@pytest.mark.skipif(not REFERENCE, reason="set SIAMMASK_REFERENCE to a foolwood/SiamMask checkout (commit 0eaac33)")
def test_reference_adapter(tmp_path):
    out = tmp_path / "bench.json"
    argv = ["bench", *SMOKE, "--backends", "torch", "--reference", str(Path(REFERENCE)), "--no-reference-no-grad",
            "--json", str(out)]
    assert main(argv) == 0
    result = json.loads(out.read_text())
    (ref,) = result["reference"]
    _check_row(ref)
    assert ref["label"] == "reference" and ref["grad_enabled"] is True
    assert ref["gflop_per_frame"] > result["flops"]["frame_gflop"]  # it also runs the unused 63x63 mask head
    (torch_row,) = result["backends"]
    assert torch_row["speedup_vs_reference"] > 0
    # the reference and our tracker, same frames and weights: the same polygons
    assert all(v < 0.5 for v in result["parity"].values())


def test_bench_targets_batched_against_separate(exported_model, capsys, tmp_path):
    """--targets K: one tracker for K objects against K passes; figures printed and in the JSON."""
    import json

    from siammask.cli import main

    out = tmp_path / "t.json"
    assert main(["bench", "--targets", "2", "--model", str(exported_model), "--frames", "2", "--frame-size",
                 "160x120", "--threads", "1", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 targets" in text and "batching speed-up" in text
    (figures,) = json.loads(out.read_text())["targets"]
    assert figures["targets"] == 2 and figures["batched_object_fps"] > 0 and figures["separate_object_fps"] > 0


def test_int8_floor_needs_int8_dot_product_units(monkeypatch):
    """Without VNNI/AMX torch._int_mm is a slow fallback, not a floor: the probe says so instead."""
    assert cpu_int8_units({"avx2", "fma"})[0] is False
    assert "no avx512_vnni / avx_vnni / amx_int8" in cpu_int8_units({"avx2"})[1]
    assert cpu_int8_units({"avx2", "avx512_vnni"}) == (True, "CPU flags: avx512_vnni")
    assert cpu_int8_units(set())[0] is True  # flags unknown: measure and show the rate
    pytest.importorskip("torch")
    monkeypatch.setattr("siammask.engines.auto.cpu_flags", lambda: {"avx2", "fma"})
    assert "no int8 dot-product units" in gemm_probe("int8", size=64)["skipped"]
    monkeypatch.setattr("siammask.engines.auto.cpu_flags", lambda: {"avx2", "amx_int8"})
    probe = gemm_probe("int8", size=64, repeats=2, seconds=0.0)
    assert probe["op"] == "torch._int_mm" and probe["gflops_best"] > 0
