"""Tracker hyperparameters: the reference's config_vot.json, overridable by a JSON or pysot YAML file.

Every TrackerConfig is validated when it is made (directly, from a file or from a preset), so a
NaN, an infinity or a value the arithmetic cannot take never reaches the tracker.
"""

from __future__ import annotations

import dataclasses
import json
import math
import reprlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siammask.errors import SiamMaskError
from siammask.files import read_input_text

# A settings file is a few hundred bytes; anything far larger is not one (and is not read whole).
MAX_CONFIG_BYTES = 1 << 20

# The network fixes these: its crops are 127/255 pixels, its stride 8, its score map 25x25
# (= (255 - 127) / 8 + 1 + base_size) and its classifier has 2 x 5 anchor channels.
NETWORK_FIXED = {"instance_size": 255, "exemplar_size": 127, "out_size": 127, "total_stride": 8, "base_size": 8}
NETWORK_ANCHORS = 5

# pysot's TRACK and ANCHOR keys (yacs layout, experiments/*/config.yaml) -> our names.
# MASK_THERSHOLD is pysot's own spelling; the corrected one is accepted too.
_PYSOT_TRACK = {
    "PENALTY_K": "penalty_k", "WINDOW_INFLUENCE": "window_influence", "LR": "lr",
    "EXEMPLAR_SIZE": "exemplar_size", "INSTANCE_SIZE": "instance_size", "BASE_SIZE": "base_size",
    "CONTEXT_AMOUNT": "context_amount", "MASK_THERSHOLD": "seg_thr", "MASK_THRESHOLD": "seg_thr",
}
_PYSOT_ANCHOR = {"STRIDE": "total_stride", "RATIOS": "ratios", "SCALES": "scales"}
# pysot's long-term keys (SiamRPN++ LT's experiments/*_lt/config.yaml) have the same meaning here.
_PYSOT_TRACK.update({"LOST_INSTANCE_SIZE": "lost_instance_size", "CONFIDENCE_LOW": "presence_thr",
                     "CONFIDENCE_HIGH": "redetect_thr"})
# TRACK keys of pysot's other trackers: they do not apply to SiamMask.
_PYSOT_IGNORED = {"TYPE", "MASK_OUTPUT_SIZE"}

# (low, high, low inclusive) per float setting; the bounds say where the arithmetic stays sound.
_RANGES: dict[str, tuple[float, float, bool]] = {
    "penalty_k": (0.0, 100.0, True),        # exp(-penalty) of a size change; negative rewards changes
    "window_influence": (0.0, 1.0, True),   # a convex blend of score and cosine window
    "lr": (0.0, 1.0, True),                 # a convex blend of old and new size
    "long_term_lr": (0.0, 1.0, True),       # the same, in long-term mode
    "seg_thr": (0.0, 1.0, True),            # a threshold on mask probabilities
    "context_amount": (0.0, 10.0, False),   # 0 gives a zero-sized crop; far above 0.5 a crop of padding
    "min_mask_area": (0.0, 1e9, True),
    "min_size": (0.0, 1e5, True),
    "presence_thr": (0.0, 1.0, True),       # thresholds on a softmax probability
    "redetect_thr": (0.0, 1.0, True),
    "appearance_thr": (0.0, 1.0, True),     # a Bhattacharyya coefficient of colour histograms
}
# the widest search crop: (size - exemplar) must be a multiple of the stride; 1663 is a 6.5x wider
# view than 255 and costs ~40x a normal search
_LOST_SIZE_RANGE = (255, 1663)
_ANCHOR_RANGE = (0.0, 100.0)  # ratios and scales: beyond it anchors overflow or round to 0 pixels


_SHORT = reprlib.Repr()  # keyword arguments only from Python 3.12
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxother = 2, 6, 4, 40, 40


def _show(value: object) -> str:
    """A value for a one-line message: short, and quoted when it holds newlines or other controls.
    A container is abbreviated as it is written (reprlib), never turned whole into a string first:
    a file's value may be far larger than the file (YAML aliases, shared references)."""
    text = value[:40] if isinstance(value, str) else _SHORT.repr(value)[:60]
    return text if text.isprintable() else repr(text)


class Refused(ValueError):
    """Valid JSON or YAML that a settings or manifest file may not hold: a key given twice in one
    mapping (the parsers keep the last silently), a YAML alias."""


def unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`object_pairs_hook` for json.loads: a JSON object, refused when a key appears twice (which
    value was meant cannot be told; json keeps the last)."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise Refused(f"key {_show(key)} appears twice; keep one")
        result[key] = value
    return result


def parse_json(text: str, what: str) -> Any:
    """JSON from a settings or manifest file, in one line when it is not valid JSON or names a
    key twice in one object; `what` names the file ("config a.json")."""
    try:
        return json.loads(text, object_pairs_hook=unique_pairs)
    except Refused as exc:
        raise SiamMaskError(f"{what}: {exc}") from None
    except (ValueError, RecursionError) as exc:  # ValueError: JSON errors and 5,000-digit integers
        raise SiamMaskError(f"{what}: not valid JSON ({str(exc).splitlines()[0][:80]})") from None


