"""The bench's engine worker builds its engine on the one road (EngineSpec): every row of a model
is timed with that model's settings, the torch row of a checkpoint included."""

from __future__ import annotations

import pytest

from siammask.bench import workers
from siammask.tracking.config import TrackerConfig
from siammask.tracking.presets import preset_config

torch = pytest.importorskip("torch")

# the reference layout's prefixes -> pysot's (model/checkpoint.py reads both)
PYSOT_NAMES = {"features.features.": "backbone.", "features.downsample.": "neck.downsample.",
               "rpn_model.": "rpn_head.", "mask_model.mask.": "mask_head.", "refine_model.": "refine_head."}


def _pysot_name(key: str) -> str:
    key = key.removeprefix("module.")
    return next((new + key[len(old):] for old, new in PYSOT_NAMES.items() if key.startswith(old)), key)


def test_torch_row_runs_the_checkpoint_layouts_settings(seeded_checkpoint, tmp_path, monkeypatch):
    state = torch.load(seeded_checkpoint, weights_only=True)["state_dict"]
    pysot = tmp_path / "model.pth"
    torch.save({"state_dict": {_pysot_name(k): v for k, v in state.items()}, "epoch": 20}, pysot)
    measured = {}

    def measure(engine, config, *args):
        measured["config"] = config
        return {}

    monkeypatch.setattr(workers, "measure_engine", measure)
    spec = {"kind": "engine", "backend": "torch", "precision": "fp32", "checkpoint": str(pysot), "threads": 1,
            "frames": [], "box": [0, 0, 1, 1], "repeats": 1, "warmup": 0, "label": "torch fp32"}
    workers.run_engine_worker(spec)
    # pysot's settings (those its export records), not config_vot.json's defaults
    assert measured["config"] == preset_config("pysot") != TrackerConfig()
