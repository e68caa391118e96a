"""A page's annotation of its video: the keyframes, the plan they make, each frame's results, and
the corrections that can be undone.

A correction (a keyframe drawn, moved, deleted or an end mark put on any frame, or a new
direction) makes a new plan (tracking/keyframes.py); only the runs the old plan lacks are tracked
again (`changed_runs`), every other frame keeps its result, since a run is a fresh start from its
keyframe whatever else changed. `Work` is what one job computes: the runs to track as a plan of
their own, fed to the same KeyframeSession `siammask track` runs, and how many frames that is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from siammask.errors import SiamMaskError
from siammask.serve.limits import Refused
from siammask.tracking.keyframes import DIRECTIONS, Keyframe, Plan, changed_runs, plan
from siammask.tracking.session import absent_result
from siammask.tracking.tracker import TrackResult, init_result

Results = dict[tuple[int, int], TrackResult]  # (frame, target) -> what a run gave there
ACTIONS = ("set", "delete", "end")
MAX_UNDO = 50  # corrections a page can take back


@dataclass
class Timeline:
    """What the page's video is annotated with once a run has finished. `complete` False: a run was
    stopped, some frames have no result, so the next correction tracks every run again."""

    plan: Plan
    direction: str
    length: int | None
    results: Results = field(default_factory=dict)
    complete: bool = True
    history: list[Timeline] = field(default_factory=list)  # as it was before each correction
    long_term: bool | None = None  # the mode its runs were tracked in (re-tracks keep it)

    @property
    def keyframes(self) -> list[Keyframe]:
        return self.plan.keyframes

    def span(self) -> tuple[int, int]:
        """The first and last frame some target has a result on."""
        ends = [k.frame for k in self.keyframes] + [f for f, _ in self.results]
        return self.plan.first_frame, max(ends)

    def frame(self, index: int) -> tuple[list[TrackResult], bool]:
        """Each target's result on `index` (its keyframe's region there, absent where no run reached)
        and whether every target is on a keyframe: what `siammask track` tells its writers."""
        combined = []
        for target in range(self.plan.targets):
            key = self.plan.keyframe_at(index, target)
            if key is not None:
                combined.append(init_result(key.region) if key.region is not None else absent_result())
            else:
                combined.append(self.results.get((index, target)) or absent_result())
        return combined, all(self.plan.is_keyframe(index, t) for t in range(self.plan.targets))

    def frames(self) -> Iterator[tuple[int, list[TrackResult], bool]]:
        first, last = self.span()
        for index in range(first, last + 1):
            yield (index, *self.frame(index))

    def summary(self) -> dict:
        """For the page's timeline: keyframes, end marks and absent ranges per target."""
        first, last = self.span()
        targets = []
        for target in range(self.plan.targets):
            absent = [index for index in range(first, last + 1) if not self._present(index, target)]
            targets.append({
                "keyframes": [k.frame for k in self.keyframes if k.target == target and k.region is not None],
                "ends": [k.frame for k in self.keyframes if k.target == target and k.region is None],
                "absent": _ranges(absent),
            })
        return {"first": first, "last": last, "direction": self.direction, "targets": targets,
                "undo": len(self.history), "complete": self.complete}

    def regions(self, index: int) -> list[dict]:
        """Each target on frame `index` as the page draws it: polygon and box, or absent."""
        results, _ = self.frame(index)
        out = []
        for target, result in enumerate(results):
            key = self.plan.keyframe_at(index, target)
            shown = self._present(index, target)
            out.append({
                "target": target, "present": shown,
                "keyframe": "region" if key is not None and key.region is not None else "end" if key else None,
                "polygon": [round(float(v), 4) for v in result.polygon.ravel()] if shown else None,
                "box": [round(float(v), 4) for v in result.box.ravel()] if shown else None,
            })
        return out

    def _present(self, index: int, target: int) -> bool:
        key = self.plan.keyframe_at(index, target)
        if key is not None:
            return key.region is not None
        result = self.results.get((index, target))
        return result is not None and bool(result.present)


@dataclass(frozen=True)
class Work:
    """One job's share: `plan` the whole plan after it, `runs` the plan of the runs to track (their
    keyframes only, so its span is theirs), `retracked` the frames the tracker runs on, `of` the
    video's frames; `base` the results kept from before."""

    plan: Plan
    direction: str
    runs: Plan | None
    retracked: int
    of: int | None
    base: Results
    history: list[Timeline]
    complete: bool = True  # False: the results it starts from lack frames (a stopped run's)


