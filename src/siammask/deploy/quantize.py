"""INT8 graphs from an fp32 export, with ONNX Runtime's static QDQ quantization.

Why it is built this way (the measurements behind each choice are in docs/int8.md):

* Calibration feeds the graphs what they really see: the fp32 tracker runs the supervised protocol
  over the calibration sequences through a recording proxy, and the crops (and kernels, and refine
  windows) it passes to the engine become the calibration set. Random tensors would calibrate the
  activations of images nobody tracks.
* Only the search graph is quantized by default. It is ~33 GFLOP of the ~34 a frame costs. The
  template graph runs once per target, so INT8 would save nothing per frame while its error would
  shift every later decision; the refine graph is small and its error moves the mask polygon.
* Inside the search graph the depth-wise correlations (the multiply-adds whose kernels come from
  the template) stay fp32: their second operand is a graph input whose range depends on the
  target, and they are cheap. Which convolutions stay fp32 besides comes from the per-layer
  sensitivity measurement (scripts/int8_sensitivity.py): layers whose error changes decisions.
* Weights are per channel, activations uint8 (asymmetric, they follow ReLUs), weights int8: the
  U8S8 kernels are ONNX Runtime's fast x86 path.
"""

from __future__ import annotations

import errno
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from siammask.deploy.graphs import GRAPH_NAMES, MANIFEST, cut_windows, refine_feeds, search_feeds, template_feeds
from siammask.deploy.manifest import Manifest, write_manifest
from siammask.engine_contract import Engine, EngineProxy, SearchResult, TemplateKernels
from siammask.errors import SiamMaskError
from siammask.files import file_sha256, staged_folder

DEFAULT_FRAMES = 64
DEFAULT_GRAPHS = ("search",)
# weight/activation encodings: (activation type, weight type, reduce_range)
FORMATS = {
    "u8s8": ("QUInt8", "QInt8", False),
    "u8s8-reduced": ("QUInt8", "QInt8", True),
    "u8u8": ("QUInt8", "QUInt8", False),
}
DEFAULT_FORMAT = "u8s8"
# Op types handed to the quantizer. Add/Mul are not listed: the only Mul/Add outside the residual
# connections are the correlations, and the residual Adds are cheap in fp32.
DEFAULT_OP_TYPES = ("Conv",)
# Convolutions kept fp32 (docs/int8.md, "Sensitivity"): the ones whose INT8 error moves decisions
# most for what they cost. conv1 (3 input channels) is even faster in fp32; the adjust layer and
# the heads are where the correlation's cancellation amplifies error, and they cost ~5 ms fp32.
DEFAULT_KEEP_FP32: tuple[str, ...] = ("conv1", "adjust", "cls.head.0", "cls.head.3", "loc.head.0", "loc.head.3")
CALIBRATE_METHOD = "MinMax"


