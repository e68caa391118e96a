"""The graph contract, written once: what the three exported graphs are called, what they take and
give (names and shapes, batch first), the opset and the manifest's file name, and where the refine
graph's windows are cut from the search graph's outputs (the manifest itself: manifest.py).

The network's export (export.py), both graph engines (ONNX Runtime, OpenVINO), quantization and
`inspect` import it; nothing else spells a feed name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from siammask.engine_contract import SearchResult, TemplateKernels
from siammask.tracking.config import TrackerConfig

OPSET = 17
MANIFEST = "manifest.json"
FORMAT_VERSION = 1
GRAPH_NAMES = ("template", "search", "refine")
GRAPH_PRECISIONS = ("fp32", "fp16", "int8")

# name -> (inputs, outputs), each a list of (feed name, shape without the batch dimension). The
# search graph's spatial dims are symbolic: 255x255 crops in normal tracking, wider ones in
# long-term's wide search (the same convolutions over a larger crop give larger maps); the
# exporter traces it at the normal size (NORMAL_DIMS).
Signature = tuple[list[tuple[str, list[int | str]]], list[tuple[str, list[int | str]]]]
SEARCH_INPUT = "search"
NORMAL_DIMS = {"size": 255, "score": 25, "xf_size": 31, "p0_size": 157, "p1_size": 79, "p2_size": 39}
GRAPHS: dict[str, Signature] = {
    "template": (
        [("exemplar", [3, 127, 127])],
        [("cls_kernel", [256, 5, 5]), ("loc_kernel", [256, 5, 5]), ("mask_kernel", [256, 5, 5])],
    ),
    "search": (
        [(SEARCH_INPUT, [3, "size", "size"]), ("cls_kernel", [256, 5, 5]), ("loc_kernel", [256, 5, 5])],
        [("cls", [10, "score", "score"]), ("loc", [20, "score", "score"]), ("xf", [256, "xf_size", "xf_size"]),
         ("p0", [64, "p0_size", "p0_size"]), ("p1", [256, "p1_size", "p1_size"]), ("p2", [512, "p2_size", "p2_size"])],
    ),
    "refine": (
        [("xf_window", [256, 7, 7]), ("mask_kernel", [256, 5, 5]), ("p0_window", [64, 61, 61]),
         ("p1_window", [256, 31, 31]), ("p2_window", [512, 15, 15])],
        [("mask", [127, 127])],
    ),
}

# The refine graph's windows at score-map cell (r, c): (size, step) for each search output. The
# mask branch reads a 7x7 window of xf at (r, c); the refine module's zero-padded p0/p1/p2 windows
# start at 4(r, c), 2(r, c) and (r, c) (the reference's crops of its padded features).
WINDOWS: dict[str, tuple[int, int]] = {"xf": (7, 1), "p0": (61, 4), "p1": (31, 2), "p2": (15, 1)}


def cut_windows(
    xf: np.ndarray, p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Each target's refine windows at its chosen cell, in WINDOWS' order (xf, p0, p1, p2)."""
    def cut(t: np.ndarray, name: str) -> np.ndarray:
        size, step = WINDOWS[name]
        return np.stack([t[k, :, step * r : step * r + size, step * c : step * c + size]
                         for k, (r, c) in enumerate(zip(rows.tolist(), cols.tolist()))])

    return cut(xf, "xf"), cut(p0, "p0"), cut(p1, "p1"), cut(p2, "p2")


def normal_shape(shape: list[int | str]) -> list[int]:
    """A signature's shape with symbolic dims at the normal search's sizes."""
    return [d if isinstance(d, int) else NORMAL_DIMS[d] for d in shape]


def template_feeds(z: np.ndarray) -> dict[str, np.ndarray]:
    return {"exemplar": z}


def search_feeds(x: np.ndarray, kernels: TemplateKernels) -> dict[str, np.ndarray]:
    return {"search": x, "cls_kernel": kernels.cls, "loc_kernel": kernels.loc}


def refine_feeds(windows: tuple[np.ndarray, ...], mask_kernel: np.ndarray) -> dict[str, np.ndarray]:
    xf, p0, p1, p2 = windows
    return {"xf_window": xf, "mask_kernel": mask_kernel, "p0_window": p0, "p1_window": p1, "p2_window": p2}


class GraphCalls:
    """The Engine interface over the three graphs of an exported folder, for an engine that only
    says how to run one graph on named feeds (`_infer`, outputs in GRAPHS' order) and which dtype
    each feed takes (`_dtypes`). ONNX Runtime and OpenVINO share it."""

    manifest: Any  # the folder's deploy.manifest.Manifest (which imports this module)

    @property
    def wide_search(self) -> bool:
        return bool(self.manifest.wide_search)
    _dtypes: dict[str, dict[str, Any]]  # graph -> feed name -> numpy dtype the graph takes

    @property
    def tracker_config(self) -> TrackerConfig:
        """The settings the export recorded."""
        return self.manifest.tracker_config

    def _infer(self, name: str, feeds: dict[str, np.ndarray]) -> list[Any]:
        raise NotImplementedError

    def _run(self, name: str, feeds: dict[str, np.ndarray]) -> list[Any]:
        dtypes = self._dtypes[name]
        return self._infer(name, {k: np.ascontiguousarray(v, dtype=dtypes[k]) for k, v in feeds.items()})

    def template(self, z: np.ndarray) -> TemplateKernels:
        cls_k, loc_k, mask_k = self._run("template", template_feeds(z))
        return TemplateKernels(*(np.asarray(k, dtype=np.float32) for k in (cls_k, loc_k, mask_k)))

    def search(self, x: np.ndarray, kernels: TemplateKernels) -> SearchResult:
        cls, loc, xf, p0, p1, p2 = self._run("search", search_feeds(x, kernels))
        return SearchResult(cls.astype(np.float32, copy=False), loc.astype(np.float32, copy=False),
                            (xf, p0, p1, p2))

    def refine(
        self, search: SearchResult, kernels: TemplateKernels, rows: np.ndarray, cols: np.ndarray
    ) -> np.ndarray:
        xf, p0, p1, p2 = search.features
        (mask,) = self._run("refine", refine_feeds(cut_windows(xf, p0, p1, p2, rows, cols), kernels.mask))
        return mask.astype(np.float32, copy=False)
