"""SiamMask tracking: the authors' checkpoint, offline ONNX graphs and VOT evaluation.

    from siammask import SiamMask
    tracker = SiamMask.load("models/siammask_vot")      # exported folder, or a .pth checkpoint
    tracker.init(first_frame, (x, y, w, h))
    result = tracker.track(next_frame)                  # result.polygon, result.mask, result.score
"""

from __future__ import annotations

import importlib
from typing import Any

from siammask.errors import SiamMaskError

__version__ = "0.1.0"

# Heavy modules (OpenCV, ONNX Runtime) load on first use, so `import siammask` and the CLI's
# --help stay quick (PEP 562).
_LAZY = {
    "SiamMask": "siammask.api",
    "SiamMaskCV": "siammask.api",
    "Tracker": "siammask.tracking.tracker",
    "MultiTracker": "siammask.tracking.tracker",
    "TrackResult": "siammask.tracking.tracker",
    "TrackerConfig": "siammask.tracking.config",
    "open_source": "siammask.io.sources",
    "draw_overlay": "siammask.io.visualize",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'siammask' has no attribute {name!r}")


__all__ = ["SiamMaskError", "__version__", *_LAZY]
