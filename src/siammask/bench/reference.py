"""Run the authors' reference tracker (foolwood/SiamMask, tools/test.py) from a user's checkout.

Why: `siammask bench` reports our speed beside the code the paper's numbers came from, on the same
frames and the same weights. Nothing of that code is part of this project: the user gives the
path of their own checkout, and it is imported from there, in a subprocess of its own (the bench
worker), so its imports and global patches never touch the caller.

That code targets 2019's numpy/torch/OpenCV. To run it unchanged on today's, the worker applies a
few shims before importing it, each limited to the worker process:

* ``np.float`` / ``np.int`` (removed in numpy 2) are put back as the builtins they aliased;
* ``utils.pyvotkit.region`` is a Cython extension built by the checkout's make.sh; tools/test.py
  imports it at module level but ``siamese_track`` never uses it, so a stub stands in when it
  was not built (a built one is used as is);
* ``siamese_track`` picks findContours' return arity from ``cv2.__version__[-5] == '4'``, which
  is false for "4.14.0": its module gets a cv2 proxy reporting "4.0.0" (everything else is the
  real cv2), so the two-value OpenCV 4 API is used as the authors intended.

The model is the checkout's ``Custom(anchors=cfg['anchors'])`` from experiments/siammask_sharp,
the settings its config_vot.json, weights read with ``torch.load(weights_only=True)`` (never
executing pickled code) and put in with ``load_state_dict``. It runs on the CPU with mask and
refine on, through its own ``siamese_init`` / ``siamese_track``, with autograd left on as
tools/test.py leaves it (``no_grad`` in the spec measures it with autograd off as well).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import subprocess
import sys
import time
import types
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from siammask.bench.timing import progress, time_calls, timing_figures
from siammask.errors import SiamMaskError
from siammask.io.sources import read_image

REQUIRED_FILES = (
    "tools/test.py",
    "experiments/siammask_sharp/custom.py",
    "experiments/siammask_sharp/config_vot.json",
    "models/siammask_sharp.py",
    "utils/bbox_helper.py",
)
CONFIG = "experiments/siammask_sharp/config_vot.json"
KNOWN_COMMIT = "0eaac33"  # the commit the project's parity data were checked against


def check_checkout(path: str | Path) -> Path:
    """The checkout's absolute path, if it has the files the runner needs; a clear error if not."""
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise SiamMaskError(f"reference checkout {path}: not a directory")
    missing = [f for f in REQUIRED_FILES if not (root / f).is_file()]
    if missing:
        raise SiamMaskError(f"reference checkout {path}: not a foolwood/SiamMask checkout "
                            f"({', '.join(missing)} missing)")
    return root


def checkout_commit(root: Path) -> str | None:
    """The checkout's HEAD commit when it is a git work tree (an exported archive has none)."""
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


class _Cv2Compat(types.ModuleType):
    """cv2 as tools/test.py expects to see it: the real module, but a version string whose
    character [-5] is '4', so that siamese_track unpacks findContours' two return values."""

    __version__ = "4.0.0"

    def __getattr__(self, name: str) -> Any:
        import cv2

        return getattr(cv2, name)


def _apply_shims(root: Path) -> None:
    for name, value in (("float", float), ("int", int)):
        if name not in np.__dict__:
            setattr(np, name, value)
    for folder in (root / "experiments" / "siammask_sharp", root):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    try:
        import utils.pyvotkit.region  # noqa: F401  - built with the checkout's make.sh
    except ImportError:
        stub = types.ModuleType("utils.pyvotkit.region")

        def unavailable(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("utils.pyvotkit.region is not built (the bench never needs it)")

        stub.vot_overlap = stub.vot_float2str = unavailable  # type: ignore[attr-defined]
        sys.modules["utils.pyvotkit.region"] = stub
        sys.modules.pop("utils.pyvotkit", None)  # re-imported on demand, now finding the stub
    logging.getLogger("global").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=UserWarning)


def load_reference(root: Path) -> dict[str, Any]:
    """Import the checkout's tools/test.py, Custom model class, config and bbox helper."""
    _apply_shims(root)
    spec = importlib.util.spec_from_file_location("siammask_reference_test", root / "tools" / "test.py")
    if spec is None or spec.loader is None:
        raise SiamMaskError(f"reference checkout {root}: cannot load tools/test.py")
    test = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(test)
        from custom import Custom  # experiments/siammask_sharp/custom.py
        from utils.bbox_helper import get_axis_aligned_bbox
    except ImportError as exc:
        raise SiamMaskError(f"reference checkout {root}: import failed ({exc})") from None
    test.cv2 = _Cv2Compat("cv2")  # type: ignore[attr-defined]
    logging.getLogger("global").setLevel(logging.WARNING)
    config = json.loads((root / CONFIG).read_text())
    return {"test": test, "Custom": Custom, "config": config, "get_axis_aligned_bbox": get_axis_aligned_bbox}


