"""The one-pass protocol on Ray writes the same box files as one process (GOT-10k's layout: the box
file and its time file, whose times are the run's own). The test starts its own in-process Ray
instance (token authentication off) and shuts it down; it never runs `ray stop`."""

from __future__ import annotations

import numpy as np

from siammask.datasets.got10k import GOT10kDataset
from siammask.datasets.onepass import OnePassSequence
from siammask.datasets.synth import make_dataset
from siammask.engines.factory import EngineSpec
from siammask.evaluation.ope.results import read_times, result_paths
from siammask.evaluation.ope.runner import run_onepass_dataset, run_onepass_ray


def _got10k(tmp_path) -> GOT10kDataset:
    root = make_dataset(tmp_path / "vot", sequences=2, frames=10, size=(96, 96), seed=6)
    sequences = []
    for i, name in enumerate(("synth00", "synth01")):
        corners = np.loadtxt(root / name / "groundtruth.txt", delimiter=",").reshape(-1, 4, 2)
        boxes = np.column_stack([corners.min(axis=1), np.ptp(corners, axis=1)])
        sequences.append(OnePassSequence(name=f"GOT-10k_Val_{i + 1:06d}", frames=sorted((root / name).glob("*.jpg")),
                                         groundtruth=boxes, tags={}))
    return GOT10kDataset(root=root, name="GOT-10k_val", benchmark="GOT-10k", split="val", sequences=sequences)


def test_ray_box_files_identical_to_one_process(ray_instance, tmp_path, exported_model):
    dataset = _got10k(tmp_path)
    spec = EngineSpec(model=str(exported_model), threads=1)
    outcomes = run_onepass_ray(dataset, spec, tmp_path / "ray", "T")
    assert sorted(o.name for o in outcomes) == dataset.names and not any(o.skipped for o in outcomes)
    run_onepass_dataset(dataset, EngineSpec(model=str(exported_model)), tmp_path / "local", "T")
    for seq in dataset:
        ray_box, ray_times = result_paths(tmp_path / "ray", "T", seq.name, "GOT-10k")
        local_box, _ = result_paths(tmp_path / "local", "T", seq.name, "GOT-10k")
        assert ray_box.read_bytes() == local_box.read_bytes(), seq.name
        assert (read_times(ray_times, len(seq)) > 0).all()
    assert all(o.skipped for o in run_onepass_ray(dataset, spec, tmp_path / "ray", "T"))
