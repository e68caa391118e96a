"""Join the results folders of a sharded evaluation (`siammask eval --shard I/N`, one job of a cluster
array each) into one results folder: the files one process would have written, then `siammask report`
reads it as any other. The shards are checked first (finished, unchanged, one run of one dataset,
every shard once); nothing is written when one is not, and nothing that exists is replaced."""

from __future__ import annotations

import argparse

from siammask.commands.options import add_command
from siammask.errors import printable

EPILOG = """\
examples:
  sbatch --array=1-8 --wrap 'siammask eval --dataset data/LaSOT --model models/siammask \\
      --results shards/$SLURM_ARRAY_TASK_ID --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT'
  siammask merge shards/* --output results/LaSOT
  siammask report --dataset data/LaSOT --results results/LaSOT

  siammask merge shards/1 shards/2 --output results/LaSOT --tracker-name SiamMask_openvino
      only that tracker's shards (default: every tracker the first folder holds shards of)

Each shard's folder holds RESULTS/NAME/siammask-shard.json (which shard, its sequences and, once it
finished, its files and their sizes) beside the run record. docs/benchmarks.md ("Scale") has the
shard split and the LaSOT-scale plan.
"""

HELP = "join the results folders of a sharded eval (--shard I/N) into one"


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "merge", HELP, __doc__, EPILOG)
    p.add_argument("shards", nargs="+", metavar="SHARD_RESULTS", help="each shard's --results folder")
    p.add_argument("--output", required=True, metavar="DIR",
                   help="results folder to write (may exist; RESULTS/NAME must not)")
    p.add_argument("--tracker-name", action="append", metavar="NAME",
                   help="merge this tracker's shards only (repeatable)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from siammask.evaluation.merge import merge_shards

    merged = merge_shards(args.shards, args.output, args.tracker_name)
    for name, files in merged:
        print(printable(f"merged {name}: {len(args.shards)} shards, {files} files -> {args.output}/{name}"),
              flush=True)
    return 0
