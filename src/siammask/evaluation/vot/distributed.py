"""The supervised experiment spread over a Ray cluster: evaluation/distributed.py's protocol-neutral
road given the supervised protocol's steps (kept here for the callers that import it by this name).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from siammask.datasets.vot import Dataset
from siammask.evaluation.distributed import INSTALL_HINT, SequenceWorker, import_ray, run_on_ray
from siammask.evaluation.shards import Shard
from siammask.evaluation.vot.results import write_trajectory
from siammask.evaluation.vot.runner import EngineSpec, SequenceOutcome, plan_sequences, supervised_outcome

__all__ = ["INSTALL_HINT", "SequenceWorker", "import_ray", "run_dataset_ray"]


def run_dataset_ray(
    dataset: Dataset, spec: EngineSpec, results_dir: str | Path, tracker_name: str, address: str | None = "auto",
    force: bool = False, on_done: Callable[[SequenceOutcome], None] | None = None, workers: int | None = None,
    plan: Callable = plan_sequences, outcome: Callable = supervised_outcome, write: Callable = write_trajectory,
    shard: Shard | None = None,
) -> list[SequenceOutcome]:
    """Track every sequence of `dataset` on a Ray cluster; the same result files as `run_dataset`
    (see distributed.run_on_ray). Another protocol passes its own `plan`, `outcome` and `write`."""
    return run_on_ray(dataset, spec, results_dir, tracker_name, plan, outcome, write, address, force, on_done,
                      workers, shard=shard)
