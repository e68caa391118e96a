"""Running the supervised experiment over a dataset: result files, resume, parallel workers.

Each sequence's result file is written atomically when the sequence ends, so a run killed at any
moment leaves only whole files; a rerun skips sequences whose file is complete (one line per
frame) unless forced, redoes interrupted ones (and deletes a killed run's hidden temporary files),
and refuses to overwrite a file that is not a result of that sequence unless forced. Workers are
processes, each building its engine once.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from siammask.engines.factory import EngineSpec
from siammask.errors import SiamMaskError
from siammask.evaluation.dataset import Dataset, Sequence
from siammask.evaluation.protocol import run_supervised
from siammask.evaluation.results import FAILURE, parse_region, read_trajectory, result_path, write_trajectory
from siammask.io.files import check_name, read_input_text, write_text_atomically
from siammask.tracking.config import TrackerConfig


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




def existing_result(path: Path, frames: int) -> bool:
    """What to do with the result file an earlier run may have left at `path` (not forced).

    True: complete (one line per frame), keep it. False: absent, or the beginning of a result file
    (an interrupted writer that was not atomic, e.g. another tool's), so track the sequence again and
    replace it. Anything else was not written by a run on this sequence and is never overwritten
    silently: a SiamMaskError naming the file (--force replaces it).
    """
    if not path.exists():
        return False
    advice = "move it away or pass --force to replace it"
    if path.is_dir():
        raise SiamMaskError(f"{path}: not a result file but a folder; {advice}")
    try:
        text = read_input_text(path, "result")
    except SiamMaskError as exc:
        raise SiamMaskError(f"{path}: not a readable result file ({str(exc).removeprefix('result: ')}); "
                            f"{advice}") from None
    lines = text.splitlines()
    regions = []
    for i, line in enumerate(lines, start=1):
        try:
            regions.append(parse_region(line, f"{path}:{i}"))
        except SiamMaskError as exc:
            if i == len(lines) and not text.endswith("\n"):
                return False  # its last line was cut short: an interrupted write
            raise SiamMaskError(f"{exc}; not a result file of this tracker, {advice}") from None
    if regions and regions[0] != 1:
        raise SiamMaskError(f"{path}:1: a result file starts with 1 (init), got {lines[0].strip()[:20]!r}; {advice}")
    if len(regions) > frames:
        raise SiamMaskError(f"{path}: {len(regions)} lines for a sequence of {frames} frames "
                            f"(a result of another sequence?); {advice}")
    return len(regions) == frames


def remove_stale_temporaries(path: Path) -> None:
    """Delete what a killed run's write_trajectory left beside `path` (hidden `.<name>.*.tmp`)."""
    if path.parent.is_dir():
        for tmp in path.parent.glob(f".{path.name}.*.tmp"):
            tmp.unlink(missing_ok=True)


def check_results_folder(results_dir: str | Path) -> None:
    """Refuse a results folder that cannot be written before any tracking is done."""
    folder = Path(results_dir)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise SiamMaskError(f"results folder {folder}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SiamMaskError(f"results folder {folder}: {existing} is not writable")


PROVENANCE = "siammask-run.json"


def claim_results(results_dir: str | Path, tracker_name: str, spec: EngineSpec, force: bool) -> None:
    """Record what makes this tracker's results (RESULTS/NAME/siammask-run.json) and refuse to
    resume results that another model, backend, precision or settings made: keyed by name alone,
    a rerun with another model would report the first model's results as its own.

    Result files with no record (the reference's, pysot's, an older siammask's) are not resumed
    either: nothing says what made them. --force redoes every sequence and takes the folder over.
    """
    folder = Path(results_dir) / check_name(tracker_name, "tracker name")
    identity = spec.identity()
    record = folder / PROVENANCE
    if not force:
        if record.exists():
            try:
                earlier = json.loads(read_input_text(record, f"run record {record}"))
            except (ValueError, RecursionError):
                earlier = None
            if earlier != identity:
                raise SiamMaskError(f"{folder} holds results of another run ({_difference(earlier, identity)}); "
                                    "pass another --tracker-name, or --force to redo them")
        elif folder.is_dir() and any(not p.name.startswith(".") for p in folder.iterdir()):
            raise SiamMaskError(f"{folder} holds results with no record of what made them ({PROVENANCE} missing); "
                                "pass another --tracker-name, or --force to redo them with this model")
    try:
        write_text_atomically(record, json.dumps(identity, indent=2) + "\n")
    except OSError as exc:
        raise SiamMaskError(f"{record}: cannot be written ({exc.strerror or exc})") from None


def _difference(earlier: object, now: dict[str, object]) -> str:
    if not isinstance(earlier, dict):
        return f"its {PROVENANCE} is unreadable"
    keys = [k for k in now if earlier.get(k) != now[k]] or ["record"]
    def short(value: object) -> str:
        text = str(value)
        return text[:12] if len(text) == 64 else text[:40]
    return "; ".join(f"{k} was {short(earlier.get(k))}, now {short(now[k])}" for k in keys)


def track_sequence(engine: object, config: TrackerConfig, sequence: Sequence, out: Path) -> SequenceOutcome:
    from siammask.tracking.tracker import Tracker

    run = run_supervised(Tracker(engine, config), [str(p) for p in sequence.frames], sequence.groundtruth)
    write_trajectory(out, run.regions)
    return SequenceOutcome(sequence.name, run.tracked_frames, run.failures, run.seconds)


# One engine per worker process, built by the pool's initializer.
_worker_engine: tuple | None = None


def _init_worker(spec: EngineSpec) -> None:
    global _worker_engine
    end_with_parent()
    _worker_engine = spec.build()


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
    check_results_folder(results_dir)
    claim_results(results_dir, tracker_name, spec, force)
    outcomes: list[SequenceOutcome] = []
    todo: list[tuple[Sequence, Path]] = []
    kept: list[tuple[Sequence, Path]] = []
    for seq in dataset:
        out = result_path(results_dir, tracker_name, seq.name)
        if not force and existing_result(out, len(seq)):
            kept.append((seq, out))
        else:
            todo.append((seq, out))
    for seq, out in kept:
        outcome = SequenceOutcome(seq.name, 0, _count_failures(out), 0.0, skipped=True)
        outcomes.append(outcome)
        if on_done:
            on_done(outcome)
    for _, out in todo:
        remove_stale_temporaries(out)
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
    def finished(outcome: SequenceOutcome) -> None:
        outcomes.append(outcome)
        if on_done:
            on_done(outcome)

    run_in_workers(todo, spec, workers, _init_worker, (), _worker_track, finished)
    return outcomes


def run_in_workers(
    todo: list[tuple[Any, Path]], spec: EngineSpec, workers: int, initializer: Callable[..., None],
    extra_initargs: tuple, task: Callable[[Any, str], Any], finished: Callable[[Any], None],
) -> None:
    """Track each (sequence, output) of `todo` with `task` in up to `workers` spawned processes,
    each building its engine once (`initializer(spec with the threads shared out, *extra_initargs)`);
    `finished` gets each outcome as it comes. Any error, Ctrl-C or SIGTERM ends every worker."""
    threads = spec.threads or max(1, (os.cpu_count() or 1) // workers)
    worker_spec = dataclasses.replace(spec, threads=threads)
    # spawn: a fresh interpreter per worker, safe with torch and ONNX Runtime thread pools
    pool = ProcessPoolExecutor(min(workers, len(todo)), mp_context=get_context("spawn"), initializer=initializer,
                               initargs=(worker_spec, *extra_initargs))
    try:
        futures = [pool.submit(task, seq, str(out)) for seq, out in todo]
        for future in as_completed(futures):
            finished(future.result())
    except BaseException:  # an error, Ctrl-C or SIGTERM: no worker outlives the run
        stop_workers(pool)
        raise
    pool.shutdown(wait=True)


def _count_failures(path: Path) -> int:
    return sum(1 for r in read_trajectory(path) if r == FAILURE)

