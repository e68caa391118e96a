"""NNCF post-training INT8 of the search graph, calibrated on our real tracking crops: the
experiment behind docs/engines.md's "NNCF vs siammask quantize" (not a shipped command).

The calibration set is the one `siammask quantize` records (quantize.collect_calibration: the fp32
tracker's own search crops and kernels under the supervised protocol). NNCF's ONNX backend
writes a QDQ ONNX graph, so the result is an ordinary export folder (manifest + graphs) that
both engines load; only the search graph is quantized, as our default.

    /tmp/nncfenv/bin/python scripts/nncf_int8.py --model /tmp/ovm/fp32 \
        --calibration tests/data/golden/dataset --output /tmp/ovm/nncf
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from siammask.calibration import collect_calibration
from siammask.deploy.graphs import MANIFEST
from siammask.deploy.quantize import correlation_nodes
from siammask.engines.onnx_engine import OnnxEngine
from siammask.files import file_sha256


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="fp32 export folder")
    parser.add_argument("--calibration", required=True, help="VOT-layout dataset to record crops on")
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--output", required=True)
    parser.add_argument("--preset", choices=("performance", "mixed"), default="mixed",
                        help="NNCF preset: symmetric (performance) or asymmetric (mixed) activations")
    parser.add_argument("--keep-correlations", action="store_true",
                        help="leave the depth-wise correlations (template kernels) in fp32, as ours does")
    args = parser.parse_args(argv)
    import nncf
    import onnx

    model, output = Path(args.model), Path(args.output)
    calibration = collect_calibration(OnnxEngine(model, providers="cpu"), args.calibration, args.frames)
    feeds = calibration.feeds["search"]
    search = onnx.load(str(model / "search.onnx"))
    ignored = None
    if args.keep_correlations:
        ignored = nncf.IgnoredScope(names=correlation_nodes(search, ("cls_kernel", "loc_kernel")), validate=False)
    preset = nncf.QuantizationPreset.MIXED if args.preset == "mixed" else nncf.QuantizationPreset.PERFORMANCE
    quantized = nncf.quantize(search, nncf.Dataset(feeds), preset=preset, subset_size=len(feeds),
                              target_device=nncf.TargetDevice.CPU, **({"ignored_scope": ignored} if ignored else {}))
    output.mkdir(parents=True, exist_ok=False)
    manifest = json.loads((model / MANIFEST).read_text())
    for name, entry in manifest["graphs"].items():
        if name == "search":
            onnx.save(quantized, str(output / entry["file"]))
            entry["precision"], entry["sha256"] = "int8", file_sha256(output / entry["file"])
        else:
            shutil.copyfile(model / entry["file"], output / entry["file"])
    manifest["quantization"] = {"tool": f"nncf {nncf.__version__}", "preset": args.preset, "format": "QDQ",
                                "kept_fp32": ["correlations"] if args.keep_correlations else []}
    manifest["calibration"] = {"dataset": calibration.dataset, "frames": calibration.frames,
                               "sha256": calibration.sha256()}
    (output / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
