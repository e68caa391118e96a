"""Any protocol's run spread over a Ray cluster: one sequence per task, one engine per actor.

Why Ray: `workers.run_sequences` parallelises over the processes of one machine; a full benchmark
(LaSOT's 280 sequences, repetitions, several configurations) is worth spreading over the machines
of a cluster. Each Ray actor builds its engine once (the model loads once per worker, not per
sequence) and runs whole sequences with the protocol's own code (`outcome`), so the result files
are identical to those of the worker processes.

Where the files go: workers send each sequence's result back and the driver writes it, whole and
atomically (the protocol's `write`), into its own results folder, so a cluster needs no shared
storage for results; the dataset must be readable at the same path on every node that runs a
worker (a shared mount, or a copy at the same path). Existing files are treated as
`run_sequences` treats them (complete ones kept unless forced, interrupted ones redone, foreign
ones refused), and no cluster is contacted when nothing is left to track.

Ray is an optional extra (`pip install 'siammask[ray]'`) imported only here.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from siammask.engines.factory import EngineSpec
from siammask.errors import SiamMaskError, first_line
from siammask.evaluation.shards import Shard
from siammask.evaluation.workers import longest_first, open_run
from siammask.tracking.config import TrackerConfig

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

    def __init__(self, spec: EngineSpec, config: TrackerConfig | None = None) -> None:
        self.error: str | None = None
        self.engine: tuple | None = None
        try:
            engine, model_config = spec.build()
            self.engine = (engine, config or model_config)
        except SiamMaskError as exc:
            self.error = str(exc)

    def track(self, sequence: Any, outcome: Callable) -> tuple[Any, Any] | str:  # noqa: ANN401 - the protocol's
        """The sequence's result (`outcome`: the protocol's run of one sequence) and its outcome,
        or an error message."""
        if self.error is not None:
            return self.error
        assert self.engine is not None
        engine, config = self.engine
        try:
            return outcome(engine, config, sequence)
        except SiamMaskError as exc:
            return f"sequence {sequence.name}: {exc}"


def run_on_ray(
    dataset: Any, spec: EngineSpec, results_dir: str | Path, tracker_name: str,  # noqa: ANN401 - any SequenceList
    plan: Callable, outcome: Callable, write: Callable, address: str | None = "auto", force: bool = False,
    on_done: Callable[[Any], None] | None = None, workers: int | None = None, config: TrackerConfig | None = None,
    shard: Shard | None = None,
) -> list[Any]:
    """Run every sequence of `dataset` on a Ray cluster; the same result files as `run_sequences`.

    `plan(dataset, results_dir, tracker_name, force)` gives the kept outcomes and the (sequence,
    output) pairs to run, `outcome(engine, config, sequence)` (run by an actor) one sequence's result
    and outcome, `write(output, result)` (by the driver) its files. `address`: "auto" joins the
    cluster this machine belongs to (RAY_ADDRESS, or one started with `ray start`) and starts a
    private local instance if there is none; anything else is a cluster address to join (e.g.
    "10.0.0.5:6379" or "ray://head:10001"). A process already connected to Ray (`ray.init` called
    before) keeps its connection and it is left open. Each worker uses `spec.threads` engine threads
    (default 1) and reserves as many CPUs; `workers` caps the number of actors (default: as many as
    the cluster's CPUs allow, at most one per sequence). `config` replaces the model's own settings;
    `shard` (shards.select_shard) records the run as one shard of a dataset.
    """
    if workers is not None and workers < 1:
        raise SiamMaskError(f"--workers must be at least 1, got {workers}")
    threads = spec.threads or 1
    if threads < 1:
        raise SiamMaskError(f"--threads must be at least 1, got {threads}")
    outcomes: list[Any] = []
    with open_run(dataset, spec, results_dir, tracker_name, force, shard, before_claim=import_ray) as ray:
        # a missing Ray is said before anything is claimed or judged
        kept, todo = plan(dataset, results_dir, tracker_name, force)
        for item in kept:
            _report(item, outcomes, on_done)
        if todo:
            _run_actors(ray, address, spec, config, longest_first(todo), threads, workers, outcome, write,
                        lambda item: _report(item, outcomes, on_done))
    return outcomes


def _run_actors(
    ray: Any, address: str | None, spec: EngineSpec, config: TrackerConfig | None,  # noqa: ANN401 - the ray module
    todo: list[tuple[Any, Path]], threads: int, workers: int | None, outcome: Callable, write: Callable,
    finished: Callable[[Any], None],
) -> None:
    owned = _connect(ray, address)
    actors: list = []
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        count = min(len(todo), max(1, cpus // threads), workers or len(todo))
        worker_spec = dataclasses.replace(spec, threads=threads)
        actor_class = ray.remote(num_cpus=threads)(SequenceWorker)
        actors = [actor_class.remote(worker_spec, config) for _ in range(count)]
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
            output, item = result
            write(out, output)
            finished(item)
            idle.append(actor)
    finally:
        for actor in actors:
            ray.kill(actor)
        if owned:
            ray.shutdown()


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


def _report(outcome: Any, outcomes: list[Any], on_done: Callable[[Any], None] | None) -> None:  # noqa: ANN401
    outcomes.append(outcome)
    if on_done:
        on_done(outcome)

