"""Presets (the authors' three settings files, pysot's), settings files of every layout, bad settings."""

from __future__ import annotations

import json
import math
import os

import pytest

from siammask.errors import SiamMaskError
from siammask.tracking.config import TrackerConfig
from siammask.tracking.presets import DEFAULT_PRESET, PRESETS, matching_preset, preset_config

# The values each file sets (config_*.json's "hp", pysot's TRACK); the rest are config_vot.json's.
FILES = {
    "vot": {"seg_thr": 0.30, "penalty_k": 0.04, "window_influence": 0.42, "lr": 0.25},
    "vot18": {"seg_thr": 0.15, "penalty_k": 0.10, "window_influence": 0.41, "lr": 0.32},
    "davis": {"seg_thr": 0.35, "penalty_k": 0.04, "window_influence": 0.40, "lr": 1.0},
    "pysot": {"seg_thr": 0.15, "penalty_k": 0.10, "window_influence": 0.41, "lr": 0.32},
}


@pytest.mark.parametrize("name", PRESETS)
def test_preset_values(name):
    config = preset_config(name)
    for key, value in FILES[name].items():
        assert getattr(config, key) == value, key
    assert (config.ratios, config.scales, config.context_amount) == ((0.33, 0.5, 1.0, 2.0, 3.0), (8.0,), 0.5)
    assert matching_preset(config, prefer=name) == name


def test_default_preset_is_config_vot():
    assert set(PRESETS) == set(FILES) and DEFAULT_PRESET == "vot"
    assert preset_config("vot") == TrackerConfig()


def test_unknown_preset_refused():
    with pytest.raises(SiamMaskError, match="unknown preset vot2018 \\(choose from vot, vot18, davis, pysot\\)"):
        preset_config("vot2018")


def test_authors_json_file(tmp_path):
    hp = {"instance_size": 255, "base_size": 8, "out_size": 127, **FILES["davis"]}
    anchors = {"stride": 8, "ratios": [0.33, 0.5, 1, 2, 3], "scales": [8], "round_dight": 0}
    path = tmp_path / "config_davis.json"
    path.write_text(json.dumps({"network": {"arch": "Custom"}, "hp": hp, "anchors": anchors}))
    assert TrackerConfig.from_file(path) == preset_config("davis")  # the file as the authors ship it
    path.write_text(json.dumps({"hp": {**hp, "seg_thr": 1.35}, "anchors": anchors}))
    with pytest.raises(SiamMaskError, match="config_davis.json: tracker setting seg_thr: 1.35 is out of range"):
        TrackerConfig.from_file(path)


PYSOT_YAML = """\
META_ARC: "siamrpn_r50_l234_dwxcorr"
BACKBONE:
    TYPE: "resnet50"
    KWARGS:
        used_layers: [0, 1, 2, 3]
MASK:
    MASK: True
ANCHOR:
    STRIDE: 8
    RATIOS: [0.33, 0.5, 1, 2, 3]
    SCALES: [8]
    ANCHOR_NUM: 5
TRACK:
    TYPE: 'SiamMaskTracker'
    PENALTY_K: 0.10
    WINDOW_INFLUENCE: 0.41
    LR: 0.32
    EXEMPLAR_SIZE: 127
    INSTANCE_SIZE: 255
    BASE_SIZE: 8
    CONTEXT_AMOUNT: 0.5
    MASK_THERSHOLD: 0.15
"""


