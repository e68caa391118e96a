"""Running the VOS protocol over a DAVIS dataset: result folders, resume, parallel workers.

Results take DAVIS's submission layout, RESULTS/<tracker>/<seq>/<frame>.png (palette PNGs, one
per frame, named after the frames). A sequence's folder is filled hidden beside its final place
and renamed when the sequence ends, so a run killed at any moment leaves only whole folders; a
rerun keeps every finished folder unless forced, deletes what a killed run left hidden, and refuses
to replace a folder that is not a result of that sequence unless forced. Workers are processes
(spawned, as the VOT runner's), each building its engine once, or Ray actors (distributed.py:
they send the label maps back and the driver writes them): the shared core's one road.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siammask.datasets.davis import DavisDataset, DavisSequence
from siammask.engine_contract import Engine
from siammask.engines.factory import EngineSpec
from siammask.errors import SiamMaskError
from siammask.evaluation.shards import Shard
from siammask.evaluation.vos.protocol import track_sequence_vos
from siammask.evaluation.workers import run_sequences
from siammask.files import check_name, remove_stale_staging, staged_folder
from siammask.tracking.config import TrackerConfig
from siammask.tracking.labelmaps import write_label_png


@dataclass(frozen=True)
class VosOutcome:
    name: str
    frames: int  # frames tracked (frame 0 included), 0 when kept
    objects: int
    seconds: float  # tracker time, frame reading and PNG writing excluded
    skipped: bool = False  # already complete from an earlier run

    @property
    def object_fps(self) -> float:
        """Object-frames per second over the tracked frames (frame 0 is initialisation)."""
        return (self.frames - 1) * self.objects / self.seconds if self.seconds > 0 else float("nan")


def sequence_folder(results_dir: str | Path, tracker_name: str, sequence: str) -> Path:
    return Path(results_dir) / tracker_name / sequence


def existing_folder(folder: Path, sequence: DavisSequence) -> bool:
    """Whether `folder` (not forced) holds a finished result of `sequence` to keep.

    True: one <frame>.png per frame and nothing else (only a finished run renames a folder into
    place, so this is one). False: absent. Anything else was not written by a run of this sequence
    and is never replaced silently: a SiamMaskError naming it (--force replaces it)."""
    if not folder.exists():
        return False
    advice = "move it away or pass --force to replace it"
    if not folder.is_dir():
        raise SiamMaskError(f"{folder}: not a result folder but a file; {advice}")
    present = {p.name for p in folder.iterdir()}
    expected = {f"{name}.png" for name in sequence.frame_names}
    if present != expected:
        extra = sorted(present - expected)
        what = f"holds {extra[0]!r}" if extra else f"lacks {sorted(expected - present)[0]!r}"
        raise SiamMaskError(f"{folder}: {what}, not a result folder of sequence {sequence.name} "
                            f"({len(expected)} frames); {advice}")
    return True


def vos_outcome(
    engine: Engine, config: TrackerConfig, sequence: DavisSequence,
) -> tuple[list[tuple[str, np.ndarray]], VosOutcome]:
    """Track every object of `sequence` in one batched tracker: its (frame name, label map) pairs
    and its outcome (what a Ray actor sends back; the driver writes them with `write_labels`)."""
    names = sequence.frame_names
    seconds = 0.0
    maps = []
    try:
        for vf in track_sequence_vos(engine, config, sequence.frames, sequence.labels(0), sequence.object_ids):
            seconds += vf.seconds
            maps.append((names[vf.index], vf.labels))
    except SiamMaskError as exc:
        raise SiamMaskError(f"sequence {sequence.name}: {exc}") from None
    return maps, VosOutcome(sequence.name, len(sequence), len(sequence.object_ids), seconds)


def write_labels(out: Path, maps: list[tuple[str, np.ndarray]]) -> None:
    """A sequence's label maps as its result folder `out`, whole."""
    try:
        with staged_folder(out) as stage:
            for name, labels in maps:
                write_label_png(stage / f"{name}.png", labels)
    except OSError as exc:
        raise SiamMaskError(f"results {out}: cannot be written ({exc.strerror or exc})") from None


def track_sequence(engine: Engine, config: TrackerConfig, sequence: DavisSequence, out: Path) -> VosOutcome:
    """Track every object of `sequence` in one batched tracker; its label maps become `out`, whole
    (written as they come: one process holds one frame's map at a time)."""
    names = sequence.frame_names
    seconds = 0.0
    try:
        with staged_folder(out) as stage:
            for vf in track_sequence_vos(engine, config, sequence.frames, sequence.labels(0), sequence.object_ids):
                seconds += vf.seconds
                write_label_png(stage / f"{names[vf.index]}.png", vf.labels)
    except OSError as exc:
        raise SiamMaskError(f"results {out}: cannot be written ({exc.strerror or exc})") from None
    except SiamMaskError as exc:
        raise SiamMaskError(f"sequence {sequence.name}: {exc}") from None
    return VosOutcome(sequence.name, len(sequence), len(sequence.object_ids), seconds)


def plan_sequences(
    dataset: DavisDataset, results_dir: str | Path, tracker_name: str, force: bool,
) -> tuple[list[VosOutcome], list[tuple[DavisSequence, Path]]]:
    """Judge every existing result folder before anything is tracked: the outcomes of the sequences
    kept and the (sequence, result folder) pairs left to track (a killed run's staging removed)."""
    kept: list[VosOutcome] = []
    todo: list[tuple[DavisSequence, Path]] = []
    for seq in dataset:
        out = sequence_folder(results_dir, tracker_name, seq.name)
        if not force and existing_folder(out, seq):
            kept.append(VosOutcome(seq.name, 0, len(seq.object_ids), 0.0, skipped=True))
        else:
            todo.append((seq, out))
    for _, out in todo:
        remove_stale_staging(out)
    return kept, todo


def _check_name(tracker_name: str) -> None:
    check_name(tracker_name, "tracker name")
    if tracker_name.startswith("."):
        raise SiamMaskError(f"tracker name {tracker_name!r}: a hidden name would hide the results")


def run_vos_dataset(
    dataset: DavisDataset, spec: EngineSpec, results_dir: str | Path, tracker_name: str, workers: int = 1,
    force: bool = False, config: TrackerConfig | None = None,
    on_done: Callable[[VosOutcome], None] | None = None, shard: Shard | None = None,
) -> list[VosOutcome]:
    """Run the VOS protocol on every sequence of `dataset`; label maps in DAVIS's submission layout
    under `results_dir/tracker_name/`. `config` overrides the engine's settings (e.g. the davis
    preset); else the spec's (its --config file or the model's own). `shard`: `dataset` is that
    shard's part (shards.select_shard)."""
    _check_name(tracker_name)
    return run_sequences(dataset, spec, results_dir, tracker_name, workers, force, on_done, plan_sequences,
                         track_sequence, config, shard)


def run_vos_ray(
    dataset: DavisDataset, spec: EngineSpec, results_dir: str | Path, tracker_name: str,
    address: str | None = "auto", force: bool = False, on_done: Callable[[VosOutcome], None] | None = None,
    workers: int | None = None, config: TrackerConfig | None = None, shard: Shard | None = None,
) -> list[VosOutcome]:
    """The same label maps as `run_vos_dataset`, the sequences spread over a Ray cluster."""
    from siammask.evaluation.distributed import run_on_ray

    _check_name(tracker_name)
    return run_on_ray(dataset, spec, results_dir, tracker_name, plan_sequences, vos_outcome, write_labels, address,
                      force, on_done, workers, config, shard)
