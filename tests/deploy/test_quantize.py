"""INT8 quantization: quantize -> track -> report on a small golden subset, manifest, loading, errors.

The CI tolerances are those stated in docs/int8.md ("CI tolerances"): on the first TRACK_FRAMES
frames of synth00, with TRACK_FRAMES calibration frames taken from synth00, the INT8 model keeps
at least MIN_EVENTS_EQUAL_PCT % of the fp32 run's closed-loop events and, on the frames before
any event divergence, its polygons stay within MAX_IN_STEP_POLYGON_PX of fp32's (largest
coordinate difference). Timings are never asserted.
"""

from __future__ import annotations

import argparse
import importlib.util
import json

import numpy as np
import pytest

from siammask.cli import main
from siammask.engines.onnx_engine import OnnxEngine
from tests.constants import AUTO_INT8, DATASET

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime.quantization")

SEQUENCE = "synth00"
CAL_FRAMES = 8
TRACK_FRAMES = 20
MIN_EVENTS_EQUAL_PCT = 50.0
MIN_IN_STEP_FRAMES = 8
MAX_IN_STEP_POLYGON_PX = 40.0
MAX_FAILURES_DIFF = 2


@pytest.fixture(scope="module")
def one_sequence(tmp_path_factory):
    """A dataset of one golden sequence (a link to it: nothing copied)."""
    root = tmp_path_factory.mktemp("golden1")
    (root / "list.txt").write_text(f"{SEQUENCE}\n")
    (root / SEQUENCE).symlink_to((DATASET / SEQUENCE).resolve(), target_is_directory=True)
    return root


@pytest.fixture(scope="module")
def int8_model(exported_model, one_sequence, tmp_path_factory):
    out = tmp_path_factory.mktemp("int8") / "model"
    rc = main(["quantize", "--model", str(exported_model), "--calibration", str(one_sequence),
               "--frames", str(CAL_FRAMES), "--output", str(out), "--threads", "2"])
    assert rc == 0
    return out


def test_manifest_records_precision_calibration_and_method(int8_model, exported_model):
    manifest = json.loads((int8_model / "manifest.json").read_text())
    precisions = {name: g["precision"] for name, g in manifest["graphs"].items()}
    assert precisions == {"template": "fp32", "search": "int8", "refine": "fp32"}
    assert set(manifest["graphs"]["search"]["fp32_layers"]) == {"conv1", "adjust", "cls.head.0", "cls.head.3",
                                                               "loc.head.0", "loc.head.3"}
    cal = manifest["calibration"]
    assert cal["frames"] == CAL_FRAMES and cal["sequences"] == {SEQUENCE: CAL_FRAMES}
    assert len(cal["sha256"]) == 64 and int(cal["sha256"], 16) >= 0
    method = manifest["quantization"]
    assert method["method"] == "static" and method["format"] == "QDQ"
    assert "per channel" in method["weights"] and method["calibrate_method"] == "MinMax"
    # unquantized graphs are the fp32 export's files, byte for byte
    fp32 = json.loads((exported_model / "manifest.json").read_text())
    for name in ("template", "refine"):
        assert manifest["graphs"][name]["sha256"] == fp32["graphs"][name]["sha256"]
    assert manifest["graphs"]["search"]["sha256"] != fp32["graphs"]["search"]["sha256"]
    # the correlations (kernels from the template) are never quantized
    import onnx

    search = onnx.load(str(int8_model / "search.onnx"))
    kernel_users = [n for n in search.graph.node if {"cls_kernel", "loc_kernel"} & set(n.input)]
    assert kernel_users and all(n.op_type != "QuantizeLinear" for n in kernel_users)


def test_loads_like_any_export_and_says_int8(int8_model):
    from siammask.engines.factory import load_engine

    engine, config = load_engine(model=int8_model, backend="onnxruntime", threads=2)
    assert isinstance(engine, OnnxEngine)
    assert "int8" in engine.precision
    assert config == OnnxEngine(int8_model).tracker_config
    x = np.full((1, 3, 255, 255), 120.0, np.float32)
    kernels = engine.template(np.full((1, 3, 127, 127), 120.0, np.float32))
    out = engine.search(x, kernels)
    assert out.cls.dtype == np.float32 and np.isfinite(out.cls).all()


