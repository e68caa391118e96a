"""Named tracker settings: the authors' three settings files and pysot's SiamMask config.

Each checkpoint was tuned with one of them (the values are copied from the files named below);
a checkpoint in pysot's layout defaults to `pysot`, every other to `vot`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from siammask.errors import SiamMaskError
from siammask.tracking.config import TrackerConfig

_VOT = TrackerConfig()  # config_vot.json is TrackerConfig's defaults

# name -> (where the values come from, the values that differ from config_vot.json)
_SOURCES: dict[str, tuple[str, dict[str, float]]] = {
    "vot": ("foolwood/SiamMask experiments/siammask_sharp/config_vot.json (SiamMask_VOT.pth)", {}),
    "vot18": ("foolwood/SiamMask experiments/siammask_sharp/config_vot18.json (SiamMask_VOT_LD.pth)",
              {"seg_thr": 0.15, "penalty_k": 0.10, "window_influence": 0.41, "lr": 0.32}),
    "davis": ("foolwood/SiamMask experiments/siammask_sharp/config_davis.json (SiamMask_DAVIS.pth)",
              {"seg_thr": 0.35, "penalty_k": 0.04, "window_influence": 0.40, "lr": 1.0}),
    # TRACK of STVIR/pysot experiments/siammask_r50_l3/config.yaml; its anchors, sizes and
    # context amount are the authors'. The values equal vot18's; the name records the source.
    "pysot": ("STVIR/pysot experiments/siammask_r50_l3/config.yaml (pysot's model.pth)",
              {"seg_thr": 0.15, "penalty_k": 0.10, "window_influence": 0.41, "lr": 0.32}),
}

PRESETS: tuple[str, ...] = tuple(_SOURCES)
DEFAULT_PRESET = "vot"


def preset_config(name: str) -> TrackerConfig:
    """The TrackerConfig of a preset by name (one of PRESETS)."""
    if name not in _SOURCES:
        shown = str(name)[:40] if str(name)[:40].isprintable() else repr(str(name)[:40])
        raise SiamMaskError(f"unknown preset {shown} (choose from {', '.join(PRESETS)})")
    return dataclasses.replace(_VOT, **_SOURCES[name][1])


def preset_source(name: str) -> str:
    """Which settings file a preset's values come from."""
    preset_config(name)  # refuses an unknown name
    return _SOURCES[name][0]


def matching_preset(config: TrackerConfig, prefer: str | None = None) -> str | None:
    """The preset whose values `config` has (`prefer` first, since vot18 and pysot coincide), or None."""
    names = ([prefer] if prefer in _SOURCES else []) + [n for n in PRESETS if n != prefer]
    return next((n for n in names if preset_config(n) == config), None)


def chosen_settings(
    config: TrackerConfig | str | Path | None = None, preset: str | None = None,
    model_own: TrackerConfig | None = None,
) -> TrackerConfig:
    """The settings a run uses, one rule for every road to an engine (API, commands, bench, serve,
    export): the user's `config` (settings, or a settings file) wins, then a named `preset`, then
    the model's own (an export's recorded settings; a checkpoint's by its layout, pysot's `pysot`),
    then config_vot.json's."""
    if isinstance(config, TrackerConfig):
        return config
    if config:
        return TrackerConfig.from_file(config)
    if preset:
        return preset_config(preset)
    return model_own or preset_config(DEFAULT_PRESET)
