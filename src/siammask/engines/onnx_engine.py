"""ONNX Runtime engine: runs an exported folder with no PyTorch at all.

Loading checks the folder's Manifest (deploy/manifest.py) against the graphs it names (files
present, hashes, names, shapes, opset, package version) and says plainly what does not match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from siammask.deploy.graphs import GRAPH_NAMES, GraphCalls
from siammask.deploy.manifest import Manifest, graph_opset_note
from siammask.errors import SiamMaskError, first_line
from siammask.files import native_path

# provider preference when none is named: the fastest available first
PREFERRED_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
PROVIDER_ALIASES = {"tensorrt": "TensorrtExecutionProvider", "cuda": "CUDAExecutionProvider",
                    "cpu": "CPUExecutionProvider"}


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
        self, model: str | Path | Manifest, providers: str | list[str] | None = None, threads: int | None = None,
    ) -> None:
        """`model`: an exported folder, or its Manifest already read (a model load reads it once)."""
        import onnxruntime as ort

        self.manifest = model if isinstance(model, Manifest) else Manifest.read(model)
        self.folder = self.manifest.folder
        self.providers = resolve_providers(providers)
        self.precision = self.manifest.precision
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
            entry, path = self.manifest.graphs[name], self.manifest.graph_path(name)
            try:
                # native_path: ONNX Runtime's binding cannot take a name that is not UTF-8
                with native_path(path) as name_for_ort:
                    session = ort.InferenceSession(name_for_ort, options, providers=self.providers)
            except SiamMaskError:
                raise
            except Exception as exc:  # ORT raises its own exception types for bad files
                first = first_line(exc, 200)
                raise SiamMaskError(f"graph {path}: cannot be loaded ({first})"
                                    f"{graph_opset_note(path, self.manifest.opset)}") from None
            self._check_signature(name, session, entry)
            self.manifest.check_graph(name)
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
