"""The Python API: load a model once, then track from numpy frames.

    from siammask.api import SiamMask, SiamMaskCV

    model = SiamMask.load("SiamMask_VOT.pth")      # or an exported folder (ONNX Runtime or OpenVINO, no torch)
    model.init(first_frame, (x, y, w, h))           # or an 8-value polygon
    result = model.track(next_frame)                # TrackResult: polygon, box, score, mask

    tracker = SiamMaskCV.create("exported/")       # the cv2.Tracker calling convention
    tracker.init(first_frame, (x, y, w, h))
    ok, (x, y, w, h) = tracker.update(next_frame)

Frames are BGR uint8 (as cv2.imread and cv2.VideoCapture give; grayscale and BGRA are
converted). The engine is stateless, so trackers made from one SiamMask share its weights and
never disturb each other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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

    def __init__(self, engine: Engine, config: TrackerConfig | None = None) -> None:
        self.engine = engine
        self.config = config or TrackerConfig()
        self._tracker = Tracker(engine, self.config)
        self._result: TrackResult | None = None
        self._initialised = False

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, backend: str | None = None, threads: int | None = None,
        precision: str | None = None,
    ) -> SiamMask:
        """A .pth checkpoint, run by PyTorch (needs the `torch` extra), in fp32.

        `backend` may only be "torch", "auto" (or None): the other backends need the graphs
        exported first (`siammask export`), which `from_model` then loads.
        """
        return cls(*EngineSpec(checkpoint=path, backend=backend, threads=threads, precision=precision).build())

    @classmethod
    def from_model(
        cls, folder: str | Path, threads: int | None = None, providers: str | list[str] | None = None,
        backend: str | None = None, precision: str | None = None,
    ) -> SiamMask:
        """An exported folder (manifest.json + ONNX graphs), run without torch by `backend`:
        "onnxruntime", "openvino", or None/"auto" (the fastest measured for the precision).
        `precision` fp32|bf16|fp16|int8, None: what the folder holds (docs/engines.md)."""
        spec = EngineSpec(model=folder, backend=backend, threads=threads, providers=providers, precision=precision)
        return cls(*spec.build())

    @classmethod
    def load(
        cls, path: str | Path, threads: int | None = None, backend: str | None = None,
        precision: str | None = None, preset: str | None = None,
    ) -> SiamMask:
        """A checkpoint file or an exported folder, whichever `path` is. `preset` (vot, vot18, davis,
        pysot: siammask.tracking.presets) replaces the model's own tracker settings."""
        spec = EngineSpec.for_path(path, threads=threads, backend=backend, precision=precision, preset=preset)
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
        """The target in the next frame (same size as the init frame)."""
        if not self._initialised:
            raise SiamMaskError("track() before init(): give the first frame and the target's box")
        self._result = self._tracker.track(frame)
        return self._result

    @property
    def result(self) -> TrackResult | None:
        """The latest TrackResult (None right after init)."""
        return self._result


class SiamMaskCV:
    """SiamMask with OpenCV's tracker interface: `init(frame, bbox)`, `update(frame) -> (ok, bbox)`.

    bbox is (x, y, w, h) in integer pixels, the tracker's axis-aligned box (it may reach past
    the image border, as OpenCV trackers' boxes may). `ok` is False when the score is below
    `score_threshold` or the mask vanished (no pixel above the segmentation threshold); the
    tracker keeps going either way, so a target that reappears can be picked up again.

    The default threshold 0.5 is the point where the network calls a cell more likely target
    than background; raise it to report loss sooner. The score is the chosen anchor's
    foreground probability (before the motion penalties), also given by `getTrackingScore()`.
    """

    DEFAULT_SCORE_THRESHOLD = 0.5

    def __init__(self, model: SiamMask | Engine, score_threshold: float = DEFAULT_SCORE_THRESHOLD,
                 config: TrackerConfig | None = None) -> None:
        if not math.isfinite(score_threshold):
            raise SiamMaskError(f"score threshold must be a finite number, got {score_threshold}")
        if isinstance(model, SiamMask):
            self._tracker = model.tracker()
        else:
            self._tracker = Tracker(model, config)
        self.score_threshold = float(score_threshold)
        self._result: TrackResult | None = None
        self._initialised = False

    @classmethod
    def create(
        cls, path: str | Path, score_threshold: float = DEFAULT_SCORE_THRESHOLD, threads: int | None = None
    ) -> SiamMaskCV:
        """From a checkpoint file or an exported folder (like cv2.TrackerXXX_create())."""
        return cls(SiamMask.load(path, threads=threads), score_threshold)

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
        ok = result.score >= self.score_threshold and result.mask_pixels > 0
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
