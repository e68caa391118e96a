"""`siammask trax` driven by vot-trax's own client over pipes, as vot-toolkit drives it.

Checks the handshake (formats, name), every region type in (rectangle, polygon, mask), the reply
type (polygon, or a mask when the client initialises with one or --output mask), confidence = the
tracker's confidence (score x colour match), present = its presence, that the served polygons are
the in-process tracker's, --long-term and the embedded default (no model given), and how an absent target is answered.
"""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager

import cv2
import numpy as np
import pytest

from siammask.errors import SiamMaskError

trax = pytest.importorskip("trax", reason="needs vot-trax: pip install 'siammask[vot]'")
from trax.client import Client  # noqa: E402


@pytest.fixture(scope="module")
def sequence(tmp_path_factory):
    from siammask.datasets.synth import make_dataset
    from siammask.datasets.vot import load_dataset

    root = make_dataset(tmp_path_factory.mktemp("trax") / "data", sequences=1, frames=4, size=(160, 120))
    return load_dataset(root)["synth00"]


@contextmanager
def served(model, *args, env=None):
    """A server process and a connected client; the session ends with the client's quit. `model`
    None: no --model (the embedded default)."""
    source = ["--model", str(model)] if model is not None else []
    cmd = [sys.executable, "-m", "siammask.cli", "trax", *source, "--threads", "1", *args]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
                            env=env)
    try:
        client = Client(stream=(proc.stdin.fileno(), proc.stdout.fileno()), log=lambda line: None)
        yield client
        client.quit()
        assert proc.wait(timeout=30) == 0, proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _image(path):
    return {trax.ImageChannel.COLOR: trax.FileImage.create(str(path))}


def _track(client, sequence, region, frames=3):
    status, _ = client.initialize(_image(sequence.frames[0]), [(region, {})], {})
    assert len(status) == 1 and float(status[0][1]["confidence"]) == 1.0
    out = []
    for path in sequence.frames[1 : 1 + frames]:
        status, _ = client.frame(_image(path), {}, [])
        assert len(status) == 1
        out.append(status[0])
    return out


def test_polygon_in_polygons_out_match_in_process_tracker(exported_model, onnx_engine, sequence):
    """Handshake; a 4-point polygon starts the tracker as the reference does; polygons and scores as in-process."""
    from siammask.tracking.tracker import Tracker

    gt = sequence.groundtruth[0]
    with served(exported_model) as client:
        assert client.tracker_name == "SiamMask"
        assert set(client.region_formats) == {trax.Region.RECTANGLE, trax.Region.POLYGON, trax.Region.MASK}
        assert trax.Image.PATH in client.image_formats
        replies = _track(client, sequence, trax.Polygon.create([(gt[i], gt[i + 1]) for i in range(0, 8, 2)]))
    tracker = Tracker(onnx_engine, onnx_engine.tracker_config)
    tracker.init(cv2.imread(str(sequence.frames[0])), gt)
    for (region, props), path in zip(replies, sequence.frames[1:]):
        expected = tracker.track(cv2.imread(str(path)))
        assert region.type == trax.Region.POLYGON
        np.testing.assert_allclose(np.array(list(region)), expected.polygon, atol=1e-4)
        assert float(props["confidence"]) == pytest.approx(expected.confidence, abs=1e-6)
        assert int(props["present"]) == int(expected.present)


def test_rectangle_and_mask_inputs(exported_model, sequence):
    """A rectangle gets polygons back; a mask gets masks back (auto); --output mask forces masks."""
    xs, ys = sequence.groundtruth[0][0::2], sequence.groundtruth[0][1::2]
    x, y, w, h = xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()
    mask = np.zeros((120, 160), np.uint8)
    mask[int(y) : int(y + h), int(x) : int(x + w)] = 1
    with served(exported_model) as client:
        (region, _), = _track(client, sequence, trax.Rectangle.create(x, y, w, h), frames=1)
        assert region.type == trax.Region.POLYGON and region.size() == 4
        (region, _), = _track(client, sequence, trax.Mask.create(mask), frames=1)  # re-initialise, same process
        assert region.type == trax.Region.MASK
        assert region.array(normalize=True).shape[0] <= 120
    with served(exported_model, "--output", "mask") as client:
        (region, props), = _track(client, sequence, trax.Rectangle.create(x, y, w, h), frames=1)
        assert region.type == trax.Region.MASK and 0 <= float(props["confidence"]) <= 1


