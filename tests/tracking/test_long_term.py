"""Presence and long-term mode of the tracker, driven by a scripted engine whose best score per
call is set by the test: what is reported present, when the state is held, when the wide search
runs (and at which size), when the normal search resumes, and that K targets still batch."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from siammask.engine_contract import SearchResult, TemplateKernels
from siammask.errors import SiamMaskError
from siammask.tracking.config import TrackerConfig
from siammask.tracking.tracker import MultiTracker, Tracker

FRAME = np.full((240, 320, 3), 90, np.uint8)


class ScriptedEngine:
    """Scores: every cell at `low`, the centre cell (normal crop) or a chosen cell (wide crop) at
    the next scheduled score; box deltas zero; a filled mask. Records each search call's crops."""

    name = "scripted"
    precision = "fp32"

    def __init__(self, scores: list[float], wide_search: bool = True, wide_cell: tuple[int, int] | None = None):
        self.scores = list(scores)
        self.wide_search = wide_search
        self.wide_cell = wide_cell
        self.calls: list[tuple[int, int]] = []  # (batch, crop side) per search call

    def template(self, z: np.ndarray) -> TemplateKernels:
        k = np.zeros((len(z), 256, 5, 5), np.float32)
        return TemplateKernels(k, k, k)

    def search(self, x: np.ndarray, kernels: TemplateKernels) -> SearchResult:
        self.calls.append((len(x), x.shape[-1]))
        n = (x.shape[-1] - 127) // 8 + 9
        cls = np.zeros((len(x), 10, n, n), np.float32)
        cls[:, 5:] = -6.0  # foreground logit: background everywhere ...
        for k in range(len(x)):
            p = self.scores.pop(0)
            r, c = (n // 2, n // 2) if n == 25 or self.wide_cell is None else self.wide_cell
            cls[k, 5:, r, c] = np.log(p / (1 - p))  # ... but one cell, at probability p
        return SearchResult(cls, np.zeros((len(x), 20, n, n), np.float32), None)

    def refine(self, search: SearchResult, kernels: TemplateKernels, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        mask = np.zeros((len(rows), 127, 127), np.float32)
        mask[:, 40:87, 40:87] = 0.9
        return mask


def run(scores: list[float], config: TrackerConfig, **engine_options) -> tuple[list, ScriptedEngine]:
    engine = ScriptedEngine(scores, **engine_options)
    tracker = Tracker(engine, config)
    tracker.init(FRAME, [140, 100, 40, 40])
    return [tracker.track(FRAME) for _ in range(len(scores))], engine


LT = TrackerConfig(long_term=True, presence_thr=0.6, redetect_thr=0.8, lost_instance_size=831)


def test_short_term_reports_presence_and_keeps_the_reference_update():
    results, engine = run([0.9, 0.3, 0.9], TrackerConfig(presence_thr=0.6))
    assert [r.present for r in results] == [True, False, True]
    assert all(side == 255 for _, side in engine.calls)  # never a wide search
    assert results[1].binary_mask().sum() == 0  # an absent result's mask is empty
    assert results[1].mask.binary(0.3).sum() > 0  # ... while its probabilities stay the reference's
    assert results[1].from_mask  # short-term: the polygon is the reference's, the flag beside it


def test_long_term_holds_the_state_searches_wide_and_returns():
    # present, lost, lost (wide, nothing), found at 0.7 (taken, still wide), found at 0.9 (back)
    results, engine = run([0.9, 0.3, 0.4, 0.7, 0.9, 0.95], LT, wide_cell=(30, 40))
    assert [r.present for r in results] == [True, False, False, True, True, True]
    sides = [side for _, side in engine.calls]
    assert sides[:2] == [255, 255] and all(s > 255 for s in sides[2:5]) and sides[5] == 255
    held = results[0].box
    np.testing.assert_allclose(results[1].box, held)  # the state is held, not moved
    np.testing.assert_allclose(results[2].box, held)
    assert not np.allclose(results[3].box[:2], held[:2])  # a wide candidate at 0.7 moves it
    assert results[1].binary_mask().sum() == 0 and results[1].mask_pixels == 0 and not results[1].from_mask


def test_the_wide_crop_covers_the_frame_on_the_grid_and_stops_at_the_cap():
    _, engine = run([0.9, 0.1, 0.1], LT)
    wide = engine.calls[2][1]
    assert (wide - 127) % 8 == 0 and (wide - 255) % 64 == 0 and 255 < wide <= 831
    # target 40x40 at the centre: exemplar side 80 px; 160 px on each side need 2*160*127/80 = 508
    assert wide == 511
    capped = dataclasses.replace(LT, lost_instance_size=383)
    _, engine = run([0.9, 0.1, 0.1], capped)
    assert engine.calls[2][1] == 383


def test_k_targets_batch_per_crop_size():
    engine = ScriptedEngine([0.9, 0.9, 0.9, 0.2, 0.9, 0.1])
    tracker = MultiTracker(engine, LT)
    tracker.init(FRAME, [[20, 20, 40, 40], [140, 100, 40, 40]])
    tracker.track(FRAME)  # both present: one call
    tracker.track(FRAME)  # the second lost
    results = tracker.track(FRAME)  # one normal call for the first, one wide call for the second
    assert engine.calls[0] == (2, 255) and engine.calls[1] == (2, 255)
    assert engine.calls[2] == (1, 255) and engine.calls[3][0] == 1 and engine.calls[3][1] > 255
    assert [r.present for r in results] == [True, False]


def test_long_term_needs_an_engine_that_takes_wide_crops():
    with pytest.raises(SiamMaskError, match="export it again"):
        Tracker(ScriptedEngine([], wide_search=False), LT)
    Tracker(ScriptedEngine([], wide_search=False), TrackerConfig())  # short-term needs nothing more


def test_long_term_updates_the_size_at_its_own_rate():
    # one present frame: the size moves toward the regression's box by penalty x score x rate
    start = np.array([40.0, 40.0])
    short, _ = run([0.9], TrackerConfig(presence_thr=0.6))
    step_short = short[0].box[2:] - start
    assert np.all(np.abs(step_short) > 0.01)  # the scripted regression asks for another size
    same, _ = run([0.9], dataclasses.replace(LT, long_term_lr=TrackerConfig().lr))
    np.testing.assert_allclose(same[0].box, short[0].box)  # at lr's rate: short-term's update
    slow, _ = run([0.9], dataclasses.replace(LT, long_term_lr=0.05))
    np.testing.assert_allclose(slow[0].box[2:] - start, step_short * 0.05 / TrackerConfig().lr, rtol=1e-9)
    assert TrackerConfig().size_lr == TrackerConfig().lr and LT.size_lr == LT.long_term_lr


@pytest.mark.parametrize("bad", [{"long_term": 1}, {"lost_instance_size": 500}, {"lost_instance_size": 127},
                                 {"presence_thr": 1.5}, {"redetect_thr": float("nan")}, {"long_term_lr": 1.5}])
def test_long_term_settings_are_checked(bad):
    with pytest.raises(SiamMaskError, match="tracker setting"):
        TrackerConfig.from_dict(bad)


def test_pysot_long_term_keys_read_as_ours():
    config = TrackerConfig.from_dict({"TRACK": {"LOST_INSTANCE_SIZE": 831, "CONFIDENCE_LOW": 0.8,
                                                "CONFIDENCE_HIGH": 0.985}})
    assert (config.lost_instance_size, config.presence_thr, config.redetect_thr) == (831, 0.8, 0.985)


# The colour check (tracking/appearance.py): a red target on grey; a result on grey is not the target
RED = (40, 40, 200)


def _with_square(centre: tuple[float, float]) -> np.ndarray:
    frame = FRAME.copy()
    x, y = int(round(centre[0])), int(round(centre[1]))
    frame[y - 20 : y + 20, x - 20 : x + 20] = RED
    return frame


class TwoPeakEngine(ScriptedEngine):
    """Normal crops: the centre cell at the scheduled score. Wide crops: the scheduled score at
    `strong` and `weak` (a lower one) at another cell."""

    def __init__(self, scores: list[float], strong: tuple[int, int], weak: tuple[int, int], weak_score: float):
        super().__init__(scores, wide_cell=strong)
        self.weak, self.weak_score = weak, weak_score

    def search(self, x: np.ndarray, kernels: TemplateKernels) -> SearchResult:
        out = super().search(x, kernels)
        if x.shape[-1] > 255:
            r, c = self.weak
            out.cls[:, 5:, r, c] = np.log(self.weak_score / (1 - self.weak_score))
        return out


def test_a_confident_result_on_other_colours_is_absent():
    engine = ScriptedEngine([0.95, 0.95])
    tracker = Tracker(engine, TrackerConfig())
    tracker.init(_with_square((160, 120)), [140, 100, 40, 40])
    on_target = tracker.track(_with_square((160, 120)))
    gone = tracker.track(FRAME)  # the square has left: the network still scores 0.95
    assert on_target.present and on_target.appearance > 0.9
    assert gone.score > 0.9 and gone.appearance < 0.1 and not gone.present
    off = Tracker(ScriptedEngine([0.95]), TrackerConfig(appearance_thr=0.0))
    off.init(_with_square((160, 120)), [140, 100, 40, 40])
    assert off.track(FRAME).present  # appearance_thr 0 turns the check off


def test_the_wide_search_takes_the_peak_with_the_targets_colours():
    # lost on frame 1 (grey where it was); the wide search's strongest peak is on grey, a weaker one on the
    # square, which has moved about 40 px right: that one is taken
    tracker_config = TrackerConfig(long_term=True)
    probe = Tracker(ScriptedEngine([0.95, 0.1]), tracker_config)
    probe.init(_with_square((160, 120)), [140, 100, 40, 40])
    probe.track(FRAME)
    side = probe._multi._wide_size(probe.state)
    n = (side - 127) // 8 + 9
    step = 8 / (127 / 80)  # image pixels per score cell: the 40x40 box has an 80 px exemplar side
    right, left = (n // 2, n // 2 + 8), (n // 2, n // 2 - 8)
    engine = TwoPeakEngine([0.95, 0.9], strong=left, weak=right, weak_score=0.7)
    tracker = Tracker(engine, tracker_config)
    tracker.init(_with_square((160, 120)), [140, 100, 40, 40])
    lost = tracker.track(FRAME)
    found = tracker.track(_with_square((160 + 8 * step, 120)))
    assert not lost.present and engine.calls[1][1] > 255
    assert found.present and found.score < 0.8 and found.appearance > 0.8
    assert abs(found.center[0] - (160 + 8 * step)) < 2 and abs(found.center[1] - 120) < 2
