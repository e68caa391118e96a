"""The exported graphs on OpenVINO: fp32 parity with the reference and ONNX Runtime, K-target
batches, bf16 where the CPU has bf16 units, the model cache, precisions refused, and --backend auto.

fp32 tolerance as the ONNX Runtime engine's: max |ours - reference| / max |reference| <= 1e-4.
bf16 (measured on an AMD EPYC Zen 4 with AVX512-BF16, docs/engines.md): raw scores within 5e-2 of fp32
relative to their range; in the open-loop replay of the first 10 tracked frames of each golden
sequence, polygons within 1 px of the reference's on at least 85% of the frames (measured 29 of
30; 88.3% over all 282 golden frames).
"""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from siammask.engines.auto import cpu_flags, measured_openvino_cpu, pick_backend
from siammask.engines.factory import choose_backend, load_engine
from siammask.errors import SiamMaskError
from siammask.tracking.tracker import Tracker
from tests.constants import GOLDEN, golden_records, sequence_frames, sequence_groundtruth

ov = pytest.importorskip("openvino")
from siammask.engines.openvino_engine import OpenVinoEngine, device_precisions  # noqa: E402

REL_TOL = 1e-4
BF16_REL_TOL = 5e-2
BF16_WITHIN_1PX = 0.85
BF16_FRAMES_PER_SEQUENCE = 10
HAS_BF16 = "bf16" in device_precisions(ov.Core(), "CPU")
needs_bf16 = pytest.mark.skipif(not HAS_BF16, reason="this CPU lists no BF16 in OpenVINO's capabilities")


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("ov_cache")


@pytest.fixture(scope="module")
def ov_engine(exported_model, cache):
    return OpenVinoEngine(exported_model, threads=2, cache_dir=cache)


@pytest.fixture(scope="module")
def bf16_engine(exported_model, cache):
    if not HAS_BF16:
        pytest.skip("this CPU lists no BF16 in OpenVINO's capabilities")
    return OpenVinoEngine(exported_model, precision="bf16", threads=2, cache_dir=cache)


def first_frame_outputs(engine):
    golden = np.load(GOLDEN / "raw_first_frame.npz")
    from siammask.tracking.crop import crop_subwindow, to_chw_float

    cx, cy, w, h = golden_records()["synth00"][0]["init_bbox_cxcywh"]
    image = cv2.imread(sequence_frames("synth00")[0])
    context = 0.5 * (w + h)
    side = round(np.sqrt((w + context) * (h + context)))
    kernels = engine.template(to_chw_float([crop_subwindow(image, (cx, cy), 127, side, np.mean(image, axis=(0, 1)))]))
    out = engine.search(golden["x_crop"].astype(np.float32), kernels)
    mask = engine.refine(out, kernels, np.array([12]), np.array([12]))
    return golden, out, mask


def test_fp32_raw_outputs_match_reference(ov_engine):
    assert ov_engine.precision == "fp32"
    golden, out, mask = first_frame_outputs(ov_engine)
    assert rel(out.cls, golden["cls"]) <= REL_TOL
    assert rel(out.loc, golden["loc"]) <= REL_TOL
    reference = 1 / (1 + np.exp(-golden["refine_logits_at_12_12"].astype(np.float64)))
    assert rel(mask.reshape(1, -1), reference) <= REL_TOL


def test_fp32_matches_onnx_runtime_with_two_targets(ov_engine, onnx_engine):
    rng = np.random.default_rng(0)
    z = rng.uniform(0, 255, (2, 3, 127, 127)).astype(np.float32)
    x = rng.uniform(0, 255, (2, 3, 255, 255)).astype(np.float32)
    kv, ko = ov_engine.template(z), onnx_engine.template(z)
    assert kv.cls.shape == (2, 256, 5, 5)
    for a, b in ((kv.cls, ko.cls), (kv.loc, ko.loc), (kv.mask, ko.mask)):
        assert rel(a, b) <= REL_TOL
    sv, so = ov_engine.search(x, ko), onnx_engine.search(x, ko)
    assert sv.cls.shape == (2, 10, 25, 25)
    assert rel(sv.cls, so.cls) <= REL_TOL and rel(sv.loc, so.loc) <= REL_TOL
    rows, cols = np.array([0, 24]), np.array([24, 7])
    mv, mo = ov_engine.refine(sv, ko, rows, cols), onnx_engine.refine(so, ko, rows, cols)
    assert mv.shape == (2, 127, 127) and np.abs(mv - mo).max() <= 1e-4
    # a batch of one after a batch of two: the dynamic batch follows the call
    assert ov_engine.template(z[:1]).cls.shape == (1, 256, 5, 5)


@needs_bf16
def test_bf16_raw_outputs_close_to_fp32(bf16_engine, ov_engine):
    assert bf16_engine.precision == "bf16"
    _, s16, _ = first_frame_outputs(bf16_engine)
    _, s32, _ = first_frame_outputs(ov_engine)
    assert rel(s16.cls, s32.cls) <= BF16_REL_TOL and rel(s16.loc, s32.loc) <= BF16_REL_TOL
    assert rel(s16.cls, s32.cls) > 0  # the hint took effect: bf16 arithmetic, not f32


