"""`siammask merge`: the finished shards of one evaluation (`eval --shard I/N`, each in its own
results folder) joined into one results folder, the files a single process would have written.

Everything is checked before anything is written: each shard finished and unchanged since (its
record lists its files and their sizes), all made by the same run (their run records equal: model,
backend, precision, settings) of the same protocol over the same dataset (its sequences and their
frame counts), every shard of N present once, each holding exactly its share of the sequences, and
no file in two shards. Then each tracker's folder is filled hidden beside its place and renamed
into it: an existing RESULTS/NAME is never replaced, an interrupted merge leaves nothing half.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siammask.errors import SiamMaskError
from siammask.evaluation.results_folder import PROVENANCE
from siammask.evaluation.shards import SHARD_RECORD, assign, listing, shard_record
from siammask.files import commit_folder, read_input, staging_folder


@dataclass(frozen=True)
class ShardPart:
    folder: Path  # RESULTS_i/NAME
    record: dict[str, Any]
    run_record: bytes

    @property
    def label(self) -> str:
        return str(self.record["shard"])


def tracker_names(shards: list[Path], names: list[str] | None) -> list[str]:
    """The trackers to merge: `names`, else every tracker with a shard record in the first folder;
    every shard folder must hold each of them."""
    if names is None:
        first = shards[0]
        names = sorted(p.name for p in first.iterdir() if not p.name.startswith(".") and (p / SHARD_RECORD).is_file())
        if not names:
            raise SiamMaskError(f"{first}: holds no shard (no NAME/{SHARD_RECORD}; was it written by eval --shard?)")
    for folder in shards:
        for name in names:
            if not (folder / name / SHARD_RECORD).is_file():
                raise SiamMaskError(f"{folder / name}: no shard of tracker {name} ({SHARD_RECORD} missing)")
    return names


def read_part(folder: Path) -> ShardPart:
    record = shard_record(folder)
    assert record is not None
    if not record.get("finished"):
        raise SiamMaskError(f"{folder}: shard {record['shard']} did not finish; rerun its eval (finished "
                            "sequences are kept)")
    run_path = folder / PROVENANCE
    if not run_path.is_file():
        raise SiamMaskError(f"{run_path}: missing; the shard's run record says what made its results")
    return ShardPart(folder, record, read_input(run_path, f"run record {run_path}"))


def check_parts(parts: list[ShardPart]) -> None:
    """One run's shards, each once, together every sequence once; files as each shard left them."""
    first = parts[0]
    count = _shard_count(first)
    for part in parts[1:]:
        if part.run_record != first.run_record:
            raise SiamMaskError(f"{part.folder}: made by another run than {first.folder} ({PROVENANCE} differs: "
                                "model, backend, precision or settings)")
        for key, what in (("protocol", "protocol"), ("dataset", "dataset")):
            if _comparable(part.record.get(key)) != _comparable(first.record.get(key)):
                raise SiamMaskError(f"{part.folder}: shard {part.label} is of another {what} than {first.folder}'s "
                                    f"shard {first.label}")
        if _shard_count(part) != count:
            raise SiamMaskError(f"{part.folder}: shard {part.label}, but {first.folder} is shard {first.label}; "
                                "every shard must be of the same N")
    seen: dict[int, Path] = {}
    for part in parts:
        index = _shard_index(part)
        if index in seen:
            raise SiamMaskError(f"shard {part.label} given twice: {seen[index]} and {part.folder}")
        seen[index] = part.folder
    missing = [f"{i}/{count}" for i in range(1, count + 1) if i not in seen]
    if missing:
        raise SiamMaskError(f"shard{'s' * (len(missing) > 1)} {', '.join(missing)} missing: a merge takes every "
                            f"shard of {count}")
    frames = first.record["dataset"]["sequences"]
    owner = assign(frames, count)
    for part in parts:
        share = [n for n in frames if owner[n] == _shard_index(part) - 1]
        if list(part.record.get("sequences", [])) != share:
            raise SiamMaskError(f"{part.folder}: shard {part.label} lists other sequences than its share of the "
                                "dataset; rerun that shard")
        _check_files(part)
    _check_overlap(parts)


def _shard_index(part: ShardPart) -> int:
    return int(part.label.split("/")[0])


def _shard_count(part: ShardPart) -> int:
    return int(part.label.split("/")[1])


def _comparable(value: Any) -> Any:  # noqa: ANN401 - a record's field
    """A dataset description without its path: one dataset mounted at two places on a cluster is one."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "root"}
    return value


def _check_files(part: ShardPart) -> None:
    recorded = part.record.get("files", {})
    present = listing(part.folder)
    for rel in sorted(set(recorded) | set(present)):
        if rel not in present:
            raise SiamMaskError(f"{part.folder / rel}: missing, but shard {part.label} finished with it; rerun "
                                "that shard or copy it again")
        if rel not in recorded:
            raise SiamMaskError(f"{part.folder / rel}: not written by shard {part.label}; move it away")
        if present[rel] != recorded[rel]:
            raise SiamMaskError(f"{part.folder / rel}: {present[rel]} bytes, shard {part.label} finished with "
                                f"{recorded[rel]} (cut short on the way?); copy it again")


def _check_overlap(parts: list[ShardPart]) -> None:
    where: dict[str, Path] = {}
    for part in parts:
        for rel in part.record.get("files", {}):
            if rel in where:
                raise SiamMaskError(f"{rel}: in two shards, {where[rel]} and {part.folder}")
            where[rel] = part.folder


def check_output(output: Path, names: list[str]) -> None:
    if output.exists() and not output.is_dir():
        raise SiamMaskError(f"--output {output}: exists and is not a folder")
    for name in names:
        if os.path.lexists(output / name):
            raise SiamMaskError(f"--output {output}: already holds {name}; merge into a new results folder "
                                "(nothing is replaced)")


def merge_shards(shards: list[str | Path], output: str | Path, names: list[str] | None = None) -> list[tuple[str, int]]:
    """Join the finished shards' folders `shards` into `output`; (tracker name, files) merged."""
    folders = [Path(s) for s in shards]
    real: dict[str, Path] = {}
    for folder in folders:
        if not folder.is_dir():
            raise SiamMaskError(f"shard {folder}: not a folder")
        key = os.path.realpath(folder)
        if key in real:
            raise SiamMaskError(f"shard {folder}: given twice ({real[key]})")
        real[key] = folder
    output = Path(output)
    chosen = tracker_names(folders, names)
    plans = []
    for name in chosen:
        parts = [read_part(folder / name) for folder in folders]
        check_parts(parts)
        plans.append((name, parts))
    check_output(output, chosen)
    return _write(output, plans)


def _write(output: Path, plans: list[tuple[str, list[ShardPart]]]) -> list[tuple[str, int]]:
    """Every tracker's folder filled hidden, then each renamed into place."""
    staged: list[tuple[Path, Path]] = []
    merged = []
    try:
        for name, parts in plans:
            stage = staging_folder(output / name)
            staged.append((stage, output / name))
            count = 0
            for part in parts:
                for rel in part.record["files"]:
                    target = stage / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(part.folder / rel, target)
                    count += 1
            (stage / PROVENANCE).write_bytes(parts[0].run_record)
            merged.append((name, count))
        for stage, final in staged:
            commit_folder(stage, final)
    except OSError as exc:
        for stage, _ in staged:
            shutil.rmtree(stage, ignore_errors=True)
        raise SiamMaskError(f"--output {output}: cannot be written ({exc.strerror or exc})") from None
    except BaseException:
        for stage, _ in staged:
            shutil.rmtree(stage, ignore_errors=True)
        raise
    return merged
