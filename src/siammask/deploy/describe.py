"""What a checkpoint or an exported folder holds, and what this machine can run it with: the
figures `siammask inspect` prints (and --json writes)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from pathlib import Path
from typing import Any

from siammask.errors import SiamMaskError

_STATISTICS = ("running_mean", "running_var", "num_batches_tracked")


def describe_checkpoint(path: Path) -> dict[str, Any]:
    """Layout, counts, dtype, SHA-256, batch-norm state and default preset of a checkpoint."""
    try:
        from siammask.model.checkpoint import batchnorm_at_init, file_sha256, read_checkpoint
    except ModuleNotFoundError as exc:
        if exc.name == "torch":
            raise SiamMaskError("reading a .pth checkpoint needs PyTorch: pip install 'siammask[torch]'") from None
        raise
    from siammask.tracking.presets import preset_source

    ckpt = read_checkpoint(path)
    weights = {k: v for k, v in ckpt.state.items() if not k.endswith(_STATISTICS)}
    at_init, layers = batchnorm_at_init(ckpt.state)
    counters = sum(1 for k in ckpt.state if k.endswith("num_batches_tracked"))
    return {
        "kind": "checkpoint",
        "path": str(path),
        "sha256": file_sha256(path),
        "bytes": path.stat().st_size,
        "layout": ckpt.layout.name,
        "layout_description": ckpt.layout.description,
        "keys": ckpt.file_keys,
        "num_batches_tracked": counters,
        "parameters": sum(int(v.numel()) for v in weights.values()),
        "parameter_tensors": len(weights),
        "dtypes": sorted({str(v.dtype).removeprefix("torch.") for v in weights.values()}),
        "batchnorm_layers": layers,
        "batchnorm_at_init": at_init,
        "batchnorm": "none" if not layers else "untrained" if at_init == layers else "trained" if not at_init
        else "partly trained",
        "preset": ckpt.preset,
        "preset_source": preset_source(ckpt.preset),
    }


def describe_folder(folder: Path) -> dict[str, Any]:
    """The manifest of an exported folder, whether its graphs are the ones it names, and the backends here."""
    from siammask.deploy.graphs import GRAPH_NAMES, MANIFEST
    from siammask.deploy.manifest import Manifest

    if not os.path.lexists(folder / MANIFEST):
        raise SiamMaskError(f"{folder}: not an exported model folder (no {MANIFEST})")
    manifest = Manifest.read(folder)  # checked: every graph file a plain name in the folder
    graphs, problems = {}, []
    for name in GRAPH_NAMES:
        entry = manifest.graphs[name]
        try:
            manifest.check_graph(name)
            status = "matches the manifest"
        except SiamMaskError as exc:
            status = str(exc)
            problems.append(status)
        graphs[name] = {"file": entry["file"], "precision": entry.get("precision"), "status": status}
    quantization = manifest.data.get("quantization")
    return {
        "kind": "exported folder",
        "path": str(folder),
        "package_version": manifest.data.get("package_version"),
        "opset": manifest.opset,
        "graphs": graphs,
        "precisions": sorted({str(g["precision"]) for g in graphs.values()}),
        "quantization": quantization.get("encoding") if isinstance(quantization, dict) else None,
        "preset": manifest.data.get("preset", "unrecorded (exported before presets)"),
        "tracker_config": manifest.data.get("tracker_config", {}),
        "source_checkpoint": {k: v for k, v in manifest.checkpoint.items() if k in ("file", "sha256", "layout")},
        "backends": backends(),
        "problems": problems,
    }


def backends() -> dict[str, str]:
    """What this machine can run an export with (and, for torch, its source checkpoint)."""
    import onnxruntime

    found = {"onnxruntime": f"{onnxruntime.__version__} ({', '.join(onnxruntime.get_available_providers())})"}
    for name, role in (("torch", "runs the source checkpoint (--checkpoint)"),
                       ("openvino", "can read the ONNX graphs")):
        if importlib.util.find_spec(name) is None:  # found without importing it (torch takes seconds)
            found[name] = "not installed"
            continue
        try:
            found[name] = f"{importlib.metadata.version(name)}, {role}"
        except importlib.metadata.PackageNotFoundError:
            found[name] = f"installed, {role}"
    return found