def test_refusals(exported_model, monkeypatch):
    """From a terminal: a pointer to the docs; without vot-trax: the pip extra; both one line, exit 1."""
    from siammask.serve.trax import import_trax

    proc = subprocess.run([sys.executable, "-m", "siammask.cli", "trax", "--model", str(exported_model)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    # /dev/null is no TraX client either: the handshake fails and the error is one line
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "TraX" in proc.stderr, proc.stderr
    monkeypatch.setitem(sys.modules, "trax", None)
    with pytest.raises(SiamMaskError, match=r"pip install 'siammask\[vot\]'"):
        import_trax()


def test_long_term_and_the_embedded_default(sequence, tmp_path):
    """`trax --long-term` with no model: the embedded default (--backend torch: its checkpoint only,
    written into $SIAMMASK_CACHE), said on stderr; every reply a region with confidence and present."""
    import os

    x, y, w, h = cv2.boundingRect(np.asarray(sequence.groundtruth[0], np.float32).reshape(4, 2))
    env = dict(os.environ, SIAMMASK_CACHE=str(tmp_path / "cache"))
    with served(None, "--backend", "torch", "--long-term", env=env) as client:
        replies = _track(client, sequence, trax.Rectangle.create(x, y, w, h), frames=3)
    for region, props in replies:
        assert region.type in (trax.Region.POLYGON, trax.Region.RECTANGLE)
        assert 0 <= float(props["confidence"]) <= 1 and int(props["present"]) in (0, 1)
    assert any(p.name.startswith("trained-default-") for p in (tmp_path / "cache").iterdir())


class _Blind:
    """A real engine whose search says "background" everywhere: every target is judged absent."""

    def __init__(self, engine):
        self.engine, self.name, self.precision, self.wide_search = engine, "blind", "fp32", engine.wide_search

    def template(self, z):
        return self.engine.template(z)

    def search(self, x, kernels):
        from siammask.engine_contract import SearchResult

        out = self.engine.search(x, kernels)
        cls = np.array(out.cls, copy=True)
        cls[:, 5:] = cls[:, :5] - 12.0  # foreground about 6e-6 everywhere
        return SearchResult(cls, out.loc, out.features)

    def refine(self, search, kernels, rows, cols):
        return self.engine.refine(search, kernels, rows, cols)


@pytest.mark.parametrize("long_term", [False, True])
def test_absent_target_reply(onnx_engine, sequence, long_term):
    """Absent in long-term mode: an empty region (0x0 rectangle, or an empty mask for mask clients)
    with the confidence, as VOT-LT expects "not visible"; in short-term mode the tracker's region
    as the reference reports it, present 0 either way."""
    import dataclasses

    from siammask.serve.trax import TraxSession

    config = dataclasses.replace(onnx_engine.tracker_config, long_term=long_term)
    frames = [cv2.imread(str(p)) for p in sequence.frames[:2]]
    xs, ys = sequence.groundtruth[0][0::2], sequence.groundtruth[0][1::2]
    start = trax.Rectangle.create(xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min())
    for output in ("polygon", "mask"):
        session = TraxSession(_Blind(onnx_engine), config, output)
        assert session.initialize(frames[0], start)[1] == {"confidence": 1.0, "present": 1}
        region, props = session.frame(frames[1])
        assert props["present"] == 0 and 0 <= props["confidence"] < 1e-4
        if output == "mask":
            assert region.type == trax.Region.MASK
            if long_term:
                assert region.array().sum() == 0
        elif long_term:
            assert region.type == trax.Region.RECTANGLE and region.bounds() == (0.0, 0.0, 0.0, 0.0)
        else:
            assert region.type == trax.Region.POLYGON and region.size() == 4
