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


def test_output_into_a_closed_pipe_is_not_a_success(tmp_path):
    """A reader that stops early (`| head`) ends the command where it was: what it had still to do
    (report's --json and --plots come after its table) was not done, so the exit is 141 (a
    SIGPIPE end, as the shell's tools), not 0, and no traceback."""
    child = subprocess.Popen([sys.executable, "-m", "siammask.cli", "synth", "data", "--sequences", "1",
                              "--frames", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    child.stdout.close()  # the reader is gone before the one line is printed
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=120) == 141
    assert "Traceback" not in stderr, stderr