def load_reference_model(ref: dict[str, Any], checkpoint: str | Path) -> Any:
    """Custom(anchors=cfg['anchors']) with the checkpoint's weights, in eval mode, on the CPU.

    Every key of the model must come from the checkpoint except batch-norm step counters, which
    the authors' checkpoint does not carry and inference never reads."""
    import torch

    model = ref["Custom"](anchors=ref["config"]["anchors"])
    state = torch.load(str(checkpoint), map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    state = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state.items()}
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise SiamMaskError(f"checkpoint {checkpoint} does not fit the reference model: {len(missing)} missing, "
                            f"{len(result.unexpected_keys)} unexpected keys")
    return model.eval()


def _timed(fn: Any, bucket: list[float]) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        tic = time.perf_counter()
        out = fn(*args, **kwargs)
        bucket.append(time.perf_counter() - tic)
        return out

    return wrapper


def run_reference_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Bench worker body: the reference's latency per network call and a tracked sequence.

    Mirrors `siammask.bench.workers.measure_engine`: one init + track records the network's inputs, each
    call is then repeated; the sequence is tracked with siamese_track, frames read outside the
    timing, and the network's calls (template, track_mask, track_refine) timed inside it so that
    the rest of siamese_track is the decode+mask column.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    root = check_checkout(spec["checkout"])
    threads = spec.get("threads")
    if threads:
        torch.set_num_threads(int(threads))
    ref = load_reference(root)
    test, hp = ref["test"], ref["config"].get("hp")
    model = load_reference_model(ref, spec["checkpoint"])
    torch.set_grad_enabled(not spec.get("no_grad", False))
    device = "cpu"
    frames, label = spec["frames"], spec["label"]
    repeats, warmup = int(spec["repeats"]), int(spec["warmup"])

    calls: dict[str, list[float]] = {"template": [], "track_mask": [], "track_refine": []}
    inputs: dict[str, Any] = {}
    original = {name: getattr(model, name) for name in calls}

    def recording(name: str) -> Any:
        def wrapper(arg: Any) -> Any:
            inputs[name] = arg
            return original[name](arg)

        return wrapper

    region = np.asarray(spec["box"], dtype=np.float64)
    cx, cy, w, h = ref["get_axis_aligned_bbox"](region)

    def init(frame: np.ndarray) -> dict[str, Any]:
        return test.siamese_init(frame, np.array([cx, cy]), np.array([w, h]), model, hp, device)

    # 1. record the network's inputs with one init + track, then repeat each call
    for name in calls:
        setattr(model, name, recording(name))
    state = init(read_image(frames[0]))
    test.siamese_track(state, read_image(frames[1]), True, True, device)
    z, x, pos = inputs["template"], inputs["track_mask"], inputs["track_refine"]
    template_s = time_calls(lambda: original["template"](z), repeats, warmup, f"{label} template")
    search_s = time_calls(lambda: original["track_mask"](x), repeats, warmup, f"{label} search")
    refine_s = time_calls(lambda: original["track_refine"](pos), repeats, warmup, f"{label} refine")

    # 2. the sequence, network calls timed inside siamese_track
    for name in calls:
        setattr(model, name, _timed(original[name], calls[name]))
    first = read_image(frames[0])
    tic = time.perf_counter()
    state = init(first)
    init_s = time.perf_counter() - tic
    frame_s, host_s, polygons = [], [], []
    for path in progress(frames[1:], f"{label} track"):
        frame = read_image(path)
        before = len(calls["track_mask"]), len(calls["track_refine"])
        tic = time.perf_counter()
        state = test.siamese_track(state, frame, True, True, device)
        elapsed = time.perf_counter() - tic
        network = sum(calls["track_mask"][before[0]:]) + sum(calls["track_refine"][before[1]:])
        frame_s.append(elapsed)
        host_s.append(elapsed - network)
        polygons.append([float(v) for v in np.asarray(state["ploygon"]).ravel()])

    # 3. FLOPs of one more frame (untimed: the counter slows every op down)
    counter = FlopCounterMode(display=False)
    with counter:
        test.siamese_track(state, read_image(frames[-1]), True, True, device)
    return {
        "backend": "reference",
        "precision": "fp32",
        "checkout": str(root),
        "commit": checkout_commit(root),
        "grad_enabled": not spec.get("no_grad", False),
        "threads": threads,
        **timing_figures(template_s, search_s, refine_s, host_s, frame_s, init_s, first.shape, polygons),
        "gflop_per_frame": counter.get_total_flops() / 1e9,
    }
