"""Export the network as three ONNX graphs and a manifest (needs the `torch` extra).

template.onnx  exemplar (K,3,127,127)                       -> cls/loc/mask kernels (K,256,5,5)
search.onnx    search (K,3,255,255), cls/loc kernels        -> cls, loc, xf, padded p0/p1/p2
refine.onnx    one cell's windows of xf/p0/p1/p2, mask kernel -> mask probabilities (K,127,127)

The cell choice and the window cut stay outside the graphs (numpy slices of the search outputs):
they depend on the decoded score, which is host-side anyway, and slicing costs microseconds.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from siammask import __version__
from siammask.deploy.graphs import FORMAT_VERSION, GRAPHS, OPSET, normal_shape
from siammask.deploy.manifest import export_folder_problem, write_manifest
from siammask.errors import SiamMaskError, first_line
from siammask.files import check_output_folder, file_sha256, staged_folder
from siammask.model.checkpoint import read_checkpoint
from siammask.model.network import SiamMaskNet
from siammask.tracking.config import TrackerConfig
from siammask.tracking.presets import chosen_settings, matching_preset


# name -> (inputs [(name, shape without batch)], outputs [(name, shape without batch)])
class _Template(nn.Module):
    def __init__(self, net: SiamMaskNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.net.template(z)


class _Search(nn.Module):
    def __init__(self, net: SiamMaskNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, cls_k: torch.Tensor, loc_k: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.net.search(x, cls_k, loc_k)


class _Refine(nn.Module):
    def __init__(self, net: SiamMaskNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, xf_w: torch.Tensor, mask_k: torch.Tensor, p0_w: torch.Tensor, p1_w: torch.Tensor,
                p2_w: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net.refine(xf_w, mask_k, p0_w, p1_w, p2_w))


def _export_graph(module: nn.Module, name: str, half: bool) -> Any:
    """The graph as an onnx ModelProto, built in memory: no path reaches the exporter's native
    code, which cannot take a name that is not UTF-8 (pybind11's TypeError then prints every
    argument, the weights included: 5,000 lines) and hides a failed write's cause."""
    import onnx

    inputs, outputs = GRAPHS[name]
    dtype = torch.float16 if half else torch.float32
    examples = tuple(torch.rand(1, *normal_shape(shape), dtype=dtype) * (255 if i == 0 and name != "refine" else 1)
                     for i, (_, shape) in enumerate(inputs))
    names_in = [n for n, _ in inputs]
    names_out = [n for n, _ in outputs]
    # the batch, and the search graph's spatial dims (long-term's wide search), stay symbolic
    dynamic = {n: {0: "batch", **{i + 1: d for i, d in enumerate(shape) if isinstance(d, str)}}
               for n, shape in inputs + outputs}
    buffer = io.BytesIO()
    torch.onnx.export(
        module, examples, buffer, input_names=names_in, output_names=names_out, opset_version=OPSET,
        dynamic_axes=dynamic, do_constant_folding=True, dynamo=False,
    )
    return onnx.load_model_from_string(buffer.getvalue())


def _declare_shapes(model: Any, shapes: list[tuple[str, list[int]]]) -> None:
    """Write each input's and output's full shape (batch symbolic) into the graph; the exporter
    leaves some spatial dims symbolic after the correlation's slices."""
    wanted = dict(shapes)
    for value in list(model.graph.input) + list(model.graph.output):
        if value.name not in wanted:
            continue
        dims = value.type.tensor_type.shape.dim
        for i, size in enumerate(["batch", *wanted[value.name]]):
            dims[i].Clear()
            if isinstance(size, int):
                dims[i].dim_value = size
            else:
                dims[i].dim_param = size


def export(
    checkpoint: str | Path, output: str | Path, config: TrackerConfig | None = None, half: bool = False,
    model: SiamMaskNet | None = None, force: bool = False, preset: str | None = None,
) -> Path:
    """Write template/search/refine ONNX graphs and manifest.json into `output` (atomically).

    Settings: `config` if given, else the `preset`, else the checkpoint layout's default preset.
    The manifest records the layout and the preset the settings equal ("custom" if none)."""
    checkpoint = Path(checkpoint)
    output = Path(output)
    check_output_folder(output, force, export_folder_problem)  # only an unchanged export of ours
    loaded = read_checkpoint(checkpoint) if model is None else None
    net = (model if loaded is None else loaded.model()).eval()
    if half:
        net = net.half()
    preset = preset or (loaded.preset if loaded is not None else "vot")
    config = chosen_settings(config, preset)
    recorded = matching_preset(config, prefer=preset) or "custom"
    try:
        _write_folder(output, net, half, checkpoint, loaded.layout.name if loaded is not None else "unknown",
                      recorded, config)
    except OSError as exc:  # a full disk, a file-size limit, a folder made read-only meanwhile
        raise SiamMaskError(f"--output {output}: cannot be written ({exc.strerror or first_line(exc)}); "
                            "nothing was left there") from None
    return output


def _write_folder(
    output: Path, net: SiamMaskNet, half: bool, checkpoint: Path, layout: str, recorded: str, config: TrackerConfig,
) -> None:
    """The three graphs and the manifest, written into a staging folder that becomes `output`
    only when all are written (every write by Python: a failure is an OSError, nothing half)."""
    import onnx

    with staged_folder(output) as staging:
        graphs: dict[str, Any] = {}
        for name, wrapper in (("template", _Template), ("search", _Search), ("refine", _Refine)):
            path = staging / f"{name}.onnx"
            # the exporter warns about its own internals (shape inference, deprecations)
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = _export_graph(wrapper(net), name, half)
            inputs, outputs = GRAPHS[name]
            _declare_shapes(model, inputs + outputs)
            onnx.checker.check_model(model)
            path.write_bytes(model.SerializeToString())
            graphs[name] = {
                "file": path.name,
                "sha256": file_sha256(path),
                "precision": "fp16" if half else "fp32",
                "inputs": {n: ["batch", *s] for n, s in inputs},
                "outputs": {n: ["batch", *s] for n, s in outputs},
            }
        manifest = {
            "format": FORMAT_VERSION,
            "package": "siammask",
            "package_version": __version__,
            "opset": OPSET,
            "checkpoint": {"file": checkpoint.name, "sha256": file_sha256(checkpoint), "layout": layout},
            "graphs": graphs,
            "preset": recorded,
            "tracker_config": config.to_dict(),
        }
        write_manifest(staging, manifest)
