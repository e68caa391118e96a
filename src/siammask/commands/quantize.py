"""`siammask quantize`: an fp32 export -> INT8 graphs (ONNX Runtime static quantization, QDQ).

Calibration runs the fp32 tracker over --calibration (a VOT-layout dataset) and records the crops
it feeds the graphs; the output folder loads like any export (`--model DIR`), its manifest says
which graph runs in which precision, what was calibrated on and how. Measured accuracy and speed,
and why some layers stay fp32: docs/int8.md.
"""

from __future__ import annotations

import argparse

from siammask.commands.options import add_command, thread_count
from siammask.errors import SiamMaskError

EPILOG = """\
examples:
  siammask quantize --model models/seeded --calibration tests/data/golden/dataset --output models/seeded_int8
  siammask quantize --model models/vot --calibration data/VOT2016 --frames 200 --output models/vot_int8
  siammask compare --dataset tests/data/golden/dataset --model models/seeded --model models/seeded_int8

--frames N: the first N search crops of the calibration run, shared evenly over the sequences
(each sequence is tracked only as far as its share needs).
"""


HELP = "INT8 graphs from an fp32 export, calibrated on real tracking crops"


def register(sub: argparse._SubParsersAction) -> None:
    from siammask.deploy.quantize import DEFAULT_FORMAT, DEFAULT_FRAMES, FORMATS

    p = add_command(sub, "quantize", HELP, __doc__, EPILOG)
    p.add_argument("--model", required=True, metavar="DIR", help="fp32 export folder (siammask export)")
    p.add_argument("--calibration", required=True, metavar="DATASET", help="VOT-layout dataset to calibrate on")
    p.add_argument("--frames", type=int, default=DEFAULT_FRAMES, metavar="N",
                   help=f"calibration search crops in all (default {DEFAULT_FRAMES})")
    p.add_argument("--output", required=True, metavar="DIR", help="folder to write (refused if not empty)")
    p.add_argument("--graphs", default="search", metavar="NAMES",
                   help="comma-separated graphs to quantize (default: search; see docs/int8.md)")
    p.add_argument("--format", default=DEFAULT_FORMAT, choices=sorted(FORMATS),
                   help=f"activation/weight encoding (default {DEFAULT_FORMAT})")
    p.add_argument("--keep-fp32", metavar="LAYERS",
                   help="comma-separated convolutions kept fp32 (roles such as layer3.0.conv2, adjust, "
                        "cls.head.0), replacing the measured default")
    p.add_argument("--threads", type=thread_count, metavar="N", help="threads for the fp32 calibration run")
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    try:
        from siammask.calibration import quantize_model
    except ModuleNotFoundError as exc:
        if exc.name == "onnx":
            raise SiamMaskError("quantize needs onnx: pip install 'siammask[quant]'") from None
        raise
    graphs = [g.strip() for g in args.graphs.split(",") if g.strip()]
    keep = None if args.keep_fp32 is None else [k.strip() for k in args.keep_fp32.split(",") if k.strip()]
    seen: set[str] = set()

    def progress(sequence: str, frame: int) -> None:
        if sequence not in seen:
            seen.add(sequence)
            print(f"  calibrating on {sequence}", flush=True)

    out = quantize_model(args.model, args.calibration, args.output, args.frames, graphs=graphs, fmt=args.format,
                         keep_fp32=keep, threads=args.threads, force=args.force, on_frame=progress,
                         log=lambda msg: print(msg, flush=True))
    from siammask.deploy.manifest import Manifest

    manifest = Manifest.read(out)
    precisions = ", ".join(f"{n} {g['precision']}" for n, g in manifest.graphs.items())
    cal = manifest.data["calibration"]
    print(f"wrote {out}: {precisions}; calibrated on {cal['frames']} frames of {cal['dataset']} "
          f"(sha256 {cal['sha256'][:12]})", file=sys.stdout)
    return 0