# --------------------------------------------------------------------------------------------
# calibration data: the fp32 tracker's real engine inputs
# --------------------------------------------------------------------------------------------
class RecordingEngine(EngineProxy):
    """An engine proxy that keeps each call's graph feeds; the tracker sees an ordinary engine."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.feeds: dict[str, list[dict[str, np.ndarray]]] = {name: [] for name in GRAPH_NAMES}

    def template(self, z: np.ndarray) -> TemplateKernels:
        self.feeds["template"].extend(template_feeds(z[k : k + 1].astype(np.float32)) for k in range(len(z)))
        return super().template(z)

    def search(self, x: np.ndarray, kernels: TemplateKernels) -> SearchResult:
        for k in range(len(x)):
            one = TemplateKernels(kernels.cls[k : k + 1].copy(), kernels.loc[k : k + 1].copy(), kernels.mask[k : k + 1])
            self.feeds["search"].append(search_feeds(x[k : k + 1].astype(np.float32), one))
        return super().search(x, kernels)

    def refine(
        self, search: SearchResult, kernels: TemplateKernels, rows: np.ndarray, cols: np.ndarray
    ) -> np.ndarray:
        windows = cut_windows(*search.features, rows, cols)
        for k in range(len(rows)):
            mine = tuple(w[k : k + 1].astype(np.float32) for w in windows)
            self.feeds["refine"].append(refine_feeds(mine, kernels.mask[k : k + 1].copy()))
        return super().refine(search, kernels, rows, cols)


@dataclass
class CalibrationSet:
    """Recorded feeds per graph, and where they came from."""

    feeds: dict[str, list[dict[str, np.ndarray]]]
    dataset: str
    sequences: dict[str, int] = field(default_factory=dict)  # name -> search crops recorded

    @property
    def frames(self) -> int:
        return len(self.feeds["search"])

    def sha256(self) -> str:
        """Hash of every recorded tensor in order: two quantizations used the same data iff equal."""
        digest = hashlib.sha256()
        for name in GRAPH_NAMES:
            for feed in self.feeds[name]:
                for key in sorted(feed):
                    digest.update(key.encode())
                    digest.update(np.ascontiguousarray(feed[key], dtype=np.float32).tobytes())
        return digest.hexdigest()

    def save(self, path: str | Path) -> None:
        """Keep the set as one .npz (for repeated experiments: scripts/int8_sensitivity.py)."""
        arrays = {f"{g}/{i}/{k}": v for g in GRAPH_NAMES for i, feed in enumerate(self.feeds[g])
                  for k, v in feed.items()}
        meta = json.dumps({"dataset": self.dataset, "sequences": self.sequences})
        np.savez(path, __meta__=np.frombuffer(meta.encode(), dtype=np.uint8), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> CalibrationSet:
        with np.load(path) as data:
            meta = json.loads(bytes(data["__meta__"]).decode())
            feeds: dict[str, dict[int, dict[str, np.ndarray]]] = {g: {} for g in GRAPH_NAMES}
            for key in data.files:
                if key == "__meta__":
                    continue
                graph, index, name = key.split("/")
                feeds[graph].setdefault(int(index), {})[name] = data[key]
        ordered = {g: [feeds[g][i] for i in sorted(feeds[g])] for g in GRAPH_NAMES}
        return cls(ordered, meta["dataset"], meta["sequences"])


def frame_shares(frames: int, sequences: int) -> list[int]:
    """`frames` spread over the sequences as evenly as possible (first ones get the remainder)."""
    return [frames // sequences + (1 if i < frames % sequences else 0) for i in range(sequences)]


class FeedReader:
    """onnxruntime.quantization's CalibrationDataReader over recorded feeds (batch of one each)."""

    def __init__(self, feeds: list[dict[str, np.ndarray]]) -> None:
        self.feeds = feeds
        self._it: Iterator[dict[str, np.ndarray]] = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)

    def rewind(self) -> None:
        self._it = iter(self.feeds)

    def __len__(self) -> int:
        return len(self.feeds)

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        return iter(self.feeds)

    def set_range(self, start_index: int, end_index: int) -> None:
        self._it = iter(self.feeds[start_index:end_index])


# --------------------------------------------------------------------------------------------
# the quantization of one graph
# --------------------------------------------------------------------------------------------
def preprocess(src: str | Path, dst: str | Path) -> Path:
    """ONNX Runtime's recommended pre-processing: shape inference and graph clean-up, so that the
    quantizer sees folded constants and full shapes."""
    from onnxruntime.quantization import quant_pre_process

    quant_pre_process(str(src), str(dst), skip_symbolic_shape=True)
    return Path(dst)


