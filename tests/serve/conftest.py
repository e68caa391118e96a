"""Fixtures for the page's tests: the seeded model, small videos cut from a golden sequence."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.constants import sequence_frames, sequence_groundtruth

pytest.importorskip("fastapi")
SIZE = (160, 120)  # half of synth00's 320x240: fast, and the target still fills a good part of it
FRAMES = 8


def clip_frames(count: int = FRAMES) -> list[np.ndarray]:
    return [cv2.resize(cv2.imread(p), SIZE, interpolation=cv2.INTER_AREA) for p in sequence_frames("synth00")[:count]]


def clip_box() -> list[int]:
    """synth00's first ground-truth polygon, halved, as the integer x,y,w,h a mouse would draw."""
    polygon = sequence_groundtruth("synth00")[0].reshape(4, 2) / 2
    x0, y0 = np.floor(polygon.min(axis=0)).astype(int)
    x1, y1 = np.ceil(polygon.max(axis=0)).astype(int)
    return [int(x0), int(y0), int(x1 - x0), int(y1 - y0)]


def write_clip(path: Path, count: int = FRAMES) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, SIZE)
    for frame in clip_frames(count):
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="session")
def seeded_checkpoint(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    from siammask.model.seeded import write_checkpoint

    return write_checkpoint(tmp_path_factory.mktemp("model") / "seeded.pth")


@pytest.fixture(scope="session")
def engine_and_config(seeded_checkpoint):
    from siammask.engines.factory import load_engine

    return load_engine(checkpoint=seeded_checkpoint, threads=1)


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.mp4")


@pytest.fixture()
def settings(engine_and_config, tmp_path):
    from siammask.serve.app import ServeSettings

    engine, config = engine_and_config
    media = tmp_path / "media"
    media.mkdir()
    return ServeSettings(engine, config, "seeded.pth", True, media=media, max_upload_mb=5, idle_timeout=600,
                         temp_root=tmp_path)
