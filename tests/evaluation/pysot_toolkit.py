"""pysot's toolkit modules for the tests that compare our figures with pysot's own code.

The code comes from a copy of STVIR/pysot (never committed here): SIAMMASK_PYSOT names a checkout
or a bare git directory; otherwise the fetched mirror /work/.mirror/STVIR+pysot/repo or
../shared/pysot beside the project. Without one the test skips and says so. The files named are
copied as they are into a temporary `toolkit` package; the package __init__ files of datasets/ and
evaluation/ are left empty (pysot's import every dataset and benchmark), and `region`, its Cython
module, is the text the test gives.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType

import pytest


def pysot_source() -> Path | None:
    here = Path(__file__).resolve().parents[2]
    candidates = [os.environ.get("SIAMMASK_PYSOT"), "/work/.mirror/STVIR+pysot/repo", here.parent / "shared" / "pysot"]
    return next((Path(c) for c in candidates if c and Path(c).exists()), None)


def _read(source: Path, name: str) -> str:
    if (source / name).is_file():  # a checkout
        return (source / name).read_text()
    return subprocess.run(["git", f"--git-dir={source}", "show", f"HEAD:{name}"], check=True,
                          capture_output=True, text=True).stdout


def pysot_modules(root: Path, files: Iterable[str], region: str,
                  modules: Iterable[str]) -> Iterator[dict[str, ModuleType]]:
    """For a module-scoped fixture: pysot's `files` written under `root` (an empty folder), then
    {name: toolkit.<name>} of `modules` imported; afterwards sys.path and sys.modules as before."""
    source = pysot_source()
    if source is None:
        pytest.skip("no copy of STVIR/pysot: set SIAMMASK_PYSOT to a checkout (or fetch github:STVIR/pysot)")
    pytest.importorskip("colorama")  # the benchmarks import it
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(_read(source, name))
    for package in ("toolkit/datasets", "toolkit/evaluation"):
        (root / package / "__init__.py").write_text("")
    (root / "toolkit/utils/region.py").write_text(region)
    sys.path.insert(0, str(root))
    try:
        yield {name: importlib.import_module(f"toolkit.{name}") for name in modules}
    finally:
        sys.path.remove(str(root))
        for module in [m for m in sys.modules if m == "toolkit" or m.startswith("toolkit.")]:
            del sys.modules[module]