def _setting_error(name: str, value: object, why: str) -> SiamMaskError:
    return SiamMaskError(f"tracker setting {name}: {_show(value)} {why}")


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
    # Presence and long-term search (docs/longterm.md gives the measurement behind the defaults).
    # A result is present when its score reaches presence_thr and its box's colours match the first
    # frame's box (tracking/appearance.py: Bhattacharyya coefficient >= appearance_thr; 0 turns the
    # check off). In long-term mode a target judged
    # absent keeps its state and is searched for in crops up to lost_instance_size wide (pysot's
    # SiamRPN++ LT: LOST_INSTANCE_SIZE, CONFIDENCE_LOW); a candidate at presence_thr or more is
    # taken, and the normal search resumes once one reaches redetect_thr (CONFIDENCE_HIGH).
    presence_thr: float = 0.5
    redetect_thr: float = 0.5
    lost_instance_size: int = 831
    appearance_thr: float = 0.7
    # In long-term mode the size follows the box regression at this rate instead of lr: on targets
    # the embedded default never saw its regression drifts small, and a slower update kept the box
    # (and the mask, predicted over the state's view) on the whole target (docs/longterm.md: F 0.486
    # -> 0.669 and 0.585 -> 0.676 on two held-out sets). Short-term mode keeps lr, the reference's;
    # lr's 0.25 here gives long-term mode the short-term rate.
    long_term_lr: float = 0.05
    long_term: bool = False

    @property
    def size_lr(self) -> float:
        """The size update rate the tracker uses: long_term_lr in long-term mode, else lr."""
        return self.long_term_lr if self.long_term else self.lr

    def __post_init__(self) -> None:
        for name, (low, high, inclusive) in _RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _setting_error(name, repr(value), "is not a number")
            if not math.isfinite(value):
                raise _setting_error(name, value, "is not finite")
            if value > high or value < low or (value == low and not inclusive):
                bracket = "[" if inclusive else "("
                raise _setting_error(name, value, f"is out of range (allowed {bracket}{low:g}, {high:g}])")
        for name in ("ratios", "scales"):
            values = getattr(self, name)
            if not isinstance(values, tuple) or not values:
                raise _setting_error(name, list(values) if isinstance(values, tuple) else values,
                                     "must be a non-empty list of numbers")
            for v in values:
                if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
                        or not _ANCHOR_RANGE[0] < v <= _ANCHOR_RANGE[1]:
                    raise _setting_error(name, list(values), f"must hold finite numbers in (0, {_ANCHOR_RANGE[1]:g}]")
        if not isinstance(self.long_term, bool):
            raise _setting_error("long_term", repr(self.long_term), "is not true or false")
        lost = self.lost_instance_size
        low, high = _LOST_SIZE_RANGE
        if isinstance(lost, bool) or not isinstance(lost, int) or not low <= lost <= high \
                or (lost - self.exemplar_size) % self.total_stride:
            raise _setting_error("lost_instance_size", repr(lost), f"must be an integer in {list(_LOST_SIZE_RANGE)} "
                                 f"with (size - {self.exemplar_size}) a multiple of {self.total_stride}")
        if len(self.ratios) * len(self.scales) != NETWORK_ANCHORS:
            raise SiamMaskError(f"tracker settings: {len(self.ratios)} ratios x {len(self.scales)} scales = "
                                f"{len(self.ratios) * len(self.scales)} anchors, the network has {NETWORK_ANCHORS}")
        for name, fixed in NETWORK_FIXED.items():
            if getattr(self, name) != fixed:
                raise SiamMaskError(f"tracker setting {name}: {_show(getattr(self, name))}, but the network fixes "
                                    f"it at {fixed} (instance_size 255, exemplar_size 127, out_size 127, stride 8 "
                                    "and base_size 8 cannot be changed)")

    @property
    def score_size(self) -> int:
        return (self.instance_size - self.exemplar_size) // self.total_stride + 1 + self.base_size

    def score_size_for(self, instance_size: int) -> int:
        """The score map's side for a search crop of `instance_size` pixels (long-term's wide search)."""
        return (instance_size - self.exemplar_size) // self.total_stride + 1 + self.base_size

    @property
    def anchor_num(self) -> int:
        return len(self.ratios) * len(self.scales)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["ratios"], d["scales"] = list(self.ratios), list(self.scales)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrackerConfig:
        """Accept our flat layout, the reference's {"hp": {...}, "anchors": {...}} layout or pysot's
        yacs layout ({"TRACK": {...}, "ANCHOR": {...}}, other sections describe the model)."""
        if not isinstance(data, dict):
            raise SiamMaskError(f"tracker settings: expected an object, got {type(data).__name__}")
        if "TRACK" in data:
            flat = _from_pysot(data)
        elif "hp" in data or "anchors" in data:
            flat = {}
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
            flat = dict(data)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(_show(k) for k in set(flat) - names - {"round_dight", "windowing"})
        if unknown:
            shown = ", ".join(unknown[:10])
            raise SiamMaskError(f"unknown tracker setting(s): {shown}")
        return cls(**{f.name: _convert(f, flat[f.name]) for f in dataclasses.fields(cls) if f.name in flat})

    @classmethod
    def from_file(cls, path: str | Path) -> TrackerConfig:
        """A JSON file (ours or the authors' config_*.json) or a YAML file (.yaml/.yml: pysot's)."""
        path = Path(path)
        # refused by type (a FIFO would block, a device never end) and size before it is read
        text = read_input_text(path, f"config {path}", MAX_CONFIG_BYTES)
        yaml_file = path.suffix.lower() in (".yaml", ".yml")
        data = _parse_yaml(path, text) if yaml_file else parse_json(text, f"config {path}")
        if not isinstance(data, dict):
            raise SiamMaskError(f"config {path}: expected a mapping of settings")
        try:
            return cls.from_dict(data)
        except SiamMaskError as exc:
            raise SiamMaskError(f"config {path}: {exc}") from None


