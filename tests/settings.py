"""Settings files for tests that need every frame a detection.

The seeded (untrained) weights do not follow the target: their box drifts onto background, which
the colour test of presence (tracking/appearance.py) rightly calls absent. Tests about formats,
keyframes or the VOS protocol, not about presence, turn that test off through a settings file
(`--config`), keeping the preset's other values."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from siammask.tracking.presets import preset_config


def colour_test_off(folder: Path, preset: str = "vot") -> Path:
    """A `--config` file: `preset`'s settings with appearance_thr 0."""
    path = Path(folder) / f"{preset}-colour-off.json"
    settings = dataclasses.replace(preset_config(preset), appearance_thr=0.0)
    path.write_text(json.dumps(settings.to_dict()))
    return path
