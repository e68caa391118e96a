"""Tracker hyperparameters: the reference's config_vot.json, overridable by a JSON file."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from siammask.errors import SiamMaskError


@dataclass(frozen=True)
class TrackerConfig:
    """Values of experiments/siammask_sharp/config_vot.json (the VOT checkpoint's settings)."""

    penalty_k: float = 0.04
    window_influence: float = 0.42
    lr: float = 0.25
    seg_thr: float = 0.30
    instance_size: int = 255
    exemplar_size: int = 127
    base_size: int = 8
    out_size: int = 127
    total_stride: int = 8
    context_amount: float = 0.5
    ratios: tuple[float, ...] = (0.33, 0.5, 1.0, 2.0, 3.0)
    scales: tuple[float, ...] = (8.0,)
    # a mask must cover more than this many pixels (contour area) to give the rotated box
    min_mask_area: float = 100.0
    min_size: float = 10.0  # the reference clamps the target size to [10, image size]
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def score_size(self) -> int:
        return (self.instance_size - self.exemplar_size) // self.total_stride + 1 + self.base_size

    @property
    def anchor_num(self) -> int:
        return len(self.ratios) * len(self.scales)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("extra")
        d["ratios"], d["scales"] = list(self.ratios), list(self.scales)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrackerConfig:
        """Accept our flat layout or the reference's {"hp": {...}, "anchors": {...}} layout."""
        if not isinstance(data, dict):
            raise SiamMaskError(f"tracker settings: expected an object, got {type(data).__name__}")
        flat: dict[str, Any] = {}
        if "hp" in data or "anchors" in data:
            for part in ("hp", "anchors"):
                if not isinstance(data.get(part, {}), dict):
                    raise SiamMaskError(f"tracker settings: '{part}' must be an object")
            flat.update(data.get("hp", {}))
            anchors = data.get("anchors", {})
            if "stride" in anchors:
                flat["total_stride"] = anchors["stride"]
            for key in ("ratios", "scales"):
                if key in anchors:
                    flat[key] = anchors[key]
        else:
            flat.update(data)
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        unknown = sorted(set(flat) - names - {"round_dight", "windowing"})
        if unknown:
            names = ", ".join(k if k.isprintable() else repr(k) for k in unknown[:10])
            raise SiamMaskError(f"unknown tracker setting(s): {names}")
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in flat:
                continue
            value = flat[f.name]
            try:
                if f.name in ("ratios", "scales"):
                    kwargs[f.name] = tuple(float(v) for v in value)
                elif f.type == "int":
                    kwargs[f.name] = int(value)
                else:
                    kwargs[f.name] = float(value)
            except (TypeError, ValueError, OverflowError):
                raise SiamMaskError(f"tracker setting {f.name}: not a number: {str(value)[:40]!r}") from None
        config = cls(**kwargs)
        if (config.instance_size, config.exemplar_size, config.out_size, config.total_stride) != (
            255, 127, 127, 8
        ):
            raise SiamMaskError("instance_size 255, exemplar_size 127, out_size 127 and stride 8 are fixed "
                                "by the network and cannot be changed")
        return config

    @classmethod
    def from_file(cls, path: str | Path) -> TrackerConfig:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:  # ValueError: JSON errors
            raise SiamMaskError(f"config {path}: {exc}") from None
        if not isinstance(data, dict):
            raise SiamMaskError(f"config {path}: expected a JSON object")
        return cls.from_dict(data)