@needs_bf16
def test_bf16_open_loop_polygons_within_1px(bf16_engine):
    errors = []
    for seq, records in golden_records().items():
        paths, gt = sequence_frames(seq), sequence_groundtruth(seq)
        tracker, tracked = Tracker(bf16_engine, bf16_engine.tracker_config), 0
        for rec in records:
            f = rec["frame"]
            if rec["event"] == "init":
                tracker.init(cv2.imread(paths[f]), gt[f])
            elif rec["event"] in ("track", "lost") and tracked < BF16_FRAMES_PER_SEQUENCE:
                tracker.state.pos, tracker.state.size = np.array(rec["pos_in"]), np.array(rec["sz_in"])
                result = tracker.track(cv2.imread(paths[f]))
                errors.append(np.abs(result.polygon.ravel() - np.array(rec["polygon"])).max())
                tracked += 1
            if tracked == BF16_FRAMES_PER_SEQUENCE:
                break
    assert len(errors) == 3 * BF16_FRAMES_PER_SEQUENCE
    assert np.mean(np.array(errors) <= 1.0) >= BF16_WITHIN_1PX


def test_model_cache_is_used_on_the_second_start(exported_model, tmp_path):
    first = OpenVinoEngine(exported_model, threads=1, cache_dir=tmp_path)
    assert not first.loaded_from_cache
    assert first.cache_dir == tmp_path and any(tmp_path.rglob("*.blob"))
    second = OpenVinoEngine(exported_model, threads=1, cache_dir=tmp_path)
    assert second.loaded_from_cache


def test_cache_folder_from_the_environment(exported_model, tmp_path, monkeypatch):
    monkeypatch.delenv("SIAMMASK_CACHE_DIR", raising=False)
    monkeypatch.setenv("SIAMMASK_OPENVINO_CACHE", str(tmp_path / "c"))  # the earlier name still works
    engine = OpenVinoEngine(exported_model, threads=1)
    assert engine.cache_dir == tmp_path / "c" and any((tmp_path / "c").rglob("*.blob"))
    monkeypatch.setenv("SIAMMASK_CACHE_DIR", str(tmp_path / "d"))  # the new one wins
    assert OpenVinoEngine(exported_model, threads=1).cache_dir == tmp_path / "d"
    for off in ("", "none"):
        monkeypatch.setenv("SIAMMASK_CACHE_DIR", off)
        assert OpenVinoEngine(exported_model, threads=1).cache_dir is None
    assert OpenVinoEngine(exported_model, threads=1, cache_dir="none").cache_dir is None


def test_an_edited_cached_blob_is_never_used(exported_model, tmp_path, capfd):
    """A blob whose bytes no longer hash to the SHA-256 it was stored with is deleted, named on
    stderr, and the graph compiled again (OpenVINO itself imports an edited blob without a word)."""
    OpenVinoEngine(exported_model, threads=1, cache_dir=tmp_path)
    blob = max(tmp_path.glob("*.blob"), key=lambda p: p.stat().st_size)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    capfd.readouterr()
    engine = OpenVinoEngine(exported_model, threads=1, cache_dir=tmp_path)
    assert not engine.loaded_from_cache and not blob.exists()
    assert "do not match the SHA-256" in capfd.readouterr().err
    assert OpenVinoEngine(exported_model, threads=1, cache_dir=tmp_path).loaded_from_cache  # stored anew


def test_cache_is_capped_least_recently_used_out(tmp_path):
    import hashlib
    import os

    from siammask.engines.openvino_engine import ModelCache, cache_summary

    cache = ModelCache(tmp_path, max_bytes=2500)
    legacy = tmp_path / "0123456789abcdef"  # what OpenVINO's own CACHE_DIR left: removed
    legacy.mkdir()
    (legacy / "1.blob").write_bytes(b"x" * 5000)
    (tmp_path / "notes.txt").write_text("mine")  # not the cache's: kept
    for age, key in enumerate(["a" * 32, "b" * 32, "c" * 32]):
        cache.store(key, bytes([age]) * 1000)
        blob = next(tmp_path.glob(f"{key}-*.blob"))
        os.utime(blob, (1000 + age, 1000 + age))
    assert cache.load("a" * 32) is None  # the oldest went when the third came
    assert cache.load("b" * 32) == b"\x01" * 1000  # using it makes it the newest
    cache.store("d" * 32, b"\x03" * 1000)
    names = sorted(p.name[:1] for p in tmp_path.glob("*.blob"))
    assert names == ["b", "d"] and not legacy.exists() and (tmp_path / "notes.txt").exists()
    digest = hashlib.sha256(b"\x03" * 1000).hexdigest()
    assert (tmp_path / f"{'d' * 32}-{digest}.blob").is_file()
    assert "2 compiled graph(s)" in cache_summary(tmp_path) and "SIAMMASK_CACHE_DIR" in cache_summary(tmp_path)
    assert "off" in cache_summary("none")


