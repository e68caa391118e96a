"""One evaluation split over the jobs of a cluster array (`--shard I/N`), and the shards' record.

A shard takes a fixed share of the dataset's sequences: every sequence goes, longest first (ties by
name), to the shard with the fewest frames so far, so that the shards' work is even when lengths
vary (LaSOT's run from 1,000 to 11,000 frames); the choice depends only on the names and lengths,
so every job of an array computes the same split. Each shard writes its own results folder and a
record beside the run record (RESULTS/NAME/siammask-shard.json): which shard of which dataset,
its sequences, and, once every one of them is done, the files it holds. `siammask merge`
(evaluation/merge.py) joins finished shards after checking that they are one run's parts.

Why a folder per shard: N jobs writing one run record and one folder at once on a cluster file
system (NFS, Lustre) race on the record and on each other's temporary files; folders of their own
share nothing, and the merge is the one step that writes the final folder, whole.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from siammask.errors import SiamMaskError
from siammask.files import json_text, read_input_text, write_text_atomically

SHARD_RECORD = "siammask-shard.json"
SLURM_HINT = "e.g. --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=1-N"


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `count`, over a dataset described by `dataset` (kind, sequences
    and their frame counts, in dataset order) for `protocol`; `names` its own sequences."""

    index: int
    count: int
    protocol: str = ""
    dataset: dict[str, Any] = field(default_factory=dict)
    names: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """`--shard I/N`: shard I (counted from 1, as Slurm's --array=1-N numbers its tasks) of N."""
    match = re.fullmatch(r"\s*(\d{1,6})\s*/\s*(\d{1,6})\s*", text)
    if not match:
        raise SiamMaskError(f"--shard {text[:40]}: expected I/N, shard I of N ({SLURM_HINT})")
    index, count = int(match[1]), int(match[2])
    if count < 1:
        raise SiamMaskError(f"--shard {text}: N must be at least 1")
    if index == 0:
        raise SiamMaskError(f"--shard {text}: shards count from 1; a 0-based array (--array=0-{count - 1}) "
                            f"passes $((SLURM_ARRAY_TASK_ID+1))/{count}")
    if index > count:
        raise SiamMaskError(f"--shard {text}: shard {index} of {count} does not exist (1 <= I <= N)")
    return Shard(index, count)


def sequence_frames(dataset: Any) -> dict[str, int]:  # noqa: ANN401 - any SequenceList
    """Every sequence's frame count, in dataset order."""
    return {seq.name: len(seq) for seq in dataset}


def assign(frames: dict[str, int], count: int) -> dict[str, int]:
    """Each sequence's shard (0-based): longest first to the least-loaded shard (the lower on ties)."""
    loads = [0] * count
    owner: dict[str, int] = {}
    for name in sorted(frames, key=lambda n: (-frames[n], n)):
        chosen = min(range(count), key=lambda k: (loads[k], k))
        loads[chosen] += frames[name]
        owner[name] = chosen
    return owner


def select_shard(dataset: Any, shard: Shard, protocol: str) -> tuple[Any, Shard]:  # noqa: ANN401
    """The shard's part of `dataset` (in dataset order) and the shard bound to that dataset."""
    frames = sequence_frames(dataset)
    owner = assign(frames, shard.count)
    names = tuple(n for n in frames if owner[n] == shard.index - 1)
    root = getattr(dataset, "root", None)  # recorded to be read by people; merge compares the rest
    description = {"kind": type(dataset).__name__, "root": str(Path(root).resolve()) if root else None,
                   "sequences": frames}
    bound = Shard(shard.index, shard.count, protocol, description, names)
    return dataset.subset(names), bound


def shard_record(folder: Path) -> dict[str, Any] | None:
    """The shard record in a tracker's results folder, None when there is none."""
    path = folder / SHARD_RECORD
    if not path.exists():
        return None
    try:
        value = json.loads(read_input_text(path, f"shard record {path}"))
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict) or not isinstance(value.get("shard"), str):
        raise SiamMaskError(f"{path}: not a shard record siammask wrote (move it away)")
    return value


def _record(shard: Shard, files: dict[str, int] | None) -> dict[str, Any]:
    return {"shard": shard.label, "protocol": shard.protocol, "dataset": shard.dataset,
            "sequences": list(shard.names), "finished": files is not None, "files": files or {}}


def check_shard(results_dir: str | Path, tracker_name: str, shard: Shard | None, force: bool) -> None:
    """Before a run claims RESULTS/NAME: a shard resumes only its own shard's folder, and a run over
    the whole dataset does not resume one shard's (its record would then lie). --force takes over."""
    folder = Path(results_dir) / tracker_name
    earlier = shard_record(folder) if folder.is_dir() else None
    if force:
        return
    if shard is None:
        if earlier is not None:
            raise SiamMaskError(f"{folder} holds shard {earlier['shard']} of a sharded run; join the shards with "
                                "`siammask merge`, or pass --force to redo every sequence here")
        return
    if earlier is None:
        if folder.is_dir() and any(not p.name.startswith(".") for p in folder.iterdir()):
            raise SiamMaskError(f"{folder} holds results of a run that was not shard {shard.label}; "
                                "each shard writes its own --results folder")
        return
    now = _record(shard, None)
    for key in ("shard", "protocol", "dataset"):
        if earlier.get(key) != now[key]:
            raise SiamMaskError(f"{folder} holds shard {earlier['shard']} of another run ({key} differs); "
                                "each shard writes its own --results folder")


def open_shard(results_dir: str | Path, tracker_name: str, shard: Shard | None, force: bool) -> None:
    """After the run record is claimed: a shard's record says it is unfinished; a forced run over
    the whole dataset drops a shard record it took over."""
    path = Path(results_dir) / tracker_name / SHARD_RECORD
    try:
        if shard is None:
            if force:
                path.unlink(missing_ok=True)
            return
        write_text_atomically(path, json_text(_record(shard, None)))
    except OSError as exc:
        raise SiamMaskError(f"{path}: cannot be written ({exc.strerror or exc})") from None


def close_shard(results_dir: str | Path, tracker_name: str, shard: Shard | None) -> None:
    """Every sequence of the shard is done: record it finished, with the files it holds (merge
    checks them: a copy cut short on the way to shared storage is refused)."""
    if shard is None:
        return
    folder = Path(results_dir) / tracker_name
    path = folder / SHARD_RECORD
    try:
        write_text_atomically(path, json_text(_record(shard, listing(folder))))
    except OSError as exc:
        raise SiamMaskError(f"{path}: cannot be written ({exc.strerror or exc})") from None


def listing(folder: Path) -> dict[str, int]:
    """Every result file under a tracker's folder (POSIX relative path -> size), hidden entries
    (a killed run's temporary files) and the two records left out."""
    files: dict[str, int] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or rel.as_posix() in (SHARD_RECORD, "siammask-run.json"):
            continue
        if path.is_file() and not path.is_symlink():
            files[rel.as_posix()] = path.stat().st_size
    return files


def check_shard_dataset(dataset: Any, shard: Shard | None) -> None:  # noqa: ANN401
    """A runner given a shard runs exactly that shard's sequences."""
    if shard is not None and tuple(dataset.names) != shard.names:
        raise SiamMaskError(f"shard {shard.label}: the dataset given is not the shard's part (select_shard)")
