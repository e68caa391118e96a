"""--preset and the checkpoint layout's default settings reach the engine the commands build."""

from __future__ import annotations

import json

import pytest

from siammask.cli import main
from siammask.engines.factory import EngineSpec
from siammask.presets import preset_config

torch = pytest.importorskip("torch")


def test_preset_replaces_the_models_settings_and_config_overrides_it(exported_model, tmp_path):
    assert EngineSpec(model=exported_model).build()[1] == preset_config("vot")
    assert EngineSpec(model=exported_model, preset="davis").build()[1] == preset_config("davis")
    settings = tmp_path / "s.json"
    settings.write_text(json.dumps({"hp": {"seg_thr": 0.2}}))
    assert EngineSpec(model=exported_model, preset="davis", config=settings).build()[1].seg_thr == 0.2
    # the preset is part of what made a run's results: another preset is another run
    assert EngineSpec(model=exported_model, preset="davis").identity() != EngineSpec(model=exported_model).identity()


def test_a_pysot_layout_checkpoint_defaults_to_the_pysot_preset(seeded_checkpoint, tmp_path):
    from siammask.model.checkpoint import read_checkpoint

    state = torch.load(seeded_checkpoint, weights_only=True)["state_dict"]
    renames = {"features.features.": "backbone.", "features.downsample.": "neck.downsample.",
               "rpn_model.": "rpn_head.", "mask_model.mask.": "mask_head.", "refine_model.": "refine_head."}

    def pysot_name(key: str) -> str:
        key = key.removeprefix("module.")
        return next((new + key[len(old):] for old, new in renames.items() if key.startswith(old)), key)

    pysot = tmp_path / "model.pth"
    torch.save({"state_dict": {pysot_name(k): v for k, v in state.items()}, "epoch": 20}, pysot)
    assert read_checkpoint(pysot).preset == "pysot"
    assert EngineSpec(checkpoint=pysot).build()[1] == preset_config("pysot")
    assert EngineSpec(checkpoint=pysot, preset="vot").build()[1] == preset_config("vot")


def test_track_and_export_take_preset(exported_model, seeded_checkpoint, tmp_path, capsys):
    from tests.reliability.helpers import BOX, write_frames

    frames = tmp_path / "frames"
    write_frames(frames, 2)
    assert main(["track", str(frames), f"--box={BOX}", "--model", str(exported_model), "--preset", "davis",
                 "--no-progress"]) == 0
    assert main(["export", "--checkpoint", str(seeded_checkpoint), "--output", str(tmp_path / "m"),
                 "--preset", "vot18"]) == 0
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["preset"] == "vot18" and manifest["tracker_config"]["seg_thr"] == 0.15
    with pytest.raises(SystemExit):
        main(["track", str(frames), f"--box={BOX}", "--model", str(exported_model), "--preset", "nope"])
    assert "invalid choice" in capsys.readouterr().err
