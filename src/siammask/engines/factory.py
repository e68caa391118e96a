"""Choosing an engine from what the user has: a checkpoint (.pth) or an exported folder."""

from __future__ import annotations

from pathlib import Path

from siammask.config import TrackerConfig
from siammask.engines.base import Engine
from siammask.errors import SiamMaskError

BACKENDS = ("torch", "onnxruntime")


def load_engine(
    checkpoint: str | Path | None = None, model: str | Path | None = None, backend: str | None = None,
    threads: int | None = None, providers: str | list[str] | None = None,
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
        return TorchEngine.from_checkpoint(checkpoint, threads), TrackerConfig()
    if backend == "torch":
        raise SiamMaskError("the torch backend needs --checkpoint FILE.pth, not an exported folder")
    from siammask.engines.onnx_engine import OnnxEngine

    engine = OnnxEngine(model, providers=providers, threads=threads)
    return engine, engine.tracker_config