def test_pysot_yaml(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(PYSOT_YAML)
    assert TrackerConfig.from_file(path) == preset_config("pysot")
    path.write_text(PYSOT_YAML.replace("LR: 0.32", "LR: 0.5"))
    assert TrackerConfig.from_file(path).lr == 0.5


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (PYSOT_YAML.replace("'SiamMaskTracker'", "'SiamRPNTracker'"), "TRACK.TYPE is SiamRPNTracker"),
        (PYSOT_YAML.replace("ANCHOR_NUM: 5", "ANCHOR_NUM: 3"), "ANCHOR.ANCHOR_NUM: 3"),
        (PYSOT_YAML.replace("LR: 0.32", "LR: .nan"), "lr: nan is not finite"),
        (PYSOT_YAML.replace("LR: 0.32", "LR: 'fast'"), "lr: not a number"),
        (PYSOT_YAML + "    PENALTY: 1\n", "unknown tracker setting(s): PENALTY"),
        ("TRACK: !!python/object/apply:os.system ['true']\n", "not valid YAML"),
        ("TRACK: [1, 2\n", "not valid YAML"),
        ("- 1\n- 2\n", "expected a mapping"),
    ],
    ids=["other-tracker", "anchor-num", "nan", "text", "unknown-key", "python-tag", "syntax", "list"],
)
def test_bad_yaml_refused(tmp_path, text, fragment):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(SiamMaskError) as info:
        TrackerConfig.from_file(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert fragment in str(info.value), info.value


BAD_SETTINGS = {
    "ratios-empty": ({"ratios": []}, "ratios: [] must be a non-empty list"),
    "ratios-negative": ({"ratios": [0.33, -0.5, 1, 2, 3]}, "ratios: [0.33, -0.5, 1.0, 2.0, 3.0] must hold"),
    "ratios-count": ({"ratios": [1, 2]}, "2 ratios x 1 scales = 2 anchors, the network has 5"),
    "scales-zero": ({"scales": [0]}, "scales: [0.0] must hold finite numbers"),
    "scales-inf": ({"scales": [math.inf]}, "scales: [inf] must hold finite numbers"),
    "base-size-zero": ({"base_size": 0}, "base_size: 0, but the network fixes it at 8"),
    "base-size-negative": ({"base_size": -8}, "base_size: -8"),
    "instance-size": ({"instance_size": 511}, "instance_size: 511, but the network fixes it at 255"),
    "penalty-negative": ({"penalty_k": -0.1}, "penalty_k: -0.1 is out of range"),
    "penalty-nan": ({"penalty_k": math.nan}, "penalty_k: nan is not finite"),
    "window-above-1": ({"window_influence": 1.5}, "window_influence: 1.5 is out of range (allowed [0, 1])"),
    "lr-negative": ({"lr": -1}, "lr: -1.0 is out of range"),
    "lr-inf": ({"lr": math.inf}, "lr: inf is not finite"),
    "seg-thr-above-1": ({"seg_thr": 2}, "seg_thr: 2.0 is out of range"),
    "context-zero": ({"context_amount": 0}, "context_amount: 0.0 is out of range (allowed (0, 10])"),
    "min-size-negative": ({"min_size": -1}, "min_size: -1.0 is out of range"),
    "min-mask-area-nan": ({"min_mask_area": math.nan}, "min_mask_area: nan is not finite"),
    "bool": ({"seg_thr": True}, "seg_thr: not a number"),
    "text": ({"lr": "0.3"}, "lr: not a number"),
    "huge-int": ({"base_size": 1e400}, "base_size: not a number"),
}


@pytest.mark.parametrize("case", BAD_SETTINGS)
def test_bad_settings_refused(case):
    data, fragment = BAD_SETTINGS[case]
    with pytest.raises(SiamMaskError) as info:
        TrackerConfig.from_dict(data)
    assert "\n" not in str(info.value)
    assert fragment in str(info.value), info.value


def test_bad_settings_refused_however_made():
    """The check is in TrackerConfig itself: direct construction and replace() are covered too."""
    import dataclasses

    with pytest.raises(SiamMaskError, match="window_influence: nan is not finite"):
        TrackerConfig(window_influence=math.nan)
    with pytest.raises(SiamMaskError, match="ratios"):
        dataclasses.replace(preset_config("davis"), ratios=())


def test_json_file_with_nan_refused(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"hp": {"lr": NaN}}')  # Python's json accepts NaN: the settings check refuses it
    with pytest.raises(SiamMaskError, match="c.json: tracker setting lr: nan is not finite"):
        TrackerConfig.from_file(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_config_that_is_not_a_regular_file_refused(tmp_path):
    fifo = tmp_path / "c.yaml"
    os.mkfifo(fifo)  # reading it would block for ever
    with pytest.raises(SiamMaskError, match="not a regular file"):
        TrackerConfig.from_file(fifo)
    with pytest.raises(SiamMaskError, match="No such file"):
        TrackerConfig.from_file(tmp_path / "missing.json")
