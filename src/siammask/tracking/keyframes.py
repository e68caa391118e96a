"""Which keyframe gives each frame's result, and in which direction: the plan of a tracking session.

A keyframe is a target's region on one frame (a box x,y,w,h or an 8-value polygon) that
(re)initialises that target there, or an end mark (region None: the target is absent from that
frame on, until its next keyframe). Frames are the source's 0-based indices.

The rule, per target, with its keyframes k1 < k2 < ... on the frame axis:

- a keyframe's own frame carries its given region;
- forward: frame f takes the run from the nearest keyframe at or before f (k_i < f < k_i+1 take
  k_i's run, frames after the last keyframe run to the end of the source); nothing before k1;
- backward: the frames in reverse order, each taking the nearest keyframe at or after it
  (k_i-1 < f < k_i take k_i's run, frames before k1 run down to frame 0); nothing after the last;
- both: frames before k1 run backward from k1, frames after the last forward from it; a frame
  between two regions k_i < f < k_i+1 takes the nearer keyframe's run, a tie going to the forward
  run (f - k_i <= k_i+1 - f: forward from k_i). Next to an end mark the gap goes whole to the
  region on its other side (an end mark runs nothing).

Targets may start and end on different frames; a frame no run of a target covers has that target
absent. Each run is a fresh start from its keyframe (the tracker initialised there), so a
correction changes only the frames its runs cover: `changed_runs` between two plans names the
frames to track again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from siammask.errors import SiamMaskError

Direction = Literal["forward", "backward", "both"]
DIRECTIONS: tuple[str, ...] = ("forward", "backward", "both")


@dataclass(frozen=True)
class Keyframe:
    """`target`'s region on `frame` (None: the target ends there, absent until its next keyframe)."""

    frame: int
    target: int
    region: tuple[float, ...] | None


@dataclass(frozen=True)
class Run:
    """One target tracked from a keyframe's region through `frames` (the keyframe's own frame not
    included), in that order: increasing for forward, decreasing for backward. `last` None: forward
    to the end of the source (its length unknown)."""

    target: int
    keyframe: int
    region: tuple[float, ...]
    direction: Literal["forward", "backward"]
    last: int | None

    @property
    def first(self) -> int:
        return self.keyframe + (1 if self.direction == "forward" else -1)

    def covers(self, frame: int) -> bool:
        if self.direction == "backward":
            return self.last is not None and self.last <= frame < self.keyframe
        return self.keyframe < frame and (self.last is None or frame <= self.last)

    def frames(self, length: int | None) -> range:
        """The frames it tracks, in index order, to the end of a source of `length` (None: unknown,
        an open forward run then counts none)."""
        if self.direction == "backward":
            assert self.last is not None
            return range(self.last, self.keyframe)
        last = self.last if self.last is not None else (length - 1 if length is not None else self.keyframe)
        return range(self.keyframe + 1, last + 1)

    def starts_like(self, other: Run) -> bool:
        """The same fresh start: target, keyframe, region and direction (the length aside)."""
        return (self.target, self.keyframe, self.region, self.direction) == (
            other.target, other.keyframe, other.region, other.direction)


@dataclass
class Plan:
    """The keyframes and the runs they start; `targets` counts targets numbered 0..targets-1."""

    targets: int
    keyframes: list[Keyframe]
    runs: list[Run] = field(default_factory=list)
    _at: dict[tuple[int, int], Keyframe] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._at = {(k.frame, k.target): k for k in self.keyframes}

    @property
    def backward(self) -> list[Run]:
        return [r for r in self.runs if r.direction == "backward"]

    @property
    def forward(self) -> list[Run]:
        return [r for r in self.runs if r.direction == "forward"]

    @property
    def first_frame(self) -> int:
        """The first frame any target has a result on."""
        return min([k.frame for k in self.keyframes if k.region is not None] + [r.last for r in self.backward
                                                                                if r.last is not None])

    @property
    def last_frame(self) -> int | None:
        """The last frame any target has a result on; None: the end of the source."""
        if any(r.last is None for r in self.forward):
            return None
        ends = [k.frame for k in self.keyframes if k.region is not None] + [r.last for r in self.forward
                                                                            if r.last is not None]
        return max(ends)

    def keyframe_at(self, frame: int, target: int) -> Keyframe | None:
        return self._at.get((frame, target))

    def is_keyframe(self, frame: int, target: int) -> bool:
        key = self.keyframe_at(frame, target)
        return key is not None and key.region is not None

    def source(self, frame: int, target: int) -> Run | Keyframe | None:
        """What gives `target`'s result on `frame`: its keyframe, the run covering it, or None (absent)."""
        key = self.keyframe_at(frame, target)
        if key is not None:
            return key if key.region is not None else None
        for run in self.runs:
            if run.target == target and run.covers(frame):
                return run
        return None


