"""The DAVIS-layout golden data (tests/data/golden_vos, copied from shared/reference/golden_vos)
and the tracker settings they were made with (config_davis.json)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from siammask.evaluation.vos.protocol import merge_objects
from siammask.tracking.config import TrackerConfig

GOLDEN_VOS = Path(__file__).resolve().parents[2] / "data" / "golden_vos"
DATASET = GOLDEN_VOS / "dataset"
SEQUENCES = ("vos00", "vos01", "vos02")
MODES = {"davis2017": 2017, "davis2016": 2016}


def davis_config() -> TrackerConfig:
    """experiments/siammask_sharp/config_davis.json's settings."""
    return TrackerConfig(seg_thr=0.35, penalty_k=0.04, window_influence=0.40, lr=1.0)


def frames(seq: str) -> list[Path]:
    return sorted((DATASET / "JPEGImages" / "480p" / seq).glob("*.jpg"))


def first_labels(seq: str, mode: str) -> np.ndarray:
    labels = np.array(Image.open(DATASET / "Annotations" / "480p" / seq / "00000.png"))
    return merge_objects(labels) if mode == "davis2016" else labels


def object_ids(labels: np.ndarray) -> list[int]:
    return [int(i) for i in np.unique(labels) if i != 0]


@cache
def records(mode: str) -> dict:
    return json.loads((GOLDEN_VOS / mode / "vos_records.json").read_text())


def reference_labels(mode: str, seq: str, frame: int) -> np.ndarray:
    return np.array(Image.open(GOLDEN_VOS / mode / "results" / seq / f"{frame:05d}.png"))


def near_tie_disagreements(ours: np.ndarray, theirs: np.ndarray, probabilities: np.ndarray | None,
                           ids: list[int], seg_thr: float, tol: float) -> int:
    """Pixels where the label maps differ although our probabilities do not make it a near tie.

    At a pixel where our label and the reference's differ, the reference's choice must be within
    `tol` of ours by our own probabilities (background counting as seg_thr): a sigmoid saturated at
    1.0 in two objects, or a probability on the threshold, is float noise; anything else is a bug.
    """
    ys, xs = np.nonzero(ours != theirs)
    if len(ys) == 0:
        return 0
    if probabilities is None:
        return len(ys)
    stack = np.concatenate([np.full((1, *ours.shape), seg_thr), probabilities.astype(np.float64)])
    index = {0: 0, **{i: k + 1 for k, i in enumerate(ids)}}
    a = np.array([index[int(v)] for v in ours[ys, xs]])
    b = np.array([index.get(int(v), -1) for v in theirs[ys, xs]])
    if (b < 0).any():
        return len(ys)
    gap = np.abs(stack[a, ys, xs] - stack[b, ys, xs])
    return int(np.count_nonzero(gap > tol))
