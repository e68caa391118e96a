"""The exported folder's manifest, owned here: read and checked once (`Manifest.read`), then asked
for its graphs, their files, precision, settings and source checkpoint; written by export and
quantize through `write_manifest`.

What a graph is called and what it takes is the graph contract (graphs.py); this module says what
a folder holding such graphs records about them, and refuses in one line what does not fit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siammask import __version__
from siammask.deploy.graphs import GRAPH_NAMES, GRAPH_PRECISIONS, MANIFEST, OPSET, SEARCH_INPUT
from siammask.errors import SiamMaskError, printable
from siammask.files import (
    check_input_file,
    encodable,
    file_sha256,
    json_text,
    read_input_text,
    unexpected_entries,
)
from siammask.io.ownership import entry_problem
from siammask.tracking.config import TrackerConfig, parse_json

SUPPORTED_OPSETS = (OPSET,)
# export writes ~3 KB, quantize ~10 KB: a manifest far larger is not one (and is not read whole)
MAX_MANIFEST_BYTES = 1 << 20
# the keys of a graph's entry -> the type each must have (export and quantize write these)
_ENTRY_TYPES: dict[str, type] = {"file": str, "sha256": str, "precision": str,
                                                    "inputs": dict, "outputs": dict}
_OPTIONAL_TYPES: dict[str, type] = {
    "format": int, "package_version": str, "opset": int, "preset": str, "checkpoint": dict,
    "tracker_config": dict, "quantization": dict, "calibration": dict,
}


@dataclass(frozen=True)
class Manifest:
    """An exported folder and its manifest, checked on reading (`read`): structure, package
    version, opset, plain graph file names. `data` is the JSON as written (quantize copies it)."""

    folder: Path
    data: dict[str, Any]

    @classmethod
    def read(cls, folder: str | Path) -> Manifest:
        return cls(Path(folder), read_manifest(folder))

    @property
    def path(self) -> Path:
        return self.folder / MANIFEST

    @property
    def graphs(self) -> dict[str, dict[str, Any]]:
        """Graph name -> its entry (file, sha256, precision, inputs, outputs[, fp32_layers])."""
        return self.data["graphs"]

    @property
    def opset(self) -> int:
        return int(self.data["opset"])

    @property
    def precision(self) -> str:
        """The graphs' precisions as engines, eval's tracker names and bench spell them: sorted and
        joined by "+" (`fp32`, `fp16`, `fp32+int8` for a quantized folder)."""
        return precision_string(self.data)

    @property
    def kind(self) -> str:
        """What the folder's graphs hold: int8 (any graph quantized), fp16, or fp32."""
        parts = precision_parts(self.precision)
        return "int8" if "int8" in parts else ("fp16" if parts == ["fp16"] else "fp32")

    @property
    def tracker_config(self) -> TrackerConfig:
        """The settings the export recorded (the defaults where it recorded none)."""
        return TrackerConfig.from_dict(self.data.get("tracker_config", {}))

    @property
    def wide_search(self) -> bool:
        """Whether the search graph takes crops of any size (exports since long-term tracking
        declare its spatial dims symbolic); earlier exports take 255x255 only."""
        dims = self.graphs["search"]["inputs"].get(SEARCH_INPUT, [])
        return len(dims) == 4 and all(isinstance(d, str) for d in dims[2:])

    @property
    def checkpoint(self) -> dict[str, Any]:
        """The source checkpoint as recorded (file, sha256, layout); {} where none was."""
        return dict(self.data.get("checkpoint", {}))

    @property
    def preset(self) -> str | None:
        return self.data.get("preset")

    def graph_path(self, name: str) -> Path:
        """Graph `name`'s file, refused when it is not there or not a regular file."""
        path = self.folder / self.graphs[name]["file"]  # a plain name: read_manifest checked it
        if not os.path.lexists(path):
            raise SiamMaskError(f"model folder {self.folder}: graph {path.name} missing")
        check_input_file(path, f"model folder {self.folder}: graph {path.name}")  # not a FIFO, device or folder
        return path

    def check_graph(self, name: str) -> Path:
        """Graph `name`'s file, which must be the very file the manifest describes (same SHA-256)."""
        path = self.graph_path(name)
        check_graph_file(path, self.graphs[name], self.opset)
        return path


