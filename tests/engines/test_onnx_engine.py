"""The exported graphs on ONNX Runtime against the reference's golden data and the torch engine.

Raw outputs: max |ours - reference| / max |reference| <= 1e-4 (as the network tests); the mask
is compared as probabilities, sigmoid of the reference's refine logits.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from siammask.engines.onnx_engine import OnnxEngine
from siammask.errors import SiamMaskError
from siammask.tracking.crop import crop_subwindow, to_chw_float
from tests.constants import GOLDEN, golden_records, sequence_frames
from tests.tracking.test_tracker import open_loop

REL_TOL = 1e-4


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


def test_graphs_are_valid_with_dynamic_batch(exported_model):
    onnx = pytest.importorskip("onnx")
    manifest = json.loads((exported_model / "manifest.json").read_text())
    assert set(manifest["graphs"]) == {"template", "search", "refine"}
    assert manifest["checkpoint"]["sha256"] and manifest["opset"] >= 17
    assert manifest["tracker_config"]["penalty_k"] == 0.04
    for entry in manifest["graphs"].values():
        model = onnx.load(str(exported_model / entry["file"]))
        onnx.checker.check_model(model)
        for value in list(model.graph.input) + list(model.graph.output):
            assert value.type.tensor_type.shape.dim[0].dim_param == "batch"


def test_raw_outputs_match_reference(onnx_engine):
    import cv2

    golden = np.load(GOLDEN / "raw_first_frame.npz")
    cx, cy, w, h = golden_records()["synth00"][0]["init_bbox_cxcywh"]
    image = cv2.imread(sequence_frames("synth00")[0])
    context = 0.5 * (w + h)
    side = round(np.sqrt((w + context) * (h + context)))
    kernels = onnx_engine.template(
        to_chw_float([crop_subwindow(image, (cx, cy), 127, side, np.mean(image, axis=(0, 1)))])
    )
    out = onnx_engine.search(golden["x_crop"].astype(np.float32), kernels)
    assert rel(out.cls, golden["cls"]) <= REL_TOL
    assert rel(out.loc, golden["loc"]) <= REL_TOL
    mask = onnx_engine.refine(out, kernels, np.array([12]), np.array([12]))
    reference = 1 / (1 + np.exp(-golden["refine_logits_at_12_12"].astype(np.float64)))
    assert rel(mask.reshape(1, -1), reference) <= REL_TOL


def test_matches_torch_engine_batched(onnx_engine, torch_engine):
    rng = np.random.default_rng(0)
    z = rng.uniform(0, 255, (3, 3, 127, 127)).astype(np.float32)
    x = rng.uniform(0, 255, (3, 3, 255, 255)).astype(np.float32)
    ko, kt = onnx_engine.template(z), torch_engine.template(z)
    for a, b in ((ko.cls, kt.cls), (ko.loc, kt.loc), (ko.mask, kt.mask)):
        assert rel(a, b) <= REL_TOL
    so, st = onnx_engine.search(x, kt), torch_engine.search(x, kt)
    assert rel(so.cls, st.cls) <= REL_TOL and rel(so.loc, st.loc) <= REL_TOL
    rows, cols = np.array([0, 12, 24]), np.array([24, 3, 12])
    assert np.abs(onnx_engine.refine(so, kt, rows, cols) - torch_engine.refine(st, kt, rows, cols)).max() <= 1e-4


def test_open_loop_matches_reference(onnx_engine):
    frames, problems = open_loop(onnx_engine, golden_records())
    assert len(problems) <= 0.01 * frames, problems


def test_runtime_path_imports_no_torch(exported_model):
    code = (
        "import sys, cv2\n"
        "from siammask.engines.factory import load_engine\n"
        "from siammask.tracking.tracker import Tracker\n"
        f"engine, config = load_engine(model={str(exported_model)!r})\n"
        "t = Tracker(engine, config)\n"
        f"frames = {sequence_frames('synth00')[:3]!r}\n"
        "t.init(cv2.imread(frames[0]), [185, 152, 50, 49])\n"
        "for f in frames[1:]: t.track(cv2.imread(f))\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture
def model_copy(exported_model, tmp_path):
    return shutil.copytree(exported_model, tmp_path / "model")


def _load_error(folder) -> str:
    with pytest.raises(SiamMaskError) as info:
        OnnxEngine(folder)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_missing_manifest(model_copy):
    (model_copy / "manifest.json").unlink()
    assert "manifest.json missing" in _load_error(model_copy)


def test_missing_graph(model_copy):
    (model_copy / "refine.onnx").unlink()
    assert "refine.onnx missing" in _load_error(model_copy)


def test_truncated_graph(model_copy):
    data = (model_copy / "search.onnx").read_bytes()
    (model_copy / "search.onnx").write_bytes(data[: len(data) // 3])
    assert "search.onnx" in _load_error(model_copy)


def test_other_package_version(model_copy):
    manifest = json.loads((model_copy / "manifest.json").read_text())
    manifest["package_version"] = "9.9.0"
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    assert "export again" in _load_error(model_copy)


def test_graph_of_wrong_shapes(model_copy):
    shutil.copy(model_copy / "template.onnx", model_copy / "refine.onnx")
    assert "do not match the manifest" in _load_error(model_copy)


def test_not_a_folder(tmp_path):
    assert "not a directory" in _load_error(tmp_path / "nothing")
