"""fp16 export (meant for GPUs): valid graphs that load, marked fp16, and close to fp32.

Checked here on ONNX Runtime's CPU provider only (no GPU on the test machines). Tolerances: scores
and deltas within 2e-2 of fp32 relative to their range (measured 2.7e-3 and 9.2e-3), mask
probabilities within 0.05 (measured 0.023).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from siammask.engines.onnx_engine import OnnxEngine
from tests.constants import GOLDEN

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def fp16_model(seeded_checkpoint, tmp_path_factory):
    from siammask.deploy.export import export

    return export(seeded_checkpoint, tmp_path_factory.mktemp("fp16") / "model", half=True)


def test_fp16_export_matches_fp32(fp16_model, onnx_engine):
    manifest = json.loads((fp16_model / "manifest.json").read_text())
    assert {g["precision"] for g in manifest["graphs"].values()} == {"fp16"}
    half = OnnxEngine(fp16_model)
    assert half.precision == "fp16"
    z = np.random.default_rng(0).uniform(0, 255, (1, 3, 127, 127)).astype(np.float32)
    x = np.load(GOLDEN / "raw_first_frame.npz")["x_crop"].astype(np.float32)
    k16, k32 = half.template(z), onnx_engine.template(z)
    s16, s32 = half.search(x, k16), onnx_engine.search(x, k32)
    for a, b in ((s16.cls, s32.cls), (s16.loc, s32.loc)):
        assert a.dtype == np.float32
        assert np.abs(a - b).max() / np.abs(b).max() <= 2e-2
    cell = (np.array([12]), np.array([12]))
    assert np.abs(half.refine(s16, k16, *cell) - onnx_engine.refine(s32, k32, *cell)).max() <= 0.05
