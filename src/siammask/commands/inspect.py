"""`siammask inspect FILE|DIR`: what a checkpoint or an exported folder holds, and what will run it."""

from __future__ import annotations

import argparse
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

HELP = "describe a checkpoint or an exported model folder"


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "inspect", HELP, __doc__, EXAMPLES)
    p.add_argument("path", metavar="FILE|DIR", help="a .pth checkpoint or a folder written by `siammask export`")
    p.add_argument("--json", action="store_true", help="print the description as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from siammask.deploy.describe import describe_checkpoint, describe_folder
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