def check_keyframes(keyframes: Iterable[Keyframe], what: str, length: int | None = None) -> tuple[list[Keyframe], int]:
    """Sorted keyframes and the target count, refused in one line (named by `what`) when a frame or
    target number is negative, a frame lies past the source, a target has two on one frame, a target
    number is skipped, or a target starts with an end mark."""
    keys = sorted(keyframes, key=lambda k: (k.target, k.frame))
    if not keys:
        raise SiamMaskError(f"{what}: no keyframe")
    seen: set[tuple[int, int]] = set()
    for key in keys:
        if key.frame < 0 or key.target < 0:
            raise SiamMaskError(f"{what}: frame and target numbers start at 0, got frame {key.frame} "
                                f"target {key.target}")
        if length is not None and key.frame >= length:
            raise SiamMaskError(f"{what}: frame {key.frame} is past the source's last frame ({length - 1})")
        if (key.frame, key.target) in seen:
            raise SiamMaskError(f"{what}: target {key.target} has two keyframes on frame {key.frame}")
        seen.add((key.frame, key.target))
    targets = max(k.target for k in keys) + 1
    for target in range(targets):
        own = [k for k in keys if k.target == target]
        if not own:
            raise SiamMaskError(f"{what}: target {target} has no keyframe (targets are numbered 0..{targets - 1})")
        if all(k.region is None for k in own):
            raise SiamMaskError(f"{what}: target {target} has only end marks, no region to track from")
    return sorted(keys, key=lambda k: (k.frame, k.target)), targets


def plan(keyframes: Iterable[Keyframe], direction: str = "forward", length: int | None = None,
         what: str = "keyframes") -> Plan:
    """The runs that cover every frame by the module's rule. `length`: the source's frame count
    (None: unknown, forward runs go to its end)."""
    if direction not in DIRECTIONS:
        raise SiamMaskError(f"direction {direction!r}: expected one of {', '.join(DIRECTIONS)}")
    keys, targets = check_keyframes(keyframes, what, length)
    runs: list[Run] = []
    for target in range(targets):
        runs += _target_runs([k for k in keys if k.target == target], direction, length)
    return Plan(targets, keys, runs)


def _target_runs(keys: Sequence[Keyframe], direction: str, length: int | None) -> list[Run]:
    end = None if length is None else length - 1
    runs: list[Run] = []
    for i, key in enumerate(keys):
        if key.region is None:
            continue
        before = keys[i - 1] if i > 0 else None
        after = keys[i + 1] if i + 1 < len(keys) else None
        if direction in ("forward", "both"):
            last = end if after is None else after.frame - 1
            if direction == "both" and after is not None and after.region is not None:
                last = key.frame + (after.frame - key.frame) // 2  # ties (even gaps' middle) go forward
            if last is None or last > key.frame:
                runs.append(Run(key.target, key.frame, key.region, "forward", last))
        if direction in ("backward", "both"):
            last = 0 if before is None else before.frame + 1
            if direction == "both" and before is not None and before.region is not None:
                last = before.frame + (key.frame - before.frame) // 2 + 1
            if last < key.frame:
                runs.append(Run(key.target, key.frame, key.region, "backward", last))
    return runs


def changed_runs(old: Plan, new: Plan, length: int | None = None) -> list[Run]:
    """The runs of `new` whose frames `old` did not track the same way: after a correction, the
    frames to track again. A run of `old` cut short by a new keyframe is not among them: each run
    being a fresh start from its keyframe, the frames it keeps get exactly their old results.
    `length`: the source's frame count (None: unknown)."""
    def unchanged(run: Run) -> bool:
        frames = run.frames(length)
        return any(run.starts_like(other) and (not frames or (frames[0] in (was := other.frames(length))
                                                              and frames[-1] in was))
                   for other in old.runs)

    return [r for r in new.runs if not unchanged(r)]


def start_keyframes(boxes: Sequence[Sequence[float]], start: int = 0, first_target: int = 0) -> list[Keyframe]:
    """Keyframes of `boxes` all on frame `start` (the CLI's --box, the API's first frame)."""
    return [Keyframe(start, first_target + k, tuple(float(v) for v in box)) for k, box in enumerate(boxes)]
