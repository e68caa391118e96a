"""What `siammask train` writes, checked before any work: the trained checkpoint, its resume state
(`OUTPUT.train`) and the optional JSON summary.

Each is a regular file (a FIFO, device or folder is refused), none is another or an input, and
one that exists is replaced only when siammask wrote it: a checkpoint for the checkpoint, a
training state for the state, a summary of `train` for the JSON. Temporary files are named
`.<name>.<pid>.*` beside them, so those of a killed run (whose process is gone) are found and
removed by the next one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siammask.errors import SiamMaskError, first_line
from siammask.files import atomic_file, read_input_text, regular_destination

# The keys a `train --json` summary always has: an existing JSON file without them is not ours.
SUMMARY_KEYS = ("steps", "settings", "pairs")
MAX_SUMMARY_BYTES = 64 << 20


@dataclass(frozen=True)
class TrainOutputs:
    """The files a run writes (json None when not asked for)."""

    model: Path
    state: Path
    json: Path | None

    def all(self) -> list[tuple[str, Path]]:
        named = [("--output", self.model), ("training state", self.state)]
        return named + ([("--json", self.json)] if self.json else [])


def check_outputs(output: str, json_path: str | None, inputs: Iterable[tuple[str, str | Path]],
                  resume: bool) -> TrainOutputs:
    """The outputs of a run, refused in one line before any work when one is not a regular file,
    two are the same file, one is an input, or one exists and siammask did not write it."""
    model = regular_destination(output, "--output")
    state = regular_destination(model.with_name(model.name + ".train"), "training state")
    outputs = TrainOutputs(model, state, regular_destination(json_path, "--json") if json_path else None)
    named = outputs.all()
    for i, (what, path) in enumerate(named):
        for other, other_path in named[:i]:
            if _same(path, other_path):
                raise SiamMaskError(f"{what} {path} is the same file as {other} {other_path}: name another file")
        for source, input_path in inputs:
            if _same(path, Path(input_path)):
                raise SiamMaskError(f"{what} {path} is the input {source} {input_path}: write the trained model "
                                    "elsewhere")
    _check_ours_checkpoint(model)
    if not resume:  # a resumed run reads the state, which refuses what is not a training state
        _check_ours_state(state)
    if outputs.json:
        _check_ours_summary(outputs.json)
    return outputs


def _same(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _check_ours_checkpoint(path: Path) -> None:
    from siammask.model.checkpoint import read_checkpoint

    _check_readable_as(path, read_checkpoint, lambda reason: f"--output {path} exists and is not a SiamMask "
                       f"checkpoint, so it is not replaced ({reason}); name another file")


def _check_ours_state(path: Path) -> None:
    from siammask.training.resume import read_state

    _check_readable_as(path, read_state, lambda reason: f"training state {path} exists and is not one siammask "
                       f"wrote, so it is not replaced ({reason}); remove it or name another --output")


def _check_readable_as(path: Path, reader: Callable[[Path], Any], refusal: Callable[[str], str]) -> None:
    """An existing `path` that `reader` (siammask's own loader of that kind of file) refuses is not
    ours: refuse to replace it, in the words `refusal` gives the loader's reason."""
    if not path.exists():
        return
    try:
        reader(path)
    except SiamMaskError as exc:
        raise SiamMaskError(refusal(_reason(exc))) from None


def _check_ours_summary(path: Path) -> None:
    if not path.exists():
        return
    try:
        value = json.loads(read_input_text(path, f"--json {path}", MAX_SUMMARY_BYTES))
    except (SiamMaskError, ValueError, RecursionError) as exc:
        value = exc
    if not isinstance(value, dict) or not all(k in value for k in SUMMARY_KEYS):
        raise SiamMaskError(f"--json {path} exists and is not a summary `siammask train` wrote, so it is not "
                            "replaced; name another file")


def _reason(exc: Exception) -> str:
    """The cause part of a refusal, without the path it repeats."""
    text = first_line(exc, 160)
    return text.split(": ", 1)[1] if ": " in text else text


# --- temporaries -------------------------------------------------------------------------------
_PID = re.compile(r"\.(\d+)\.")


def remove_stale_temporaries(outputs: TrainOutputs) -> list[Path]:
    """Delete the hidden temporaries (`.<name>.<pid>.*`: half-written checkpoints, states,
    summaries and held-out work folders) that runs no longer alive left beside the outputs.
    A temporary of a live process (another run writing the same output) is left alone."""
    removed = []
    for _, path in outputs.all():
        if not path.parent.is_dir():
            continue
        prefix = f".{path.name}."
        for entry in path.parent.iterdir():
            if not entry.name.startswith(prefix):
                continue
            match = _PID.match(entry.name[len(prefix) - 1:])
            if not match or _alive(int(match.group(1))):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or no pid at all: not ours to judge
    return True


@contextmanager
def work_folder(outputs: TrainOutputs) -> Iterator[Path]:
    """A hidden folder beside the output for the held-out evaluation (exports, results), removed at
    the end; named like the temporaries so that a killed run's is swept by the next."""
    import uuid

    folder = outputs.model.with_name(f".{outputs.model.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.work")
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def save_torch(value: Any, path: Path, what: str) -> None:
    """torch.save through a temporary file renamed over `path`. A full disk or a file-size limit
    reaches torch.save's writer as a RuntimeError (its C++ stream failed), not an OSError:
    both become one line, and the file at `path` is left as it was."""
    import torch

    with atomic_file(path, what) as tmp:
        try:
            torch.save(value, tmp)
        except RuntimeError as exc:
            raise SiamMaskError(f"{what} {path}: cannot be written ({_write_problem(exc)})") from None


def _write_problem(exc: RuntimeError) -> str:
    text = first_line(exc, 200)
    if "write failed" in text or "unexpected pos" in text:  # PyTorchStreamWriter's words for a failed write
        return "writing failed: the disk is full or a file-size limit was reached"
    return text[:120]


def save_text(path: Path, text: str, what: str) -> None:
    """A text file written through a temporary file beside it (named as the sweep expects)."""
    with atomic_file(path, what) as tmp:
        tmp.write_text(text, encoding="utf-8")