def precision_string(manifest: dict[str, Any]) -> str:
    """A manifest's graph precisions sorted and joined by "+" (see Manifest.precision)."""
    graphs = manifest["graphs"].values()
    return "+".join(sorted({g["precision"] for g in graphs if isinstance(g, dict)}))


def precision_parts(precision: str) -> list[str]:
    """The precisions a precision string holds (`fp32+int8` -> fp32, int8)."""
    return precision.split("+")


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """The manifest of a folder being written (export, quantize), as JSON."""
    (folder / MANIFEST).write_text(json_text(manifest))


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """An exported folder's manifest JSON, checked: its structure (check_manifest: types, plain
    graph file names), the package version and opset, and that each graph file present is a
    regular file (a FIFO would hang the hash, a device never end it). A missing graph is left to
    `Manifest.graph_path`, so `inspect` can report it beside the others."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SiamMaskError(f"model folder {folder}: not a directory")
    path = folder / MANIFEST
    if not os.path.lexists(path):
        raise SiamMaskError(f"model folder {folder}: {MANIFEST} missing (export with `siammask export`)")
    manifest = check_manifest(load_manifest(path), path)
    version = " ".join(str(manifest.get("package_version", "?")).split())[:40]
    if version.split(".")[:2] != __version__.split(".")[:2]:
        raise SiamMaskError(f"{path}: exported by siammask {version}, this is {__version__}; export again")
    if manifest.get("opset") not in SUPPORTED_OPSETS:
        opset = " ".join(str(manifest.get("opset")).split())[:20]
        raise SiamMaskError(f"{path}: opset {opset} is not one this siammask exports "
                            f"({', '.join(map(str, SUPPORTED_OPSETS))}); export again")
    for name in GRAPH_NAMES:
        graph = folder / manifest["graphs"][name]["file"]
        if os.path.lexists(graph):
            check_input_file(graph, f"model folder {folder}: graph {graph.name}")
    return manifest


def export_owner_problem(folder: Path) -> str | None:
    """None when `folder` is an export siammask wrote and holds nothing else (so `--force` may
    replace it), else why not."""
    try:
        manifest = load_manifest(folder / MANIFEST)
    except SiamMaskError:
        return f"no readable {MANIFEST}"
    if not isinstance(manifest, dict) or manifest.get("package") != "siammask":
        return f"its {MANIFEST} is not siammask's"
    graphs = manifest.get("graphs") if isinstance(manifest.get("graphs"), dict) else {}
    files = [str(g.get("file")) for g in graphs.values() if isinstance(g, dict)]
    return unexpected_entries(folder, [MANIFEST, *files])


def export_folder_problem(folder: str | Path) -> str | None:
    """None when `folder` is an export (or INT8 folder) siammask wrote, unchanged: its manifest is
    siammask's (export_owner_problem), and every graph file it names is a
    regular file, not a link or a folder of the user's, with the SHA-256 the manifest records."""
    folder = Path(folder)
    problem = export_owner_problem(folder)
    if problem:
        return problem
    graphs = load_manifest(folder / MANIFEST)["graphs"]
    hashes = {str(g.get("file")): g.get("sha256") for g in graphs.values() if isinstance(g, dict)}
    for name in hashes:
        if name in ("", ".", "..") or name != Path(name).name:
            return f"its manifest names {name!r}, not a file of the folder"
        problem = entry_problem(folder / name, name, hashes, set())
        if problem:
            return problem
    return None


def _graph_opset(path: Path) -> str:
    """The default-domain opset a graph file declares, when the onnx package is at hand."""
    try:
        import onnx

        model = onnx.load(str(path), load_external_data=False)
        return next((str(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), "?")
    except Exception:  # onnx absent (a torch-free runtime) or an unreadable file
        return "?"


def check_graph_file(path: Path, entry: dict[str, Any], opset: int) -> None:
    """The graph is the very file the manifest describes: same SHA-256 (so same weights, opset)."""
    if file_sha256(path) != str(entry.get("sha256")):
        found = _graph_opset(path)
        detail = f"; it declares opset {found}, the manifest {opset}" if found not in ("?", str(opset)) else ""
        raise SiamMaskError(f"graph {path.name}: sha256 differs from the manifest's (a graph from another "
                            f"export, or edited){detail}; export again")


def graph_opset_note(path: Path, opset: int) -> str:
    """'; it declares opset N' when graph `path` declares another opset than the manifest's."""
    found = _graph_opset(path)
    return f"; it declares opset {found}" if found not in ("?", str(opset)) else ""


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
