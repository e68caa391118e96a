"""Running an experiment beyond supervised over a VOT dataset: result files, resume, workers, Ray.

On the shared core, as the supervised and long-term runners: the results folder is checked and
claimed (workers.py, results_folder.py); each run's files are written whole when the run ends; a
rerun keeps a sequence whose runs are all complete (unless forced), redoes the others and refuses
files that are not results of that run. Every sequence's anchors (multistart, realtime) are read
before anything is claimed or tracked, so a dataset without them is refused before any work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from siammask.datasets.vot import Dataset, Sequence
from siammask.engine_contract import Engine
from siammask.engines.factory import EngineSpec
from siammask.errors import SiamMaskError
from siammask.evaluation.shards import Shard
from siammask.evaluation.vot.runner import existing_result
from siammask.evaluation.votexp.anchors import Anchors, read_anchors, read_fps
from siammask.evaluation.votexp.protocol import PassRun, anchor_order, run_pass
from siammask.evaluation.votexp.realtime import REALTIME_GRACE, RealtimeClock
from siammask.evaluation.votexp.results import sequence_folder, trajectory_name, write_run
from siammask.evaluation.workers import run_sequences
from siammask.files import remove_stale_temporaries
from siammask.tracking.config import TrackerConfig


@dataclass(frozen=True)
class Job:
    """One sequence to run: the experiment, its anchors (None: one pass from frame 0) and fps."""

    sequence: Sequence
    experiment: str
    anchors: Anchors | None
    fps: int

    @property
    def runs(self) -> list[tuple[str, list[int]]]:
        """(trajectory name, frame order) of every run of this sequence."""
        n = len(self.sequence)
        if self.anchors is None:
            return [(trajectory_name(self.sequence.name, None), list(range(n)))]
        return [(trajectory_name(self.sequence.name, a), anchor_order(n, a, back)) for a, back in self.anchors.runs()]


@dataclass(frozen=True)
class ExperimentOutcome:
    name: str
    frames: int  # frames tracked (the real-time clock's skipped frames not counted)
    seconds: float  # tracker time
    runs: int
    skipped_frames: int = 0  # realtime: frames that went by
    skipped: bool = False  # already complete from an earlier run

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else float("nan")


def plan_jobs(dataset: Dataset, experiment: str) -> list[Job]:
    """Every sequence's job; anchors and frame rates read (and refused) before any work."""
    jobs = []
    for seq in dataset:
        folder = Path(dataset.root) / seq.name
        anchors = None if experiment == "unsupervised" else read_anchors(folder, len(seq))
        jobs.append(Job(seq, experiment, anchors, read_fps(folder) if experiment == "realtime" else 0))
    return jobs


def job_outcome(engine: Engine, config: TrackerConfig, job: Job) -> tuple[list[tuple[str, PassRun]], ExperimentOutcome]:
    """Every run of one sequence: (trajectory name, run) pairs and the sequence's outcome."""
    from siammask.tracking.tracker import Tracker

    seq = job.sequence
    frames = [str(p) for p in seq.frames]
    runs = []
    for name, order in job.runs:
        clock = RealtimeClock(REALTIME_GRACE, 1.0 / job.fps) if job.experiment == "realtime" else None
        try:
            runs.append((name, run_pass(Tracker(engine, config), frames, seq.groundtruth, order, clock, seq.masks)))
        except SiamMaskError as exc:
            raise SiamMaskError(f"sequence {seq.name}: {exc}") from None
    tracked = sum(len(r.regions) - r.skipped for _, r in runs)
    return runs, ExperimentOutcome(seq.name, tracked, sum(r.seconds for _, r in runs), len(runs),
                                   sum(r.skipped for _, r in runs))


def write_runs(out: Path, runs: list[tuple[str, PassRun]]) -> None:
    """A sequence's files (`out` is its folder)."""
    for name, run in runs:
        write_run(out, name, run.regions, run.times)


def track_job(engine: Engine, config: TrackerConfig, job: Job, out: Path) -> ExperimentOutcome:
    """Run one sequence and write its files, each whole."""
    runs, outcome = job_outcome(engine, config, job)
    write_runs(out, runs)
    return outcome


def _planner(jobs: list[Job]) -> Callable[..., tuple[list[ExperimentOutcome], list[tuple[Job, Path]]]]:
    def plan(dataset: Dataset, results_dir: str | Path, tracker_name: str, force: bool):  # noqa: ANN202
        kept: list[ExperimentOutcome] = []
        todo: list[tuple[Job, Path]] = []
        names = set(dataset.names)  # a shard's part of the dataset: its jobs only
        for job in (j for j in jobs if j.sequence.name in names):
            out = sequence_folder(results_dir, tracker_name, job.experiment, job.sequence.name)
            complete = [existing_result(out / f"{name}.txt", len(order), masks=True) for name, order in job.runs]
            if not force and all(complete):
                kept.append(ExperimentOutcome(job.sequence.name, 0, 0.0, len(job.runs), skipped=True))
                continue
            todo.append((job, out))
            for name, _ in job.runs:
                for path in (out / f"{name}.txt", out / f"{name}_time.value"):
                    remove_stale_temporaries(path)
        return kept, todo

    return plan


def run_experiment(
    dataset: Dataset, experiment: str, spec: EngineSpec, results_dir: str | Path, tracker_name: str,
    workers: int = 1, force: bool = False, on_done: Callable[[ExperimentOutcome], None] | None = None,
    ray_address: str | None = None, shard: Shard | None = None,
) -> list[ExperimentOutcome]:
    """Run `experiment` (unsupervised, realtime, multistart) over `dataset` into vot-toolkit's layout;
    with `ray_address`, the sequences spread over a Ray cluster (the same files). `shard`: `dataset`
    is that shard's part (shards.select_shard)."""
    jobs = plan_jobs(dataset, experiment)
    plan = _planner(jobs)
    if ray_address:
        from siammask.evaluation.distributed import run_on_ray

        return run_on_ray(dataset, spec, results_dir, tracker_name, plan, job_outcome, write_runs, ray_address, force,
                          on_done, workers if workers > 1 else None, shard=shard)
    return run_sequences(dataset, spec, results_dir, tracker_name, workers, force, on_done, plan, track_job,
                         shard=shard)
