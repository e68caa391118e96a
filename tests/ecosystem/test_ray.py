"""Distributed evaluation on Ray writes the same result files as the single-process runner.

The test starts its own in-process Ray instance (token authentication off, as the shared notes
advise for tests) and shuts that one down at the end; it never runs `ray stop`, which would end
every Ray process on the machine, and never joins a cluster found by "auto".
"""

from __future__ import annotations

import sys

import pytest

from siammask.datasets.vot import load_dataset
from siammask.errors import SiamMaskError
from siammask.evaluation.vot.results import result_path
from siammask.evaluation.vot.runner import EngineSpec, run_dataset


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    from siammask.datasets.synth import make_dataset

    return load_dataset(make_dataset(tmp_path_factory.mktemp("ray") / "data", sequences=2, frames=12, size=(160, 120)))


def test_ray_results_identical_to_single_process(ray_instance, small_dataset, exported_model, tmp_path):
    """Both sequences tracked by two actors; files byte-identical to run_dataset's; a rerun keeps them."""
    from siammask.evaluation.vot.distributed import run_dataset_ray

    spec = EngineSpec(model=str(exported_model), threads=1)
    seen = []
    outcomes = run_dataset_ray(small_dataset, spec, tmp_path / "ray", "T", on_done=seen.append)
    assert sorted(o.name for o in outcomes) == small_dataset.names and seen == outcomes
    assert not any(o.skipped for o in outcomes) and all(o.frames > 0 for o in outcomes)
    run_dataset(small_dataset, EngineSpec(model=str(exported_model)), tmp_path / "local", "T")
    for seq in small_dataset.names:
        ours = result_path(tmp_path / "ray", "T", seq).read_bytes()
        assert ours == result_path(tmp_path / "local", "T", seq).read_bytes(), seq
    assert ray_instance.is_initialized(), "a connection made by the caller stays open"

    again = run_dataset_ray(small_dataset, spec, tmp_path / "ray", "T")
    assert all(o.skipped for o in again)
    assert [o.failures for o in sorted(again, key=lambda o: o.name)] == [
        o.failures for o in sorted(outcomes, key=lambda o: o.name)
    ]


def test_ray_worker_error_is_one_line(ray_instance, small_dataset, tmp_path):
    """A model that cannot be loaded on the workers comes back as the engine's own SiamMaskError."""
    from siammask.evaluation.vot.distributed import run_dataset_ray

    spec = EngineSpec(model=str(tmp_path / "missing"), threads=1)
    with pytest.raises(SiamMaskError, match="missing") as info:
        run_dataset_ray(small_dataset, spec, tmp_path / "out", "T")
    assert "\n" not in str(info.value)
    assert not any((tmp_path / "out").rglob("*.txt"))


def test_missing_ray_is_a_clear_error(monkeypatch, small_dataset, tmp_path):
    """Without the extra installed: one line naming the pip extra (nothing to track is no error)."""
    from siammask.evaluation.vot.distributed import run_dataset_ray

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(SiamMaskError, match=r"pip install 'siammask\[ray\]'"):
        run_dataset_ray(small_dataset, EngineSpec(model="unused"), tmp_path, "T")


def test_existing_files_judged_as_run_dataset_does(small_dataset, tmp_path, exported_model):
    """A file that is not a result of the sequence is refused before any cluster is contacted."""
    from siammask.evaluation.vot.distributed import run_dataset_ray

    foreign = result_path(tmp_path, "T", small_dataset.names[0])
    foreign.parent.mkdir(parents=True)
    foreign.write_text("not a result\n")
    with pytest.raises(SiamMaskError, match="--force"):
        run_dataset_ray(small_dataset, EngineSpec(model=exported_model), tmp_path, "T", address="127.0.0.1:1")
    assert foreign.read_text() == "not a result\n"
