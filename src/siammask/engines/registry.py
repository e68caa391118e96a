"""The backends siammask runs and the precisions they may be asked for, listed once.

Every list of backends or precisions (the engine options' choices, `--backend auto`'s checks,
the bench's rows) is read from here; adding an engine is one Backend entry here, its engine
module, and its branch in factory.build_engine.
"""

from __future__ import annotations

from dataclasses import dataclass

# what a user may ask an engine to compute in; an exported folder says what its graphs hold
PRECISIONS = ("fp32", "bf16", "fp16", "int8")


@dataclass(frozen=True)
class Backend:
    """One backend: what it runs (a .pth checkpoint or an exported folder) and the precisions it
    gives a folder of each kind (fp32, fp16, int8: deploy.manifest.Manifest.kind) by default."""

    name: str
    runs: str  # "checkpoint" or "export"
    offers: dict[str, tuple[str, ...]]


REGISTRY: dict[str, Backend] = {b.name: b for b in (
    Backend("torch", "checkpoint", {"fp32": ("fp32",)}),
    Backend("onnxruntime", "export", {"fp32": ("fp32",), "fp16": ("fp16",), "int8": ("int8",)}),
    Backend("openvino", "export", {"fp32": ("fp32", "bf16"), "fp16": ("fp16",), "int8": ("int8",)}),
)}
ENGINE_BACKENDS = tuple(REGISTRY)
# what --backend accepts: "auto" picks one of the engines (engines/auto.py)
BACKENDS = ("auto", *ENGINE_BACKENDS)
