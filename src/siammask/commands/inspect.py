"""`siammask inspect FILE|DIR`: what a checkpoint or an exported folder holds, and what will run it."""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
from pathlib import Path
from typing import Any

from siammask.commands.options import add_command
from siammask.errors import SiamMaskError, printable

EXAMPLES = """examples:
  siammask inspect SiamMask_VOT.pth          layout, keys, parameters, dtype, SHA-256, batch-norm, preset
  siammask inspect model.pth                 pysot's siammask_r50_l3 file: layout pysot, preset pysot
  siammask inspect models/siammask_vot       an exported folder: graphs, precisions, opset, settings, source
  siammask inspect models/siammask_vot --json
"""

_STATISTICS = ("running_mean", "running_var", "num_batches_tracked")


HELP = "describe a checkpoint or an exported model folder"


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "inspect", HELP, __doc__, EXAMPLES)
    p.add_argument("path", metavar="FILE|DIR", help="a .pth checkpoint or a folder written by `siammask export`")
    p.add_argument("--json", action="store_true", help="print the description as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from siammask.engines.openvino_engine import cache_summary
    from siammask.files import json_text

    path = Path(args.path)
    if path.exists() and not (path.is_dir() or path.is_file()):
        raise SiamMaskError(f"{path}: neither a regular file nor a folder")
    info = describe_folder(path) if path.is_dir() else describe_checkpoint(path)
    info["openvino_cache"] = cache_summary()  # where compiled graphs go, how much they hold, its cap
    # every line holds strings from the file (a manifest's version, file names, settings) and the
    # user's path: control characters in them are shown escaped, never sent to the terminal
    # (JSON escapes them itself)
    print(json_text(info).rstrip() if args.json else "\n".join(printable(line) for line in _lines(info)))
    return 1 if info.get("problems") else 0


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
    from siammask.errors import SiamMaskError

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


def _lines(info: dict[str, Any]) -> list[str]:
    if info["kind"] == "checkpoint":
        bn = {"none": "no batch-norm layers", "trained": "trained statistics in every layer",
              "untrained": "UNTRAINED: every layer holds its initial statistics (running_mean 0, running_var 1)",
              "partly trained": "partly trained: those layers hold their initial statistics (running_mean 0, "
                                "running_var 1)"}[info["batchnorm"]]
        return [
            f"checkpoint   {info['path']} ({info['bytes']:,} bytes)",
            f"sha256       {info['sha256']}",
            f"layout       {info['layout']}: {info['layout_description']}",
            f"keys         {info['keys']} ({info['num_batches_tracked']} num_batches_tracked)",
            f"parameters   {info['parameters']:,} in {info['parameter_tensors']} tensors",
            f"dtype        {', '.join(info['dtypes'])}",
            f"batch-norm   {info['batchnorm_layers']} layers, {info['batchnorm_at_init']} at init: {bn}",
            f"preset       {info['preset']} ({info['preset_source']})",
            info["openvino_cache"],
        ]
    settings = ", ".join(f"{k} {v}" for k, v in info["tracker_config"].items()) if isinstance(
        info["tracker_config"], dict) else str(info["tracker_config"])
    source = info["source_checkpoint"]
    lines = [
        f"exported folder  {info['path']} (siammask {info['package_version']}, opset {info['opset']})",
        *(f"graph {n:<10} {g['file']} {g['precision']}: {g['status']}" for n, g in info["graphs"].items()),
        f"precisions       {', '.join(info['precisions'])}"
        + (f" (quantization {info['quantization']})" if info["quantization"] else ""),
        f"preset           {info['preset']}",
        f"settings         {settings}",
        f"source           {source.get('file', '?')} sha256 {source.get('sha256', '?')}, layout "
        f"{source.get('layout', 'unrecorded')}",
        *(f"backend {n:<8} {v}" for n, v in info["backends"].items()),
        info["openvino_cache"],
    ]
    return lines
