"""Fuzzing the parsers of what users hand in: no input makes them raise anything but SiamMaskError,
and every message they raise is one line (the CLI prints it as `siammask: error: ...`).

Ground-truth files, --box arguments, result lines and files, model manifests, tracker settings and
checkpoint files. Warnings count as failures, since they would print lines of their own. Texts are
drawn both from the characters these formats use (so that many inputs get deep into the parsers)
and from anything at all.
"""

from __future__ import annotations

import json
import math
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from siammask import __version__
from siammask.commands.track import parse_box_text
from siammask.datasets.vot import read_groundtruth
from siammask.deploy.manifest import read_manifest
from siammask.errors import SiamMaskError
from siammask.evaluation.vot.results import parse_region, read_trajectory
from siammask.tracking.config import TrackerConfig
from siammask.tracking.tracker import check_box_in_image

FUZZ = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

NUMBER_CHARS = "0123456789.,-+eE \tnaifNAIF_x\r\n"
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10**6, 10**6),
    st.sampled_from([0, -0.0, 1e308, -1e308, 5e-324, 1e400]),
)
number_text = st.one_of(
    numbers.map(str),
    numbers.map(lambda v: f"{v:.4f}" if isinstance(v, float) and math.isfinite(v) else str(v)),
    st.text(st.sampled_from(NUMBER_CHARS), max_size=12),
)
# comma-separated fields: a box, a region or a ground-truth line, mostly of 1, 4 or 8 values
csv_line = st.lists(number_text, min_size=0, max_size=10).map(",".join)
any_text = st.text(max_size=80)
line_text = st.one_of(csv_line, any_text)


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory(prefix="siammask-fuzz-") as tmp:
        yield Path(tmp)


def _one_line(exc: SiamMaskError) -> None:
    assert "\n" not in str(exc) and "\r" not in str(exc), str(exc)


