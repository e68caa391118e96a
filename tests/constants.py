"""What many tests share besides fixtures: where the golden data are, readers for them, and what
this machine runs (the auto backend, the OpenCV major version and the polygon tolerance it sets)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from siammask.engines.factory import auto_backend

GOLDEN = Path(__file__).parent / "data" / "golden"
DATASET = GOLDEN / "dataset"
# what --backend auto runs an fp32 / INT8 export on here (openvino on AVX512-VNNI CPUs with it
# installed, else onnxruntime): the default tracker names of eval follow it
AUTO_FP32 = auto_backend("fp32")[0]
AUTO_INT8 = auto_backend("fp32+int8")[0]
# The golden data were made with OpenCV 4.14. OpenCV 5 warps masks slightly differently (up to
# 1.0 px on 3.4% of polygons, measured in the shared README), so polygon tolerance widens there.
OPENCV_MAJOR = int(cv2.__version__.split(".")[0])
POLYGON_TOL_PX = 0.5 if OPENCV_MAJOR == 4 else 1.0


def golden_records(name: str = "tracking_records.json") -> dict:
    return json.loads((GOLDEN / name).read_text())


def sequence_frames(seq: str) -> list[str]:
    return sorted(str(p) for p in (DATASET / seq).glob("*.jpg"))


def sequence_groundtruth(seq: str) -> np.ndarray:
    return np.loadtxt(DATASET / seq / "groundtruth.txt", delimiter=",")