def _convert(f: dataclasses.Field, value: Any) -> Any:
    """One setting from a file to its field's type; booleans and strings are not numbers here."""
    def number(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise TypeError
        return float(v)

    try:
        if f.name in ("ratios", "scales"):
            if not isinstance(value, list | tuple):
                raise TypeError
            return tuple(number(v) for v in value)
        if f.type == "bool":
            if not isinstance(value, bool):
                raise TypeError
            return value
        if f.type == "int":
            if isinstance(value, float) and not value.is_integer():
                raise TypeError
            return int(number(value))
        return number(value)
    except (TypeError, ValueError, OverflowError):
        kind = "true or false" if f.type == "bool" else "a number"
        raise SiamMaskError(f"tracker setting {f.name}: not {kind}: {_show(value)}") from None


def _from_pysot(data: dict[str, Any]) -> dict[str, Any]:
    track, anchor = data.get("TRACK"), data.get("ANCHOR", {})
    if not isinstance(track, dict) or not isinstance(anchor, dict):
        raise SiamMaskError("tracker settings: pysot's TRACK and ANCHOR sections must be mappings")
    kind = track.get("TYPE", "SiamMaskTracker")
    if kind != "SiamMaskTracker":
        raise SiamMaskError(f"tracker settings: TRACK.TYPE is {_show(kind)}, not SiamMaskTracker")
    unknown = sorted(_show(k) for k in set(track) - set(_PYSOT_TRACK) - _PYSOT_IGNORED)
    unknown += sorted(f"ANCHOR.{_show(k)}" for k in set(anchor) - set(_PYSOT_ANCHOR) - {"ANCHOR_NUM"})
    if unknown:
        raise SiamMaskError(f"unknown tracker setting(s): {', '.join(unknown[:10])}")
    flat = {_PYSOT_TRACK[k]: v for k, v in track.items() if k in _PYSOT_TRACK}
    flat.update({_PYSOT_ANCHOR[k]: v for k, v in anchor.items() if k in _PYSOT_ANCHOR})
    if "ANCHOR_NUM" in anchor and anchor["ANCHOR_NUM"] != NETWORK_ANCHORS:
        raise SiamMaskError(f"tracker setting ANCHOR.ANCHOR_NUM: {_show(anchor['ANCHOR_NUM'])}, the network has "
                            f"{NETWORK_ANCHORS}")
    return flat


def _strict_loader() -> type:
    """yaml.SafeLoader (tags that build Python objects refused) that also refuses what a settings
    file never needs and an attacker uses: aliases (`*a`, each of which repeats a whole subtree:
    nine nested levels of nine make a 365-byte file of a billion values) and a key given twice
    in one mapping (YAML keeps the last silently)."""
    import yaml  # a dependency, imported here so that `import siammask` stays light

    class StrictLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise Refused(f"alias *{event.anchor} at line {event.start_mark.line + 1}: aliases are not "
                                     "accepted in a settings file; write the values out")
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | float | bool):
                    continue  # unhashable keys: the base class refuses them
                if key in seen:
                    raise Refused(f"key {_show(key)} appears twice (line {key_node.start_mark.line + 1}); keep one")
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


def _parse_yaml(path: Path, text: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=_strict_loader())  # noqa: S506 - a SafeLoader subclass
    except Refused as exc:
        raise SiamMaskError(f"config {path}: {exc}") from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        first = " ".join(str(exc).split())[:120]
        raise SiamMaskError(f"config {path}: not valid YAML ({first})") from None
