"""The backends siammask runs, listed once: what each runs (a .pth checkpoint or an exported
folder), the precisions it gives a folder of each kind, how a choice of it is checked before any
work, and how its engine is built.

The engine options' choices, `choose_backend`'s checks, the bench's rows and `build_engine` all
read this table. Adding an engine touches its module (engines/<name>_engine.py) and one Backend
entry here (`--backend auto` picks it only once engines/auto.py's measured rule names it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siammask.deploy.manifest import Manifest, precision_parts
from siammask.engine_contract import PRECISIONS, Engine
from siammask.errors import SiamMaskError
from siammask.tracking.config import TrackerConfig

_HINTS = {"int8": "make an INT8 folder with `siammask quantize`",
          "fp16": "export with `siammask export --fp16`",
          "bf16": "bf16 runs an fp32 export on --backend openvino, where the CPU has bf16 units"}


@dataclass(frozen=True)
class EngineOptions:
    """What a backend's build takes besides the model: the checks' handle (OpenVINO's Core) too."""

    precision: str | None = None
    threads: int | None = None
    providers: str | list[str] | None = None
    cache_dir: str | None = None
    handle: Any = None


@dataclass(frozen=True)
class Backend:
    """One backend. `check(manifest, precision, providers)` refuses in one line what it cannot run
    (manifest None for a checkpoint) and returns a handle its build reuses, or None;
    `build(model, options)` gives the engine and the model's own settings (`model`: the
    checkpoint's path, or the folder's Manifest)."""

    name: str
    runs: str  # "checkpoint" or "export"
    offers: dict[str, tuple[str, ...]]  # folder kind (fp32, fp16, int8) -> precisions it gives by default
    check: Callable[[Manifest | None, str | None, str | list[str] | None], Any]
    build: Callable[[Path | Manifest, EngineOptions], tuple[Engine, TrackerConfig]]


def check_precision(requested: str | None, backend: str, offered: str) -> None:
    """Refuse a precision the chosen engine cannot give, naming what it gives instead.

    `offered` is the engine's precision string: `fp32` for torch, the export's graph precisions
    (`fp32`, `fp16`, `fp32+int8`) for ONNX Runtime, which runs graphs as they were written.
    """
    if requested is None:
        return
    if requested not in PRECISIONS:
        raise SiamMaskError(f"unknown precision {requested!r} (choose from {', '.join(PRECISIONS)})")
    if requested in precision_parts(offered):
        return
    hint = _HINTS.get(requested, "")
    raise SiamMaskError(f"the {backend} backend runs this model in {offered}, not {requested}"
                        + (f": {hint}" if hint else ""))


def openvino_device(providers: str | list[str] | None) -> str:
    """--providers names OpenVINO's device for that backend (cpu, gpu); auto and none: CPU."""
    name = providers[0] if isinstance(providers, list) and providers else providers
    return "CPU" if name in (None, "", "auto") else str(name).upper()


def _check_torch(manifest: Manifest | None, precision: str | None, providers: str | list[str] | None) -> None:
    check_precision(precision, "torch", "fp32")


def _build_torch(model: Path | Manifest, options: EngineOptions) -> tuple[Engine, TrackerConfig]:
    try:
        from siammask.engines.torch_engine import TorchEngine
    except ModuleNotFoundError as exc:
        if exc.name == "torch":
            raise SiamMaskError("PyTorch is not installed: install siammask[torch] to read a .pth "
                                "checkpoint, or pass an exported --model DIR") from None
        raise
    from siammask.model.checkpoint import read_checkpoint
    from siammask.tracking.presets import preset_config

    loaded = read_checkpoint(model)  # its layout decides its default settings (pysot's: pysot)
    return TorchEngine(loaded.model(), options.threads), preset_config(loaded.preset)


def _check_onnxruntime(manifest: Manifest | None, precision: str | None, providers: str | list[str] | None) -> None:
    assert manifest is not None
    check_precision(precision, "onnxruntime", manifest.precision)


def _build_onnxruntime(model: Path | Manifest, options: EngineOptions) -> tuple[Engine, TrackerConfig]:
    from siammask.engines.onnx_engine import OnnxEngine

    engine = OnnxEngine(model, providers=options.providers, threads=options.threads)
    return engine, engine.manifest.tracker_config


def _check_openvino(manifest: Manifest | None, precision: str | None, providers: str | list[str] | None) -> Any:
    """OpenVINO's Core, once its device is found to give the folder the precision asked (refused
    in one line otherwise); the engine then runs on this same Core."""
    assert manifest is not None
    from siammask.extras import import_extra

    ov = import_extra("openvino", "the openvino backend", "openvino")
    from siammask.engines.openvino_engine import check_device, resolve_precision

    core = ov.Core()
    device = check_device(core, openvino_device(providers))
    resolve_precision(core, device, manifest.kind, precision)
    return core


def _build_openvino(model: Path | Manifest, options: EngineOptions) -> tuple[Engine, TrackerConfig]:
    from siammask.engines.openvino_engine import OpenVinoEngine

    engine = OpenVinoEngine(model, precision=options.precision, device=openvino_device(options.providers),
                            threads=options.threads, core=options.handle,
                            cache_dir=True if options.cache_dir is None else options.cache_dir)
    return engine, engine.manifest.tracker_config


REGISTRY: dict[str, Backend] = {b.name: b for b in (
    Backend("torch", "checkpoint", {"fp32": ("fp32",)}, _check_torch, _build_torch),
    Backend("onnxruntime", "export", {"fp32": ("fp32",), "fp16": ("fp16",), "int8": ("int8",)},
            _check_onnxruntime, _build_onnxruntime),
    Backend("openvino", "export", {"fp32": ("fp32", "bf16"), "fp16": ("fp16",), "int8": ("int8",)},
            _check_openvino, _build_openvino),
)}
ENGINE_BACKENDS = tuple(REGISTRY)
# what --backend accepts: "auto" picks one of the engines (engines/auto.py)
BACKENDS = ("auto", *ENGINE_BACKENDS)
