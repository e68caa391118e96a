"""The CLI's error contract: one line by default; --traceback adds the traceback and its cause."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("torch")


def _inspect_garbage(tmp_path, before: tuple[str, ...] = (), after: tuple[str, ...] = ()):
    (tmp_path / "bad.pth").write_bytes(b"not a checkpoint\n")
    return subprocess.run([sys.executable, "-m", "siammask.cli", *before, "inspect", "bad.pth", *after],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)


def test_default_is_one_line(tmp_path):
    done = _inspect_garbage(tmp_path)
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("siammask: error: checkpoint bad.pth: refused")


@pytest.mark.parametrize("where", ["before", "after"])
def test_traceback_shows_the_hidden_cause(tmp_path, where):
    flag = ("--traceback",)
    done = _inspect_garbage(tmp_path, before=flag) if where == "before" else _inspect_garbage(tmp_path, after=flag)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0].startswith("siammask: error: checkpoint bad.pth: refused")  # the one line still comes first
    # the cause (torch's unpickling error, hidden by `from None`), then our own error
    assert "which led to:" in done.stderr and "torch" in done.stderr
    assert lines[-1].startswith("siammask.errors.SiamMaskError: checkpoint ")
