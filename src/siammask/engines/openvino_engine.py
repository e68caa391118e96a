"""OpenVINO engine: the same exported folder (ONNX graphs + manifest), run by OpenVINO.

Why OpenVINO beside ONNX Runtime: on CPUs with bf16 matrix units (AVX512-BF16, AMX) its
inference-precision hint runs the fp32 graphs in bf16 with no second export, and it runs our
QDQ INT8 graphs on VNNI/AMX (figures in docs/engines.md). The folder is the one ONNX Runtime
reads: the manifest is checked the same way (read_manifest, check_graph_file), so there is no
second export format to keep in step.

Precision is the user's choice, refused in one line when the device cannot give it:
  fp32  the graphs as exported, computed in f32 (the hint is set explicitly: OpenVINO's default
        on a bf16-capable CPU is bf16, which would silently give up reference parity);
  bf16  an fp32 folder, computed in bf16 where the device lists BF16;
  fp16  an fp32 or fp16 folder, computed in f16 where the device lists FP16 (GPUs);
  int8  a `siammask quantize` folder (QDQ graphs); the layers it kept fp32 stay f32.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from siammask.deploy.graphs import GRAPH_NAMES, GraphCalls, precision_string
from siammask.engines.onnx_engine import check_graph_file, check_ports, graph_file, read_manifest
from siammask.errors import SiamMaskError, first_line

PRECISIONS = ("fp32", "bf16", "fp16", "int8")
# OpenVINO's OPTIMIZATION_CAPABILITIES names -> ours
_CAPABILITY_NAMES = {"FP32": "fp32", "BF16": "bf16", "FP16": "fp16", "INT8": "int8"}
_HINTS = {"fp32": "f32", "bf16": "bf16", "fp16": "f16", "int8": "f32"}
CACHE_ENV = "SIAMMASK_OPENVINO_CACHE"  # a folder; empty: no model cache


def cache_root() -> Path | None:
    """Where compiled models are kept: $SIAMMASK_OPENVINO_CACHE, else the per-user cache folder."""
    override = os.environ.get(CACHE_ENV)
    if override is not None:
        return Path(override).expanduser() if override.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "siammask" / "openvino"


def folder_kind(manifest: dict[str, Any]) -> str:
    """What the folder's graphs hold: int8 (any graph quantized), fp16, or fp32."""
    precisions = {g["precision"] for g in manifest["graphs"].values()}
    if "int8" in precisions:
        return "int8"
    return "fp16" if precisions == {"fp16"} else "fp32"


def device_precisions(core: Any, device: str) -> list[str]:
    """The precisions (our names) the device lists in OPTIMIZATION_CAPABILITIES."""
    capabilities = core.get_property(device, "OPTIMIZATION_CAPABILITIES")
    return [ours for theirs, ours in _CAPABILITY_NAMES.items() if theirs in capabilities]


def device_label(core: Any, device: str) -> str:
    try:
        name = " ".join(str(core.get_property(device, "FULL_DEVICE_NAME")).split())
    except Exception:  # a plugin without the property: its short name is enough
        name = ""
    return f"this {device} ({name})" if name else f"this {device}"


def check_device(core: Any, device: str) -> str:
    """The device name as OpenVINO spells it, refused when this machine has no such device."""
    available = list(core.available_devices)
    wanted = device.upper()
    if not any(d == wanted or d.split(".")[0] == wanted for d in available):
        raise SiamMaskError(f"OpenVINO device {device!r} is not available here (available: {', '.join(available)})")
    return wanted


def resolve_precision(core: Any, device: str, kind: str, requested: str | None) -> str:
    """The precision to run a folder of `kind` in; refuses what the folder or the device cannot give."""
    if requested is not None and requested not in PRECISIONS:
        raise SiamMaskError(f"unknown precision {requested!r} (choose from {', '.join(PRECISIONS)})")
    wanted = requested or kind
    if kind == "int8" and wanted != "int8":
        raise SiamMaskError(f"this folder holds INT8 graphs (`siammask quantize`), not {wanted}: "
                            "pass the fp32 export for fp32/bf16/fp16")
    if wanted == "int8" and kind != "int8":
        raise SiamMaskError(f"int8 runs a `siammask quantize` folder; this one holds {kind} graphs")
    if kind == "fp16" and wanted != "fp16":
        raise SiamMaskError(f"this folder holds fp16 graphs, not {wanted}: pass the fp32 export")
    offered = device_precisions(core, device)
    if wanted in ("bf16", "fp16") and wanted not in offered:
        raise SiamMaskError(f"{wanted} is not offered by {device_label(core, device)}: it offers "
                            f"{', '.join(offered)}")
    return wanted


def _port_name(port: Any, declared: dict[str, Any]) -> str:
    """The port's name as the manifest spells it: OpenVINO may keep several names for one tensor
    (an output also carries the name of the node that made it) and any one of them is `any_name`."""
    names = port.get_names()
    return next((n for n in declared if n in names), port.get_any_name())


def _dims(shape: Any) -> list[int | str]:
    return ["batch" if d.is_dynamic else d.get_length() for d in shape]


