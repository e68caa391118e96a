"""The tracker: per-target state and the per-frame data flow.

frame -> crop -> engine.search -> decide (anchors, penalties, window) -> engine.refine at the
chosen cell -> mask in the image -> rotated box. The engine is stateless; each target's kernels
and position live here, so trackers sharing one engine never disturb each other, and K targets
of one tracker go through each engine call as one batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from siammask.engine_contract import Engine, TemplateKernels
from siammask.errors import SiamMaskError
from siammask.system import available_memory
from siammask.tracking.appearance import colour_signature, similarity
from siammask.tracking.config import TrackerConfig
from siammask.tracking.crop import crop_subwindow, to_chw_float
from siammask.tracking.decode import (
    Decision,
    check_finite,
    cosine_window,
    decide,
    generate_anchors,
    wide_candidates,
)
from siammask.tracking.frames import as_bgr
from siammask.tracking.geometry import axis_aligned_box, box_corners, check_start_box, cxcywh_to_xywh, overlaps_image
from siammask.tracking.mask import PastedMask, mask_to_image, rotated_box


@dataclass
class TargetState:
    """Everything one target carries from frame to frame."""

    pos: np.ndarray  # centre (x, y), float64
    size: np.ndarray  # (w, h)
    fill: np.ndarray  # the init frame's mean colour, pads crops that leave the frame
    kernels: TemplateKernels  # this target's correlation kernels (batch of one)
    signature: np.ndarray | None = None  # the init box's colours (tracking/appearance.py)
    searching: bool = False  # long-term mode: judged absent, searched for in a wide crop


@dataclass(frozen=True)
class TrackResult:
    """One target in one frame."""

    polygon: np.ndarray  # 4x2 corners: the mask's rotated box, or the axis-aligned box
    box: np.ndarray  # x, y, w, h of the tracker's (clamped) state
    score: float
    mask: PastedMask | None  # mask probabilities in image coordinates
    mask_pixels: int  # pixels above the segmentation threshold
    from_mask: bool  # False when the mask was too small and `polygon` is the box
    seg_thr: float = 0.3  # the tracker's segmentation threshold (what `mask_pixels` counts above)
    # whether the target is judged in view (the score at the settings' presence_thr and the box's
    # colours matching the first frame's at appearance_thr). An absent result's mask is empty
    # (binary_mask); in long-term mode its box is the held state, not a detection, and writers
    # mark the frame absent in their own way.
    present: bool = True
    appearance: float = float("nan")  # colour match of the result's box with the init box, 0..1

    @property
    def confidence(self) -> float:
        """How sure the tracker is that this is the target: the score times the colour match (what
        long-term results record per frame; docs/longterm.md has the measurement)."""
        return self.score * self.appearance if np.isfinite(self.appearance) else self.score

    @property
    def center(self) -> np.ndarray:
        return self.box[:2] + self.box[2:] / 2

    @property
    def outline_box(self) -> np.ndarray:
        """x, y, w, h bounding `polygon`: the mask's extent when it was found (the state box
        otherwise). What long-term results write: against axis-aligned ground truth it fits the
        target better than the state, whose size follows the box regression alone
        (docs/longterm.md has the measurement)."""
        low, high = self.polygon.min(axis=0), self.polygon.max(axis=0)
        return np.concatenate([low, high - low])

    def binary_mask(self, threshold: float | None = None) -> np.ndarray:
        """Whole-frame uint8 mask, 1 above `threshold` (default: the tracker's seg_thr); all zeros
        when the target is absent."""
        if self.mask is None:
            raise SiamMaskError("this result has no mask")
        binary = self.mask.binary(self.seg_thr if threshold is None else threshold)
        return binary if self.present else np.zeros_like(binary)

    def probabilities(self) -> np.ndarray:
        """Whole-frame float32 mask probabilities, -1 where the mask cannot reach (the reference's
        `state['mask']`, what its VOS protocol takes the argmax over)."""
        if self.mask is None:
            raise SiamMaskError("this result has no mask")
        return self.mask.full()


def parse_box(box: Sequence[float] | np.ndarray) -> tuple[float, float, float, float]:
    """x,y,w,h or an 8-value polygon -> (cx, cy, w, h), validated."""
    values = np.asarray(box, dtype=np.float64).ravel()
    if not np.all(np.isfinite(values)):
        raise SiamMaskError("box values must be finite numbers")
    cx, cy, w, h = axis_aligned_box(values)
    if not (w > 0 and h > 0):
        raise SiamMaskError(f"box must have positive width and height, got {w:g}x{h:g}")
    return cx, cy, w, h


def init_result(box: Sequence[float] | np.ndarray) -> TrackResult:
    """The result reported for the initialisation frame: the given region, no score, no mask.

    A 4-value box gives its corners; an 8-value polygon is kept as given. `box` is the
    axis-aligned box the tracker starts from (for a polygon, the reference's area-preserving box).
    """
    values = np.asarray(box, dtype=np.float64).ravel()
    cx, cy, w, h = parse_box(values)
    xywh = np.array([cx - w / 2, cy - h / 2, w, h])
    polygon = values.reshape(4, 2).copy() if values.size == 8 else box_corners(values)
    return TrackResult(polygon, xywh, float("nan"), None, 0, False)


def check_box_in_image(values: Sequence[float], image_size: tuple[int, int], label: str) -> None:
    """A box the user typed or drew must overlap the first frame: one wholly outside it can only be
    a typo. Named by `label` (e.g. the --box text) in the one-line error."""
    if not overlaps_image(parse_box(values), image_size):
        raise SiamMaskError(f"{label} lies outside the {image_size[0]}x{image_size[1]} image")


# What one more target costs while tracking, measured as peak RSS over K = 1, 4, 16 targets on
# 854x480 frames with the seeded export (each result's full-frame probabilities held, as the DAVIS
# protocol holds them): 40 MiB (torch), 54 (OpenVINO), 69 (ONNX Runtime); the catalogue's DAVIS
# run needed 88 (254 objects, 22 GB). The largest is taken: a refusal is cheaper than swapping.
TARGET_BYTES = 88 << 20
# pysot's SiamRPN++ LT weighs the cosine window at 0.001 in its wide search
WIDE_WINDOW_INFLUENCE = 0.001
# separate score-map peaks a wide search compares by colour (each costs a histogram of its box)
WIDE_CANDIDATES = 5
# label maps (track --masks, DAVIS results) write target k as k + 1 in an 8-bit PNG
MAX_TARGETS = 255


def check_target_count(count: int, what: str = "targets", held: int = 0) -> None:
    """Refuse, in one line, more targets than label maps can number or this machine's memory can
    track at once (TARGET_BYTES each): without it 200 --box gave an allocation traceback and a
    254-object DAVIS sequence a failed OpenVINO compile. `what` names them ("--box targets",
    "objects"); `held` counts targets already tracked (their memory is already taken)."""
    if held + count > MAX_TARGETS:
        raise SiamMaskError(f"{held + count} {what}: at most {MAX_TARGETS} can be tracked at once (label maps "
                            "number them 1 to 255)")
    available = available_memory()
    need = count * TARGET_BYTES
    if available is not None and need > available:
        raise SiamMaskError(
            f"{count} {what} need about {need / (1 << 30):.1f} GiB of memory ({TARGET_BYTES >> 20} MiB each), "
            f"more than the {available / (1 << 30):.1f} GiB available: track at most "
            f"{max(1, available // TARGET_BYTES)} at once"
        )


class MultiTracker:
    """Tracks K targets in one video; one batched engine call per stage per frame (two when some
    targets are searched for wide in long-term mode: one for the normal crops, one for the wide)."""

    def __init__(self, engine: Engine, config: TrackerConfig | None = None) -> None:
        self.engine = engine
        self.config = config or TrackerConfig()
        if self.config.long_term and not getattr(engine, "wide_search", False):
            raise SiamMaskError(
                f"long-term tracking needs a search graph that takes wider crops than {self.config.instance_size}; "
                f"this {engine.name} model's takes {self.config.instance_size} only: export it again with "
                "`siammask export` (exports since long-term tracking record a dynamic search size)"
            )
        self._decoding: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # crop size -> (anchors, window)
        self.anchors, self.window = self._decoding_for(self.config.instance_size)
        self.targets: list[TargetState] = []
        self.image_size: tuple[int, int] | None = None  # (width, height)
        self.frame_index = 0  # frames since init (0: the init frame), to name a frame in errors

    def _decoding_for(self, instance_size: int) -> tuple[np.ndarray, np.ndarray]:
        if instance_size not in self._decoding:
            n = self.config.score_size_for(instance_size)
            self._decoding[instance_size] = (generate_anchors(self.config, n), cosine_window(self.config, n))
        return self._decoding[instance_size]

    # ---------------------------------------------------------------------------------------
    def _check_frame(self, frame: np.ndarray) -> np.ndarray:
        frame = as_bgr(frame)
        size = (frame.shape[1], frame.shape[0])
        if self.image_size is None:
            self.image_size = size
        elif size != self.image_size:
            raise SiamMaskError(
                f"frame size {size[0]}x{size[1]} differs from the first frame's "
                f"{self.image_size[0]}x{self.image_size[1]}"
            )
        return frame

    def _exemplar_size(self, size: np.ndarray) -> float:
        context = self.config.context_amount * sum(size)
        return float(round(np.sqrt((size[0] + context) * (size[1] + context))))

    def init(self, frame: np.ndarray, boxes: Sequence[Sequence[float]]) -> None:
        """Start tracking `boxes` (each x,y,w,h or an 8-value polygon) from `frame`."""
        self.targets = []
        self.image_size = None
        self.frame_index = 0
        self.add(frame, boxes)

    def add(self, frame: np.ndarray, boxes: Sequence[Sequence[float]]) -> None:
        """Add targets in the current frame (one batched template call)."""
        frame = self._check_frame(frame)
        if len(boxes) == 0:
            raise SiamMaskError("no box given")
        check_target_count(len(boxes), held=len(self.targets))
        image_size = (int(frame.shape[1]), int(frame.shape[0]))
        parsed = [check_start_box(parse_box(b), image_size) for b in boxes]
        fill = np.mean(frame, axis=(0, 1))
        crops, states = [], []
        for cx, cy, w, h in parsed:
            pos, size = np.array([cx, cy]), np.array([w, h])
            crops.append(crop_subwindow(frame, pos, self.config.exemplar_size, self._exemplar_size(size), fill))
            states.append((pos, size))
        kernels = self.engine.template(to_chw_float(crops))
        for k, (pos, size) in enumerate(states):
            signature = colour_signature(frame, cxcywh_to_xywh(pos, size))
            self.targets.append(TargetState(pos, size, fill, kernels.select(k), signature))

    def _wide_size(self, target: TargetState) -> int:
        """The search crop for a target searched for wide: the smallest size on a 64-pixel grid
        (every 8th score cell) whose view covers the whole frame around the held position, capped
        at lost_instance_size. A small frame needs far less than the cap, and the crop's cost
        grows with its area."""
        cfg = self.config
        assert self.image_size is not None
        context = cfg.context_amount * sum(target.size)
        s_z = float(np.sqrt((target.size[1] + context) * (target.size[0] + context)))
        width, height = self.image_size
        reach = max(target.pos[0], width - target.pos[0], target.pos[1], height - target.pos[1])
        needed = 2 * reach * cfg.exemplar_size / s_z  # crop pixels that cover `reach` on both sides
        step = 8 * cfg.total_stride
        size = cfg.instance_size + step * max(1, int(np.ceil((needed - cfg.instance_size) / step)))
        return int(min(size, cfg.lost_instance_size))

    def track(self, frame: np.ndarray) -> list[TrackResult]:
        if not self.targets:
            raise SiamMaskError("track() before init(): no target")
        frame = self._check_frame(frame)
        self.frame_index += 1
        wide = [self.config.long_term and t.searching for t in self.targets]
        searching = [k for k, w in enumerate(wide) if w]
        normal = [k for k, w in enumerate(wide) if not w]
        results: dict[int, TrackResult] = {}
        if normal:
            results.update(self._track_group(frame, normal, self.config.instance_size))
        if searching:  # one wide size for all: one batched call
            size = max(self._wide_size(self.targets[k]) for k in searching)
            results.update(self._track_group(frame, searching, size))
        return [results[k] for k in range(len(self.targets))]

    def _track_group(self, frame: np.ndarray, members: list[int], instance_size: int) -> dict[int, TrackResult]:
        """Search, decide and refine the targets `members` with crops of `instance_size` pixels."""
        cfg = self.config
        targets = [self.targets[k] for k in members]
        crops, scales, crop_boxes = [], [], []
        for t in targets:
            context = cfg.context_amount * sum(t.size)
            s_x = np.sqrt((t.size[1] + context) * (t.size[0] + context))
            scale_x = cfg.exemplar_size / s_x
            s_x = s_x + 2 * ((instance_size - cfg.exemplar_size) / 2) / scale_x
            side = round(s_x)
            crops.append(crop_subwindow(frame, t.pos, instance_size, side, t.fill))
            scales.append(scale_x)
            crop_boxes.append((t.pos[0] - side / 2, t.pos[1] - side / 2, side, side))
        kernels = TemplateKernels.stack([t.kernels for t in targets])
        out = self.engine.search(to_chw_float(crops), kernels)
        check_finite(out.cls, out.loc, self.frame_index)
        anchors, window = self._decoding_for(instance_size)
        if instance_size == cfg.instance_size:
            decisions = [decide(out.cls[k], out.loc[k], t.pos, t.size, scales[k], anchors, window, cfg)
                         for k, t in enumerate(targets)]
        else:
            decisions = [self._redetect(frame, t, out.cls[k], out.loc[k], scales[k], anchors, window)
                         for k, t in enumerate(targets)]
        masks = self.engine.refine(
            out, kernels, np.array([d.row for d in decisions]), np.array([d.col for d in decisions])
        )
        return {
            members[k]: self._finish(frame, t, d, masks[k], crop_boxes[k], instance_size)
            for k, (t, d) in enumerate(zip(targets, decisions))
        }

    def _redetect(self, frame: np.ndarray, target: TargetState, cls: np.ndarray, loc: np.ndarray, scale_x: float,
                  anchors: np.ndarray, window: np.ndarray) -> Decision:
        """A wide search's pick: of the score map's strongest separate peaks (the window nearly off,
        as pysot's LT), the one whose score times colour match is highest. The network's best
        peak alone is often background on scenes unlike its training (docs/longterm.md)."""
        candidates = wide_candidates(cls, loc, target.pos, target.size, scale_x, anchors, window, self.config,
                                     WIDE_WINDOW_INFLUENCE, WIDE_CANDIDATES)
        if self.config.appearance_thr <= 0:
            return candidates[0]
        matches = [similarity(target.signature, colour_signature(frame, self._clamped_box(d)[2])) for d in candidates]
        return candidates[int(np.argmax([d.score * m for d, m in zip(candidates, matches)]))]

    def _clamped_box(self, d: Decision) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pos, size, x,y,w,h) of a decision clamped to the image, as the state keeps it."""
        cfg = self.config
        assert self.image_size is not None
        width, height = self.image_size
        pos, size = d.pos.copy(), d.size.copy()
        pos[0] = max(0, min(width, pos[0]))
        pos[1] = max(0, min(height, pos[1]))
        size[0] = max(cfg.min_size, min(width, size[0]))
        size[1] = max(cfg.min_size, min(height, size[1]))
        return pos, size, cxcywh_to_xywh(pos, size)

    def _finish(
        self, frame: np.ndarray, target: TargetState, d: Decision, mask: np.ndarray,
        crop_box: tuple[float, float, float, float], instance_size: int,
    ) -> TrackResult:
        cfg = self.config
        assert self.image_size is not None
        pasted = mask_to_image(
            mask, crop_box, d.row, d.col, self.image_size, instance_size, cfg.exemplar_size,
            cfg.base_size, cfg.total_stride,
        )
        pos, size, box = self._clamped_box(d)
        match = similarity(target.signature, colour_signature(frame, box))
        present = d.score >= cfg.presence_thr and match >= cfg.appearance_thr
        if cfg.long_term and not present:
            # absent: hold the state (following the background would carry it away) and search
            # wide from the next frame; the result is the held box, marked absent
            target.searching = True
            held = cxcywh_to_xywh(target.pos, target.size)
            return TrackResult(box_corners(held), held, d.score, pasted, 0, False, cfg.seg_thr, present=False,
                               appearance=match)
        if cfg.long_term:
            # found: back to the normal search only once the score is high (pysot's CONFIDENCE_HIGH)
            target.searching = target.searching and d.score < cfg.redetect_thr
        corners, pixels = rotated_box(pasted, cfg.seg_thr, cfg.min_mask_area)
        from_mask = corners is not None
        if corners is None:  # mask too small: the (unclamped) box, as the reference reports it
            corners = box_corners(cxcywh_to_xywh(d.pos, d.size))
        target.pos, target.size = pos, size
        return TrackResult(corners, box, d.score, pasted, pixels, from_mask, cfg.seg_thr, present=present,
                           appearance=match)


class Tracker:
    """One target: `init(frame, box)`, then `track(frame)` for each following frame."""

    def __init__(self, engine: Engine, config: TrackerConfig | None = None) -> None:
        self._multi = MultiTracker(engine, config)

    @property
    def config(self) -> TrackerConfig:
        return self._multi.config

    @property
    def state(self) -> TargetState:
        if not self._multi.targets:
            raise SiamMaskError("tracker not initialised")
        return self._multi.targets[0]

    def init(self, frame: np.ndarray, box: Sequence[float]) -> None:
        self._multi.init(frame, [box])

    def track(self, frame: np.ndarray) -> TrackResult:
        return self._multi.track(frame)[0]
