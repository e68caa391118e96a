"""The graph contract, written once: what the three exported graphs are called, what they take and
give (names and shapes, batch first), the opset and manifest they come with, and where the refine
graph's windows are cut from the search graph's outputs.

The network's export (export.py), both graph engines (ONNX Runtime, OpenVINO), quantization and
`inspect` import it; nothing else spells a feed name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from siammask.engines.base import SearchResult, TemplateKernels
from siammask.errors import SiamMaskError, printable
from siammask.io.files import encodable, read_input_text
from siammask.tracking.config import TrackerConfig, parse_json

OPSET = 17
MANIFEST = "manifest.json"
FORMAT_VERSION = 1
GRAPH_NAMES = ("template", "search", "refine")
GRAPH_PRECISIONS = ("fp32", "fp16", "int8")
# export writes ~3 KB, quantize ~10 KB: a manifest far larger is not one (and is not read whole)
MAX_MANIFEST_BYTES = 1 << 20
# the keys of a graph's entry -> the type each must have (export and quantize write these)
_ENTRY_TYPES: dict[str, type] = {"file": str, "sha256": str, "precision": str,
                                                    "inputs": dict, "outputs": dict}
_OPTIONAL_TYPES: dict[str, type] = {
    "format": int, "package_version": str, "opset": int, "preset": str, "checkpoint": dict,
    "tracker_config": dict, "quantization": dict, "calibration": dict,
}


def load_manifest(path: Path) -> Any:
    """The JSON of a manifest file, read as every input is (type and size first: a FIFO, a device
    or a sparse 3 GB file is refused unread) and parsed strictly (a key given twice refused)."""
    return parse_json(read_input_text(path, str(path), MAX_MANIFEST_BYTES), str(path))


def check_manifest(manifest: Any, path: Path) -> dict[str, Any]:
    """The manifest of an exported folder, its structure checked once where it is read, so that
    every reader (engines, inspect, quantize, bench, serve) may index it: the three graphs and
    nothing else, each entry's keys of the right types, each graph file a plain `.onnx` name in
    the folder. Refused in one line naming `path` and the key."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("graphs"), dict):
        raise SiamMaskError(f"{path}: not a siammask manifest (no 'graphs')")
    graphs = manifest["graphs"]
    missing = [g for g in GRAPH_NAMES if g not in graphs]
    if missing:
        raise SiamMaskError(f"{path}: manifest names no {', '.join(missing)} graph")
    extra = [g for g in graphs if g not in GRAPH_NAMES]
    if extra:
        raise SiamMaskError(f"{path}: graphs holds {_quoted(extra[0])}, which is not one of {', '.join(GRAPH_NAMES)}")
    if manifest.get("package") != "siammask":
        raise SiamMaskError(f"{path}: not written by siammask")
    for key, kind in _OPTIONAL_TYPES.items():
        if key in manifest and (isinstance(manifest[key], bool) or not isinstance(manifest[key], kind)):
            raise SiamMaskError(f"{path}: '{key}' is {_kind(manifest[key])}, not {_kind_name(kind)}")
    files: dict[str, str] = {}
    for name in GRAPH_NAMES:
        file = _check_entry(graphs[name], name, path)
        if file in files:
            raise SiamMaskError(f"{path}: the {files[file]} and {name} graphs name the same file {_quoted(file)}")
        files[file] = name
    if "tracker_config" in manifest:
        try:
            TrackerConfig.from_dict(manifest["tracker_config"])
        except SiamMaskError as exc:
            raise SiamMaskError(f"{path}: 'tracker_config': {exc}") from None
    return manifest


