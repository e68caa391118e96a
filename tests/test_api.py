"""The Python API facade (SiamMask) and the OpenCV-style wrapper (SiamMaskCV), on seeded weights."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from siammask.api import SiamMask, SiamMaskCV
from siammask.engines.factory import choose_backend
from siammask.errors import SiamMaskError
from siammask.tracking.geometry import box_corners
from siammask.tracking.tracker import TrackResult
from tests.constants import sequence_frames, sequence_groundtruth

pytest.importorskip("torch")

SEQ = "synth00"


def onnx_folder(tmp_path_factory: pytest.TempPathFactory, checkpoint: Path) -> Path:
    """The seeded checkpoint exported once per session (shared by every module that asks)."""
    from siammask.deploy.export import export

    folder = tmp_path_factory.getbasetemp() / "seeded-onnx"
    if not (folder / "manifest.json").is_file():
        export(checkpoint, folder, force=True)
    return folder


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return [cv2.imread(p) for p in sequence_frames(SEQ)[:2]]


@pytest.fixture(scope="module")
def box() -> np.ndarray:
    x, y, w, h = cv2.boundingRect(sequence_groundtruth(SEQ)[0].reshape(4, 2).astype(np.float32))
    return np.array([x, y, w, h], float)


@pytest.fixture(scope="module")
def torch_model(seeded_checkpoint) -> SiamMask:
    return SiamMask.from_checkpoint(seeded_checkpoint)


@pytest.fixture(scope="module")
def torch_result(torch_model, frames, box) -> TrackResult:
    torch_model.init(frames[0], box)
    return torch_model.track(frames[1])


def test_track_returns_result(torch_model, torch_result):
    assert torch_model.engine.name == "torch"
    assert isinstance(torch_result, TrackResult) and torch_model.result is torch_result
    assert torch_result.polygon.shape == (4, 2)
    assert 0.0 <= torch_result.score <= 1.0
    assert torch_result.mask is not None and torch_result.mask_pixels > 0
    # (seeded weights track crudely: only check that the state stays a box in the image)
    assert (0 <= torch_result.center).all() and (torch_result.center <= (320, 240)).all()
    assert (torch_result.box[2:] > 0).all()


def test_track_before_init_and_bad_paths(tmp_path, seeded_checkpoint):
    model = SiamMask.load(seeded_checkpoint)
    with pytest.raises(SiamMaskError, match="before init"):
        model.track(np.zeros((50, 50, 3), np.uint8))
    with pytest.raises(SiamMaskError, match="no such checkpoint file or model folder"):
        SiamMask.load(tmp_path / "nothing")
    with pytest.raises(SiamMaskError, match="siammask export"):
        SiamMask.from_checkpoint(seeded_checkpoint, backend="onnxruntime")
    with pytest.raises(SiamMaskError, match="positive width"):
        model.init(np.zeros((50, 50, 3), np.uint8), (10, 10, 0, 5))


@pytest.mark.parametrize("backend", ["auto", "onnxruntime"])
def test_onnx_model_matches_torch(tmp_path_factory, seeded_checkpoint, torch_result, frames, box, backend):
    folder = onnx_folder(tmp_path_factory, seeded_checkpoint)
    model = SiamMask.load(folder, backend=backend)  # a folder: OpenVINO where installed, else ONNX Runtime
    assert model.engine.name == ("onnxruntime" if backend == "onnxruntime" else choose_backend(model=folder).backend)
    model.init(frames[0], box)
    result = model.track(frames[1])
    np.testing.assert_allclose(result.box, torch_result.box, atol=1e-2)
    np.testing.assert_allclose(result.polygon, torch_result.polygon, atol=1.0)
    assert result.score == pytest.approx(torch_result.score, abs=1e-4)


def test_cv_wrapper_shares_the_engine(torch_model, torch_result, frames, box):
    tracker = SiamMaskCV(torch_model, score_threshold=0.5)  # the score alone: the seeded model drifts off colour
    assert np.isnan(tracker.getTrackingScore())
    with pytest.raises(SiamMaskError, match="before init"):
        tracker.update(frames[1])
    tracker.init(frames[0], tuple(box))
    ok, bbox = tracker.update(frames[1])
    assert ok is True
    assert len(bbox) == 4 and all(isinstance(v, int) for v in bbox)
    x, y, w, h = torch_result.box  # the same frame through the model's own tracker
    assert bbox == (round(x), round(y), round(x + w) - round(x), round(y + h) - round(y))
    assert tracker.getTrackingScore() == pytest.approx(torch_result.score)
    assert torch_model.result is torch_result  # the wrapper's tracker is its own
    with pytest.raises(SiamMaskError, match=r"\(x, y, w, h\)"):
        tracker.init(frames[0], tuple(range(8)))


class _Replay:
    """Stands in for the wrapper's tracker: returns prepared results."""

    def __init__(self, results):
        self.results = list(results)

    def init(self, frame, box):
        pass

    def track(self, frame):
        return self.results.pop(0)


def _result(score: float, pixels: int, present: bool = True) -> TrackResult:
    box = np.array([10.4, 20.6, 30.2, 40.0])
    return TrackResult(box_corners(box), box, score, None, pixels, pixels > 100, present=present)


