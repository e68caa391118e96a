"""Running the long-term protocol over a dataset: result files, resume, workers, Ray.

As the supervised runner (evaluation/vot/runner.py) and on the same shared core: the results folder
is checked and claimed (workers.py, results_folder.py), each sequence's two files are written whole
when it ends, a rerun keeps complete results (unless forced), redoes interrupted ones and refuses
files that are not results of that sequence; `workers` processes or a Ray cluster
(distributed.py's actors, given this protocol's steps) share the sequences out.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from siammask.datasets.vot import Dataset, Sequence
from siammask.engine_contract import Engine
from siammask.engines.factory import EngineSpec
from siammask.errors import SiamMaskError
from siammask.evaluation.longterm.protocol import LongTermRun, run_longterm
from siammask.evaluation.longterm.results import existing_result, result_paths, write_result
from siammask.evaluation.shards import Shard
from siammask.evaluation.workers import PassOutcome, plan_kept, run_sequences
from siammask.tracking.config import TrackerConfig


class LongTermOutcome(PassOutcome):
    """A sequence's long-term run: its frames and tracker time, or kept from an earlier run."""


def longterm_outcome(engine: Engine, config: TrackerConfig, sequence: Sequence) -> tuple[LongTermRun, LongTermOutcome]:
    """Run the long-term protocol on one sequence: its boxes and scores, and its outcome."""
    from siammask.tracking.tracker import Tracker

    try:
        run = run_longterm(Tracker(engine, config), [str(p) for p in sequence.frames], sequence.groundtruth)
    except SiamMaskError as exc:
        raise SiamMaskError(f"sequence {sequence.name}: {exc}") from None
    return run, LongTermOutcome(sequence.name, len(sequence), run.seconds)


def write_run(out: Path, run: LongTermRun) -> None:
    """A sequence's two result files (`out` is the box file)."""
    write_result(out, run.boxes, run.scores)


def track_sequence(engine: Engine, config: TrackerConfig, sequence: Sequence, out: Path) -> LongTermOutcome:
    """Track one sequence and write its result files, whole."""
    run, outcome = longterm_outcome(engine, config, sequence)
    write_run(out, run)
    return outcome


def plan_sequences(
    dataset: Dataset, results_dir: str | Path, tracker_name: str, force: bool,
) -> tuple[list[LongTermOutcome], list[tuple[Sequence, Path]]]:
    """Judge every existing result before anything is tracked (workers.plan_kept): the outcomes of
    the sequences kept and the (sequence, box file) pairs left to track."""
    return plan_kept(dataset, force, lambda seq, _: LongTermOutcome.kept(seq.name),
                     lambda seq: result_paths(results_dir, tracker_name, seq.name),
                     lambda seq, box, conf: existing_result(box, conf, len(seq)))


def run_longterm_dataset(
    dataset: Dataset, spec: EngineSpec, results_dir: str | Path, tracker_name: str, workers: int = 1,
    force: bool = False, on_done: Callable[[LongTermOutcome], None] | None = None,
    config: TrackerConfig | None = None, shard: Shard | None = None,
) -> list[LongTermOutcome]:
    """Track every sequence of `dataset` once from its first frame; results in pysot's long-term
    layout (`results_dir/tracker_name/longterm/<seq>/<seq>_001.txt` and `_001_confidence.value`).
    `config` replaces the model's own settings (e.g. long-term mode on)."""
    return run_sequences(dataset, spec, results_dir, tracker_name, workers, force, on_done, plan_sequences,
                         track_sequence, config, shard)


def run_longterm_ray(
    dataset: Dataset, spec: EngineSpec, results_dir: str | Path, tracker_name: str, address: str | None = "auto",
    force: bool = False, on_done: Callable[[LongTermOutcome], None] | None = None, workers: int | None = None,
    config: TrackerConfig | None = None, shard: Shard | None = None,
) -> list[LongTermOutcome]:
    """The same files as `run_longterm_dataset`, the sequences spread over a Ray cluster."""
    from siammask.evaluation.distributed import run_on_ray

    return run_on_ray(dataset, spec, results_dir, tracker_name, plan_sequences, longterm_outcome, write_run, address,
                      force, on_done, workers, config, shard)
