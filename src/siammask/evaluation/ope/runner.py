"""Running the one-pass protocol over a dataset: result files, resume, workers, Ray.

On the same shared core as the other protocols' runners: the results folder is checked and claimed
(workers.py, results_folder.py), each sequence's files are written whole when it ends, a rerun
keeps complete results (unless forced), redoes interrupted ones and refuses files that are not
results of that sequence; `workers` processes or a Ray cluster (distributed.py's actors, given
this protocol's steps) share the sequences out. The layout follows the dataset's benchmark
(results.py): pysot's RESULTS/NAME/SEQ.txt, or GOT-10k's RESULTS/NAME/SEQ/SEQ_001.txt + SEQ_time.txt.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from siammask.datasets.onepass import OnePassDataset, OnePassSequence
from siammask.engine_contract import Engine
from siammask.engines.factory import EngineSpec
from siammask.errors import SiamMaskError
from siammask.evaluation.ope.protocol import OnePassRun, run_onepass
from siammask.evaluation.ope.results import existing_result, nested, result_paths, write_result
from siammask.evaluation.shards import Shard
from siammask.evaluation.workers import PassOutcome, plan_kept, run_sequences
from siammask.tracking.config import TrackerConfig


class OnePassOutcome(PassOutcome):
    """A sequence's one pass: its frames and tracker time, or kept from an earlier run."""


def onepass_outcome(engine: Engine, config: TrackerConfig,
                    sequence: OnePassSequence) -> tuple[OnePassRun, OnePassOutcome]:
    """Run the one-pass protocol on one sequence: its boxes and times, and its outcome."""
    from siammask.tracking.tracker import Tracker

    try:
        run = run_onepass(Tracker(engine, config), [str(p) for p in sequence.frames], sequence.groundtruth[0])
    except SiamMaskError as exc:
        raise SiamMaskError(f"sequence {sequence.name}: {exc}") from None
    return run, OnePassOutcome(sequence.name, len(sequence), run.seconds)


def write_run(out: Path, run: OnePassRun, timed: bool = False) -> None:
    """A sequence's result files: `out` the box file; `timed` (GOT-10k) its time file beside it."""
    out = Path(out)
    times = out.with_name(out.name.removesuffix("_001.txt") + "_time.txt") if timed else None
    write_result(out, times, run.boxes, run.times)


def track_sequence(engine: Engine, config: TrackerConfig, sequence: OnePassSequence, out: Path,
                   timed: bool = False) -> OnePassOutcome:
    """Track one sequence and write its result files, whole."""
    run, outcome = onepass_outcome(engine, config, sequence)
    write_run(out, run, timed)
    return outcome


def plan_sequences(
    dataset: OnePassDataset, results_dir: str | Path, tracker_name: str, force: bool,
) -> tuple[list[OnePassOutcome], list[tuple[OnePassSequence, Path]]]:
    """Judge every existing result before anything is tracked (workers.plan_kept): the outcomes of
    the sequences kept and the (sequence, box file) pairs left to track."""
    return plan_kept(dataset, force, lambda seq, _: OnePassOutcome.kept(seq.name),
                     lambda seq: result_paths(results_dir, tracker_name, seq.name, dataset.benchmark),
                     lambda seq, box, times: existing_result(box, times, len(seq)))


def run_onepass_dataset(
    dataset: OnePassDataset, spec: EngineSpec, results_dir: str | Path, tracker_name: str, workers: int = 1,
    force: bool = False, on_done: Callable[[OnePassOutcome], None] | None = None,
    config: TrackerConfig | None = None, shard: Shard | None = None,
) -> list[OnePassOutcome]:
    """Track every sequence of `dataset` once from its first frame, into the benchmark's layout.
    `config` replaces the model's own settings; `shard`: `dataset` is that shard's part."""
    # a partial of a module-level function: spawned workers unpickle it by name
    track = partial(track_sequence, timed=nested(dataset.benchmark))
    return run_sequences(dataset, spec, results_dir, tracker_name, workers, force, on_done, plan_sequences, track,
                         config, shard)


def run_onepass_ray(
    dataset: OnePassDataset, spec: EngineSpec, results_dir: str | Path, tracker_name: str,
    address: str | None = "auto", force: bool = False, on_done: Callable[[OnePassOutcome], None] | None = None,
    workers: int | None = None, config: TrackerConfig | None = None, shard: Shard | None = None,
) -> list[OnePassOutcome]:
    """The same files as `run_onepass_dataset`, the sequences spread over a Ray cluster."""
    from siammask.evaluation.distributed import run_on_ray

    return run_on_ray(dataset, spec, results_dir, tracker_name, plan_sequences, onepass_outcome,
                      partial(write_run, timed=nested(dataset.benchmark)), address, force, on_done, workers, config,
                      shard)
