"""Running the supervised experiment over a dataset: result files, resume, parallel workers.

Each sequence's result file is written atomically when the sequence ends, so a run killed at any
moment leaves only whole files; a rerun skips sequences whose file is complete (one line per
frame) unless forced, redoes interrupted ones (and deletes a killed run's hidden temporary files),
and refuses to overwrite a file that is not a result of that sequence unless forced. Workers are
processes, each building its engine once (`workers`).
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
from siammask.evaluation.vot.protocol import run_supervised
from siammask.evaluation.vot.results import FAILURE, INIT, parse_region, read_trajectory, result_path, write_trajectory
from siammask.evaluation.workers import PassOutcome, plan_kept, run_sequences
from siammask.files import read_input_text
from siammask.tracking.config import TrackerConfig


@dataclass(frozen=True)
class SequenceOutcome(PassOutcome):
    """A sequence under the supervised protocol: a pass's figures and its failures."""
    failures: int = 0


def existing_result(path: Path, frames: int, masks: bool = False) -> bool:
    """What to do with the result file an earlier run may have left at `path` (not forced); `masks`:
    its lines may be masks (vot-toolkit's experiments on mask ground truth).

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
            regions.append(parse_region(line, f"{path}:{i}", masks))
        except SiamMaskError as exc:
            if i == len(lines) and not text.endswith("\n"):
                return False  # its last line was cut short: an interrupted write
            raise SiamMaskError(f"{exc}; not a result file of this tracker, {advice}") from None
    if regions and regions[0] != INIT:
        raise SiamMaskError(f"{path}:1: a result file starts with {INIT} (init), "
                            f"got {lines[0].strip()[:20]!r}; {advice}")
    if len(regions) > frames:
        raise SiamMaskError(f"{path}: {len(regions)} lines for a sequence of {frames} frames "
                            f"(a result of another sequence?); {advice}")
    return len(regions) == frames


def supervised_outcome(
    engine: Engine, config: TrackerConfig, sequence: Sequence,
) -> tuple[list[int | list[float]], SequenceOutcome]:
    """Run the supervised protocol on one sequence: its result-file regions and its outcome."""
    from siammask.tracking.tracker import Tracker

    run = run_supervised(Tracker(engine, config), [str(p) for p in sequence.frames], sequence.groundtruth)
    return run.regions, SequenceOutcome(sequence.name, run.tracked_frames, run.seconds, failures=run.failures)


def track_sequence(engine: Engine, config: TrackerConfig, sequence: Sequence, out: Path) -> SequenceOutcome:
    """Track one sequence and write its result file, whole."""
    regions, outcome = supervised_outcome(engine, config, sequence)
    write_trajectory(out, regions)
    return outcome


def plan_sequences(
    dataset: Dataset, results_dir: str | Path, tracker_name: str, force: bool,
) -> tuple[list[SequenceOutcome], list[tuple[Sequence, Path]]]:
    """Judge every existing result file before anything is tracked or reported: the outcomes of
    the sequences whose complete file is kept, and the (sequence, result file) pairs left to track
    (a killed run's temporary files beside them removed)."""
    return plan_kept(dataset, force,
                     lambda seq, out: SequenceOutcome(seq.name, 0, 0.0, skipped=True, failures=count_failures(out)),
                     lambda seq: (result_path(results_dir, tracker_name, seq.name), None),
                     lambda seq, out, _: existing_result(out, len(seq)))


def run_dataset(
    dataset: Dataset, spec: EngineSpec, results_dir: str | Path, tracker_name: str, workers: int = 1,
    force: bool = False, on_done: Callable[[SequenceOutcome], None] | None = None, shard: Shard | None = None,
) -> list[SequenceOutcome]:
    """Track every sequence of `dataset` under the supervised protocol; results in the reference's
    layout (`results_dir/tracker_name/baseline/<seq>/<seq>_001.txt`). `shard`: `dataset` is that
    shard's part (shards.select_shard)."""
    return run_sequences(dataset, spec, results_dir, tracker_name, workers, force, on_done, plan_sequences,
                         track_sequence, shard=shard)


def count_failures(path: Path) -> int:
    """The failures a result file records."""
    return sum(1 for r in read_trajectory(path) if r == FAILURE)
