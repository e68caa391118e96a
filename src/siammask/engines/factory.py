"""Choosing an engine from what the user has: a checkpoint (.pth) or an exported folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from siammask.config import TrackerConfig
from siammask.engines.base import Engine
from siammask.errors import SiamMaskError

BACKENDS = ("torch", "onnxruntime")
# what a user may ask an engine to compute in; an exported folder says what its graphs hold
PRECISIONS = ("fp32", "bf16", "fp16", "int8")


def check_precision(requested: str | None, backend: str, offered: str) -> None:
    """Refuse a precision the chosen engine cannot give, naming what it gives instead.

    `offered` is the engine's precision string: `fp32` for torch, the export's graph precisions
    (`fp32`, `fp16`, `fp32+int8`) for ONNX Runtime, which runs graphs as they were written.
    """
    if requested is None:
        return
    if requested not in PRECISIONS:
        raise SiamMaskError(f"unknown precision {requested!r} (choose from {', '.join(PRECISIONS)})")
    if requested in offered.split("+"):
        return
    hint = {"int8": "make an INT8 folder with `siammask quantize`",
            "fp16": "export with `siammask export --fp16`"}.get(requested, "")
    raise SiamMaskError(f"the {backend} backend runs this model in {offered}, not {requested}"
                        + (f": {hint}" if hint else ""))


def load_engine(
    checkpoint: str | Path | None = None, model: str | Path | None = None, backend: str | None = None,
    threads: int | None = None, providers: str | list[str] | None = None, precision: str | None = None,
) -> tuple[Engine, TrackerConfig]:
    """The engine and the tracker settings that go with it.

    --checkpoint runs PyTorch by default; --model (an exported folder) runs ONNX Runtime and
    never imports torch. `backend` forces one: onnxruntime with a checkpoint is refused, since
    the graphs must be exported first; torch with a folder is refused likewise.
    """
    if (checkpoint is None) == (model is None):
        raise SiamMaskError("give exactly one of --checkpoint FILE.pth or --model EXPORTED_DIR")
    if backend not in (None, *BACKENDS):
        raise SiamMaskError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    if checkpoint is not None:
        if backend == "onnxruntime":
            raise SiamMaskError("the onnxruntime backend runs an exported folder: run `siammask export "
                                "--checkpoint FILE --output DIR`, then pass --model DIR")
        try:
            from siammask.engines.torch_engine import TorchEngine
        except ModuleNotFoundError as exc:
            if exc.name == "torch":
                raise SiamMaskError("PyTorch is not installed: install siammask[torch] to read a .pth "
                                    "checkpoint, or pass an exported --model DIR") from None
            raise
        check_precision(precision, "torch", "fp32")
        return TorchEngine.from_checkpoint(checkpoint, threads), TrackerConfig()
    if backend == "torch":
        raise SiamMaskError("the torch backend needs --checkpoint FILE.pth, not an exported folder")
    from siammask.engines.onnx_engine import OnnxEngine

    check_precision(precision, "onnxruntime", folder_precision(model))
    engine = OnnxEngine(model, providers=providers, threads=threads)
    return engine, engine.tracker_config


def folder_precision(model: str | Path) -> str:
    """An exported folder's graph precisions as its engine names them (`fp32`, `fp16`, `fp32+int8`),
    read from the manifest alone, so that a bad folder is refused before any work."""
    from siammask.engines.onnx_engine import read_manifest

    graphs = read_manifest(Path(model))["graphs"].values()
    return "+".join(sorted({g["precision"] for g in graphs if isinstance(g, dict)}))


@dataclass(frozen=True)
class EngineSpec:
    """How to build an engine, in a form that crosses process (and Ray) boundaries.

    Paths are made absolute on creation: a worker process may run in another working directory
    (the bench's workers do), and a relative path would then name another file or none.
    """

    checkpoint: str | None = None
    model: str | None = None
    backend: str | None = None
    threads: int | None = None
    providers: str | None = None
    config: str | None = None  # tracker settings file overriding the engine's
    precision: str | None = None  # requested; None: what the model holds

    def __post_init__(self) -> None:
        for name in ("checkpoint", "model", "config"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, os.path.abspath(os.fspath(value)))
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise SiamMaskError(f"--threads must be at least 1, got {self.threads}")

    def check(self) -> None:
        """What can be checked without loading the model: the folder's manifest and the requested
        precision, the settings file. Commands call it before any long work."""
        if self.model:
            check_precision(self.precision, self.backend or "onnxruntime", folder_precision(self.model))
        if self.config:
            TrackerConfig.from_file(self.config)

    def build(self) -> tuple[Engine, TrackerConfig]:
        engine, config = load_engine(self.checkpoint, self.model, self.backend, self.threads, self.providers,
                                     self.precision)
        if self.config:
            config = TrackerConfig.from_file(self.config)
        return engine, config

    @property
    def label(self) -> str:
        return "torch" if self.checkpoint else "onnxruntime"

    @property
    def model_precision(self) -> str:
        """What the engine will compute in: `fp32` for a checkpoint, else the export's graph
        precisions as its engine names them (`fp32`, `fp16`, `fp32+int8`). Reads only the manifest,
        so a bad folder is refused here, before any tracking."""
        if self.checkpoint or not self.model:
            return "fp32"
        return folder_precision(self.model)