class OpenVinoEngine(GraphCalls):
    name = "openvino"

    def __init__(
        self, folder: str | Path, precision: str | None = None, device: str = "CPU", threads: int | None = None,
        cache_dir: str | Path | None | bool = True,
    ) -> None:
        """`cache_dir`: True for cache_root(), a folder, or None/False for no model cache."""
        import openvino as ov

        self.folder = Path(folder)
        self.manifest = read_manifest(self.folder)
        core = ov.Core()
        self.device = check_device(core, device)
        kind = folder_kind(self.manifest)
        self.requested_precision = resolve_precision(core, self.device, kind, precision)
        # the engine's precision string as ONNX Runtime's engine writes it (`fp32+int8` for a
        # quantized folder), except that a hint which changes the arithmetic names the arithmetic
        exact = self.requested_precision in ("fp32", "int8")
        self.precision = precision_string(self.manifest) if exact else self.requested_precision
        config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": _HINTS[self.requested_precision],
            # one stream, all threads on the one request: the tracker's calls are sequential
            "PERFORMANCE_HINT": "LATENCY",
        }
        if threads:
            config["INFERENCE_NUM_THREADS"] = int(threads)
        root = cache_root() if cache_dir is True else (Path(cache_dir) if cache_dir else None)
        self.cache_dir: Path | None = None
        self._core = core
        self._models: dict[str, Any] = {}
        self._configs: dict[str, dict[str, Any]] = {}
        self._compiled: dict[tuple[str, int], Any] = {}
        self._compile_lock = threading.Lock()
        self._dtypes: dict[str, dict[str, Any]] = {}
        for name in GRAPH_NAMES:
            entry, path = graph_file(self.folder, self.manifest, name)
            # hash first: the graph read is the one the manifest vouches for, and the cache folder
            # below is named by that hash, so a graph replaced in place never meets an old blob
            check_graph_file(path, entry, self.manifest["opset"])
            graph_config = dict(config)
            cache = self._cache_for(root, str(entry["sha256"]))
            if cache is not None:
                graph_config["CACHE_DIR"] = str(cache)
                self.cache_dir = cache.parent
            try:
                model = core.read_model(str(path))
            except Exception as exc:  # OpenVINO raises RuntimeError with many-line messages
                raise SiamMaskError(f"graph {path}: OpenVINO cannot read it ({first_line(exc, 200)})") from None
            self._check_signature(name, model, entry)
            self._models[name] = model
            self._configs[name] = graph_config
            inputs = entry["inputs"]
            self._dtypes[name] = {_port_name(i, inputs): i.get_element_type().to_dtype() for i in model.inputs}
            # batch 1 now: a graph OpenVINO cannot compile is refused at load, not mid-sequence
            self._compiled_for(name, 1)

    def _compiled_for(self, name: str, batch: int) -> Any:
        """The graph compiled for a static batch size, compiled on first use. Static shapes because
        OpenVINO's CPU plugin runs them faster than the dynamic batch the graphs are exported with
        (INT8 search 28.6 vs 30.7 ms, bf16 39.5 vs 42.3, 2 threads: docs/engines.md); compiling
        one takes 0.2-0.5 s and K (targets) rarely changes during a sequence."""
        key = (name, batch)
        compiled = self._compiled.get(key)
        if compiled is not None:
            return compiled
        with self._compile_lock:
            if key not in self._compiled:
                model = self._models[name].clone()
                model.reshape({port: [batch, *list(port.get_partial_shape())[1:]] for port in model.inputs})
                try:
                    self._compiled[key] = self._core.compile_model(model, self.device, self._configs[name])
                except Exception as exc:
                    raise SiamMaskError(
                        f"graph {name} of {self.folder}: OpenVINO cannot compile it ({first_line(exc, 200)})"
                    ) from None
            return self._compiled[key]

    @staticmethod
    def _cache_for(root: Path | None, sha256: str) -> Path | None:
        if root is None:
            return None
        folder = root / sha256[:16]
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:  # a read-only home: compile every start rather than fail
            return None
        return folder if os.access(folder, os.W_OK) else None

    def _check_signature(self, name: str, model: Any, entry: dict[str, Any]) -> None:
        for kind, declared, actual in (
            ("input", entry.get("inputs", {}), model.inputs),
            ("output", entry.get("outputs", {}), model.outputs),
        ):
            check_ports(name, kind, {_port_name(a, declared): _dims(a.get_partial_shape()) for a in actual}, declared)

    @property
    def loaded_from_cache(self) -> bool:
        """True when every graph came from the model cache (no compilation this start)."""
        return all(bool(c.get_property("LOADED_FROM_CACHE")) for c in self._compiled.values())

    def _infer(self, name: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        batch = int(next(iter(feeds.values())).shape[0])
        compiled = self._compiled_for(name, batch)
        # A fresh request per call, its outputs handed out without a copy (share_outputs): each
        # call's arrays own their buffers, so nothing is overwritten by the next call or another
        # thread, and the 10 MB of search features are not copied (search 26 -> 23.5 ms, INT8).
        request = compiled.create_infer_request()
        result = request.infer(feeds, share_inputs=True, share_outputs=True)
        return [result[o] for o in compiled.outputs]
