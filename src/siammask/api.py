"""The Python API: load a model once, then track from numpy frames.

    from siammask.api import SiamMask, SiamMaskCV

    model = SiamMask.load("SiamMask_VOT.pth")      # or an exported folder (ONNX Runtime or OpenVINO, no torch)
    model.init(first_frame, (x, y, w, h))           # or an 8-value polygon
    result = model.track(next_frame)                # TrackResult: polygon, box, score, mask, present

    tracker = SiamMaskCV.create("exported/")       # the cv2.Tracker calling convention
    tracker.init(first_frame, (x, y, w, h))
    ok, (x, y, w, h) = tracker.update(next_frame)   # ok False: the target is judged absent

    model = SiamMask.load("exported/", long_term=True)  # an absent target is searched for wide

    # a whole video from keyframes, forward, backward or both (tracking/keyframes.py has the rule)
    for frame, results in model.track_video(frames, {0: (x, y, w, h)}, direction="both", start=40):
        ...                                         # frame index, one TrackResult per target

`result.present` says whether the tracker judges the target in view (its score at the settings'
presence_thr or more). An absent result's `binary_mask()` is all zeros; in long-term mode its
box and polygon are the held state (where the search goes on), not a detection. Long-term mode
(docs/longterm.md) needs a model whose search graph takes wider crops: a checkpoint, or an
export written since long-term tracking came.

Frames are BGR uint8 (as cv2.imread and cv2.VideoCapture give; grayscale and BGRA are
converted). The engine is stateless, so trackers made from one SiamMask share its weights and
never disturb each other.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from siammask.engine_contract import Engine
from siammask.engines.factory import EngineSpec
from siammask.errors import SiamMaskError
from siammask.tracking.config import TrackerConfig
from siammask.tracking.tracker import MultiTracker, Tracker, TrackResult


class SiamMask:
    """A loaded SiamMask model with one tracked target (`init`, then `track` per frame).

    For more targets, or several independent ones, make trackers that share this model's
    engine with `tracker()` and `multi_tracker()`.
    """

    def __init__(self, engine: Engine, config: TrackerConfig | None = None, long_term: bool = False) -> None:
        """`long_term=True` turns the settings' long-term mode on (False keeps what `config` says)."""
        self.engine = engine
        self.config = config or TrackerConfig()
        if long_term and not self.config.long_term:
            self.config = dataclasses.replace(self.config, long_term=True)
        self._tracker = Tracker(engine, self.config)
        self._result: TrackResult | None = None
        self._initialised = False

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, backend: str | None = None, threads: int | None = None,
        precision: str | None = None, long_term: bool = False,
    ) -> SiamMask:
        """A .pth checkpoint, run by PyTorch (needs the `torch` extra), in fp32.

        `backend` may only be "torch", "auto" (or None): the other backends need the graphs
        exported first (`siammask export`), which `from_model` then loads. `long_term`: see `load`.
        """
        spec = EngineSpec(checkpoint=path, backend=backend, threads=threads, precision=precision, long_term=long_term)
        return cls(*spec.build())

    @classmethod
    def from_model(
        cls, folder: str | Path, threads: int | None = None, providers: str | list[str] | None = None,
        backend: str | None = None, precision: str | None = None, long_term: bool = False,
    ) -> SiamMask:
        """An exported folder (manifest.json + ONNX graphs), run without torch by `backend`:
        "onnxruntime", "openvino", or None/"auto" (the fastest measured for the precision).
        `precision` fp32|bf16|fp16|int8, None: what the folder holds (docs/engines.md).
        `long_term`: see `load`."""
        spec = EngineSpec(model=folder, backend=backend, threads=threads, providers=providers, precision=precision,
                          long_term=long_term)
        return cls(*spec.build())

    @classmethod
    def load(
        cls, path: str | Path, threads: int | None = None, backend: str | None = None,
        precision: str | None = None, preset: str | None = None, long_term: bool = False,
    ) -> SiamMask:
        """A checkpoint file or an exported folder, whichever `path` is. `preset` (vot, vot18, davis,
        pysot: siammask.tracking.presets) replaces the model's own tracker settings. `long_term=True`:
        a target judged absent keeps its state and is searched for in wider crops until found
        (refused, in one line, for an export whose search graph takes 255-pixel crops only)."""
        spec = EngineSpec.for_path(path, threads=threads, backend=backend, precision=precision, preset=preset,
                                   long_term=long_term)
        return cls(*spec.build())

    @property
    def precision(self) -> str:
        """What the engine computes in: `fp32`, `fp16`, `bf16`, or `fp32+int8` for a quantized export."""
        return str(getattr(self.engine, "precision", "fp32"))

    def __repr__(self) -> str:
        return f"SiamMask({getattr(self.engine, 'name', type(self.engine).__name__)}, {self.precision})"

    def tracker(self) -> Tracker:
        """A new single-target tracker sharing this model's engine."""
        return Tracker(self.engine, self.config)

    def multi_tracker(self) -> MultiTracker:
        """A new K-target tracker (one batched engine call per frame) sharing this model's engine."""
        return MultiTracker(self.engine, self.config)

    def init(self, frame: np.ndarray, box: Sequence[float] | np.ndarray) -> None:
        """Start tracking `box` (x,y,w,h, or an 8-value polygon) in `frame`; forgets any earlier target."""
        self._tracker.init(frame, box)
        self._result = None
        self._initialised = True

    def track(self, frame: np.ndarray) -> TrackResult:
        """The target in the next frame (same size as the init frame); `present` False: judged absent."""
        if not self._initialised:
            raise SiamMaskError("track() before init(): give the first frame and the target's box")
        self._result = self._tracker.track(frame)
        return self._result

    @property
    def result(self) -> TrackResult | None:
        """The latest TrackResult (None right after init)."""
        return self._result

    def track_video(
        self, frames: Sequence[np.ndarray] | Iterable[np.ndarray],
        keyframes: Mapping[int, Sequence[float]] | Iterable[object], direction: str = "forward", start: int = 0,
    ) -> Iterator[tuple[int, list[TrackResult]]]:
        """Track a video from keyframes, yielding (frame index, one TrackResult per target) for each
        frame some target has a result on, in increasing frame order.

        `keyframes`: {frame: box} for one target (boxes x,y,w,h or 8 polygon values), or
        `siammask.tracking.keyframes.Keyframe(frame, target, region)` items for several targets
        (region None ends a target); a plain box or list of boxes is taken on frame `start`.
        `direction`: "forward", "backward" or "both" (the nearer keyframe wins; a tie goes to the
        earlier one, forward). Forward runs stream `frames` (any iterable, one pass, as the camera
        gives them); backward runs need a sequence (a list of frames) to go back through. A
        keyframe's frame carries its region (score NaN), a target no run covers is absent
        (`present` False, polygon NaN). Uses its own trackers: `init`/`track` are not disturbed."""
        from siammask.tracking.keyframes import plan
        from siammask.tracking.session import KeyframeSession, numbered

        keys = _keyframes(keyframes, start)
        if isinstance(frames, np.ndarray):  # N x H x W x C: a sequence of frames
            frames = list(frames)
        length = len(frames) if isinstance(frames, Sequence) else None
        chosen = plan(keys, direction, length, "keyframes")
        if chosen.backward and not isinstance(frames, Sequence):
            raise SiamMaskError("tracking backward needs the frames as a sequence (a list), not a one-pass iterable")
        session = KeyframeSession(self.multi_tracker, chosen)
        frame_at = (lambda index: frames[index]) if chosen.backward else None  # type: ignore[index]
        for index, _, results, _ in session.told(numbered(frames), frame_at):
            yield index, results


