"""Tracking a dataset's sequences in worker processes, each building its engine once.

The one road every protocol's runner takes (VOT supervised, beyond supervised, long-term, one
pass, DAVIS): `run_sequences` here for worker processes, `distributed.run_on_ray` for a Ray
cluster, both opening the run the same way (`open_run`: the results folder checked and claimed,
the shard recorded). A runner hands over a module-level `track(engine, config, sequence, out) ->
outcome`, which a spawned worker can unpickle by name. An error, Ctrl-C or SIGTERM ends every
worker at once, and a worker ends with its parent, so that no process goes on writing results
for a run that was stopped.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Self

from siammask.engine_contract import Engine
from siammask.engines.factory import EngineSpec
from siammask.evaluation.shards import Shard
from siammask.tracking.config import TrackerConfig

TrackFunction = Callable[[Engine, TrackerConfig, Any, Path], Any]

# One engine per worker process, built by the pool's initializer: (engine, tracker settings).
_worker_engine: tuple[Engine, TrackerConfig] | None = None


def _init_worker(spec: EngineSpec, config: TrackerConfig | None) -> None:
    global _worker_engine
    end_with_parent()
    engine, model_config = spec.build()
    _worker_engine = (engine, config or model_config)


def _worker_track(track: TrackFunction, sequence: Any, out: str) -> Any:  # noqa: ANN401 - the runner's outcome
    assert _worker_engine is not None
    engine, config = _worker_engine
    return track(engine, config, sequence, Path(out))


def end_with_parent() -> None:
    """Linux: the kernel sends this process SIGTERM when its parent dies, even by SIGKILL, so that
    no worker goes on tracking and writing results for a run that was stopped."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # no prctl: the parent's own clean-up still stops the workers
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """End a pool's worker processes now. shutdown() alone would wait for the sequences being
    tracked to finish (and let them write their results) after the user stopped the run; Python
    3.11's executor has no public way to end its processes, hence the private attribute."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # shutdown() forgets them
    for process in processes:
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)


def track_all(
    todo: list[tuple[Any, Path]], spec: EngineSpec, workers: int, track: TrackFunction,
    finished: Callable[[Any], None], config: TrackerConfig | None = None,
) -> None:
    """Track each (sequence, output) of `todo` with `track`; `finished` gets each outcome as it
    comes. `config` overrides the engine's own settings. One worker (or one sequence) runs here;
    more run in up to `workers` spawned processes, the threads shared out among them."""
    todo = longest_first(todo)
    if workers == 1 or len(todo) == 1:
        engine, model_config = spec.build()
        for sequence, out in todo:
            finished(track(engine, config or model_config, sequence, out))
        return
    threads = spec.threads or max(1, (os.cpu_count() or 1) // workers)
    worker_spec = dataclasses.replace(spec, threads=threads)
    # spawn: a fresh interpreter per worker, safe with torch and ONNX Runtime thread pools
    pool = ProcessPoolExecutor(min(workers, len(todo)), mp_context=get_context("spawn"), initializer=_init_worker,
                               initargs=(worker_spec, config))
    try:
        futures = [pool.submit(_worker_track, track, sequence, str(out)) for sequence, out in todo]
        for future in as_completed(futures):
            finished(future.result())
    except BaseException:  # an error, Ctrl-C or SIGTERM: no worker outlives the run
        stop_workers(pool)
        raise
    pool.shutdown(wait=True)


def longest_first(todo: list[tuple[Any, Path]]) -> list[tuple[Any, Path]]:
    """The sequences to run, longest first (stable otherwise): with several workers the long ones
    no longer start last and leave the others idle at the end. One process writes the same files
    in any order."""
    def frames(item: tuple[Any, Path]) -> int:
        try:
            return len(item[0])
        except TypeError:  # a job without a length (beyond supervised): keep its place
            return 0
    return sorted(todo, key=lambda item: -frames(item))


@dataclasses.dataclass(frozen=True)
class PassOutcome:
    """A sequence tracked once from its first frame, no reset (one pass, long-term)."""
    name: str
    frames: int
    seconds: float  # tracker time
    skipped: bool = False  # already complete from an earlier run

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else float("nan")

    @classmethod
    def kept(cls, name: str) -> Self:
        """A sequence whose complete result an earlier run left."""
        return cls(name, 0, 0.0, skipped=True)


def plan_kept(
    dataset: Any, force: bool, kept_outcome: Callable[[Any, Path], Any],  # noqa: ANN401 - a protocol's dataset
    paths: Callable[[Any], tuple[Path, Path | None]], complete: Callable[[Any, Path, Path | None], bool],
) -> tuple[list[Any], list[tuple[Any, Path]]]:
    """A one-pass protocol's `plan` for run_sequences: every existing result judged before anything
    is tracked. `paths(seq)` is a sequence's (box file, second file or None), `complete(seq, box,
    second)` whether an earlier run left them whole; gives the kept outcomes (`kept_outcome(seq,
    box)`) and the (sequence, box file) pairs left to track, a killed run's temporary files removed."""
    from siammask.files import remove_stale_temporaries

    kept: list[Any] = []
    todo: list[tuple[Any, Path]] = []
    for seq in dataset:
        box, second = paths(seq)
        if not force and complete(seq, box, second):
            kept.append(kept_outcome(seq, box))
            continue
        todo.append((seq, box))
        for path in (box, second):
            if path is not None:
                remove_stale_temporaries(path)
    return kept, todo


@contextmanager
def open_run(
    dataset: Any, spec: EngineSpec, results_dir: str | Path, tracker_name: str, force: bool,  # noqa: ANN401
    shard: Shard | None = None, before_claim: Callable[[], Any] | None = None,
) -> Iterator[Any]:
    """Every run's opening and closing, whatever runs the sequences: the results folder checked,
    `before_claim` called (what must be refused before anything is written: a missing Ray), the
    shard's folder checked (shards.check_shard), RESULTS/NAME claimed for this run
    (results_folder.claim_results) and the shard recorded; when the block ends without an error,
    the shard is recorded finished. Yields what `before_claim` returned."""
    from siammask.evaluation.results_folder import check_results_folder, claim_results
    from siammask.evaluation.shards import check_shard, check_shard_dataset, close_shard, open_shard

    check_shard_dataset(dataset, shard)
    check_results_folder(results_dir)
    value = before_claim() if before_claim else None
    check_shard(results_dir, tracker_name, shard, force)
    claim_results(results_dir, tracker_name, spec, force)
    open_shard(results_dir, tracker_name, shard, force)
    yield value
    close_shard(results_dir, tracker_name, shard)


def run_sequences(
    dataset: Any, spec: EngineSpec, results_dir: str | Path, tracker_name: str, workers: int, force: bool,
    on_done: Callable[[Any], None] | None, plan: Callable[..., tuple[list[Any], list[tuple[Any, Path]]]],
    track: TrackFunction, config: TrackerConfig | None = None, shard: Shard | None = None,
) -> list[Any]:
    """Every protocol's run over a dataset: the run opened (`open_run`: the results folder checked
    and claimed, the shard recorded), the sequences `plan(dataset, results_dir, tracker_name, force)`
    finds complete kept, the others tracked with `track`; `on_done` gets each outcome, the kept ones
    first. `shard` (shards.select_shard): `dataset` is that shard's part of the dataset."""
    from siammask.errors import SiamMaskError

    if workers < 1:
        raise SiamMaskError(f"--workers must be at least 1, got {workers}")
    outcomes: list[Any] = []

    def finished(outcome: Any) -> None:
        outcomes.append(outcome)
        if on_done:
            on_done(outcome)

    with open_run(dataset, spec, results_dir, tracker_name, force, shard):
        kept, todo = plan(dataset, results_dir, tracker_name, force)
        for outcome in kept:
            finished(outcome)
        if todo:
            track_all(todo, spec, workers, track, finished, config)
    return outcomes
