"""Optional dependencies (the package's extras), imported where a feature needs one, with one
message naming the extra to install when it is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from siammask.errors import SiamMaskError


def import_extra(module: str, needed_for: str, extra: str) -> ModuleType:
    """`module`, or a one-line error: "<needed_for> needs <module>: pip install 'siammask[<extra>]'".
    Only the module itself missing is turned into that line; a broken dependency of it is not hidden."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise SiamMaskError(f"{needed_for} needs {module}: pip install 'siammask[{extra}]'") from None
