"""The keyframe plan alone: which run (keyframe, direction) gives each target's result on each frame."""

from __future__ import annotations

import pytest

from siammask.errors import SiamMaskError
from siammask.tracking.keyframes import Keyframe, Run, changed_runs, plan, start_keyframes

BOX = (10.0, 10.0, 20.0, 20.0)
OTHER = (30.0, 30.0, 10.0, 10.0)


def owners(p, target: int, length: int) -> list:
    """Per frame: 'K' its keyframe, (keyframe, 'f'|'b') the run, None absent."""
    out = []
    for frame in range(length):
        src = p.source(frame, target)
        out.append("K" if isinstance(src, Keyframe) else None if src is None else (src.keyframe, src.direction[0]))
    return out


def test_forward_from_a_start_frame_covers_it_to_the_end():
    p = plan(start_keyframes([BOX], start=3), "forward", length=6)
    assert owners(p, 0, 6) == [None, None, None, "K", (3, "f"), (3, "f")]
    assert (p.first_frame, p.last_frame) == (3, 5) and not p.backward


def test_unknown_length_runs_forward_to_the_end():
    p = plan(start_keyframes([BOX]), "forward")
    assert p.runs == [Run(0, 0, BOX, "forward", None)] and p.last_frame is None


def test_backward_runs_down_to_frame_0():
    p = plan(start_keyframes([BOX], start=3), "backward", length=6)
    assert owners(p, 0, 6) == [(3, "b"), (3, "b"), (3, "b"), "K", None, None]
    assert (p.first_frame, p.last_frame) == (0, 3)


def test_a_later_keyframe_takes_over_forward_and_the_earlier_one_before_it():
    keys = [Keyframe(1, 0, BOX), Keyframe(4, 0, OTHER)]
    assert owners(plan(keys, "forward", 7), 0, 7) == [None, "K", (1, "f"), (1, "f"), "K", (4, "f"), (4, "f")]
    assert owners(plan(keys, "backward", 7), 0, 7) == [(1, "b"), "K", (4, "b"), (4, "b"), "K", None, None]


@pytest.mark.parametrize("gap, forward_frames", [(1, 0), (2, 1), (3, 1), (4, 2), (5, 2)])
def test_both_directions_the_nearer_keyframe_wins_ties_go_forward(gap, forward_frames):
    keys = [Keyframe(2, 0, BOX), Keyframe(2 + gap, 0, OTHER)]
    got = owners(plan(keys, "both", 2 + gap + 3), 0, 2 + gap + 3)
    between = got[3:2 + gap]
    assert between == [(2, "f")] * forward_frames + [(2 + gap, "b")] * (gap - 1 - forward_frames)
    assert got[:2] == [(2, "b")] * 2 and got[-2:] == [(2 + gap, "f")] * 2
    for frame in range(3, 2 + gap):  # the rule as the docs say it: nearer, ties forward
        assert got[frame][0] == (2 if frame - 2 <= 2 + gap - frame else 2 + gap)


def test_an_end_mark_ends_a_target_and_its_gap_goes_to_the_region():
    keys = [Keyframe(1, 0, BOX), Keyframe(4, 0, None), Keyframe(6, 0, OTHER)]
    assert owners(plan(keys, "forward", 8), 0, 8) == [None, "K", (1, "f"), (1, "f"), None, None, "K", (6, "f")]
    both = owners(plan(keys, "both", 8), 0, 8)
    assert both == [(1, "b"), "K", (1, "f"), (1, "f"), None, (6, "b"), "K", (6, "f")]


def test_targets_start_and_end_on_different_frames():
    keys = [Keyframe(0, 0, BOX), Keyframe(2, 0, None), Keyframe(3, 1, OTHER)]
    p = plan(keys, "forward", 5)
    assert owners(p, 0, 5) == ["K", (0, "f"), None, None, None]
    assert owners(p, 1, 5) == [None, None, None, "K", (3, "f")]
    assert p.targets == 2 and (p.first_frame, p.last_frame) == (0, 4)


def test_a_correction_changes_only_the_runs_next_to_it():
    before = plan([Keyframe(0, 0, BOX), Keyframe(10, 0, BOX)], "both", 20)
    after = plan([Keyframe(0, 0, BOX), Keyframe(10, 0, BOX), Keyframe(16, 0, OTHER)], "both", 20)
    # the run forward from 10 is only cut short (11-19 -> 11-13): its frames keep their results
    changed = changed_runs(before, after, 20)
    assert {(r.keyframe, r.direction) for r in changed} == {(16, "backward"), (16, "forward")}
    frames = sorted(f for r in changed for f in range(20) if r.covers(f))
    assert frames == [14, 15, 17, 18, 19]
    assert sorted(f for r in changed for f in r.frames(20)) == [14, 15, 17, 18, 19]


def test_a_moved_keyframe_retracks_what_it_starts_and_a_run_that_grew():
    # a keyframe moved from 10 to 12 (forward): the run from 0 now reaches 11, past its old end (9)
    before = plan([Keyframe(0, 0, BOX), Keyframe(10, 0, OTHER)], "forward", 20)
    after = plan([Keyframe(0, 0, BOX), Keyframe(12, 0, OTHER)], "forward", 20)
    changed = changed_runs(before, after, 20)
    assert {(r.keyframe, r.last) for r in changed} == {(0, 11), (12, 19)}
    # the same keyframe with another region is a new start: its whole run again
    moved = plan([Keyframe(0, 0, BOX), Keyframe(10, 0, BOX)], "forward", 20)
    assert {(r.keyframe, r.last) for r in changed_runs(before, moved, 20)} == {(10, 19)}


@pytest.mark.parametrize("keys, length, fragment", [
    ([], None, "no keyframe"),
    ([Keyframe(-1, 0, BOX)], None, "start at 0"),
    ([Keyframe(9, 0, BOX)], 5, "frame 9 is past the source's last frame (4)"),
    ([Keyframe(1, 0, BOX), Keyframe(1, 0, OTHER)], None, "two keyframes on frame 1"),
    ([Keyframe(1, 1, BOX)], None, "target 0 has no keyframe"),
    ([Keyframe(1, 0, None)], None, "only end marks"),
])
def test_bad_keyframes_are_refused_in_one_line(keys, length, fragment):
    with pytest.raises(SiamMaskError, match="keyframes") as info:
        plan(keys, "forward", length)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_unknown_direction_is_refused():
    with pytest.raises(SiamMaskError, match="direction 'sideways'"):
        plan(start_keyframes([BOX]), "sideways")
