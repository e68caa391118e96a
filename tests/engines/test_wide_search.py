"""Long-term's wide search on every engine: the search graph takes crops wider than 255 (its
spatial dims symbolic in the graph and the manifest), and gives what PyTorch gives on them; an
export with a fixed 255 search graph (before long-term tracking) says so, and long-term tracking
on it is refused in one line.

Tolerance as the engines' fp32 parity: max |ours - torch| / max |torch| <= 1e-4; bf16 and INT8 as
their own tests state (5e-2 of the range; INT8: the wide map's best cell within one cell of fp32's).
"""

from __future__ import annotations

import numpy as np
import pytest

from siammask.errors import SiamMaskError
from siammask.tracking.config import TrackerConfig
from siammask.tracking.tracker import Tracker

WIDE = 511  # (511 - 127) / 8 + 9 = 57 score cells a side
REL_TOL = 1e-4


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.fixture(scope="module")
def crops():
    rng = np.random.default_rng(7)
    return (rng.uniform(0, 255, (2, 3, 127, 127)).astype(np.float32),
            rng.uniform(0, 255, (2, 3, WIDE, WIDE)).astype(np.float32))


def wide_outputs(engine, crops):
    z, x = crops
    kernels = engine.template(z)
    out = engine.search(x, kernels)
    mask = engine.refine(out, kernels, np.array([5, 50]), np.array([56, 0]))  # cells at the map's edges
    return out.cls, out.loc, mask


@pytest.fixture(scope="module")
def torch_wide(torch_engine, crops):
    return wide_outputs(torch_engine, crops)


def test_the_manifest_records_a_dynamic_search_size(exported_model):
    from siammask.deploy.manifest import Manifest

    manifest = Manifest.read(exported_model)
    assert manifest.wide_search
    assert manifest.graphs["search"]["inputs"]["search"][2:] == ["size", "size"]
    assert manifest.graphs["search"]["outputs"]["cls"][2:] == ["score", "score"]


def test_onnx_runtime_wide_search_equals_torch(onnx_engine, torch_wide, crops):
    cls, loc, mask = wide_outputs(onnx_engine, crops)
    assert cls.shape == (2, 10, 57, 57) and mask.shape == (2, 127, 127)
    for ours, theirs in zip((cls, loc, mask), torch_wide):
        assert rel(ours, theirs) <= REL_TOL


def test_openvino_wide_search_equals_torch(exported_model, torch_wide, crops, tmp_path):
    pytest.importorskip("openvino")
    from siammask.engines.openvino_engine import OpenVinoEngine, device_precisions

    engine = OpenVinoEngine(exported_model, cache_dir=tmp_path)
    for ours, theirs in zip(wide_outputs(engine, crops), torch_wide):
        assert rel(ours, theirs) <= REL_TOL
    # compiled per crop size: the normal size still runs, and a second start imports both blobs
    z, _ = crops
    assert engine.search(np.zeros((1, 3, 255, 255), np.float32), engine.template(z[:1])).cls.shape[-1] == 25
    again = OpenVinoEngine(exported_model, cache_dir=tmp_path)
    wide_outputs(again, crops)
    assert again.loaded_from_cache
    import openvino as ov

    if "bf16" in device_precisions(ov.Core(), "CPU"):
        bf16 = OpenVinoEngine(exported_model, precision="bf16", cache_dir=tmp_path)
        cls, _, _ = wide_outputs(bf16, crops)
        assert rel(cls, torch_wide[0]) <= 5e-2


def test_a_fixed_size_export_refuses_long_term_in_one_line(seeded_checkpoint, tmp_path, monkeypatch):
    """An export from before long-term tracking (its search graph 255x255 only) still tracks; asked
    for long-term tracking it says what to do."""
    from siammask.deploy import export as export_module
    from siammask.deploy.graphs import GRAPHS, normal_shape
    from siammask.engines.onnx_engine import OnnxEngine

    fixed = dict(GRAPHS)
    inputs, outputs = GRAPHS["search"]
    fixed["search"] = ([(n, normal_shape(s)) for n, s in inputs], [(n, normal_shape(s)) for n, s in outputs])
    monkeypatch.setattr(export_module, "GRAPHS", fixed)
    folder = export_module.export(seeded_checkpoint, tmp_path / "old")
    engine = OnnxEngine(folder)
    assert not engine.wide_search
    Tracker(engine, TrackerConfig())  # short-term: as before
    with pytest.raises(SiamMaskError, match="export it again"):
        Tracker(engine, TrackerConfig(long_term=True))
