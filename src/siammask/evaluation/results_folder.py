"""The results folder every protocol's runner writes into: checked before any tracking, and
claimed by the run that writes it (RESULTS/NAME/siammask-run.json), so that a rerun never
resumes results another model, backend, precision or settings made.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from siammask.datasets.sequence_list import SequenceList
from siammask.engines.factory import EngineSpec
from siammask.errors import SiamMaskError
from siammask.files import check_name, json_text, read_input_text, write_text_atomically


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
        write_text_atomically(record, json_text(identity))
    except OSError as exc:
        raise SiamMaskError(f"{record}: cannot be written ({exc.strerror or exc})") from None


def _difference(earlier: object, now: dict[str, object]) -> str:
    if not isinstance(earlier, dict):
        return f"its {PROVENANCE} is unreadable"
    # keys of either record: one that only one run has (long_term) differs too
    keys = [k for k in {**earlier, **now} if earlier.get(k) != now.get(k)]
    if not keys:
        return f"its {PROVENANCE} differs"

    def short(value: object) -> str:
        text = "none" if value is None else str(value)
        return text[:12] if len(text) == 64 else text[:40]
    return "; ".join(f"{k} was {short(earlier.get(k))}, now {short(now.get(k))}" for k in keys)


def check_result_sequences(dataset: SequenceList[Any], folder: Path, tracker: str, what: str = "results") -> None:
    """A tracker's experiment folder must exist and hold no sequence the dataset lacks (results of
    another dataset); `what` names the results in the message ("long-term results")."""
    if not folder.is_dir():
        raise SiamMaskError(f"no {what} of tracker {tracker!r}: {folder} does not exist")
    extra = sorted({p.name for p in folder.iterdir() if p.is_dir()} - set(dataset.names))
    if extra:
        raise SiamMaskError(f"tracker {tracker!r} has results for sequences not in dataset {dataset.name} "
                            f"({', '.join(extra[:5])}): results of another dataset?")