def work_for(keyframes: list[Keyframe], direction: str, length: int | None, before: Timeline | None) -> Work:
    """The plan of `keyframes` and what of it must be tracked, given what `before` holds: the runs
    `changed_runs` names (a run only cut short by a new keyframe keeps its frames' results)."""
    new = plan(keyframes, direction, length, "the keyframes")
    if before is None or not before.complete:
        changed, kept = list(new.runs), []
    else:
        changed = changed_runs(before.plan, new, length)
        kept = [r for r in new.runs if r not in changed]
    base = {} if before is None else {(f, r.target): before.results[(f, r.target)] for r in kept
                                      for f in r.frames(length) if (f, r.target) in before.results}
    starts = {(r.keyframe, r.target) for r in changed}
    runs = Plan(new.targets, [k for k in new.keyframes if (k.frame, k.target) in starts], changed) if changed else None
    frames = {f for r in changed for f in r.frames(length)}
    history = ([] if before is None else before.history + [before])[-MAX_UNDO:]
    return Work(new, direction, runs, len(frames), length, base, history)


def undone(timeline: Timeline) -> Work:
    """Back to the timeline before the last correction: its keyframes and results as they were,
    nothing tracked."""
    if not timeline.history:
        raise Refused("nothing to undo")
    before = timeline.history[-1]
    return Work(before.plan, before.direction, None, 0, timeline.length, dict(before.results), before.history[:],
                before.complete)


def merged(work: Work, told: Results) -> Results:
    """The results after a job: the tracked runs' from `told`, the others' kept."""
    out = dict(work.base)
    out.update(told)
    return out


def edited(timeline: Timeline, action: object, frame: int, target: object, region: tuple[float, ...] | None,
           most_targets: int) -> list[Keyframe]:
    """The keyframes after one correction: `set` a region on (frame, target) (a new target takes the
    next number), `delete` the keyframe there, `end` the target there (absent until its next keyframe)."""
    if action not in ACTIONS:
        raise Refused(f"action: expected one of {', '.join(ACTIONS)}")
    targets = timeline.plan.targets
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target <= targets:
        raise Refused(f"target: expected a target number from 0 to {targets} (a new one)")
    if target == targets and action != "set":
        raise Refused(f"target {target}: no such target (draw a box to add one)")
    if target >= most_targets:
        raise Refused(f"at most {most_targets} targets in one run")
    keys = [k for k in timeline.keyframes if (k.frame, k.target) != (frame, target)]
    there = timeline.plan.keyframe_at(frame, target)
    if action == "set":
        assert region is not None
        return keys + [Keyframe(frame, target, region)]
    if action == "end":
        return keys + [Keyframe(frame, target, None)]
    if there is None:
        raise Refused(f"target {target} has no keyframe on frame {frame} to delete")
    if there.region is not None and not any(k.target == target and k.region is not None for k in keys):
        raise Refused(f"target {target}: frame {frame} holds its only keyframe (a target needs one)")
    return keys


def checked_direction(value: object, default: str) -> str:
    if value is None:
        return default
    if value not in DIRECTIONS:
        raise Refused(f"direction: expected one of {', '.join(DIRECTIONS)}")
    return str(value)


def checked_frame(value: object, length: int | None, what: str = "frame") -> int:
    """A frame number of the video: a whole JSON number from 0 to its last frame."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refused(f"{what}: expected a frame number (0-based)")
    if value < 0 or (length is not None and value >= length) or value > 10**7:
        last = f" to {length - 1}" if length is not None else ""
        raise Refused(f"{what} {value}: out of range (the video's frames are 0{last})")
    return value


def plan_or_refuse(keyframes: list[Keyframe], direction: str, length: int | None, before: Timeline | None) -> Work:
    """`work_for`, its refusals (a target with only end marks, ...) as the page's 400s."""
    try:
        return work_for(keyframes, direction, length, before)
    except Refused:
        raise
    except SiamMaskError as exc:
        raise Refused(str(exc)) from None


def _ranges(frames: list[int]) -> list[list[int]]:
    """Sorted frame numbers as [first, last] ranges of consecutive frames."""
    out: list[list[int]] = []
    for f in frames:
        if out and out[-1][1] == f - 1:
            out[-1][1] = f
        else:
            out.append([f, f])
    return out
