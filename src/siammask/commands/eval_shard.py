"""The part of `siammask eval`'s flow every protocol shares: the output options checked before any
work; --shard I/N (evaluation/shards.py): the option read and checked, the shard's sequences picked,
and in place of the report (a shard is not a whole run) the line that says what to do once every
shard is done (`siammask merge`); and the run itself (engine, progress bar, kept sequences), each
protocol giving only its runner, its lines and its report."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import Any

from siammask.errors import SiamMaskError, plural, printable

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


def check_output_options(args: argparse.Namespace) -> None:
    """Refuse outputs that cannot be written before hours of tracking, not after."""
    if args.json and os.path.isdir(args.json):
        raise SiamMaskError(f"--json {args.json}: is a folder")
    for option, folder in (("--results", args.results), ("--plots", args.plots)):
        if folder and os.path.exists(folder) and not os.path.isdir(folder):
            raise SiamMaskError(f"{option} {folder}: is not a folder")


Runner = Callable[[Any, Any, str, Callable[[Any], None], Any], Sequence[Any]]


def local_or_ray(args: argparse.Namespace, local: Callable[..., Sequence[Any]],
                 ray: Callable[..., Sequence[Any]]) -> Runner:
    """A protocol's runner: `ray` over the cluster at --ray, else `local` on --workers processes."""
    def run(dataset: Any, spec: Any, name: str, on_done: Callable[[Any], None], shard: Any) -> Sequence[Any]:
        if args.ray:
            return ray(dataset, spec, args.results, name, address=args.ray, force=args.force, on_done=on_done,
                       workers=args.workers if args.workers > 1 else None, shard=shard)
        return local(dataset, spec, args.results, name, workers=args.workers, force=args.force, on_done=on_done,
                     shard=shard)

    return run


def default_tracker_name(spec: Any) -> str:  # noqa: ANN401 - engines.factory.EngineSpec
    """The results' tracker name without --tracker-name, for every protocol: an INT8 (or bf16 or fp16)
    model's run gets its own, so its results never meet the fp32 run's in one folder."""
    from siammask.deploy.manifest import precision_parts

    precision = spec.model_precision
    return f"SiamMask_{spec.label}" + ("" if precision == "fp32" else "_" + precision_parts(precision)[-1])


def track_protocol(
    args: argparse.Namespace, dataset: Any, protocol: str, *,  # noqa: ANN401 - a protocol's dataset
    describe: Callable[[Any, Any], str], status: Callable[[Any], str], run: Runner,
    report: Callable[[str], int],
) -> int:
    """Run `protocol` on `dataset` (or --shard's part of it), then `report(name)` (or the shard's end).

    describe(spec, dataset) is the opening line after "eval NAME: "; status(outcome) a finished
    sequence's text on the progress bar; the tracker's name is --tracker-name or default_tracker_name(spec)."""
    from tqdm import tqdm

    from siammask.commands.options import engine_spec

    dataset, shard = take_shard(args, dataset, protocol)
    spec = engine_spec(args)
    spec.check()
    name = args.tracker_name or default_tracker_name(spec)
    print(printable(f"eval {name}: {describe(spec, dataset)}"), flush=True)
    total = sum(len(s) for s in dataset)
    # disable=None: no bar off a terminal, so logs and errors stay one clean line each
    with tqdm(total=total, unit="frame", desc=f"eval {printable(name)}", dynamic_ncols=True, disable=None) as bar:
        def done(outcome: Any) -> None:  # noqa: ANN401 - the protocol's outcome
            bar.update(len(dataset[outcome.name]))
            bar.set_postfix_str(f"{printable(outcome.name)}: {status(outcome)}")

        outcomes = run(dataset, spec, name, done, shard)
    kept = sum(1 for o in outcomes if o.skipped)
    if kept:
        print(f"kept {kept} of {plural(len(dataset), 'sequence')} from an earlier run of the same model "
              "(--force redoes them)", flush=True)
    if shard:
        return shard_finished(args, name, shard)
    return report(name)
