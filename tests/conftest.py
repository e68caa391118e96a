"""Shared fixtures: the seeded model, its checkpoint, export and engines (constants: tests/constants.py)."""

from __future__ import annotations

import os

import pytest

from tests.constants import GOLDEN


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


@pytest.fixture(scope="module")
def ray_instance():
    """An in-process Ray instance of this test module's own (token authentication off, as the shared
    notes advise for tests), shut down after the module; never `ray stop`, which would end every Ray
    process on the machine, and never a cluster found by "auto"."""
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("this process is already connected to Ray")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="error")
    try:
        yield ray
    finally:
        ray.shutdown()
