"""Shared fixtures: the golden data (copied from the reference run) and the seeded model."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from siammask.engines.factory import auto_backend

GOLDEN = Path(__file__).parent / "data" / "golden"
DATASET = GOLDEN / "dataset"
# The golden data were made with OpenCV 4.14. OpenCV 5 warps masks slightly differently (up to
# 1.0 px on 3.4% of polygons, measured in the shared README), so polygon tolerance widens there.
# what --backend auto runs an fp32 / INT8 export on here (openvino on AVX512-VNNI CPUs with it
# installed, else onnxruntime): the default tracker names of eval follow it
AUTO_FP32 = auto_backend("fp32")[0]
AUTO_INT8 = auto_backend("fp32+int8")[0]
OPENCV_MAJOR = int(cv2.__version__.split(".")[0])
POLYGON_TOL_PX = 0.5 if OPENCV_MAJOR == 4 else 1.0


def golden_records(name: str = "tracking_records.json") -> dict:
    return json.loads((GOLDEN / name).read_text())


def sequence_frames(seq: str) -> list[str]:
    return sorted(str(p) for p in (DATASET / seq).glob("*.jpg"))


def sequence_groundtruth(seq: str) -> np.ndarray:
    return np.loadtxt(DATASET / seq / "groundtruth.txt", delimiter=",")


@pytest.fixture(scope="session")
def seeded_model():
    torch = pytest.importorskip("torch")
    from siammask.model.checkpoint import load_into
    from siammask.model.network import SiamMaskNet
    from siammask.model.seeded import seeded_state_dict

    model = SiamMaskNet()
    load_into(model, {k: torch.from_numpy(v) for k, v in seeded_state_dict().items()})
    return model.eval()


@pytest.fixture(scope="session")
def sparse_model():
    torch = pytest.importorskip("torch")
    from siammask.model.checkpoint import load_into
    from siammask.model.network import SiamMaskNet
    from siammask.model.seeded import seeded_state_dict

    model = SiamMaskNet()
    weights = seeded_state_dict(calibration=GOLDEN / "sparse_masks" / "calibration.npz")
    load_into(model, {k: torch.from_numpy(v) for k, v in weights.items()})
    return model.eval()


@pytest.fixture(scope="session")
def torch_engine(seeded_model):
    from siammask.engines.torch_engine import TorchEngine

    return TorchEngine(seeded_model)


@pytest.fixture(scope="session")
def seeded_checkpoint(tmp_path_factory):
    pytest.importorskip("torch")
    from siammask.model.seeded import write_checkpoint

    return write_checkpoint(tmp_path_factory.mktemp("ckpt") / "seeded.pth")


@pytest.fixture(scope="session")
def exported_model(seeded_checkpoint, tmp_path_factory):
    """The seeded checkpoint exported once per test session (fp32 ONNX folder)."""
    pytest.importorskip("onnx")
    from siammask.deploy.export import export

    return export(seeded_checkpoint, tmp_path_factory.mktemp("export") / "model")


@pytest.fixture(scope="session")
def onnx_engine(exported_model):
    from siammask.engines.onnx_engine import OnnxEngine

    return OnnxEngine(exported_model)