def one_line_error(call) -> str:
    with pytest.raises(SiamMaskError) as info:
        call()
    assert "\n" not in str(info.value)
    return str(info.value)


def test_unknown_precision_refused(exported_model):
    assert "unknown precision 'fp64'" in one_line_error(lambda: OpenVinoEngine(exported_model, precision="fp64"))


def test_bf16_refused_naming_what_the_cpu_offers(exported_model, monkeypatch):
    from siammask.engines import openvino_engine

    monkeypatch.setattr(openvino_engine, "device_precisions", lambda core, device: ["fp32", "int8"])
    message = one_line_error(lambda: OpenVinoEngine(exported_model, precision="bf16"))
    assert "bf16 is not offered by this CPU" in message and "offers fp32, int8" in message
    # the same refusal through the factory, before any graph is compiled
    assert "offers fp32, int8" in one_line_error(lambda: choose_backend(model=exported_model, precision="bf16"))


def test_fp16_refused_on_a_cpu_without_fp16(exported_model):
    if "fp16" in device_precisions(ov.Core(), "CPU"):
        pytest.skip("this CPU lists FP16")
    message = one_line_error(lambda: OpenVinoEngine(exported_model, precision="fp16"))
    assert "fp16 is not offered by this CPU" in message and "fp32" in message


def test_absent_device_refused(exported_model):
    if "GPU" in ov.Core().available_devices:
        pytest.skip("this machine has an OpenVINO GPU")
    assert "device 'GPU' is not available here" in one_line_error(
        lambda: OpenVinoEngine(exported_model, device="GPU"))


@pytest.fixture
def int8_manifest_copy(exported_model, tmp_path):
    """The fp32 folder with its manifest saying `search` is INT8: what the precision checks read."""
    folder = shutil.copytree(exported_model, tmp_path / "int8")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["graphs"]["search"]["precision"] = "int8"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_precision_must_fit_the_folder(exported_model, int8_manifest_copy):
    assert "`siammask quantize` folder" in one_line_error(lambda: OpenVinoEngine(exported_model, precision="int8"))
    assert "INT8 graphs" in one_line_error(lambda: OpenVinoEngine(int8_manifest_copy, precision="fp32"))
    assert "onnxruntime backend runs this model in fp32, not bf16" in one_line_error(
        lambda: choose_backend(model=exported_model, backend="onnxruntime", precision="bf16"))


def test_auto_follows_the_rule(exported_model, seeded_checkpoint, int8_manifest_copy):
    assert choose_backend(checkpoint=seeded_checkpoint).backend == "torch"
    fast_cpu = measured_openvino_cpu(cpu_flags())
    choice = choose_backend(model=exported_model)  # openvino is installed here, no GPU
    assert choice.backend == ("openvino" if fast_cpu else "onnxruntime") and choice.reason.startswith("auto: fp32")
    assert choose_backend(model=exported_model, backend="openvino").reason == "given"
    choice = choose_backend(model=int8_manifest_copy, backend="auto")
    assert choice.backend == ("openvino" if fast_cpu else "onnxruntime") and choice.reason.startswith("auto: int8")
    assert choose_backend(model=exported_model, providers="cpu").backend == "onnxruntime"
    assert pick_backend("fp32", "fp16")[0] == "openvino" and pick_backend("fp16", None)[0] == "onnxruntime"
    # without OpenVINO, or with a GPU provider in ONNX Runtime, fp32 and int8 stay on onnxruntime
    for offered in ("fp32", "fp32+int8"):
        backend, why = pick_backend(offered, None, openvino_installed=False)
        assert backend == "onnxruntime" and "not installed" in why
        assert pick_backend(offered, None, onnx_gpu=True)[0] == "onnxruntime"
        backend, why = pick_backend(offered, None, openvino_cpu=False)
        assert backend == "onnxruntime" and "AVX512-VNNI" in why
    if HAS_BF16:
        choice = choose_backend(model=exported_model, precision="bf16")
        assert choice.backend == "openvino" and choice.precision == "bf16"


@needs_bf16
def test_load_engine_bf16_gives_openvino(exported_model, cache, monkeypatch):
    monkeypatch.setenv("SIAMMASK_OPENVINO_CACHE", str(cache))
    engine, config = load_engine(model=exported_model, precision="bf16", threads=1)
    assert isinstance(engine, OpenVinoEngine) and engine.precision == "bf16"
    assert config.penalty_k == 0.04


def test_a_thread_count_leaves_the_cores_unpinned(exported_model, tmp_path):
    """With --threads, other processes (eval's workers) share the machine: OpenVINO must not pin every
    one of them to the first core (2 workers ran at 52 % CPU each, both on core 0)."""
    assert OpenVinoEngine(exported_model, threads=1, cache_dir=tmp_path)._config["ENABLE_CPU_PINNING"] is False
    assert "ENABLE_CPU_PINNING" not in OpenVinoEngine(exported_model, cache_dir=tmp_path)._config
