"""Time each backend x precision in a fresh subprocess: template/search/refine latency, the
tracker's own per-frame work, end-to-end FPS and peak memory, beside the model's GFLOP and this
machine's GEMM rate at fp32, bf16 and int8 (each row's search as a multiple of its precision's
floor). Combinations this machine cannot run are rows saying why. Each reduced precision also
replays the fp32 run's frames open loop: its polygons within 1 px of fp32's. --backend auto's pick
for each precision is printed above the table. With --reference, the authors' code runs on the
same frames and weights.
"""

# The heavy lifting is in `siammask.bench` (`run` runs it, `report` prints it); this module only
# parses options, so `siammask --help` stays fast.

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from siammask.errors import SiamMaskError

EPILOG = """\
examples:
  siammask bench
      the embedded default model (no --checkpoint/--model: said in one line; its export cached);
      a synthetic 1280x720 sequence of 20 tracked frames; torch fp32, onnxruntime fp32, openvino
      fp32 and openvino bf16 (where the CPU has bf16 units; elsewhere a row saying why) side by side

  siammask bench --model /tmp/b/fp32 /tmp/b/int8 --threads 2
      adds onnxruntime int8 and openvino int8 (the `siammask quantize` folder); each reduced
      precision also replays the fp32 run's frames: polygons within 1 px of fp32's, open loop

  siammask bench --checkpoint SiamMask_VOT.pth --model exported/ --model exported-int8/ --threads 4

  siammask bench --reference ~/src/SiamMask --frames 20 --threads 2 --json bench.json
      adds the authors' tools/test.py (siamese_init/siamese_track, mask + refine, config_vot.json,
      CPU) on the same frames and weights; ~/src/SiamMask is a checkout of foolwood/SiamMask

columns (medians): template/search/refine ms: one engine call, batch 1, repeated; decode+mask ms:
the tracker's own per-frame work (crops, decoding, mask paste, rotated box); frame ms and FPS:
tracking the sequence (init included in FPS, frame reading excluded); peak RSS: of the backend's
own subprocess; search x floor: search latency / the floor at the row's precision (GFLOP at that
precision's GEMM rate). Timings depend on the machine and its load; nothing is judged pass/fail.
"""


def _backends(text: str) -> tuple[str, ...]:
    from siammask.bench.matrix import parse_backends

    try:
        return parse_backends(text)
    except SiamMaskError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