def test_cv_ok_flag_follows_presence(torch_model):
    """Default: ok is the tracker's own presence (whatever the score) and a mask that did not vanish."""
    tracker = SiamMaskCV(torch_model)
    assert tracker.score_threshold is None and SiamMaskCV.DEFAULT_SCORE_THRESHOLD is None
    tracker._tracker = _Replay([_result(0.9, 500), _result(0.9, 500, present=False), _result(0.9, 0),
                                _result(0.2, 1, present=True)])
    tracker.init(np.zeros((8, 8, 3), np.uint8), (1, 1, 4, 4))
    frame = np.zeros((8, 8, 3), np.uint8)
    assert tracker.update(frame) == (True, (10, 21, 31, 40))
    assert tracker.update(frame)[0] is False  # absent: the tracker's rule, not the score
    assert tracker.update(frame)[0] is False  # mask vanished
    assert tracker.update(frame)[0] is True  # present by the tracker's rule, a one-pixel mask


def test_cv_ok_flag_with_explicit_threshold(torch_model):
    """A threshold given by number replaces the presence rule, as before presence existed."""
    tracker = SiamMaskCV(torch_model, score_threshold=0.5)
    assert tracker.score_threshold == 0.5
    tracker._tracker = _Replay([_result(0.9, 500, present=False), _result(0.3, 500), _result(0.9, 0),
                                _result(0.5, 1)])
    tracker.init(np.zeros((8, 8, 3), np.uint8), (1, 1, 4, 4))
    frame = np.zeros((8, 8, 3), np.uint8)
    assert tracker.update(frame)[0] is True  # score over the threshold, whatever presence says
    assert tracker.update(frame)[0] is False  # low score
    assert tracker.update(frame)[0] is False  # mask vanished
    assert tracker.update(frame)[0] is True  # at the threshold, a one-pixel mask
    for bad in (float("nan"), "0.5", True):
        with pytest.raises(SiamMaskError, match="finite number or None"):
            SiamMaskCV(torch_model, score_threshold=bad)


class _NarrowEngine:
    """An engine whose search graph takes 255-pixel crops only (an export from before long-term)."""

    name, precision, wide_search = "narrow", "fp32", False


def test_long_term_switch(torch_model, seeded_checkpoint, tmp_path_factory):
    """long_term=True reaches the settings through every constructor; a narrow engine is refused in one line."""
    assert torch_model.config.long_term is False
    assert SiamMask(torch_model.engine, torch_model.config, long_term=True).config.long_term is True
    assert SiamMask(torch_model.engine, torch_model.config).config == torch_model.config
    model = SiamMask.from_checkpoint(seeded_checkpoint, long_term=True)
    assert model.config.long_term is True and model.tracker().config.long_term is True
    assert model.multi_tracker().config.long_term is True
    assert SiamMask.load(seeded_checkpoint, long_term=True).config.long_term is True
    folder = onnx_folder(tmp_path_factory, seeded_checkpoint)
    assert SiamMask.from_model(folder, backend="onnxruntime", long_term=True).config.long_term is True
    cv_style = SiamMaskCV.create(seeded_checkpoint, long_term=True)
    assert cv_style._tracker.config.long_term is True
    with pytest.raises(SiamMaskError, match="long-term tracking needs a search graph"):
        SiamMask(_NarrowEngine(), long_term=True)


class _Blind:
    """A real engine whose search says "background" everywhere (foreground logits pushed 12 below
    the background's): every result's score is about 6e-6, far under any presence threshold."""

    def __init__(self, engine):
        self.engine, self.name, self.precision = engine, "blind", engine.precision
        self.wide_search = engine.wide_search

    def template(self, z):
        return self.engine.template(z)

    def search(self, x, kernels):
        from siammask.engine_contract import SearchResult

        out = self.engine.search(x, kernels)
        cls = np.array(out.cls, copy=True)
        cls[:, 5:] = cls[:, :5] - 12.0
        return SearchResult(cls, out.loc, out.features)

    def refine(self, search, kernels, rows, cols):
        return self.engine.refine(search, kernels, rows, cols)


def test_absent_target_through_the_api(torch_model, frames, box):
    """A target the tracker judges absent: `present` False, the wrapper's ok False, an empty binary
    mask; in long-term mode the box is the held state (the init box), not a detection."""
    blind = _Blind(torch_model.engine)
    for long_term in (False, True):
        model = SiamMask(blind, torch_model.config, long_term=long_term)
        model.init(frames[0], box)
        result = model.track(frames[1])
        assert result.score < 1e-4 and result.present is False and not result.binary_mask().any()
        if long_term:
            np.testing.assert_allclose(result.box, box, atol=1e-9)
        tracker = SiamMaskCV(model)
        tracker.init(frames[0], tuple(box))
        assert tracker.update(frames[1])[0] is False


def test_track_video_streams_forward_and_goes_backward_from_a_list(exported_model, box):
    """track_video: a box on frame `start`, forward streaming from any iterable (results come as the
    frames do), backward over a list equal to a forward run over the reversed frames (exactly)."""
    model = SiamMask.load(exported_model)
    few = [cv2.imread(p) for p in sequence_frames(SEQ)[:5]]
    pulled = []

    def one_pass():
        for frame in few:
            pulled.append(1)
            yield frame

    stream = model.track_video(one_pass(), box, start=1)
    index, results = next(stream)
    assert index == 1 and len(pulled) == 2 and np.isnan(results[0].score)  # frame 1 told before frame 2 is read
    assert [i for i, _ in stream] == [2, 3, 4] and len(pulled) == 5

    back = dict(model.track_video(few, {3: box}, direction="backward"))
    assert sorted(back) == [0, 1, 2, 3]
    tracker = model.multi_tracker()
    tracker.init(few[3], [box])
    for k in (2, 1, 0):
        np.testing.assert_array_equal(back[k][0].polygon, tracker.track(few[k])[0].polygon)
    with pytest.raises(SiamMaskError, match="backward needs the frames as a sequence"):
        list(model.track_video(iter(few), {3: box}, direction="backward"))
