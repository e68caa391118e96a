"""`siammask demo`: the whole workflow, checkpoint to report, on embedded defaults or your data."""

from __future__ import annotations

import argparse

from siammask.commands.options import add_command, thread_count
from siammask.errors import SiamMaskError

EPILOG = """\
examples:
  siammask demo                                   # the embedded trained default + synthetic data
  siammask demo --force                           # again, replacing the earlier demo's folder
  siammask demo --checkpoint SiamMask_VOT.pth --dataset data/VOT2016 --output vot2016-report

On the embedded defaults it took 2 min 59 s on 2 idle AVX-512 cores (README; longer on shared or slower
cores). The embedded default is the seeded backbone with heads, mask and refine trained on
synthetic data of the broad generator (docs/training.md), so the demo's data are a renderer it never saw; it was
never shown a real object.

It writes OUTPUT/summary.md (parity, INT8 agreement, metrics, speed), report.json, bench.json, plots/,
overlay.gif and overlay_frame.png, plus the exported graphs (model/, model_int8/) and results (results/).
"""


HELP = "run the whole workflow (export, track, evaluate, benchmark) and write a report"


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "demo", HELP, __doc__, EPILOG)
    p.add_argument("--checkpoint", metavar="FILE",
                   help="SiamMask_VOT.pth (default: the embedded trained default, trained on synthetic data only)")
    p.add_argument("--dataset", metavar="DIR", help="VOT-layout dataset (default: a synthetic one)")
    p.add_argument("--output", default="siammask-demo", metavar="DIR", help="report folder (default: %(default)s)")
    p.add_argument("--force", action="store_true",
                   help="replace OUTPUT if an earlier demo wrote it (a folder holding anything else is never replaced)")
    p.add_argument("--sequences", type=int, default=3, metavar="N", help="synthetic sequences (default: %(default)s)")
    p.add_argument("--frames", type=int, default=50, metavar="M",
                   help="frames per synthetic sequence (default: %(default)s)")
    p.add_argument("--threads", type=thread_count, metavar="N", help="engine threads (default: all cores)")
    p.add_argument("--no-int8", action="store_true", help="skip the INT8 graphs (quantize, track, bench)")
    p.add_argument("--no-vos", action="store_true", help="skip the video object segmentation part (DAVIS layout)")
    p.add_argument("--no-long-term", action="store_true",
                   help="skip the long-term part (short-term against --long-term on a synthetic VOT-LT set)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from siammask.demo import DemoOptions, run_demo

    if args.sequences < 1 or args.frames < 10:
        raise SiamMaskError("--sequences must be at least 1 and --frames at least 10")
    options = DemoOptions(
        output=Path(args.output), checkpoint=Path(args.checkpoint) if args.checkpoint else None,
        dataset=Path(args.dataset) if args.dataset else None, sequences=args.sequences, frames=args.frames,
        threads=args.threads, int8=not args.no_int8, vos=not args.no_vos, force=args.force,
        # the long-term set: as many sequences, twice as long (an absence needs room: at least 47 frames)
        long_term=not args.no_long_term, lt_sequences=args.sequences, lt_frames=max(60, 2 * args.frames),
    )
    result = run_demo(options)
    parity = result["parity"]
    print(f"done: {result['output']}/summary.md - torch vs onnxruntime events equal on "
          f"{parity['events_equal_pct']:.1f}% of frames, largest polygon difference "
          f"{parity['polygon_max_diff_px']:.4f} px"
          + (f"; INT8 vs fp32 events equal on {result['int8']['events_equal_pct']:.1f}%, region overlap mean "
             f"{result['int8']['overlap']['mean']:.3f}" if result["int8"] else ""))
    return 0
