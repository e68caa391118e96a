"""Datumaro, to read back what the annotation writers wrote: in this interpreter when installed,
else the one $SIAMMASK_DATUMARO_PYTHON names (Datumaro 1.13 pins Pillow below 13, so it may live in
a virtual environment of its own); the tests that need it skip without either."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("datumaro_probe.py")


def _python() -> str | None:
    if importlib.util.find_spec("datumaro") is not None:
        return sys.executable
    return os.environ.get("SIAMMASK_DATUMARO_PYTHON") or None


@pytest.fixture(scope="session")
def datumaro_import():
    python = _python()
    if python is None:
        pytest.skip("Datumaro is not installed (pip install datumaro, or set SIAMMASK_DATUMARO_PYTHON)")

    def read(path: Path, fmt: str) -> list[dict]:
        done = subprocess.run([python, str(PROBE), str(path), fmt], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    return read
