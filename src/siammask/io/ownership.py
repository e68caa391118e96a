"""What siammask wrote, so that `--force` replaces that and nothing else.

A folder siammask makes (a synthetic dataset) carries a record, `.siammask`: JSON naming what
wrote it and every file and folder inside with its SHA-256. `--force` replaces such a folder only
when everything in it, at every depth, is in the record and unchanged: a user's notes inside a
sequence folder, an edited frame, a link or a folder of their own all keep it. An export needs no
record of its own: its manifest already lists each graph file with its SHA-256, and
`deploy.manifest.export_folder_problem` holds the folder to it the same way (with `entry_problem`).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from siammask.errors import SiamMaskError
from siammask.files import file_sha256, json_text, read_input_text

RECORD = ".siammask"
MAX_RECORD_BYTES = 64 << 20


def record_folder(folder: str | Path, kind: str) -> None:
    """Write `folder`/.siammask listing every file (with its SHA-256) and folder now inside it.
    Called on the finished staging folder, before it is renamed into place."""
    folder = Path(folder)
    files: dict[str, str] = {}
    folders: list[str] = []
    for parent, dirnames, filenames in os.walk(folder):
        base = Path(parent).relative_to(folder)
        folders += [(base / d).as_posix() for d in dirnames]
        files.update({(base / f).as_posix(): file_sha256(Path(parent) / f) for f in filenames
                      if not (base == Path(".") and f == RECORD)})
    record = {"written_by": "siammask", "kind": kind, "folders": sorted(folders), "files": files}
    (folder / RECORD).write_text(json_text(record, indent=None), encoding="utf-8")


def folder_problem(folder: str | Path, kind: str) -> str | None:
    """None when `folder` holds exactly what its .siammask record lists (files unchanged; one the
    user deleted is no loss), else a phrase saying what siammask did not write."""
    folder = Path(folder)
    record = _read_record(folder)
    if isinstance(record, str):
        return record
    if record.get("kind") != kind:
        return f"its {RECORD} record is of a {record.get('kind')!r}, not of a {kind}"
    files, folders = record["files"], set(record["folders"])
    for parent, dirnames, filenames in os.walk(folder):
        base = Path(parent).relative_to(folder)
        for name in [*dirnames, *filenames]:
            rel = (base / name).as_posix()
            if rel == RECORD:
                continue
            problem = entry_problem(Path(parent) / name, rel, files, folders)
            if problem:
                return problem
    return None


def _read_record(folder: Path) -> dict[str, Any] | str:
    path = folder / RECORD
    if not path.is_file() or path.is_symlink():
        return f"no {RECORD} record of what siammask wrote there"
    try:
        record = json.loads(read_input_text(path, f"record {path}", MAX_RECORD_BYTES))
    except (SiamMaskError, ValueError, RecursionError):
        return f"its {RECORD} record cannot be read"
    if (not isinstance(record, dict) or record.get("written_by") != "siammask"
            or not isinstance(record.get("files"), dict) or not isinstance(record.get("folders"), list)):
        return f"its {RECORD} record is not siammask's"
    return record


def entry_problem(path: Path, rel: str, files: dict[str, Any], folders: set[str]) -> str | None:
    try:
        mode = path.lstat().st_mode
    except OSError:
        return None  # gone meanwhile: nothing of the user's to lose there
    if stat.S_ISDIR(mode) and rel in folders:
        return None
    if stat.S_ISREG(mode) and rel in files:
        try:
            same = file_sha256(path) == files[rel]
        except OSError:
            same = False
        return None if same else f"{rel!r} was changed after siammask wrote it"
    kind = "folder" if stat.S_ISDIR(mode) else "link" if stat.S_ISLNK(mode) else "file"
    return f"it holds the {kind} {rel!r}, which siammask did not write"
