"""The supervised experiment spread over a Ray cluster: one sequence per task, one engine per actor.

Why Ray: `run_dataset` parallelises over the processes of one machine; a full benchmark with
repetitions or several configurations is worth spreading over the machines of a cluster. Each
Ray actor builds its engine once (the model loads once per worker, not per sequence) and tracks
whole sequences with the same code as the single-process runner (`run_supervised`), so the result
files are identical to those of `run_dataset`.

Where the files go: workers send each sequence's regions back and the driver writes them, whole
and atomically (`write_trajectory`), into its own results folder, so a cluster needs no shared
storage for results; the dataset must be readable at the same path on every node that runs a
worker (a shared mount, or a copy at the same path). Existing files are treated as `run_dataset`
treats them (complete ones kept unless forced, interrupted ones redone, foreign ones refused), and
no cluster is contacted when nothing is left to track.

Ray is an optional extra (`pip install 'siammask[ray]'`) imported only here.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from siammask.datasets.vot import Dataset, Sequence
from siammask.errors import SiamMaskError, first_line
from siammask.evaluation.results_folder import check_results_folder, claim_results
from siammask.evaluation.vot.results import write_trajectory
from siammask.evaluation.vot.runner import (
    EngineSpec,
    SequenceOutcome,
    plan_sequences,
    supervised_outcome,
)

INSTALL_HINT = "pip install 'siammask[ray]'"


def import_ray() -> Any:  # noqa: ANN401 - the ray module
    """The `ray` module, imported only when a distributed run is asked for (an optional extra)."""
    try:
        import ray
    except ModuleNotFoundError as exc:
        if exc.name == "ray":
            raise SiamMaskError(f"distributed evaluation needs Ray: {INSTALL_HINT}") from None
        raise
    return ray


class SequenceWorker:
    """A Ray actor's state: one engine, built once, tracking whole sequences on request.

    Errors a user can fix (a bad model, an unreadable frame) come back as messages, not as Ray's
    multi-line remote tracebacks, so the driver can raise them as one-line SiamMaskErrors.
    """

    def __init__(self, spec: EngineSpec) -> None:
        self.error: str | None = None
        self.engine: tuple | None = None
        try:
            self.engine = spec.build()
        except SiamMaskError as exc:
            self.error = str(exc)

    def track(self, sequence: Sequence, outcome: Callable = supervised_outcome) -> tuple[Any, Any] | str:
        """The sequence's result (`outcome`: the protocol's run, by default the supervised one)
        and its outcome, or an error message."""
        if self.error is not None:
            return self.error
        assert self.engine is not None
        engine, config = self.engine
        try:
            return outcome(engine, config, sequence)
        except SiamMaskError as exc:
            return f"sequence {sequence.name}: {exc}"


def run_dataset_ray(
    dataset: Dataset, spec: EngineSpec, results_dir: str | Path, tracker_name: str, address: str | None = "auto",
    force: bool = False, on_done: Callable[[SequenceOutcome], None] | None = None, workers: int | None = None,
    plan: Callable = plan_sequences, outcome: Callable = supervised_outcome, write: Callable = write_trajectory,
) -> list[SequenceOutcome]:
    """Track every sequence of `dataset` on a Ray cluster; the same result files as `run_dataset`.

    `address`: "auto" joins the cluster this machine belongs to (RAY_ADDRESS, or one started with
    `ray start`) and starts a private local instance if there is none; anything else is a cluster
    address to join (e.g. "10.0.0.5:6379" or "ray://head:10001"). A process already connected to
    Ray (`ray.init` called before) keeps its connection and it is left open. Each worker uses
    `spec.threads` engine threads (default 1) and reserves as many CPUs; `workers` caps the number
    of actors (default: as many as the cluster's CPUs allow, at most one per sequence). Another
    protocol passes its own `plan` (kept outcomes, sequences to track), `outcome` (one sequence's
    result and outcome, run by the actor) and `write` (the result's files, by the driver).
    """
    if workers is not None and workers < 1:
        raise SiamMaskError(f"--workers must be at least 1, got {workers}")
    threads = spec.threads or 1
    if threads < 1:
        raise SiamMaskError(f"--threads must be at least 1, got {threads}")
    check_results_folder(results_dir)
    ray = import_ray()  # a missing Ray is said before anything is claimed or judged
    claim_results(results_dir, tracker_name, spec, force)
    outcomes: list[SequenceOutcome] = []
    kept, todo = plan(dataset, results_dir, tracker_name, force)
    for outcome in kept:
        _report(outcome, outcomes, on_done)
    if not todo:
        return outcomes

    owned = _connect(ray, address)
    actors: list = []
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        count = min(len(todo), max(1, cpus // threads), workers or len(todo))
        worker_spec = dataclasses.replace(spec, threads=threads)
        actor_class = ray.remote(num_cpus=threads)(SequenceWorker)
        actors = [actor_class.remote(worker_spec) for _ in range(count)]
        pending: dict[Any, tuple[Any, Path]] = {}
        queue = list(todo)
        idle = list(actors)
        while queue or pending:
            while queue and idle:
                actor = idle.pop()
                seq, out = queue.pop(0)
                pending[actor.track.remote(seq, outcome)] = (actor, out)
            ready, _ = ray.wait(list(pending), num_returns=1)
            actor, out = pending.pop(ready[0])
            result = _get(ray, ready[0])
            if isinstance(result, str):
                raise SiamMaskError(result)
            regions, outcome = result
            write(out, regions)
            _report(outcome, outcomes, on_done)
            idle.append(actor)
    finally:
        for actor in actors:
            ray.kill(actor)
        if owned:
            ray.shutdown()
    return outcomes


def _connect(ray: Any, address: str | None) -> bool:  # noqa: ANN401 - the ray module
    """Connect this process to Ray; True when this call made the connection (and must close it)."""
    if ray.is_initialized():
        return False
    quiet = {"log_to_driver": False, "logging_level": "error"}
    if address in (None, "", "auto"):
        try:
            ray.init(address="auto", **quiet)
        except ConnectionError:  # no running cluster: a private one for this run
            ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, **quiet)
        return True
    _probe(address)
    try:
        ray.init(address=address, **quiet)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        first = first_line(exc)
        raise SiamMaskError(f"cannot connect to the Ray cluster at {address}: {first}") from None
    return True


def _probe(address: str, timeout: float = 10.0) -> None:
    """Refuse an address nothing listens on: Ray itself retries such an address for minutes."""
    host, _, port = address.split("://", 1)[-1].rpartition(":")
    if not host or not port.isdigit():
        return  # no explicit port: leave the address to Ray
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise SiamMaskError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def _get(ray: Any, ref: Any) -> Any:  # noqa: ANN401 - Ray objects
    """A task's value; a worker that died (out of memory, killed node) becomes a one-line error."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as exc:
        text = str(exc).strip().splitlines()
        raise SiamMaskError(f"a Ray worker failed: {text[-1] if text else type(exc).__name__}") from None


def _report(
    outcome: SequenceOutcome, outcomes: list[SequenceOutcome], on_done: Callable[[SequenceOutcome], None] | None
) -> None:
    outcomes.append(outcome)
    if on_done:
        on_done(outcome)

