"""`siammask eval --shard I/N`: the part of eval's flow every protocol shares when it runs one shard
of a dataset (evaluation/shards.py): the option read and checked before any work, the shard's
sequences picked, and in place of the report (a shard is not a whole run) the line that says what
to do once every shard is done (`siammask merge`)."""

from __future__ import annotations

import argparse
from typing import Any

from siammask.errors import SiamMaskError, printable

SHARD_HELP = ("run only shard I of N (counted from 1) of the dataset's sequences, for a cluster job array: e.g. "
              "--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=1-N; each shard its own --results "
              "folder, joined by `siammask merge` (docs/benchmarks.md, Scale)")


def check_shard_option(args: argparse.Namespace) -> None:
    """Replace args.shard's text by a Shard (or None); refuse what a shard cannot do, before any work."""
    from siammask.evaluation.shards import parse_shard

    text = getattr(args, "shard", None)
    if text is None:
        return
    args.shard = parse_shard(text)
    for option in ("json", "plots"):
        if getattr(args, option, None):
            raise SiamMaskError(f"--{option}: a shard is not reported alone; report the merged results "
                                "(siammask merge, then siammask report)")


def take_shard(args: argparse.Namespace, dataset: Any, protocol: str) -> tuple[Any, Any]:  # noqa: ANN401
    """(the sequences to run, the bound shard or None): the whole dataset without --shard."""
    from siammask.evaluation.shards import select_shard

    shard = getattr(args, "shard", None)
    if shard is None:
        return dataset, None
    part, bound = select_shard(dataset, shard, protocol)
    frames = sum(len(s) for s in part)
    print(printable(f"shard {bound.label}: {len(part)} of {len(dataset)} sequences, {frames} of "
                    f"{sum(len(s) for s in dataset)} frames"), flush=True)
    return part, bound


def shard_finished(args: argparse.Namespace, name: str, shard: Any) -> int:  # noqa: ANN401 - shards.Shard
    """A shard's end: where its results are and how the shards become one run."""
    print(printable(f"shard {shard.label} of {name} finished in {args.results}; once all {shard.count} are: "
                    f"siammask merge SHARD_RESULTS... --output RESULTS, then siammask report"), flush=True)
    return 0
