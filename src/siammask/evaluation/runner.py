"""Running the supervised experiment over a dataset: result files, resume, parallel workers.

Each sequence's result file is written atomically when the sequence ends, so a run killed at any
moment leaves only whole files; a rerun skips sequences whose file is complete (one line per
frame) unless forced. Workers are processes, each building its engine once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from siammask.config import TrackerConfig
from siammask.errors import SiamMaskError
from siammask.evaluation.dataset import Dataset, Sequence
from siammask.evaluation.protocol import run_supervised
from siammask.evaluation.results import read_trajectory, result_path, write_trajectory


@dataclass(frozen=True)
class EngineSpec:
    """How to build an engine, in a form that crosses process (and Ray) boundaries."""

    checkpoint: str | None = None
    model: str | None = None
    backend: str | None = None
    threads: int | None = None
    providers: str | None = None
    config: str | None = None  # tracker settings JSON overriding the engine's

    def build(self):  # noqa: ANN201 - (Engine, TrackerConfig)
        from siammask.engines.factory import load_engine

        engine, config = load_engine(self.checkpoint, self.model, self.backend, self.threads, self.providers)
        if self.config:
            config = TrackerConfig.from_file(self.config)
        return engine, config

    @property
    def label(self) -> str:
        return "torch" if self.checkpoint else "onnxruntime"


@dataclass(frozen=True)
class SequenceOutcome:
    name: str
    frames: int
    failures: int
    seconds: float  # tracker time
    skipped: bool = False  # already complete from an earlier run

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else float("nan")


def is_complete(path: Path, frames: int) -> bool:
    """A result file from an earlier run that can be kept: readable and one line per frame."""
    if not path.is_file():
        return False
    try:
        return len(read_trajectory(path)) == frames
    except SiamMaskError:
        return False


def track_sequence(engine: object, config: TrackerConfig, sequence: Sequence, out: Path) -> SequenceOutcome:
    from siammask.tracker import Tracker

    run = run_supervised(Tracker(engine, config), [str(p) for p in sequence.frames], sequence.groundtruth)
    write_trajectory(out, run.regions)
    return SequenceOutcome(sequence.name, run.tracked_frames, run.failures, run.seconds)


# One engine per worker process, built by the pool's initializer.
_worker_engine: tuple | None = None


def _init_worker(spec: EngineSpec) -> None:
    global _worker_engine
    _worker_engine = spec.build()


def _worker_track(sequence: Sequence, out: str) -> SequenceOutcome:
    assert _worker_engine is not None
    engine, config = _worker_engine
    return track_sequence(engine, config, sequence, Path(out))


def run_dataset(
    dataset: Dataset, spec: EngineSpec, results_dir: str | Path, tracker_name: str, workers: int = 1,
    force: bool = False, on_done: Callable[[SequenceOutcome], None] | None = None,
) -> list[SequenceOutcome]:
    """Track every sequence of `dataset` under the supervised protocol; results in the reference's
    layout (`results_dir/tracker_name/baseline/<seq>/<seq>_001.txt`)."""
    if workers < 1:
        raise SiamMaskError(f"--workers must be at least 1, got {workers}")
    outcomes: list[SequenceOutcome] = []
    todo: list[tuple[Sequence, Path]] = []
    for seq in dataset:
        out = result_path(results_dir, tracker_name, seq.name)
        if not force and is_complete(out, len(seq)):
            outcome = SequenceOutcome(seq.name, 0, _count_failures(out), 0.0, skipped=True)
            outcomes.append(outcome)
            if on_done:
                on_done(outcome)
        else:
            todo.append((seq, out))
    if not todo:
        return outcomes
    if workers == 1 or len(todo) == 1:
        engine, config = spec.build()
        for seq, out in todo:
            outcome = track_sequence(engine, config, seq, out)
            outcomes.append(outcome)
            if on_done:
                on_done(outcome)
        return outcomes
    threads = spec.threads or max(1, (os.cpu_count() or 1) // workers)
    worker_spec = EngineSpec(spec.checkpoint, spec.model, spec.backend, threads, spec.providers, spec.config)
    # spawn: a fresh interpreter per worker, safe with torch and ONNX Runtime thread pools
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_worker,
                             initargs=(worker_spec,)) as pool:
        futures = [pool.submit(_worker_track, seq, str(out)) for seq, out in todo]
        for future in as_completed(futures):
            outcome = future.result()
            outcomes.append(outcome)
            if on_done:
                on_done(outcome)
    return outcomes


def _count_failures(path: Path) -> int:
    return sum(1 for r in read_trajectory(path) if r == 2)


def total_frames(sequences: Iterable[Sequence]) -> int:
    return sum(len(s) for s in sequences)

