"""--preset and the checkpoint layout's default settings reach the engine the commands build."""

from __future__ import annotations

import json

import pytest

from siammask.cli import main
from siammask.engines.factory import EngineSpec
from siammask.tracking.presets import preset_config

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


def test_an_export_of_a_pysot_checkpoint_tracks_as_the_checkpoint(seeded_checkpoint, tmp_path):
    """Issue 16 item 5: the folder exported from pysot's layout records it, and tracks as the file does."""
    import numpy as np

    from siammask.api import SiamMask
    from siammask.deploy.export import export
    from tests.constants import POLYGON_TOL_PX, sequence_frames, sequence_groundtruth

    state = torch.load(seeded_checkpoint, weights_only=True)["state_dict"]
    renames = {"features.features.": "backbone.", "features.downsample.": "neck.downsample.",
               "rpn_model.": "rpn_head.", "mask_model.mask.": "mask_head.", "refine_model.": "refine_head."}
    pysot = tmp_path / "model.pth"
    torch.save({"state_dict": {next((new + k.removeprefix("module.")[len(old):] for old, new in renames.items()
                                     if k.removeprefix("module.").startswith(old)), k): v
                               for k, v in state.items()}}, pysot)
    folder = export(pysot, tmp_path / "exported")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["preset"] == "pysot" and manifest["checkpoint"]["layout"] == "pysot"
    import cv2

    frames = [cv2.imread(p) for p in sequence_frames("synth00")[:4]]
    box = sequence_groundtruth("synth00")[0]
    runs = []
    for model in (SiamMask.load(pysot), SiamMask.load(folder)):
        model.init(frames[0], box)
        runs.append([model.track(f).polygon for f in frames[1:]])
    assert runs[0] and np.max(np.abs(np.array(runs[0]) - np.array(runs[1]))) <= POLYGON_TOL_PX