HELP = "time every backend x precision (torch, ONNX Runtime, OpenVINO) and the reference side by side"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `bench` subcommand to the CLI's subparsers."""
    from siammask.commands.options import add_command, positive_int, target_count, thread_count
    from siammask.commands.synth import parse_size

    parser = add_command(subparsers, "bench", HELP, __doc__, EPILOG)
    parser.add_argument("--checkpoint", type=Path, metavar="FILE",
                        help="weights (.pth) for torch and the reference (default: the embedded default model)")
    parser.add_argument("--model", type=Path, action="extend", nargs="+", default=[], metavar="DIR",
                        help="exported folder(s) for onnxruntime, fp32 or int8 (default: --checkpoint exported here)")
    parser.add_argument("--sequence", type=Path, metavar="DIR",
                        help="a VOT-layout sequence folder, or a dataset folder (its first sequence); "
                             "default: a synthetic sequence")
    parser.add_argument("--frames", type=positive_int, default=20, metavar="N", help="frames to track (default 20)")
    parser.add_argument("--frame-size", type=parse_size, default=(1280, 720), metavar="WxH",
                        help="size of the synthetic sequence (default 1280x720; ignored with --sequence)")
    parser.add_argument("--threads", type=thread_count, metavar="N",
                        help="threads for every backend, BLAS and the GEMM probe (default: all cores)")
    parser.add_argument("--repeats", type=positive_int, default=10, metavar="N",
                        help="timed calls per engine stage (default 10)")
    parser.add_argument("--warmup", type=int, default=2, metavar="N", help="untimed calls first (default 2)")
    parser.add_argument("--reference", type=Path, metavar="PATH",
                        help="checkout of the authors' code (foolwood/SiamMask) to time beside ours")
    parser.add_argument("--no-reference-no-grad", dest="reference_no_grad", action="store_false",
                        help="time the reference only as tools/test.py runs it (skip the autograd-off run)")
    parser.add_argument("--backends", type=_backends, default=None, metavar="LIST",
                        help="comma-separated BACKEND[:PRECISION] (torch, onnxruntime, openvino; fp32, bf16, fp16, "
                             "int8), e.g. onnxruntime,openvino:bf16; a backend alone: each precision it offers for "
                             "the folders (default: every combination; those this machine cannot run are rows "
                             "saying why)")
    parser.add_argument("--targets", type=target_count, metavar="K",
                        help="instead: K targets batched in one tracker against K separate passes, object-frames/s "
                             "for each --model (or --checkpoint), on a synthetic DAVIS-layout sequence "
                             "(--frames, --frame-size)")
    parser.add_argument("--long-term", action="store_true",
                        help="time long-term tracking instead: a present frame against short-term's, and a frame "
                             "searched wide (one engine at a time)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every figure and the machine as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the bench, print the table, write the JSON; exit 1 if any row failed."""
    from siammask.bench.report import format_report, write_json
    from siammask.bench.run import BenchOptions, run_bench

    if args.targets:
        return run_targets(args)
    if args.long_term:
        return run_long_term(args)

    options = BenchOptions(
        checkpoint=args.checkpoint, models=list(args.model), sequence=args.sequence, frames=args.frames,
        threads=args.threads, reference=args.reference, backends=args.backends, repeats=args.repeats,
        warmup=args.warmup, frame_size=args.frame_size, reference_no_grad=args.reference_no_grad,
    )
    result = run_bench(options)
    print(format_report(result))
    if args.json:
        write_json(result, args.json)
        print(f"wrote {args.json}")
    if result["problems"]:
        raise SiamMaskError(f"{len(result['problems'])} problem(s), see above")
    return 0


def run_targets(args: argparse.Namespace) -> int:
    """`--targets K`: batched against separate passes, one engine at a time."""
    from siammask.bench.report import write_json
    from siammask.bench.targets import format_targets, measure_targets
    from siammask.engines.factory import EngineSpec

    specs = [EngineSpec(model=m, threads=args.threads) for m in args.model]
    if args.checkpoint or not specs:
        from siammask.bench.run import default_checkpoint

        checkpoint = args.checkpoint or default_checkpoint(lambda line: print(line, file=sys.stderr, flush=True))
        specs.insert(0, EngineSpec(checkpoint=checkpoint, threads=args.threads))
    results = []
    for spec in specs:
        results.append(measure_targets(spec, args.targets, args.frames, args.frame_size))
        print(format_targets(results[-1]), flush=True)
    if args.json:
        write_json({"targets": results}, args.json)
        print(f"wrote {args.json}")
    return 0


def run_long_term(args: argparse.Namespace) -> int:
    """`--long-term`: a present frame in short-term and long-term mode, and a frame searched wide."""
    from siammask.bench.longterm import format_long_term, measure_long_term
    from siammask.bench.report import write_json
    from siammask.engines.factory import EngineSpec

    specs = [EngineSpec(model=m, threads=args.threads) for m in args.model]
    if args.checkpoint:
        specs.insert(0, EngineSpec(checkpoint=args.checkpoint, threads=args.threads))
    if not specs:
        from siammask.model.default import default_model

        default, label = default_model(None)
        print(f"siammask: no --checkpoint or --model: using {label}", flush=True)
        specs.append(EngineSpec(threads=args.threads, **default))
    results = []
    for spec in specs:
        results.append(measure_long_term(spec, args.frames, args.frame_size))
        print(format_long_term(results[-1]), flush=True)
    if args.json:
        write_json({"long_term": results}, args.json)
        print(f"wrote {args.json}")
    return 0
