"""What every case of the bad-input catalogue asserts, shared by its test modules."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import cv2
import numpy as np

from siammask.cli import main

FRAME_SIZE = (96, 96)  # (width, height) of the catalogue's frames: small, the crops are fixed-size anyway
BOX = "30,30,24,24"


def cli(capsys, *args: object) -> tuple[int, str, str]:
    """Run `siammask ARGS` in this process; (exit code, stdout, stderr)."""
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc: int, err: str, *fragments: str) -> str:
    """Exit 1, no traceback, stderr exactly one `siammask: error: ...` line holding every fragment."""
    assert rc == 1, (rc, err)
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("siammask: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    log = os.environ.get("SIAMMASK_CATALOGUE_LOG")  # FILE: each case's message is appended (docs/reliability.md)
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{os.environ.get('PYTEST_CURRENT_TEST', '?').split(' ')[0]}\t{lines[0]}\n")
    return lines[0]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden ones included) -> sha256 of its bytes; folders as 'dir'."""
    if not folder.exists():
        return {}
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "link"
    return out


def textured_frame(k: int, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """A deterministic frame with a bright square that moves one pixel a frame."""
    width, height = size
    rng = np.random.default_rng(k)
    image = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
    image[30 + k : 54 + k, 30 + k : 54 + k] = (40, 200, 240)
    return image


def write_frames(folder: Path, count: int, size: tuple[int, int] = FRAME_SIZE, suffix: str = ".jpg") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(count):
        path = folder / f"{k + 1:08d}{suffix}"
        assert cv2.imwrite(str(path), textured_frame(k, size))
        paths.append(path)
    return paths


def write_sequence(root: Path, name: str, frames: int = 4, lines: list[str] | None = None) -> Path:
    """A VOT-layout sequence folder: frames and one x,y,w,h ground-truth line per frame."""
    folder = root / name
    write_frames(folder, frames)
    if lines is None:
        lines = [f"{30 + k},{30 + k},24,24" for k in range(frames)]
    (folder / "groundtruth.txt").write_text("".join(line + "\n" for line in lines))
    return folder


def write_dataset(root: Path, names: list[str], frames: int = 4) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "list.txt").write_text("".join(n + "\n" for n in names))
    for name in names:
        write_sequence(root, name, frames)
    return root


def report_metrics(path: Path) -> dict:
    """A `report --json` file without its dataset path (which differs between folders)."""
    report = json.loads(path.read_text())
    report["dataset"].pop("path")
    return report
