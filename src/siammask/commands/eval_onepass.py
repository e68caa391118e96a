"""`siammask eval` on a one-pass dataset (OTB, UAV123, NFS, LaSOT, GOT-10k, TrackingNet; the
default there, or --experiment ope): every sequence tracked once from its first frame's box, no
reset, into the benchmark's result layout; then the report, or for a test split whose server keeps
the ground truth (GOT-10k test, TrackingNet TEST) the archive to submit. Kept apart from eval.py's
supervised flow: the two share only the options."""

from __future__ import annotations

import argparse
import os
from typing import Any

from siammask.errors import SiamMaskError, printable

SERVERS = {"GOT-10k": "GOT-10k's evaluation server (http://got-10k.aitestunion.com/submit_instructions)",
           "TrackingNet": "TrackingNet's evaluation server (http://eval.tracking-net.org)"}


def refuse_other_options(args: argparse.Namespace, dataset: Any) -> None:  # noqa: ANN401 - OnePassDataset
    """What one-pass scoring does not take, refused in one line before any work."""
    for option in ("eao_interval", "year"):
        if getattr(args, option, None) is not None:
            raise SiamMaskError(f"--{option.replace('_', '-')} does not apply to one-pass datasets "
                                f"({dataset.name} is {dataset.benchmark})")
    if args.json and os.path.isdir(args.json):
        raise SiamMaskError(f"--json {args.json}: is a folder")
    for option, folder in (("--results", args.results), ("--plots", args.plots)):
        if folder and os.path.exists(folder) and not os.path.isdir(folder):
            raise SiamMaskError(f"{option} {folder}: is not a folder")
    if args.plots and not dataset.annotated:
        raise SiamMaskError(f"--plots: dataset {dataset.name} has only its first frames' boxes; its server "
                            "scores it, there is nothing to plot here")


def run_onepass(args: argparse.Namespace, dataset_format: Any) -> int:  # noqa: ANN401 - formats.DatasetFormat
    """Track, write the results, then report (or write the submission archive)."""
    from tqdm import tqdm

    from siammask.commands.eval_shard import shard_finished, take_shard
    from siammask.commands.options import engine_spec
    from siammask.evaluation.ope.runner import OnePassOutcome, run_onepass_dataset, run_onepass_ray

    dataset = dataset_format.load(args.dataset)
    refuse_other_options(args, dataset)
    dataset, shard = take_shard(args, dataset, "ope")
    spec = engine_spec(args)
    spec.check()
    name = args.tracker_name or f"SiamMask_{spec.label}"
    print(printable(f"eval {name}: one pass on {dataset.name} ({dataset.benchmark}), {spec.label} "
                    f"{spec.model_precision}, {len(dataset)} sequence{'s' * (len(dataset) != 1)}"), flush=True)
    total = sum(len(s) for s in dataset)
    with tqdm(total=total, unit="frame", desc=f"eval {printable(name)}", dynamic_ncols=True, disable=None) as bar:
        def done(outcome: OnePassOutcome) -> None:
            bar.update(len(dataset[outcome.name]))
            bar.set_postfix_str(f"{printable(outcome.name)}: {'kept' if outcome.skipped else f'{outcome.fps:.1f} fps'}")

        if args.ray:
            outcomes = run_onepass_ray(dataset, spec, args.results, name, address=args.ray, force=args.force,
                                       on_done=done, workers=args.workers if args.workers > 1 else None, shard=shard)
        else:
            outcomes = run_onepass_dataset(dataset, spec, args.results, name, workers=args.workers,
                                           force=args.force, on_done=done, shard=shard)
    kept = sum(1 for o in outcomes if o.skipped)
    if kept:
        print(f"kept {kept} of {len(dataset)} sequences from an earlier run of the same model "
              "(--force redoes them)", flush=True)
    if shard:
        return shard_finished(args, name, shard)
    from siammask.commands.report_onepass import publish_onepass

    return publish_onepass(args, dataset, [name])