def test_int8_folder_through_track_and_eval_cli(int8_model, one_sequence, capsys, tmp_path):
    """quantize -> track -> eval -> report from the CLI; both say which precision runs."""
    frames = sorted((one_sequence / SEQUENCE).glob("*.jpg"))
    rc = main(["track", str(one_sequence / SEQUENCE), "--box", "130,90,60,50", "--model", str(int8_model),
               "--threads", "2", "--max-frames", "3", "--output", str(tmp_path / "r.txt")])
    out = capsys.readouterr().out
    assert rc == 0 and f"({AUTO_INT8} fp32+int8)" in out
    assert len((tmp_path / "r.txt").read_text().splitlines()) == 3
    rc = main(["eval", "--dataset", str(one_sequence), "--model", str(int8_model), "--threads", "2",
               "--results", str(tmp_path / "results"), "--eao-interval", "5,100"])
    out = capsys.readouterr().out
    assert rc == 0
    # its own default name: an INT8 run never overwrites the fp32 run's results
    assert f"eval SiamMask_{AUTO_INT8}_int8: {AUTO_INT8} fp32+int8" in out
    result = tmp_path / "results" / f"SiamMask_{AUTO_INT8}_int8" / "baseline" / SEQUENCE / f"{SEQUENCE}_001.txt"
    assert len(result.read_text().splitlines()) == len(frames)
    assert f"SiamMask_{AUTO_INT8}_int8" in out.split("Accuracy")[-1]


def test_python_api_says_int8(int8_model):
    from siammask.api import SiamMask

    model = SiamMask.load(int8_model, threads=2)
    assert model.precision == "fp32+int8" and repr(model) == f"SiamMask({AUTO_INT8}, fp32+int8)"


def compare_args(*argv: str) -> argparse.Namespace:
    from siammask.commands import compare

    parser = argparse.ArgumentParser()
    compare.register(parser.add_subparsers())
    return parser.parse_args(["compare", *argv])


def test_quantize_track_report_within_stated_tolerances(int8_model, exported_model, capsys, tmp_path):
    from siammask.commands import compare

    args = compare_args("--dataset", str(DATASET), "--sequence", SEQUENCE, "--frames", str(TRACK_FRAMES),
                        "--model", str(exported_model), "--model", str(int8_model), "--name", "fp32",
                        "--name", "int8", "--threads", "2", "--eao-interval", f"5,{TRACK_FRAMES}",
                        "--results", str(tmp_path / "results"), "--json", str(tmp_path / "c.json"))
    assert compare.run(args) == 0
    out = capsys.readouterr().out
    assert "closed-loop events equal" in out and "Accuracy" in out
    figures = json.loads((tmp_path / "c.json").read_text())
    assert figures["frames"] == TRACK_FRAMES
    assert figures["events_equal_pct"] >= MIN_EVENTS_EQUAL_PCT
    first = figures["sequences"][SEQUENCE]["first_divergence"]
    assert first is None or first >= MIN_IN_STEP_FRAMES
    fp32_failures, int8_failures = figures["sequences"][SEQUENCE]["failures"]
    assert abs(fp32_failures - int8_failures) <= MAX_FAILURES_DIFF
    in_step = figures["polygon_diff_px"]["in_step"]
    assert in_step["frames"] >= 1 and in_step["max"] <= MAX_IN_STEP_POLYGON_PX
    report = figures["report"]["trackers"]
    assert set(report) == {"fp32", "int8"}
    assert all(0 <= t["accuracy"] <= 1 for t in report.values())
    # the result files are the report's usual layout: `siammask report` reads them
    assert main(["report", "--dataset", str(DATASET), "--results", str(tmp_path / "results")]) == 1  # 2 seqs missing
    assert (tmp_path / "results" / "int8" / "baseline" / SEQUENCE / f"{SEQUENCE}_001.txt").is_file()


def test_compare_of_a_model_with_itself_is_exact(exported_model, capsys, tmp_path):
    # through the CLI entry point: `siammask compare` is a registered command
    rc = main(["compare", "--dataset", str(DATASET), "--sequence", SEQUENCE, "--frames", "4",
               "--model", str(exported_model), "--model", str(exported_model), "--threads", "2",
               "--json", str(tmp_path / "c.json")])
    assert rc == 0
    figures = json.loads((tmp_path / "c.json").read_text())
    assert figures["events_equal_pct"] == 100.0
    assert figures["polygon_diff_px"]["all"]["max"] == 0.0
    assert len(set(figures["models"])) == 2  # same folder twice: names made unique


