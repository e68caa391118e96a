"""ONNX Runtime engine: runs an exported folder with no PyTorch at all.

Loading checks the manifest against the graphs it names (files present, hashes, names, shapes,
opset, package version) and says plainly what does not match.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from siammask import __version__
from siammask.deploy.graphs import (
    GRAPH_NAMES,
    MANIFEST,
    OPSET,
    GraphCalls,
    check_manifest,
    load_manifest,
    precision_string,
)
from siammask.errors import SiamMaskError, first_line
from siammask.io.files import check_input_file, file_sha256, native_path, unexpected_entries

SUPPORTED_OPSETS = (OPSET,)
# provider preference when none is named: the fastest available first
PREFERRED_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
PROVIDER_ALIASES = {"tensorrt": "TensorrtExecutionProvider", "cuda": "CUDAExecutionProvider",
                    "cpu": "CPUExecutionProvider"}


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """An exported folder's manifest, checked: its structure (graphs.check_manifest: types, plain
    graph file names), the package version and opset, and that each graph file present is a
    regular file (a FIFO would hang the hash, a device never end it). A missing graph is left to
    `graph_file`, so `inspect` can report it beside the others."""
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


def graph_file(folder: Path, manifest: dict[str, Any], name: str) -> tuple[dict[str, Any], Path]:
    """The manifest's entry for graph `name` and its file, refused when the file is not there."""
    entry = manifest["graphs"][name]
    path = folder / entry["file"]  # a plain name: read_manifest checked it
    if not os.path.lexists(path):
        raise SiamMaskError(f"model folder {folder}: graph {path.name} missing")
    check_input_file(path, f"model folder {folder}: graph {path.name}")  # not a FIFO, device or folder
    return entry, path


def check_ports(name: str, kind: str, actual: dict[str, Any], declared: dict[str, Any]) -> None:
    """A graph's inputs or outputs (name -> dims; any symbolic dim counts as the batch) against the
    manifest's."""
    got = {k: [d if isinstance(d, int) else "batch" for d in v] for k, v in actual.items()}
    want = {k: [d if isinstance(d, int) else "batch" for d in v] for k, v in declared.items()}
    if got != want:
        raise SiamMaskError(f"graph {name}: {kind}s {got} do not match the manifest's {want}")


def resolve_providers(requested: str | list[str] | None) -> list[str]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if requested in (None, "auto"):
        return [p for p in PREFERRED_PROVIDERS if p in available] or available
    names = [requested] if isinstance(requested, str) else list(requested)
    chosen = []
    for name in names:
        full = PROVIDER_ALIASES.get(name.lower(), name)
        if full not in available:
            raise SiamMaskError(f"execution provider {name!r} is not available here (available: "
                                f"{', '.join(available)})")
        chosen.append(full)
    if "CPUExecutionProvider" not in chosen:
        chosen.append("CPUExecutionProvider")
    return chosen


class OnnxEngine(GraphCalls):
    name = "onnxruntime"

    def __init__(
        self, folder: str | Path, providers: str | list[str] | None = None, threads: int | None = None,
    ) -> None:
        import onnxruntime as ort

        self.folder = Path(folder)
        self.manifest = read_manifest(self.folder)
        self.providers = resolve_providers(providers)
        self.precision = precision_string(self.manifest)
        # Session settings measured with scripts/ort_settings.py (docs/int8.md, "Session settings"):
        # ORT_ENABLE_ALL is fastest for fp32 (NCHWc convolutions) and INT8 (QDQ fused to QLinearConv,
        # NHWC layout; "basic" leaves INT8 slower than fp32); memory arena/pattern and parallel
        # execution made no difference or were slower. Idle pool threads do not spin: on a machine
        # whose cores are shared, spinning workers fight the busy ones (2 threads spinning were
        # 1.4-1.6x slower than 2 not spinning, fp32 and INT8 alike).
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self.sessions: dict[str, Any] = {}
        self._dtypes: dict[str, dict[str, Any]] = {}
        for name in GRAPH_NAMES:
            entry, path = graph_file(self.folder, self.manifest, name)
            try:
                # native_path: ONNX Runtime's binding cannot take a name that is not UTF-8
                with native_path(path) as name_for_ort:
                    session = ort.InferenceSession(name_for_ort, options, providers=self.providers)
            except SiamMaskError:
                raise
            except Exception as exc:  # ORT raises its own exception types for bad files
                first = first_line(exc, 200)
                found = _graph_opset(path)
                opset = f"; it declares opset {found}" if found not in ("?", str(self.manifest["opset"])) else ""
                raise SiamMaskError(f"graph {path}: cannot be loaded ({first}){opset}") from None
            self._check_signature(name, session, entry)
            check_graph_file(path, entry, self.manifest["opset"])
            self.sessions[name] = session
            self._dtypes[name] = {i.name: np.float16 if "float16" in i.type else np.float32
                                  for i in session.get_inputs()}

    def _check_signature(self, name: str, session: Any, entry: dict[str, Any]) -> None:
        for kind, declared, actual in (
            ("input", entry.get("inputs", {}), session.get_inputs()),
            ("output", entry.get("outputs", {}), session.get_outputs()),
        ):
            check_ports(name, kind, {a.name: a.shape for a in actual}, declared)

    def _infer(self, name: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.sessions[name].run(None, feeds)
