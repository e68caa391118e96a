"""What the bench ran on: the CPU, its cores and the library versions, recorded beside every
timing (the numbers mean little without them)."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import numpy as np


def cpu_name() -> str:
    """The CPU's model name as Linux lists it, else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_version(*names: str) -> str | None:
    """The installed version of the first of `names` that is installed (None: none is)."""
    from importlib import metadata

    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def usable_cores() -> int:
    """The cores this process may run on (its affinity), which a container may make fewer than
    the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def machine_info(threads: int) -> dict[str, Any]:
    """CPU, cores and library versions, read without importing torch or onnxruntime."""
    import cv2

    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "threads": threads,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            "siammask": package_version("siammask"),
            "torch": package_version("torch"),
            "onnxruntime": package_version("onnxruntime", "onnxruntime-gpu", "onnxruntime-openvino"),
            "opencv": cv2.__version__,
            "numpy": np.__version__,
        },
    }