# --------------------------------------------------------------------------------------------
def run_cli(capsys, *argv: str) -> tuple[int, str]:
    rc = main([*argv])
    captured = capsys.readouterr()
    return rc, captured.err


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("missing_model", "does not exist"),
        ("not_fp32", "not an fp32 export"),
        ("empty_dataset", "lists no sequences"),
        ("zero_frames", "--frames must be at least 1"),
        ("output_taken", "not empty"),
    ],
)
def test_bad_input_is_one_line_exit_1(case, fragment, capsys, tmp_path, exported_model, int8_model, one_sequence):
    model, dataset, frames, output = exported_model, one_sequence, "8", tmp_path / "out"
    if case == "missing_model":
        model = tmp_path / "nowhere"
    elif case == "not_fp32":
        model = int8_model
    elif case == "empty_dataset":
        dataset = tmp_path / "empty"
        dataset.mkdir()
        (dataset / "list.txt").write_text("\n")
    elif case == "zero_frames":
        frames = "0"
    elif case == "output_taken":
        output.mkdir()
        (output / "x").write_text("x")
    rc, err = run_cli(capsys, "quantize", "--model", str(model), "--calibration", str(dataset), "--frames", frames,
                      "--output", str(output))
    assert rc == 1
    assert fragment in err and len(err.strip().splitlines()) == 1


def test_other_graphs_and_layer_names(exported_model, one_sequence, capsys, tmp_path):
    # the default fp32 layers are the search graph's: quantizing refine alone needs none of them
    rc = main(["quantize", "--model", str(exported_model), "--calibration", str(one_sequence), "--frames", "4",
               "--graphs", "refine", "--output", str(tmp_path / "refine_int8"), "--threads", "2"])
    assert rc == 0, capsys.readouterr().err
    manifest = json.loads((tmp_path / "refine_int8" / "manifest.json").read_text())
    assert {n: g["precision"] for n, g in manifest["graphs"].items()} == {
        "template": "fp32", "search": "fp32", "refine": "int8"}
    assert manifest["calibration"]["refine_inputs"] >= 1
    # a layer name the graph does not have is refused before any calibration, naming it
    rc, err = run_cli(capsys, "quantize", "--model", str(exported_model), "--calibration", str(one_sequence),
                      "--keep-fp32", "adjust,layer9.conv1", "--output", str(tmp_path / "x"))
    assert rc == 1 and "layer9.conv1" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_compare_refuses_one_model(capsys, exported_model):
    from siammask.commands import compare
    from siammask.errors import SiamMaskError

    with pytest.raises(SiamMaskError, match="exactly twice"):
        compare.run(compare_args("--dataset", str(DATASET), "--model", str(exported_model)))


def test_frame_shares_and_calibration_hash():
    from siammask.deploy.quantize import CalibrationSet, frame_shares

    assert frame_shares(8, 3) == [3, 3, 2] and frame_shares(2, 3) == [1, 1, 0] and sum(frame_shares(64, 7)) == 64
    feeds = {"template": [{"exemplar": np.ones((1, 3, 127, 127), np.float32)}],
             "search": [{"search": np.zeros((1, 3, 255, 255), np.float32)}], "refine": []}
    a, b = CalibrationSet(feeds, "d"), CalibrationSet({k: list(v) for k, v in feeds.items()}, "d")
    assert a.sha256() == b.sha256() and a.frames == 1
    feeds["search"].append({"search": np.ones((1, 3, 255, 255), np.float32)})
    assert CalibrationSet(feeds, "d").sha256() != b.sha256()


def test_int8_search_graph_takes_wide_crops(int8_model, exported_model):
    """Quantization keeps the search graph's symbolic crop size: long-term's wide search runs in
    INT8 on ONNX Runtime and OpenVINO; its best cell within one cell of the fp32 graph's (scores
    calibrated on 255 crops; the activations' ranges do not depend on the crop's size)."""
    rng = np.random.default_rng(3)
    z = rng.uniform(0, 255, (1, 3, 127, 127)).astype(np.float32)
    x = rng.uniform(0, 255, (1, 3, 383, 383)).astype(np.float32)
    x[:, :, 150:277, 200:327] = z[0]  # the exemplar pasted in: a clear best cell
    fp32 = OnnxEngine(exported_model)
    reference = fp32.search(x, fp32.template(z)).cls[0, 5:].max(axis=0)
    engines = [OnnxEngine(int8_model)]
    if importlib.util.find_spec("openvino"):
        from siammask.engines.openvino_engine import OpenVinoEngine

        engines.append(OpenVinoEngine(int8_model, cache_dir=None))
    for engine in engines:
        assert engine.wide_search
        cls = engine.search(x, engine.template(z)).cls[0, 5:].max(axis=0)
        assert cls.shape == (41, 41)
        best, ref_best = np.unravel_index(cls.argmax(), cls.shape), np.unravel_index(reference.argmax(), cls.shape)
        assert max(abs(best[0] - ref_best[0]), abs(best[1] - ref_best[1])) <= 1, engine.name
