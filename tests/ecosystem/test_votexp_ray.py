"""The experiments beyond supervised on Ray write the same trajectories as in one process (the
_time.value files hold each run's own measured times, so they are not compared). The test starts
its own in-process Ray instance and shuts it down, as test_ray.py does."""

from __future__ import annotations

import os

import pytest

from siammask.datasets.vot import load_dataset
from siammask.engines.factory import EngineSpec
from siammask.evaluation.votexp.runner import run_experiment


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("this process is already connected to Ray")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="error")
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.mark.parametrize("experiment", ["multistart", "unsupervised"])
def test_ray_trajectories_equal_one_process(ray_instance, experiment, exported_model, tmp_path):
    from siammask.datasets.synth import make_dataset

    dataset = load_dataset(make_dataset(tmp_path / "data", sequences=2, frames=12, size=(96, 96), seed=4))
    spec = EngineSpec(model=str(exported_model), threads=1)
    outcomes = run_experiment(dataset, experiment, spec, tmp_path / "ray", "T", ray_address="auto")
    assert sorted(o.name for o in outcomes) == dataset.names and not any(o.skipped for o in outcomes)
    run_experiment(dataset, experiment, spec, tmp_path / "local", "T")
    files = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*[0-9].txt"))
    assert len(files) == (4 if experiment == "multistart" else 2)  # synth's anchors: 0 forward, 10 backward
    for path in files:
        assert (tmp_path / "ray" / path).read_bytes() == (tmp_path / "local" / path).read_bytes(), path
    again = run_experiment(dataset, experiment, spec, tmp_path / "ray", "T", ray_address="auto")
    assert all(o.skipped for o in again)
