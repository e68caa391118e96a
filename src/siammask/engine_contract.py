"""The engine contract: three stateless calls, numpy in and out, that every engine implements.

An engine holds weights (or graphs) only. Everything about a target (its kernels, position) is
the tracker's, so one engine serves any number of trackers and targets; K targets go through
each call as one batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

# what a user may ask an engine to compute in (Engine.precision names what it does compute in);
# an exported folder says what its graphs hold (deploy.graphs.GRAPH_PRECISIONS)
PRECISIONS = ("fp32", "bf16", "fp16", "int8")


@dataclass(frozen=True)
class TemplateKernels:
    """The three correlation kernels of K targets, each (K,256,5,5) float32."""

    cls: np.ndarray
    loc: np.ndarray
    mask: np.ndarray

    def __len__(self) -> int:
        return int(self.cls.shape[0])

    def select(self, index: int) -> TemplateKernels:
        return TemplateKernels(self.cls[index : index + 1], self.loc[index : index + 1], self.mask[index : index + 1])

    @staticmethod
    def stack(items: list[TemplateKernels]) -> TemplateKernels:
        if len(items) == 1:
            return items[0]
        return TemplateKernels(
            np.concatenate([k.cls for k in items]),
            np.concatenate([k.loc for k in items]),
            np.concatenate([k.mask for k in items]),
        )


@dataclass(frozen=True)
class SearchResult:
    """Scores (K,10,25,25) and box deltas (K,20,25,25); `features` is the engine's own
    representation of what its refine call needs (kept opaque so it never leaves the engine)."""

    cls: np.ndarray
    loc: np.ndarray
    features: Any


class Engine(Protocol):
    name: str
    precision: str
    # whether `search` takes crops wider than 255 (any size with (size - 127) a multiple of 8):
    # long-term tracking's wide search needs it
    wide_search: bool

    def template(self, z: np.ndarray) -> TemplateKernels:
        """Exemplar crops (K,3,127,127) float32 BGR 0-255 -> kernels."""
        ...

    def search(self, x: np.ndarray, kernels: TemplateKernels) -> SearchResult:
        """Search crops (K,3,255,255) float32 BGR 0-255 -> scores, deltas, refine features (wider
        crops too where `wide_search`: their maps are larger, the refine windows the same)."""
        ...

    def refine(
        self, search: SearchResult, kernels: TemplateKernels, rows: np.ndarray, cols: np.ndarray
    ) -> np.ndarray:
        """Mask probabilities (K,127,127, sigmoid applied) at each target's chosen cell."""
        ...


class EngineProxy:
    """An engine that forwards each call to another one, for wrappers that watch or alter the
    calls (timing, recording feeds, adding noise) while the tracker sees an ordinary engine.
    A subclass overrides the calls it cares about and calls super() for the forwarding."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.name = engine.name
        self.precision = engine.precision
        self.wide_search = bool(getattr(engine, "wide_search", False))

    def template(self, z: np.ndarray) -> TemplateKernels:
        return self.engine.template(z)

    def search(self, x: np.ndarray, kernels: TemplateKernels) -> SearchResult:
        return self.engine.search(x, kernels)

    def refine(
        self, search: SearchResult, kernels: TemplateKernels, rows: np.ndarray, cols: np.ndarray
    ) -> np.ndarray:
        return self.engine.refine(search, kernels, rows, cols)
