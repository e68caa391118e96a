"""Datumaro, to read back what the annotation writers wrote: in this interpreter when installed,
else the one $SIAMMASK_DATUMARO_PYTHON names, else build/datumaro-venv's (scripts/setup_datumaro_env.sh,
which .ci/run calls: Datumaro 1.13 pins Pillow below 13, so it lives in a virtual environment of its
own); the tests that need it skip without any."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("datumaro_probe.py")
VENV_PYTHON = Path(__file__).resolve().parents[3] / "build" / "datumaro-venv" / "bin" / "python"


def _python() -> str | None:
    if importlib.util.find_spec("datumaro") is not None:
        return sys.executable
    if os.environ.get("SIAMMASK_DATUMARO_PYTHON"):
        return os.environ["SIAMMASK_DATUMARO_PYTHON"]
    return str(VENV_PYTHON) if VENV_PYTHON.is_file() else None


@pytest.fixture(scope="session")
def datumaro_import():
    python = _python()
    if python is None:
        pytest.skip("Datumaro is not installed (scripts/setup_datumaro_env.sh, or set SIAMMASK_DATUMARO_PYTHON)")

    def read(path: Path, fmt: str) -> list[dict]:
        done = subprocess.run([python, str(PROBE), str(path), fmt], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    return read