def _keyframes(keyframes: object, start: int) -> list:
    """Keyframe items from what track_video accepts (see there)."""
    from siammask.tracking.keyframes import Keyframe, start_keyframes

    if isinstance(keyframes, Mapping):
        return [Keyframe(int(f), 0, None if b is None else tuple(float(v) for v in b)) for f, b in keyframes.items()]
    items = list(keyframes)  # type: ignore[call-overload]
    if items and all(isinstance(k, Keyframe) for k in items):
        return items
    if items and all(isinstance(v, int | float) for v in items):
        items = [items]  # one box
    try:
        return start_keyframes(items, start)
    except (TypeError, ValueError):
        raise SiamMaskError("keyframes: expected {frame: box}, Keyframe items, or a box or list of boxes") from None


class SiamMaskCV:
    """SiamMask with OpenCV's tracker interface: `init(frame, bbox)`, `update(frame) -> (ok, bbox)`.

    bbox is (x, y, w, h) in integer pixels, the tracker's axis-aligned box (it may reach past
    the image border, as OpenCV trackers' boxes may). `ok` is False when the target is judged
    absent or the mask vanished (no pixel above the segmentation threshold); the tracker keeps
    going either way, so a target that reappears can be picked up again (in long-term mode it
    holds the last box while absent and searches wide: `create(..., long_term=True)`).

    Absent is the tracker's own rule (`TrackResult.present`: the score at the settings'
    presence_thr or more, docs/longterm.md) when `score_threshold` is None, the default. A number
    replaces that rule here: ok when the score reaches it. The score is the chosen anchor's
    foreground probability (before the motion penalties), also given by `getTrackingScore()`.
    """

    DEFAULT_SCORE_THRESHOLD: float | None = None  # None: the tracker's presence rule

    def __init__(self, model: SiamMask | Engine, score_threshold: float | None = DEFAULT_SCORE_THRESHOLD,
                 config: TrackerConfig | None = None) -> None:
        if score_threshold is not None and (
                isinstance(score_threshold, bool) or not isinstance(score_threshold, int | float)
                or not math.isfinite(score_threshold)):
            raise SiamMaskError(f"score threshold must be a finite number or None, got {score_threshold!r}")
        if isinstance(model, SiamMask):
            self._tracker = model.tracker()
        else:
            self._tracker = Tracker(model, config)
        self.score_threshold = None if score_threshold is None else float(score_threshold)
        self._result: TrackResult | None = None
        self._initialised = False

    @classmethod
    def create(
        cls, path: str | Path, score_threshold: float | None = DEFAULT_SCORE_THRESHOLD, threads: int | None = None,
        long_term: bool = False,
    ) -> SiamMaskCV:
        """From a checkpoint file or an exported folder (like cv2.TrackerXXX_create());
        `long_term` as SiamMask.load's."""
        return cls(SiamMask.load(path, threads=threads, long_term=long_term), score_threshold)

    def init(self, frame: np.ndarray, bbox: Sequence[float]) -> None:
        """Start tracking bbox = (x, y, w, h) in `frame`."""
        if len(bbox) != 4:
            raise SiamMaskError(f"bbox must be (x, y, w, h), got {len(bbox)} values")
        self._tracker.init(frame, bbox)
        self._result = None
        self._initialised = True

    def update(self, frame: np.ndarray) -> tuple[bool, tuple[int, int, int, int]]:
        """Track one frame: (ok, (x, y, w, h)); see the class docstring for when ok is False."""
        if not self._initialised:
            raise SiamMaskError("update() before init(): give the first frame and the target's bbox")
        result = self._tracker.track(frame)
        self._result = result
        seen = result.present if self.score_threshold is None else result.score >= self.score_threshold
        ok = seen and result.mask_pixels > 0
        return bool(ok), _int_box(result.box)

    def getTrackingScore(self) -> float:  # OpenCV's name (cv2.TrackerDaSiamRPN)
        """The latest frame's score; NaN before the first update."""
        return float("nan") if self._result is None else float(self._result.score)

    @property
    def result(self) -> TrackResult | None:
        """The latest full TrackResult (polygon, mask, score)."""
        return self._result


def _int_box(box: np.ndarray) -> tuple[int, int, int, int]:
    """Round the edges, not the size, so the integer box covers the float one as closely as possible."""
    x, y, w, h = (float(v) for v in box)
    x1, y1, x2, y2 = round(x), round(y), round(x + w), round(y + h)
    return x1, y1, max(1, x2 - x1), max(1, y2 - y1)
