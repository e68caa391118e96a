"""The experiments beyond supervised on Ray write the same trajectories as in one process (the
_time.value files hold each run's own measured times, so they are not compared). The test starts
its own in-process Ray instance and shuts it down, as test_ray.py does."""

from __future__ import annotations

import pytest

from siammask.datasets.vot import load_dataset
from siammask.engines.factory import EngineSpec
from siammask.evaluation.votexp.runner import run_experiment


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
