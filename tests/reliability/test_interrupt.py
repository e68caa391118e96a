"""`siammask eval` killed with SIGKILL mid-run, then rerun: the same final metrics as a run that was never
interrupted, and at no moment a half-written result file where a reader would take it for a result.

A watcher thread reads every visible result file while the killed run goes: each must already be
whole (one line per frame). Result files are written to hidden `.<name>.*.tmp` files and renamed into
place, so a kill can only ever leave such a temporary file, which readers ignore and a rerun deletes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from siammask.datasets.synth import make_dataset
from siammask.evaluation.vot.results import read_trajectory, result_path
from tests.constants import AUTO_FP32

from .helpers import report_metrics

pytest.importorskip("onnx")

FRAMES = 16
SEQUENCES = ("synth00", "synth01")
TRACKER = f"SiamMask_{AUTO_FP32}"


def eval_command(dataset: Path, model: Path, results: Path) -> list[str]:
    return [sys.executable, "-m", "siammask.cli", "eval", "--dataset", str(dataset), "--model", str(model),
            "--results", str(results), "--eao-interval", f"2,{FRAMES}", "--json", str(results / "report.json")]


class Watcher(threading.Thread):
    """Reads every `<seq>_001.txt` that is visible, as often as it can, until stopped."""

    def __init__(self, results: Path) -> None:
        super().__init__(daemon=True)
        self.results = results
        self.stop = threading.Event()
        self.problems: list[str] = []
        self.reads = 0
        self.names: set[str] = set()

    def run(self) -> None:
        while not self.stop.is_set():
            for seq in SEQUENCES:
                path = result_path(self.results, TRACKER, seq)
                if path.parent.is_dir():
                    self.names.update(p.name for p in path.parent.iterdir())
                if not path.exists():
                    continue
                try:
                    lines = len(read_trajectory(path))
                except Exception as exc:  # noqa: BLE001 - any failure to read is the finding
                    self.problems.append(f"{path}: {exc}")
                    continue
                self.reads += 1
                if lines != FRAMES:
                    self.problems.append(f"{path}: {lines} lines for {FRAMES} frames")
            time.sleep(0.005)


def test_sigkill_mid_run_then_rerun_gives_the_uninterrupted_metrics(tmp_path, exported_model):
    dataset = make_dataset(tmp_path / "synth", sequences=len(SEQUENCES), frames=FRAMES, size=(96, 96), seed=3)
    killed, whole = tmp_path / "killed", tmp_path / "whole"

    # 1. start, wait for the first sequence's result, give the second a moment, SIGKILL
    watcher = Watcher(killed)
    watcher.start()
    process = subprocess.Popen(eval_command(dataset, exported_model, killed), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    first = result_path(killed, TRACKER, SEQUENCES[0])
    deadline = time.monotonic() + 120
    while not first.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)  # into the second sequence: each takes seconds
    assert process.poll() is None, f"eval ended before it could be killed: {process.stderr.read()}"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    watcher.stop.set()
    watcher.join()
    assert watcher.problems == []
    assert watcher.reads > 0  # the watcher did see the first result, whole
    # only the finished sequence has a result; at most a hidden temporary file besides
    baseline = killed / TRACKER / "baseline"
    visible = sorted(str(p.relative_to(baseline)) for p in baseline.rglob("*") if p.is_file()
                     and not p.name.startswith("."))
    assert visible == [f"{SEQUENCES[0]}/{SEQUENCES[0]}_001.txt"]
    assert len(read_trajectory(first)) == FRAMES
    assert all(n.startswith(".") and n.endswith(".tmp") for n in watcher.names
               if n != f"{SEQUENCES[0]}_001.txt"), watcher.names
    assert not (killed / "report.json").exists()
    kept = first.stat().st_mtime_ns

    # 2. rerun into the same folder: the finished sequence is kept, the killed one redone
    done = subprocess.run(eval_command(dataset, exported_model, killed), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert first.stat().st_mtime_ns == kept
    leftovers = [p for p in killed.rglob("*") if p.name.startswith(".")]
    assert leftovers == []

    # 3. the same dataset uninterrupted, into another folder
    done = subprocess.run(eval_command(dataset, exported_model, whole), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    assert report_metrics(killed / "report.json") == report_metrics(whole / "report.json")
    for seq in SEQUENCES:
        assert result_path(killed, TRACKER, seq).read_bytes() == result_path(whole, TRACKER, seq).read_bytes()