def correlation_nodes(model: Any, kernel_inputs: Iterable[str]) -> list[str]:
    """Names of the nodes computing from a kernel input (the correlations' slices, multiplies and
    adds), up to the first Conv: what must stay fp32 whatever the op types quantized."""
    consumers: dict[str, list[Any]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    seen: dict[str, None] = {}
    todo = list(kernel_inputs)
    while todo:
        tensor = todo.pop()
        for node in consumers.get(tensor, []):
            if node.op_type == "Conv" or node.name in seen:
                continue
            seen[node.name] = None
            todo.extend(node.output)
    return list(seen)


def conv_roles(model: Any) -> dict[str, str]:
    """Conv node name -> a readable role: `layer3.0.conv2`, `layer2.0.downsample`, `adjust`,
    `cls.conv_search`, `loc.head.0`... The exporter's names do not say which branch a correlation
    conv belongs to (`/head/head.0_1/Conv`), so branch convs are named by the output they reach."""
    consumers: dict[str, list[Any]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    outputs = {o.name for o in model.graph.output}

    def reaches(node: Any) -> set[str]:
        seen, todo, found = set(), list(node.output), set()
        while todo:
            tensor = todo.pop()
            if tensor in outputs:
                found.add(tensor)
            for nxt in consumers.get(tensor, []):
                if nxt.name not in seen:
                    seen.add(nxt.name)
                    todo.extend(nxt.output)
        return found

    roles = {}
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        parts = [p for p in node.name.split("/") if p and p != "Conv"]
        if parts and parts[0] == "features":  # /features/layer3/layer3.0/downsample/downsample.0/Conv
            role = ".".join(p for p in parts[1:] if "." in p and not p.startswith("downsample.") or p in
                            ("conv1", "conv2", "conv3", "downsample"))
        elif parts and parts[0] == "downsample":
            role = "adjust"
        elif parts and parts[0] in ("conv_search", "conv_kernel", "head"):
            # which correlation branch: the output it reaches (cls / loc / mask, or their kernels)
            branches = sorted({o.split("_")[0] for o in reaches(node)} & {"cls", "loc", "mask"})
            role = f"{'+'.join(branches) or '?'}.{parts[0]}"
            if parts[0] == "head":
                role += "." + parts[1].split(".")[1].split("_")[0]  # head.0_1 -> 0
        elif parts and parts[0] == "refine_model":
            role = f"refine.{parts[-1]}"
        else:
            role = node.name
        roles[node.name] = role
    return roles


def quantize_graph(
    src: str | Path, dst: str | Path, feeds: list[dict[str, np.ndarray]] | None, *,
    fmt: str = DEFAULT_FORMAT, op_types: Iterable[str] = DEFAULT_OP_TYPES, keep_fp32: Iterable[str] = (),
    calibration_cache: str | Path | None = None, calibrate_method: str = CALIBRATE_METHOD,
    preprocessed: bool = False, strict: bool = True,
) -> dict[str, Any]:
    """Quantize one graph (static, QDQ, per-channel weights); returns which convolutions run INT8
    and which fp32 (by role, see `conv_roles`), for the manifest.

    `keep_fp32` names convolutions by role (`adjust`, `layer3.0.downsample`) or node name; with
    `strict`, a name the graph does not have is an error. `calibration_cache` (a JSON file) keeps
    the activation ranges: the sensitivity sweep calibrates once, then quantizes many variants.
    """
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    if fmt not in FORMATS:
        raise SiamMaskError(f"unknown INT8 format {fmt!r} (choose from {', '.join(FORMATS)})")
    activation, weight, reduce_range = FORMATS[fmt]
    src, dst = Path(src), Path(dst)
    with tempfile.TemporaryDirectory(prefix="siammask-quant.") as tmp:
        prepared = src if preprocessed else preprocess(src, Path(tmp) / src.name)
        model = onnx.load(str(prepared))
        roles = conv_roles(model)
        by_role = {role: name for name, role in roles.items()}
        keep = list(dict.fromkeys(keep_fp32))
        unknown = [k for k in keep if k not in by_role and k not in roles]
        if unknown and strict:
            raise SiamMaskError(f"no convolution {', '.join(unknown)} in {src.name} (layers: "
                                f"{', '.join(roles.values())})")
        kept_nodes = {by_role.get(k, k) for k in keep if k not in unknown}
        kernel_inputs = [i.name for i in model.graph.input if i.name.endswith("kernel")]
        excluded = sorted(set(correlation_nodes(model, kernel_inputs)) | kept_nodes)
        quantize_static(
            str(prepared), str(dst), FeedReader(feeds) if feeds is not None else None,
            quant_format=QuantFormat.QDQ, op_types_to_quantize=list(op_types), per_channel=True,
            reduce_range=reduce_range, activation_type=getattr(QuantType, activation),
            weight_type=getattr(QuantType, weight), nodes_to_exclude=excluded,
            calibrate_method=getattr(CalibrationMethod, calibrate_method),
            # not CalibMaxIntermediateOutputs: in onnxruntime 1.32 it drops every full chunk of
            # ranges without merging it (MinMaxCalibrater.collect_data), and the augmented graph
            # only returns per-tensor minima and maxima, so memory is no concern anyway
            calibration_cache_path=str(calibration_cache) if calibration_cache else None,
        )
    int8_convs = _quantized_convs(onnx.load(str(dst)))
    return {"int8_layers": [r for n, r in roles.items() if n in int8_convs],
            "fp32_layers": [r for n, r in roles.items() if n not in int8_convs]}


def _quantized_convs(model: Any) -> set[str]:
    """Convs whose weight comes through a DequantizeLinear (i.e. run in INT8 after fusion)."""
    producers = {o: n for n in model.graph.node for o in n.output}
    out = set()
    for node in model.graph.node:
        if node.op_type == "Conv" and len(node.input) > 1:
            producer = producers.get(node.input[1])
            if producer is not None and producer.op_type == "DequantizeLinear":
                out.add(node.name)
    return out


# --------------------------------------------------------------------------------------------
# the command's work: fp32 folder -> INT8 folder
# --------------------------------------------------------------------------------------------
def check_fp32_model(folder: str | Path) -> Manifest:
    """The manifest of an fp32 export, or a one-line reason why `folder` cannot be quantized."""
    folder = Path(folder)
    if not folder.exists():
        raise SiamMaskError(f"model folder {folder} does not exist (export one with `siammask export`)")
    manifest = Manifest.read(folder)
    precisions = {name: manifest.graphs[name].get("precision") for name in GRAPH_NAMES}
    if any(p != "fp32" for p in precisions.values()):
        found = ", ".join(f"{n} {p}" for n, p in precisions.items())
        raise SiamMaskError(f"model folder {folder} is not an fp32 export ({found}); quantize the fp32 export")
    return manifest


def check_layers(model: Path, manifest: Manifest, graphs: list[str], layers: list[str] | None) -> list[str]:
    """The layers to keep fp32: those named, each of which must exist in one of the graphs to
    quantize, or (None) the measured default's layers that these graphs have."""
    if layers is not None and not layers:
        return []
    import onnx

    known: dict[str, None] = {}
    for name in graphs:
        graph = onnx.load(str(manifest.graph_path(name)), load_external_data=False)
        for node, role in conv_roles(graph).items():
            known[role] = None
            known[node] = None
    if layers is None:
        return [k for k in DEFAULT_KEEP_FP32 if k in known]
    unknown = [k for k in layers if k not in known]
    if unknown:
        roles = [k for k in known if not k.startswith("/")]
        raise SiamMaskError(f"no convolution {', '.join(unknown)} in the {'/'.join(graphs)} graph "
                            f"(layers: {', '.join(roles)})")
    return layers


def write_int8_export(
    model: Path, manifest: Manifest, cal: CalibrationSet, output: Path, calibration: str | Path, *,
    graphs: list[str], fmt: str, keep_fp32: list[str], say: Callable[[str], None],
) -> Path:
    """Write `output` (atomically): the fp32 export `model` with `graphs` quantized on the recorded
    calibration inputs `cal`, and a manifest saying how (tool, encoding, kept layers, calibration)."""
    try:
        with staged_folder(output) as staging:
            details = {}
            written = dict(manifest.data, graphs=dict(manifest.graphs))  # the fp32 manifest, updated
            for name in GRAPH_NAMES:
                entry = dict(manifest.graphs[name])
                src = manifest.graph_path(name)  # a plain name in the folder: Manifest.read checked it
                if name in graphs:
                    say(f"quantizing {name} ({len(cal.feeds[name])} calibration inputs)")
                    if not cal.feeds[name]:
                        raise SiamMaskError(f"no calibration inputs recorded for the {name} graph")
                    details[name] = quantize_graph(src, staging / entry["file"], cal.feeds[name], fmt=fmt,
                                                   keep_fp32=keep_fp32, strict=False)
                    entry["precision"] = "int8"
                    entry["sha256"] = file_sha256(staging / entry["file"])
                    entry["fp32_layers"] = details[name]["fp32_layers"]
                else:
                    shutil.copyfile(src, staging / entry["file"])
                written["graphs"][name] = entry
            activation, weight, reduce_range = FORMATS[fmt]
            written["quantization"] = {
                "method": "static",
                "format": "QDQ",
                "tool": f"onnxruntime.quantization {_ort_version()}",
                "activations": "uint8 per tensor (asymmetric)" if activation == "QUInt8" else "int8 per tensor",
                "weights": ("int8" if weight == "QInt8" else "uint8") + " per channel"
                           + (" (7-bit range)" if reduce_range else ""),
                "encoding": fmt,
                "calibrate_method": CALIBRATE_METHOD,
                "op_types": list(DEFAULT_OP_TYPES),
                "kept_fp32": ["correlations (kernels from the template)", *keep_fp32],
                "source": {"folder": model.name, "manifest_sha256": file_sha256(model / MANIFEST)},
            }
            written["calibration"] = {
                "dataset": cal.dataset,
                "path": str(Path(calibration)),
                "frames": cal.frames,
                "template_inputs": len(cal.feeds["template"]),
                "refine_inputs": len(cal.feeds["refine"]),
                "sequences": cal.sequences,
                "sha256": cal.sha256(),
            }
            write_manifest(staging, written)
    except OSError as exc:
        if exc.errno not in _WRITE_ERRORS:
            raise
        # shutil names the file it copies from (the fp32 graph), yet the failed write is --output's
        raise SiamMaskError(f"--output {output}: cannot be written ({exc.strerror}); nothing was left there") from None
    return output


# a full disk, a file-size limit, a quota, a read-only file system: failures of the writes
_WRITE_ERRORS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS)


def _ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__