@pytest.fixture(autouse=True)
def warnings_are_errors():
    """A warning (numpy overflow, ...) would print lines of its own beside the one-line error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --------------------------------------------------------------------------------------------
# ground truth


groundtruth_bytes = st.one_of(
    st.lists(csv_line, max_size=6).map(lambda lines: "\n".join(lines).encode()),
    st.lists(line_text, max_size=6).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass")),
    st.binary(max_size=200),
)


@FUZZ
@given(data=groundtruth_bytes)
@example(data=b"1,2,3,4\n1,2,3\n")
@example(data=b"1e400,2,3,4\n")
@example(data=b"1,2,0,4\n")
@example(data=b"\xff\xfe1,2,3,4\n")
@example(data=b"1,2,3,4,5,6,7,8\n5,5,5,5,5,5,5,5\n")
@example(data=b"-1e308,-1e308,1e308,-1e308,1e308,1e308,-1e308,1e308\n")
def test_groundtruth_parser(scratch, data):
    path = scratch / "groundtruth.txt"
    path.write_bytes(data)
    try:
        gt = read_groundtruth(path)
    except SiamMaskError as exc:
        _one_line(exc)
        return
    assert gt.ndim == 2 and len(gt) >= 1 and np.isfinite(gt).all()
    assert gt.shape[1] == 4 or (gt.shape[1] >= 6 and gt.shape[1] % 2 == 0)


# --------------------------------------------------------------------------------------------
# --box


@FUZZ
@given(text=line_text, width=st.integers(1, 4000), height=st.integers(1, 4000))
@example(text="1,2,3,4", width=96, height=96)
@example(text="nan,1,2,3", width=96, height=96)
@example(text="1e308,1e308,1e308,1e308", width=96, height=96)
@example(text="-1e308,-1e308,1e308,-1e308,1e308,1e308,-1e308,1e308", width=96, height=96)
@example(text="5,5,5,5,5,5,5,5", width=96, height=96)
@example(text="1,2,3,4,5", width=96, height=96)
def test_box_argument_parser(text, width, height):
    try:
        values = parse_box_text(text)
        check_box_in_image(values, (width, height), f"--box {text!r}")
    except SiamMaskError as exc:
        _one_line(exc)
        return
    assert len(values) in (4, 8) and all(math.isfinite(v) for v in values)


# --------------------------------------------------------------------------------------------
# result lines and files


@FUZZ
@given(text=line_text)
@example(text="m1,2,3")
@example(text="nan")
@example(text="-0")
@example(text="1,2,inf,4")
@example(text="")
def test_result_line_parser(text):
    try:
        region = parse_region(text, "r_001.txt:1")
    except SiamMaskError as exc:
        _one_line(exc)
        return
    assert region in (0, 1, 2) if isinstance(region, int) else len(region) == 4 or len(region) >= 6


@FUZZ
@given(data=groundtruth_bytes)
def test_result_file_reader(scratch, data):
    path = scratch / "r_001.txt"
    path.write_bytes(data)
    try:
        read_trajectory(path)
    except SiamMaskError as exc:
        _one_line(exc)


# --------------------------------------------------------------------------------------------
# manifests

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


def _valid_manifest() -> dict:
    def graph(name: str) -> dict:
        return {"file": f"{name}.onnx", "sha256": "0" * 64, "precision": "fp32",
                "inputs": {"x": ["batch", 3, 127, 127]}, "outputs": {"y": ["batch", 256, 5, 5]}}

    return {"format": 1, "package": "siammask", "package_version": __version__, "opset": 17,
            "checkpoint": {"file": "seeded.pth", "sha256": "1" * 64},
            "graphs": {name: graph(name) for name in ("template", "search", "refine")},
            "tracker_config": TrackerConfig().to_dict()}


def _mutated(changes: dict) -> bytes:
    manifest = _valid_manifest()
    for key, value in changes.items():
        if key.startswith("graphs.") and isinstance(manifest.get("graphs"), dict):
            graph, _, field = key[len("graphs."):].partition(".")
            if field:
                manifest["graphs"].setdefault(graph, {})
                if isinstance(manifest["graphs"][graph], dict):
                    manifest["graphs"][graph][field] = value
            else:
                manifest["graphs"][graph] = value
        elif not key.startswith("graphs."):
            manifest[key] = value
    return json.dumps(manifest).encode()


MANIFEST_KEYS = ["package", "package_version", "graphs", "opset", "format", "tracker_config", "checkpoint",
                 "graphs.template", "graphs.search", "graphs.refine.file", "graphs.search.precision",
                 "graphs.template.inputs", "graphs.refine.outputs"]
manifest_bytes = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(MANIFEST_KEYS), json_values, max_size=3).map(_mutated),
)


@FUZZ
@given(data=manifest_bytes)
@example(data=b"")
@example(data=b"[]")
@example(data=b'{"graphs": []}')
@example(data=_mutated({}))
@example(data=_mutated({"package_version": 0.1}))
@example(data=_mutated({"package_version": None}))
def test_manifest_reader(scratch, data):
    folder = scratch / "model"
    folder.mkdir(exist_ok=True)
    (folder / "manifest.json").write_bytes(data)
    try:
        manifest = read_manifest(folder)
    except SiamMaskError:
        return  # one line or not: see test_manifest_reader_known_holes
    assert isinstance(manifest, dict) and isinstance(manifest["graphs"], dict)


@pytest.mark.parametrize(
    "data",
    [
        b'{"graphs": {"template": {}, "search": {}, "refine": {}}, "package": "siammask", "package_version": '
        + b"1" * 5000 + b"}",  # json: ValueError, integer string too long
        b"[" * 100_000 + b"]" * 100_000,  # json: RecursionError
        _mutated({"package_version": "0.1\nexport again"}),  # the version is quoted raw: a two-line message
    ],
    ids=["huge-integer", "deep-nesting", "newline-in-version"],
)
def test_manifest_reader_known_holes(scratch, data):
    folder = scratch / "holes"
    folder.mkdir(exist_ok=True)
    (folder / "manifest.json").write_bytes(data)
    with pytest.raises(SiamMaskError) as info:
        read_manifest(folder)
    _one_line(info.value)


@FUZZ
@given(data=st.one_of(json_values, st.dictionaries(
    st.sampled_from(["penalty_k", "lr", "instance_size", "ratios", "scales", "hp", "anchors", "windowing",
                     "min_size", "total_stride"]),
    json_values | st.sampled_from([1e400, -1e400, 255, [0.5, 1.0], {"stride": 8}]), max_size=4)))
@example(data={"instance_size": 1e400})
@example(data={"hp": [1, 2]})
@example(data={"anchors": {"stride": "8"}})
def test_tracker_settings(data):
    """Tracker settings come from a manifest (tracker_config) or a --config file."""
    try:
        TrackerConfig.from_dict(data)
    except SiamMaskError as exc:
        _one_line(exc)


# --------------------------------------------------------------------------------------------
# checkpoints (small files: what torch.load makes of arbitrary bytes and of zip archives)


def _zip_with(payload: bytes) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
        archive.writestr("archive/version", "3\n")
    return buffer.getvalue()


@FUZZ
@given(data=st.one_of(st.binary(max_size=300), st.binary(max_size=200).map(_zip_with),
                      st.binary(max_size=200).map(lambda b: b"\x80\x02" + b)))
@example(data=b"\x80\x02}q\x00.")  # an empty dict: no tensors, accepted as an empty state dict
@example(data=b"PK\x03\x04")
def test_checkpoint_reader(scratch, data):
    pytest.importorskip("torch")
    from siammask.model.checkpoint import read_state_dict

    path = scratch / "ck.pth"
    path.write_bytes(data)
    try:
        read_state_dict(path)
    except SiamMaskError as exc:
        _one_line(exc)