def _check_entry(entry: Any, name: str, path: Path) -> str:
    """One graph's entry, checked; its file name."""
    if not isinstance(entry, dict):
        raise SiamMaskError(f"{path}: the {name} graph's entry is not an object")
    absent = [k for k in _ENTRY_TYPES if k not in entry]
    if absent:
        raise SiamMaskError(f"{path}: the {name} graph's entry lacks {', '.join(absent)}")
    for key, kind in _ENTRY_TYPES.items():
        if not isinstance(entry[key], kind):
            raise SiamMaskError(f"{path}: the {name} graph's '{key}' is {_kind(entry[key])}, not {_kind_name(kind)}")
    if entry["precision"] not in GRAPH_PRECISIONS:
        raise SiamMaskError(f"{path}: the {name} graph's 'precision' {_quoted(entry['precision'])} is not one of "
                            f"{', '.join(GRAPH_PRECISIONS)}")
    for key in ("inputs", "outputs"):
        for port, dims in entry[key].items():
            if not isinstance(dims, list) or not all(
                    isinstance(d, str) or (isinstance(d, int) and not isinstance(d, bool)) for d in dims):
                raise SiamMaskError(f"{path}: the {name} graph's '{key}' {_quoted(port)} is not a list of dimensions")
    if "fp32_layers" in entry and not (isinstance(entry["fp32_layers"], list)
                                       and all(isinstance(k, str) for k in entry["fp32_layers"])):
        raise SiamMaskError(f"{path}: the {name} graph's 'fp32_layers' is not a list of names")
    return _plain_graph_name(entry["file"], f"{path}: the {name} graph's 'file'")


def _plain_graph_name(file: str, what: str) -> str:
    """A graph file names one `.onnx` file in the model folder itself: no folder part, no '..',
    no absolute path (readers open and hash it, quantize writes it), nothing unprintable."""
    if ("/" in file or "\\" in file or not file.isprintable() or not encodable(file)
            or len(file.encode("utf-8")) > 200 or not file.endswith(".onnx") or file == ".onnx"):
        raise SiamMaskError(f"{what} {_quoted(file)} is not a plain .onnx file name in the model folder")
    return file


def _quoted(value: object) -> str:
    return printable(repr(str(value)[:80]))


def _kind(value: object) -> str:
    """A JSON value's type in JSON's words."""
    kinds = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"), (list, "a list"),
             (dict, "an object"))
    return "null" if value is None else next((w for t, w in kinds if isinstance(value, t)), type(value).__name__)


def _kind_name(kind: type) -> str:
    return {str: "a string", int: "an integer", dict: "an object"}.get(kind, kind.__name__)



def precision_string(manifest: dict[str, Any]) -> str:
    """A folder's precision as engines, eval's tracker names and bench spell it: its graphs'
    precisions sorted and joined by "+" (`fp32`, `fp16`, `fp32+int8` for a quantized folder)."""
    graphs = manifest["graphs"].values()
    return "+".join(sorted({g["precision"] for g in graphs if isinstance(g, dict)}))


def precision_parts(precision: str) -> list[str]:
    """The precisions a precision string holds (`fp32+int8` -> fp32, int8)."""
    return precision.split("+")


# name -> (inputs, outputs), each a list of (feed name, shape without the batch dimension)
Signature = tuple[list[tuple[str, list[int]]], list[tuple[str, list[int]]]]
GRAPHS: dict[str, Signature] = {
    "template": (
        [("exemplar", [3, 127, 127])],
        [("cls_kernel", [256, 5, 5]), ("loc_kernel", [256, 5, 5]), ("mask_kernel", [256, 5, 5])],
    ),
    "search": (
        [("search", [3, 255, 255]), ("cls_kernel", [256, 5, 5]), ("loc_kernel", [256, 5, 5])],
        [("cls", [10, 25, 25]), ("loc", [20, 25, 25]), ("xf", [256, 31, 31]), ("p0", [64, 157, 157]),
         ("p1", [256, 79, 79]), ("p2", [512, 39, 39])],
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

    manifest: dict[str, Any]
    _dtypes: dict[str, dict[str, Any]]  # graph -> feed name -> numpy dtype the graph takes

    @property
    def tracker_config(self) -> TrackerConfig:
        """The settings the export recorded."""
        return TrackerConfig.from_dict(self.manifest.get("tracker_config", {}))

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
